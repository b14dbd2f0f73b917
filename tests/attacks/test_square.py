"""Square attack: threat model, query counting, schedule, success on easy models."""

import keras
import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from keras import ops

from hdl_keras.attacks.square import Square
from hdl_keras.testing.toy_models import two_class_linear_model

pytestmark = pytest.mark.backend_suite

SIZE = 8


def two_class_linear_model_6x6(seed=0):
    """Logits `[0, v.x]` on 6x6x1 images (see `two_class_linear_model`)."""
    return two_class_linear_model(seed, input_shape=(6, 6, 1))


def tiny_cnn(channels=1, num_classes=5, seed=0):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((SIZE, SIZE, channels))
    h = keras.layers.Conv2D(4, 3, activation="relu")(inputs)
    outputs = keras.layers.Dense(num_classes)(keras.layers.Flatten()(h))
    return keras.Model(inputs, outputs)


def predict(model, x):
    return np.argmax(ops.convert_to_numpy(model(x)), axis=1)


@settings(max_examples=5, deadline=None)
@given(
    eps=st.floats(0.0, 0.5),
    channels=st.sampled_from([1, 3]),
    seed=st.integers(0, 2**16),
    targeted=st.booleans(),
)
def test_square_stays_in_the_ball_and_the_bounds(eps, channels, seed, targeted):
    model = tiny_cnn(channels, seed=seed % 5)
    rng = np.random.default_rng(seed)
    x = rng.random((6, SIZE, SIZE, channels), dtype=np.float32)
    y = rng.integers(0, 5, 6)
    attack = Square(model, eps=eps, n_queries=10, targeted=targeted, seed=seed)
    x_adv = ops.convert_to_numpy(attack(x, y))
    assert x_adv.shape == x.shape
    assert x_adv.min() >= 0.0 and x_adv.max() <= 1.0
    assert np.all(np.abs(x_adv - x) <= eps + 1e-6)
    assert np.all((attack.queries >= 1) & (attack.queries <= 10))


def test_perturbations_are_vertices_of_the_ball():
    """Away from the bounds, every pixel of a perturbed example moves by exactly eps."""
    model = tiny_cnn(channels=3)
    rng = np.random.default_rng(1)
    eps = 0.1
    x = rng.uniform(eps, 1 - eps, (8, SIZE, SIZE, 3)).astype("float32")
    y = predict(model, x)
    attack = Square(model, eps=eps, n_queries=30, seed=0)
    x_adv = ops.convert_to_numpy(attack(x, y))
    np.testing.assert_allclose(np.abs(x_adv - x), eps, atol=1e-6)


@pytest.mark.parametrize("loss", ["cw", "ce"])
def test_square_lowers_the_accuracy_of_an_undefended_model(loss):
    model = tiny_cnn()
    rng = np.random.default_rng(2)
    x = rng.random((32, SIZE, SIZE, 1), dtype=np.float32)
    y = predict(model, x)  # clean accuracy 1
    attack = Square(model, eps=0.08, n_queries=300, loss=loss, seed=0)
    robust = np.mean(predict(model, attack(x, y)) == y)
    assert robust <= 0.5


def test_robust_accuracy_is_at_most_clean_and_queries_are_counted():
    model = tiny_cnn()
    rng = np.random.default_rng(3)
    x = rng.random((32, SIZE, SIZE, 1), dtype=np.float32)
    y = rng.integers(0, 5, 32)  # about 1 in 5 correct
    y[:12] = predict(model, x[:12])  # at least 12 correct
    clean_correct = predict(model, x) == y
    n_queries = 40
    attack = Square(model, eps=0.05, n_queries=n_queries, seed=0)
    x_adv = ops.convert_to_numpy(attack(x, y))
    robust_correct = predict(model, x_adv) == y
    queries = attack.queries

    assert robust_correct.mean() <= clean_correct.mean()
    assert queries.shape == (32,) and np.issubdtype(queries.dtype, np.integer)
    # Misclassified at the start: one query, returned unchanged.
    np.testing.assert_array_equal(queries[~clean_correct], 1)
    np.testing.assert_array_equal(x_adv[~clean_correct], x[~clean_correct])
    # Attacked: the clean query, the stripes, then one per iteration until fooled.
    assert np.all((queries[clean_correct] >= 2) & (queries[clean_correct] <= n_queries))
    np.testing.assert_array_equal(queries[robust_correct], n_queries)
    assert (clean_correct & ~robust_correct).any() and robust_correct.any()


def test_square_finds_adversarial_examples_of_a_linear_model():
    model, v = two_class_linear_model_6x6()
    rng = np.random.default_rng(4)
    x = rng.uniform(0.3, 0.7, (16, 6, 6, 1)).astype("float32")
    y = predict(model, x)
    margins = np.abs(x.reshape(16, -1) @ v)
    # The search must get half of the best possible change eps * ||v||_1.
    eps = float(margins.max() / (0.5 * np.abs(v).sum()))
    attack = Square(model, eps=eps, n_queries=300, p_init=0.3, seed=0)
    x_adv = ops.convert_to_numpy(attack(x, y))
    assert np.all(predict(model, x_adv) != y)
    assert np.all(np.abs(x_adv - x) <= eps + 1e-6)


def test_targeted_square_reaches_the_targets():
    model = tiny_cnn()
    rng = np.random.default_rng(5)
    x = rng.random((16, SIZE, SIZE, 1), dtype=np.float32)
    targets = (predict(model, x) + 1) % 5
    attack = Square(model, eps=0.5, n_queries=300, targeted=True, seed=0)
    assert np.mean(predict(model, attack(x, targets)) == targets) >= 0.8


def test_a_seed_makes_the_attack_reproducible():
    model = tiny_cnn()
    rng = np.random.default_rng(6)
    x = rng.random((8, SIZE, SIZE, 1), dtype=np.float32)
    y = predict(model, x)
    runs = []
    for _ in range(2):
        attack = Square(model, eps=0.1, n_queries=50, seed=7)
        runs.append((ops.convert_to_numpy(attack(x, y)), attack.queries))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    np.testing.assert_array_equal(runs[0][1], runs[1][1])


def test_the_square_side_follows_the_reference_schedule():
    attack = Square(tiny_cnn(), n_queries=10000, p_init=0.8)
    assert attack.square_side(0, 28, 28) == 25  # round(sqrt(0.8 * 784))
    assert attack.square_side(10, 28, 28) == 25
    assert attack.square_side(11, 28, 28) == 18  # p = 0.4
    assert attack.square_side(9999, 28, 28) == 1  # p = 0.8 / 512, at least 1
    assert Square(tiny_cnn(), p_init=1.0).square_side(0, 28, 28) == 27  # at most h - 1
    # The schedule is rescaled to the budget: iteration 11 of 10000 = 2 of 1000.
    assert Square(tiny_cnn(), n_queries=1000).square_side(2, 28, 28) == 18


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n_queries": 1}, "n_queries"),
        ({"p_init": 0.0}, "p_init"),
        ({"p_init": 1.5}, "p_init"),
        ({"norm": "l2"}, "norm"),
        ({"eps": -0.1}, "eps"),
        ({"loss": "hinge"}, "loss"),
    ],
)
def test_bad_arguments_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Square(tiny_cnn(), **kwargs)


@pytest.mark.parametrize("shape", [(2, 12), (2, SIZE, SIZE), (2, 1, SIZE, 1)])
def test_non_image_inputs_are_rejected(shape):
    with pytest.raises(ValueError, match="images"):
        Square(tiny_cnn())(np.zeros(shape, "float32"), np.zeros(2, int))
