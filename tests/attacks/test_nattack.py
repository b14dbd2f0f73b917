"""NAttack: threat model, query counting, chunking, success on an undefended model."""

import keras
import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from keras import ops

from hdl_keras.attacks.nattack import NAttack
from hdl_keras.testing.toy_models import small_mlp

pytestmark = pytest.mark.backend_suite

NUM_FEATURES = 12


def predict(model, x):
    return np.argmax(ops.convert_to_numpy(model(x)), axis=1)


@settings(max_examples=4, deadline=None)
@given(
    eps=st.floats(0.0, 0.5),
    seed=st.integers(0, 2**16),
    targeted=st.booleans(),
)
def test_nattack_stays_in_the_ball_and_the_bounds(eps, seed, targeted):
    model = small_mlp(seed=seed % 5)
    rng = np.random.default_rng(seed)
    x = rng.random((6, NUM_FEATURES), dtype=np.float32)
    x[0, :3] = [0.0, 1.0, 0.5]  # pixels at the bounds stay finite
    y = rng.integers(0, 5, 6)
    attack = NAttack(model, eps=eps, population=4, max_iterations=3, targeted=targeted, seed=seed)
    x_adv = ops.convert_to_numpy(attack(x, y))
    assert x_adv.shape == x.shape and np.all(np.isfinite(x_adv))
    assert x_adv.min() >= 0.0 and x_adv.max() <= 1.0
    assert np.all(np.abs(x_adv - x) <= eps + 1e-6)


def test_nattack_lowers_the_accuracy_of_an_undefended_model():
    model = small_mlp()
    rng = np.random.default_rng(1)
    x = rng.random((32, NUM_FEATURES), dtype=np.float32)
    y = predict(model, x)  # clean accuracy 1
    attack = NAttack(model, eps=0.3, population=50, max_iterations=50, seed=0)
    assert np.mean(predict(model, attack(x, y)) == y) <= 0.5


def test_robust_accuracy_is_at_most_clean_and_queries_are_counted():
    model = small_mlp()
    rng = np.random.default_rng(2)
    x = rng.random((32, NUM_FEATURES), dtype=np.float32)
    y = rng.integers(0, 5, 32)
    y[:16] = predict(model, x[:16])  # at least half correct
    clean_correct = predict(model, x) == y
    population, max_iterations = 20, 10
    attack = NAttack(model, eps=0.1, population=population, max_iterations=max_iterations, seed=0)
    x_adv = ops.convert_to_numpy(attack(x, y))
    robust_correct = predict(model, x_adv) == y
    queries = attack.queries

    assert robust_correct.mean() <= clean_correct.mean()
    assert queries.shape == (32,) and np.issubdtype(queries.dtype, np.integer)
    # Misclassified at the start: one query, returned unchanged.
    np.testing.assert_array_equal(queries[~clean_correct], 1)
    np.testing.assert_array_equal(x_adv[~clean_correct], x[~clean_correct])
    # Attacked: the clean query, then `population` per iteration until fooled.
    attacked = queries[clean_correct] - 1
    assert np.all(attacked % population == 0)
    assert np.all((attacked >= population) & (attacked <= population * max_iterations))
    # Never fooled: the whole budget, returned unchanged.
    np.testing.assert_array_equal(queries[robust_correct], 1 + population * max_iterations)
    np.testing.assert_array_equal(x_adv[robust_correct], x[robust_correct])
    assert (clean_correct & ~robust_correct).any() and robust_correct.any()


def test_examples_attacked_in_chunks_give_images_in_the_ball():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((6, 6, 2))
    outputs = keras.layers.Dense(3)(keras.layers.Flatten()(inputs))
    model = keras.Model(inputs, outputs)
    rng = np.random.default_rng(3)
    x = rng.random((5, 6, 6, 2), dtype=np.float32)
    y = predict(model, x)
    # 2 examples per chunk: chunks of 2, 2 and 1.
    attack = NAttack(model, eps=0.2, population=10, max_iterations=20, eval_batch_size=25, seed=0)
    x_adv = ops.convert_to_numpy(attack(x, y))
    assert x_adv.shape == x.shape and attack.queries.shape == (5,)
    assert np.all(np.abs(x_adv - x) <= 0.2 + 1e-6)
    fooled = predict(model, x_adv) != y
    assert fooled.any()
    assert np.all(attack.queries[fooled] <= 1 + 10 * 20)


def test_targeted_nattack_reaches_the_targets():
    model = small_mlp()
    rng = np.random.default_rng(4)
    x = rng.random((16, NUM_FEATURES), dtype=np.float32)
    # Targets the model predicts somewhere in the box (so eps = 1 reaches them),
    # other than the clean predictions.
    reachable = predict(model, rng.random((64, NUM_FEATURES), dtype=np.float32))
    targets = np.array([next(t for t in reachable if t != p) for p in predict(model, x)])
    attack = NAttack(model, eps=1.0, population=50, max_iterations=50, targeted=True, seed=0)
    assert np.mean(predict(model, attack(x, targets)) == targets) >= 0.9


def test_a_seed_makes_the_attack_reproducible():
    model = small_mlp()
    rng = np.random.default_rng(5)
    x = rng.random((8, NUM_FEATURES), dtype=np.float32)
    y = predict(model, x)
    runs = []
    for _ in range(2):
        attack = NAttack(model, eps=0.2, population=10, max_iterations=10, seed=7)
        runs.append((ops.convert_to_numpy(attack(x, y)), attack.queries))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    np.testing.assert_array_equal(runs[0][1], runs[1][1])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"population": 1}, "population"),
        ({"max_iterations": 0}, "max_iterations"),
        ({"eval_batch_size": 0}, "eval_batch_size"),
        ({"sigma": 0.0}, "sigma"),
        ({"learning_rate": -1.0}, "learning_rate"),
        ({"init_std": -1.0}, "init_std"),
        ({"norm": "l2"}, "norm"),
        ({"loss": "hinge"}, "loss"),
    ],
)
def test_bad_arguments_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        NAttack(small_mlp(), **kwargs)
