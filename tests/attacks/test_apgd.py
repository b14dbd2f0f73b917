"""APGD: checkpoint schedule, step-size rule, linear optima, strength, bounds, seeds."""

import functools

import keras
import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from keras import ops

from hdl_keras.attacks import PGD
from hdl_keras.attacks.apgd import APGD
from hdl_keras.attacks.apgd import checkpoints
from hdl_keras.attacks.eot import EoT
from hdl_keras.testing.toy_models import linear_problem
from hdl_keras.testing.toy_models import small_mlp
from hdl_keras.testing.toy_models import two_class_linear_model

pytestmark = pytest.mark.backend_suite

NUM_FEATURES = 12


@functools.lru_cache(maxsize=1)
def trained_mlp(num_classes=4, size=256, seed=0):
    """A small MLP fitted for a few epochs on separable blobs in [0, 1]^d (cached)."""
    rng = np.random.default_rng(seed)
    centers = rng.uniform(0.25, 0.75, (num_classes, NUM_FEATURES))
    y = rng.integers(0, num_classes, size)
    x = np.clip(centers[y] + 0.08 * rng.standard_normal((size, NUM_FEATURES)), 0, 1)
    model = small_mlp(num_classes, seed)
    model.compile(
        optimizer=keras.optimizers.Adam(0.02),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    model.fit(x.astype("float32"), y, epochs=30, batch_size=32, verbose=0)
    return model, x.astype("float32"), y


def predict(model, x):
    return np.argmax(ops.convert_to_numpy(model(x)), axis=1)


def test_checkpoints_follow_the_paper_schedule():
    assert checkpoints(100) == [22, 41, 57, 70, 80, 87, 93, 99]
    assert checkpoints(1) == [1]
    for steps in range(1, 60):
        w = checkpoints(steps)
        assert w == sorted(set(w)) and 1 <= w[0] and w[-1] <= steps


@pytest.mark.parametrize("norm", ["linf", "l2"])
def test_apgd_reaches_the_optimum_of_a_linear_model(norm):
    model, x, y, optimum = linear_problem(seed=1, eps=0.1, norm=norm)
    x_adv = APGD(model, eps=0.1, norm=norm, steps=50, seed=0)(x, y)
    np.testing.assert_allclose(ops.convert_to_numpy(x_adv), optimum, atol=1e-4)


def test_the_step_size_rule_applies_conditions_1_and_2_per_example():
    attack = APGD(small_mlp(), eps=0.1, steps=100, rho=0.75)
    # Examples: few increases | many, improved | many, stalled | many, stalled, halved last time.
    x = np.zeros((4, NUM_FEATURES), "float32")
    current, best = x + 0.3, x + 0.7
    state = {
        "x": x,
        "x_adv": current,
        "x_best": best,
        "grad": current,
        "grad_best": best,
        "loss": np.array([1.0, 1.0, 1.0, 1.0], "float32"),
        "loss_best": np.array([2.0, 2.0, 2.0, 2.0], "float32"),
        "loss_best_last": np.array([1.0, 1.0, 2.0, 2.0], "float32"),
        "reduced_last": np.array([False, False, False, True]),
        "increases": np.array([10.0, 20.0, 20.0, 20.0], "float32"),
        "step": np.full(4, 0.2, "float32"),
    }
    state = {key: ops.convert_to_tensor(value) for key, value in state.items()}
    new = attack._checkpoint(state, ops.convert_to_tensor(0.75 * 22, "float32"))
    halved = np.array([True, False, True, False])
    np.testing.assert_allclose(ops.convert_to_numpy(new["step"]), np.where(halved, 0.1, 0.2))
    expected_x = np.where(halved[:, None], best, current)
    np.testing.assert_allclose(ops.convert_to_numpy(new["x_adv"]), expected_x)
    np.testing.assert_allclose(ops.convert_to_numpy(new["grad"]), expected_x)
    np.testing.assert_array_equal(ops.convert_to_numpy(new["reduced_last"]), halved)
    np.testing.assert_allclose(ops.convert_to_numpy(new["increases"]), 0.0)
    np.testing.assert_allclose(ops.convert_to_numpy(new["loss_best_last"]), 2.0)


@settings(max_examples=4, deadline=None)
@given(
    eps=st.floats(0.0, 0.5),
    norm=st.sampled_from(["linf", "l2"]),
    loss=st.sampled_from(["ce", "dlr"]),
    seed=st.integers(0, 2**16),
)
def test_adversarial_examples_stay_in_the_ball_and_the_bounds(eps, norm, loss, seed):
    model = small_mlp(seed=seed % 7)
    rng = np.random.default_rng(seed)
    x = rng.random((6, NUM_FEATURES), dtype=np.float32)
    y = rng.integers(0, 5, 6)
    attack = APGD(model, eps=eps, norm=norm, loss=loss, steps=5, seed=seed)
    x_adv = ops.convert_to_numpy(attack(x, y))
    assert x_adv.shape == x.shape
    assert x_adv.min() >= 0.0 and x_adv.max() <= 1.0
    delta = (x_adv - x).reshape(len(x), -1)
    size = np.abs(delta).max(axis=1) if norm == "linf" else np.linalg.norm(delta, axis=1)
    assert np.all(size <= eps + 1e-5)


@pytest.mark.parametrize("loss", ["ce", "dlr"])
def test_apgd_is_at_least_as_strong_as_pgd10_with_the_same_loss(loss):
    model, x, y = trained_mlp()
    x, y = x[:128], y[:128]
    clean = np.mean(predict(model, x) == y)
    assert clean > 0.9
    eps = 0.1
    pgd = PGD(model, eps=eps, step_size=eps / 4, steps=10, loss=loss, seed=0)
    pgd_accuracy = np.mean(predict(model, pgd(x, y)) == y)
    apgd_accuracy = np.mean(predict(model, APGD(model, eps=eps, loss=loss, seed=0)(x, y)) == y)
    assert pgd_accuracy < clean  # eps is large enough to matter
    assert apgd_accuracy <= pgd_accuracy


def test_apgd_t_and_restarts_never_do_worse_than_a_single_run():
    model, x, y = trained_mlp()
    x, y = x[:64], y[:64]
    eps = 0.08
    single = APGD(model, eps=eps, loss="dlr", steps=10, seed=0)
    targeted = APGD(model, eps=eps, loss="dlr", steps=10, n_target_classes=3, seed=0)
    restarts = APGD(model, eps=eps, loss="dlr", steps=10, restarts=3, seed=0)
    accuracy = {
        name: np.mean(predict(model, attack(x, y)) == y)
        for name, attack in [("single", single), ("t", targeted), ("restarts", restarts)]
    }
    assert accuracy["single"] < np.mean(predict(model, x) == y)
    assert accuracy["restarts"] <= accuracy["single"]
    assert accuracy["t"] <= accuracy["single"] + 2 / 64


@pytest.mark.parametrize("loss", ["ce", "dlr"])
def test_targeted_apgd_reaches_the_target_class(loss):
    model = small_mlp()
    rng = np.random.default_rng(4)
    x = rng.random((32, NUM_FEATURES), dtype=np.float32)
    # Targets the model predicts somewhere in the box, so eps = 1 can reach them.
    target = predict(model, x[::-1].copy())
    attack = APGD(model, eps=1.0, steps=40, loss=loss, targeted=True, seed=0)
    assert np.mean(predict(model, attack(x, target)) == target) > 0.9


def test_seeds_make_apgd_reproducible():
    model = small_mlp()
    rng = np.random.default_rng(5)
    x = rng.random((16, NUM_FEATURES), dtype=np.float32)
    y = predict(model, x)
    first = ops.convert_to_numpy(APGD(model, eps=0.05, steps=10, restarts=2, seed=3)(x, y))
    second = ops.convert_to_numpy(APGD(model, eps=0.05, steps=10, restarts=2, seed=3)(x, y))
    np.testing.assert_array_equal(first, second)


def test_perturb_traces_to_the_same_result_as_the_stepwise_call():
    model = small_mlp()
    rng = np.random.default_rng(6)
    x = rng.random((8, NUM_FEATURES), dtype=np.float32)
    y = predict(model, x)
    kwargs = dict(eps=0.1, steps=6, loss="dlr", n_target_classes=2, seed=1)
    stepwise = ops.convert_to_numpy(APGD(model, **kwargs)(x, y))
    attack = APGD(model, **kwargs)
    x_tensor, y_tensor = ops.convert_to_tensor(x), ops.convert_to_tensor(y, "int32")
    traced = attack.compile(attack.perturb)(x_tensor, y_tensor)
    np.testing.assert_allclose(ops.convert_to_numpy(traced), stepwise, atol=1e-6)


def test_eot_averages_the_gradients_apgd_takes():
    # On a deterministic model every draw is the same: APGD on EoT(model) must equal APGD.
    model = small_mlp()
    rng = np.random.default_rng(7)
    x = rng.random((8, NUM_FEATURES), dtype=np.float32)
    y = predict(model, x)
    attack = APGD(model, eps=0.1, steps=5, loss="dlr", n_target_classes=2, seed=0)
    eot_attack = APGD(EoT(model, samples=2), eps=0.1, steps=5, loss="dlr", n_target_classes=2, seed=0)
    eot = ops.convert_to_numpy(eot_attack(x, y))
    np.testing.assert_allclose(eot, ops.convert_to_numpy(attack(x, y)), atol=1e-6)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"norm": "l1"}, "norm"),
        ({"eps": -1.0}, "eps"),
        ({"steps": 0}, "steps"),
        ({"restarts": 0}, "restarts"),
        ({"rho": 0.0}, "rho"),
        ({"alpha": 1.5}, "alpha"),
        ({"loss": "hinge"}, "loss"),
        ({"n_target_classes": 0}, "n_target_classes"),
        ({"n_target_classes": 3, "targeted": True}, "targeted"),
    ],
)
def test_bad_arguments_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        APGD(small_mlp(), **kwargs)


def test_losses_and_target_counts_the_model_cannot_support_are_rejected():
    model, _ = two_class_linear_model()
    x, y = np.full((2, NUM_FEATURES), 0.5, "float32"), np.zeros(2, int)
    with pytest.raises(ValueError, match="at least 3 classes"):
        APGD(model, loss="dlr", steps=2)(x, y)
    with pytest.raises(ValueError, match="n_target_classes"):
        APGD(small_mlp(), n_target_classes=5, steps=2)(x, y)
