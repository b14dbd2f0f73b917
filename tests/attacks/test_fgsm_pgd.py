"""FGSM and PGD: threat-model bounds, linear optimum, monotonicity."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from keras import ops

from hdl_keras.attacks import FGSM
from hdl_keras.attacks import PGD
from hdl_keras.testing.toy_models import linear_problem
from hdl_keras.testing.toy_models import small_mlp

pytestmark = pytest.mark.backend_suite

NUM_FEATURES = 12


def accuracy(model, x, y):
    return float(np.mean(np.argmax(ops.convert_to_numpy(model(x)), axis=1) == y))


def test_fgsm_reaches_the_linf_optimum_of_a_linear_model():
    model, x, y, optimum = linear_problem(seed=1, eps=0.1)
    x_adv = ops.convert_to_numpy(FGSM(model, eps=0.1)(x, y))
    np.testing.assert_allclose(x_adv, optimum, atol=1e-6)


@pytest.mark.parametrize("random_start", [False, True])
def test_pgd_reaches_the_linf_optimum_of_a_linear_model(random_start):
    model, x, y, optimum = linear_problem(seed=2, eps=0.1)
    attack = PGD(model, eps=0.1, step_size=0.05, steps=10, random_start=random_start, seed=0)
    np.testing.assert_allclose(ops.convert_to_numpy(attack(x, y)), optimum, atol=1e-6)


@settings(max_examples=10, deadline=None)
@given(
    eps=st.floats(0.0, 0.5),
    norm=st.sampled_from(["linf", "l2"]),
    seed=st.integers(0, 2**16),
    attack_name=st.sampled_from(["fgsm", "pgd"]),
)
def test_adversarial_examples_stay_in_the_ball_and_the_bounds(eps, norm, seed, attack_name):
    model = small_mlp(seed=seed % 7)
    rng = np.random.default_rng(seed)
    x = rng.random((6, NUM_FEATURES), dtype=np.float32)
    y = rng.integers(0, 5, 6)
    if attack_name == "fgsm":
        attack = FGSM(model, eps=eps, norm=norm)
    else:
        attack = PGD(model, eps=eps, norm=norm, step_size=max(eps / 4, 1e-3), steps=3, seed=seed)
    x_adv = ops.convert_to_numpy(attack(x, y))
    assert x_adv.shape == x.shape
    assert x_adv.min() >= 0.0 and x_adv.max() <= 1.0
    delta = (x_adv - x).reshape(len(x), -1)
    size = np.abs(delta).max(axis=1) if norm == "linf" else np.linalg.norm(delta, axis=1)
    assert np.all(size <= eps + 1e-5)


def test_robust_accuracy_is_at_most_clean_and_more_restarts_never_hurt():
    model = small_mlp()
    rng = np.random.default_rng(3)
    x = rng.random((64, NUM_FEATURES), dtype=np.float32)
    y = np.argmax(ops.convert_to_numpy(model(x)), axis=1)  # clean accuracy 1
    clean = accuracy(model, x, y)
    previous = clean
    for restarts in (1, 2, 4):
        attack = PGD(model, eps=0.05, step_size=0.01, steps=5, restarts=restarts, seed=0)
        robust = accuracy(model, ops.convert_to_numpy(attack(x, y)), y)
        assert robust <= previous
        previous = robust
    assert previous < clean


def test_targeted_pgd_reaches_the_target_class():
    model = small_mlp()
    rng = np.random.default_rng(4)
    x = rng.random((32, NUM_FEATURES), dtype=np.float32)
    # Targets the model predicts somewhere in the box, so eps = 1 can reach them.
    target = np.argmax(ops.convert_to_numpy(model(x[::-1].copy())), axis=1)
    attack = PGD(model, eps=1.0, step_size=0.1, steps=40, targeted=True, seed=0)
    predictions = np.argmax(ops.convert_to_numpy(model(attack(x, target))), axis=1)
    assert np.mean(predictions == target) > 0.9


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"norm": "l1"}, "norm"),
        ({"eps": -1.0}, "eps"),
        ({"bounds": (1.0, 0.0)}, "bounds"),
        ({"steps": 0}, "steps"),
    ],
)
def test_bad_arguments_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        PGD(small_mlp(), **kwargs)


def test_inputs_out_of_bounds_and_bad_labels_are_rejected():
    model = small_mlp()
    x = np.full((2, NUM_FEATURES), 2.0, dtype="float32")
    with pytest.raises(ValueError, match="bounds"):
        FGSM(model)(x, np.zeros(2, int))
    with pytest.raises(ValueError, match="shape"):
        FGSM(model)(np.zeros((2, NUM_FEATURES), "float32"), np.zeros((2, 1), int))
