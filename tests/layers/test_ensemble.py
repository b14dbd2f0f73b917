import keras
import numpy as np
import pytest

from hdl_keras.layers import Ensemble
from hdl_keras.testing import assert_config_round_trip
from hdl_keras.testing import assert_saved_model_round_trip

pytestmark = pytest.mark.backend_suite


def numpy(x):
    return keras.ops.convert_to_numpy(x)


def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def member_logits(num_members, scale=3.0, shape=(5, 7)):
    rng = np.random.default_rng(num_members)
    return [scale * rng.standard_normal(shape).astype("float32") for _ in range(num_members)]


@pytest.mark.parametrize("num_members", [1, 2, 5])
def test_output_is_the_log_of_the_mean_member_softmax(num_members):
    logits = member_logits(num_members)
    output = numpy(Ensemble()(logits))
    mean_probs = np.mean([softmax(z) for z in logits], axis=0)
    np.testing.assert_allclose(np.exp(output), mean_probs, atol=1e-6)
    # Valid logits: their softmax is the ensemble average too.
    np.testing.assert_allclose(softmax(output), mean_probs, atol=1e-6)


def test_extreme_logits_stay_finite():
    logits = member_logits(3, scale=1000.0)
    output = numpy(Ensemble()(logits))
    assert np.all(np.isfinite(output))
    np.testing.assert_allclose(np.exp(output).sum(axis=-1), 1.0, atol=1e-5)


def test_cross_entropy_of_the_output_is_that_of_the_mean_probabilities():
    logits = member_logits(2)
    labels = np.arange(5) % 7
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    mean_probs = np.mean([softmax(z) for z in logits], axis=0)
    expected = -np.log(mean_probs[np.arange(5), labels]).mean()
    assert float(numpy(loss(labels, Ensemble()(logits)))) == pytest.approx(expected, rel=1e-5)


def test_in_a_functional_model_with_saving(tmp_path):
    inputs = keras.Input((6,))
    members = [keras.layers.Dense(4, name=f"member{i}")(inputs) for i in range(3)]
    outputs = Ensemble(name="ensemble")(members)
    model = keras.Model(inputs, outputs)
    assert model.output_shape == (None, 4)
    x = np.random.default_rng(0).random((3, 6), dtype="float32")
    loaded = assert_saved_model_round_trip(model, x, tmp_path)
    assert isinstance(loaded.get_layer("ensemble"), Ensemble)


def test_config_round_trip():
    rebuilt = assert_config_round_trip(Ensemble(name="ensemble"))
    assert rebuilt.name == "ensemble"
    assert Ensemble().compute_output_shape([(None, 3), (None, 3)]) == (None, 3)


@pytest.mark.parametrize(
    "shapes, match",
    [
        ([(None, 3), (None, 4)], "one shape"),
        ([(None, 2, 3), (None, 3)], "one shape"),
    ],
)
def test_members_of_different_shapes_raise(shapes, match):
    with pytest.raises(ValueError, match=match):
        Ensemble()([keras.Input(shape[1:]) for shape in shapes])


def test_a_single_tensor_raises():
    with pytest.raises(ValueError, match="list of the members' logits"):
        Ensemble()(keras.Input((3,)))
