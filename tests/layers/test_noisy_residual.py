import functools

import keras
import numpy as np
import pytest

from hdl_keras import backend
from hdl_keras.layers import Ensemble
from hdl_keras.layers import ResidualNoise
from hdl_keras.models import basic_block
from hdl_keras.testing import assert_config_round_trip

pytestmark = pytest.mark.backend_suite


def numpy(x):
    return keras.ops.convert_to_numpy(x)


def inputs(shape=(4, 6, 6, 8), low=0.0, high=1.0, seed=0):
    return np.random.default_rng(seed).uniform(low, high, shape).astype("float32")


@pytest.mark.parametrize("training", [True, False])
def test_noise_is_on_in_training_and_inference_by_default(training):
    layer = ResidualNoise(0.1, seed=1)
    x = inputs()
    first = numpy(layer(x, training=training))
    second = numpy(layer(x, training=training))
    assert not np.allclose(first, x)
    assert not np.allclose(first, second)


def test_always_on_false_adds_noise_only_in_training():
    layer = ResidualNoise(0.1, always_on=False, seed=1)
    x = inputs()
    np.testing.assert_array_equal(numpy(layer(x)), x)
    np.testing.assert_array_equal(numpy(layer(x, training=False)), x)
    assert not np.allclose(numpy(layer(x, training=True)), x)


@pytest.mark.parametrize("training", [True, False])
def test_zero_stddev_adds_no_noise(training):
    x = inputs()
    np.testing.assert_array_equal(numpy(ResidualNoise(0.0)(x, training=training)), x)


def test_relative_noise_has_stddev_times_the_input_std():
    x = inputs((64, 16, 16, 16), low=-1.0, high=3.0)
    noise = numpy(ResidualNoise(0.1, seed=2)(x)) - x
    assert abs(noise.mean()) < 0.01 * 0.1 * x.std()
    assert noise.std() == pytest.approx(0.1 * x.std(), rel=0.02)


def test_relative_noise_of_a_constant_input_has_a_finite_gradient():
    layer = ResidualNoise(0.1, seed=0)
    x = np.ones((2, 3, 3, 4), "float32")
    value, grad = backend.value_and_input_grad(layer, x)
    assert np.all(np.isfinite(numpy(grad)))
    np.testing.assert_allclose(numpy(value), x, atol=1e-3)


def test_absolute_noise_has_stddev():
    x = inputs((64, 16, 16, 16), low=-1.0, high=3.0)
    noise = numpy(ResidualNoise(0.3, relative=False, seed=2)(x)) - x
    assert abs(noise.mean()) < 0.01 * 0.3
    assert noise.std() == pytest.approx(0.3, rel=0.02)


def test_noise_statistics_of_a_zero_weight_block():
    # With zero convolutions F(x) = 0 (batch norm at inference maps 0 to 0) and
    # the block returns relu(x + noise) = x + noise for x >= 1: two passes
    # differ by the difference of two independent noises.
    x = inputs((32, 8, 8, 16), low=1.0, high=2.0)
    block_inputs = keras.Input(x.shape[1:])
    outputs = basic_block(block_inputs, 16, 1, name="block", noise=functools.partial(ResidualNoise, 0.1))
    model = keras.Model(block_inputs, outputs)
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            layer.set_weights([np.zeros_like(w) for w in layer.get_weights()])
    first = numpy(model(x, training=False))
    second = numpy(model(x, training=False))
    np.testing.assert_allclose(first.mean(), x.mean(), rtol=1e-3)
    assert (first - second).std() == pytest.approx(np.sqrt(2) * 0.1 * x.std(), rel=0.03)


def test_seed_makes_the_noise_reproducible():
    x = inputs()
    a, b, c = ResidualNoise(seed=5), ResidualNoise(seed=5), ResidualNoise(seed=6)
    for _ in range(2):
        first, second, other = numpy(a(x)), numpy(b(x)), numpy(c(x))
        np.testing.assert_array_equal(first, second)
        assert not np.allclose(first, other)


def test_fit_and_predict_draw_fresh_noise_when_compiled():
    # A tiny noisy two-member ensemble: the noise layers' seed state must
    # advance inside the compiled train and predict functions of each backend.
    model_inputs = keras.Input((6,))
    members = []
    for i in range(2):
        hidden = keras.layers.Dense(8, name=f"member{i}_hidden")(model_inputs)
        hidden = ResidualNoise(0.5, seed=i, name=f"member{i}_noise")(hidden)
        members.append(keras.layers.Dense(3, name=f"member{i}_logits")(hidden))
    model = keras.Model(model_inputs, Ensemble()(members))
    model.compile(
        optimizer="sgd",
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    x, y = inputs((8, 6)), np.arange(8) % 3
    history = model.fit(x, y, epochs=2, batch_size=4, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    first = model.predict(x, verbose=0)
    second = model.predict(x, verbose=0)
    assert not np.allclose(first, second)


def test_config_round_trip():
    layer = ResidualNoise(0.25, relative=False, always_on=False, seed=3, name="noise")
    rebuilt = assert_config_round_trip(layer)
    assert (rebuilt.stddev, rebuilt.relative, rebuilt.always_on, rebuilt.seed) == (
        0.25,
        False,
        False,
        3,
    )
    assert rebuilt.name == "noise"
    assert layer.compute_output_shape((None, 4, 4, 2)) == (None, 4, 4, 2)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"stddev": -0.1}, "stddev=-0.1"),
        ({"stddev": float("nan")}, "stddev=nan"),
        ({"stddev": True}, "stddev=True"),
        ({"stddev": "0.1"}, "stddev='0.1'"),
        ({"relative": 1}, "relative=1"),
        ({"always_on": None}, "always_on=None"),
        ({"seed": 1.5}, "seed=1.5"),
    ],
)
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ResidualNoise(**kwargs)
