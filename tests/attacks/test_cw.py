"""Carlini-Wagner l_2: minimum norm on a linear model, success, bounds, eps, recipe."""

import keras
import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from keras import ops

from hdl_keras.attacks import PGD
from hdl_keras.attacks.cw import CarliniWagner
from hdl_keras.attacks.cw import cw_linf
from hdl_keras.attacks.eot import EoT
from hdl_keras.testing.toy_models import small_mlp

pytestmark = pytest.mark.backend_suite

NUM_FEATURES = 12


def predict(model, x):
    return np.argmax(ops.convert_to_numpy(model(x)), axis=1)


def l2_norms(x_adv, x):
    return np.linalg.norm((ops.convert_to_numpy(x_adv) - x).reshape(len(x), -1), axis=1)


def clean_batch(model, size=32, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((size, NUM_FEATURES), dtype=np.float32)
    return x, predict(model, x)  # clean accuracy 1


def test_cw_finds_the_minimum_l2_perturbation_of_a_linear_model():
    # Logits [0, v.(x - 1/2)]: the closest point of the other class is at l_2
    # distance |v.(x - 1/2)| / ||v|| along v; x is built so that it is inside the box.
    rng = np.random.default_rng(0)
    v = rng.standard_normal(NUM_FEATURES).astype("float32")
    inputs = keras.Input((NUM_FEATURES,))
    model = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    kernel = np.stack([np.zeros_like(v), v], axis=1)
    model.set_weights([kernel, np.array([0.0, -0.5 * v.sum()], "float32")])
    direction = v / np.linalg.norm(v)
    center = 0.5 + rng.uniform(-0.1, 0.1, (16, NUM_FEATURES))
    center -= np.outer((center - 0.5) @ direction, direction)  # on the boundary
    distance = rng.uniform(0.05, 0.2, 16) * rng.choice([-1.0, 1.0], 16)
    x = (center + distance[:, None] * direction).astype("float32")
    optimum = x - distance[:, None] * direction
    assert optimum.min() > 0.0 and optimum.max() < 1.0
    y = (distance > 0).astype(int)

    attack = CarliniWagner(model, steps=100, binary_search_steps=9)
    x_adv = attack(x, y)
    assert np.all(predict(model, x_adv) != y)
    norms = l2_norms(x_adv, x)
    np.testing.assert_array_less(norms, 1.1 * np.abs(distance))
    np.testing.assert_array_less(0.999 * np.abs(distance), norms)


def test_cw_fools_an_undefended_model_with_less_l2_than_pgd():
    model = small_mlp()
    x, y = clean_batch(model)
    x_cw = CarliniWagner(model)(x, y)  # 100 steps, 5 binary search steps
    x_pgd = PGD(model, eps=1.0, norm="l2", step_size=0.1, steps=20, seed=0)(x, y)
    fooled_cw = predict(model, x_cw) != y
    fooled_pgd = predict(model, x_pgd) != y
    assert fooled_cw.mean() >= 0.85
    both = fooled_cw & fooled_pgd
    assert both.sum() >= len(x) // 2
    assert np.mean(l2_norms(x_cw, x)[both]) < np.mean(l2_norms(x_pgd, x)[both])
    unchanged = np.all(ops.convert_to_numpy(x_cw) == x, axis=1)
    np.testing.assert_array_equal(unchanged, ~fooled_cw)  # failures come back clean


def test_cw_targeted_reaches_the_targets_with_confidence():
    model = small_mlp()
    x, y = clean_batch(model, seed=1)
    target = predict(model, x[::-1].copy())
    reachable = target != y
    kappa = 0.5
    # Targets may lie far away: a larger learning rate covers the distance in 100 steps.
    attack = CarliniWagner(model, kappa=kappa, learning_rate=0.05, targeted=True)
    logits = ops.convert_to_numpy(model(attack(x, target)))
    hit = np.argmax(logits, axis=1) == target
    assert hit[reachable].mean() > 0.9
    others = logits.copy()
    others[np.arange(len(x)), target] = -np.inf
    lead = logits[np.arange(len(x)), target] - others.max(axis=1)
    assert np.all(lead[hit & reachable] > kappa)


def test_finite_eps_reports_longer_perturbations_as_clean():
    model = small_mlp()
    x, y = clean_batch(model, seed=2)
    unbounded = ops.convert_to_numpy(CarliniWagner(model, steps=30, binary_search_steps=3)(x, y))
    norms = l2_norms(unbounded, x)
    eps = float(np.median(norms))
    bounded = CarliniWagner(model, eps=eps, steps=30, binary_search_steps=3)(x, y)
    bounded = ops.convert_to_numpy(bounded)
    within = norms <= eps
    np.testing.assert_allclose(bounded[within], unbounded[within], atol=1e-6)
    np.testing.assert_array_equal(bounded[~within], x[~within])


def test_perturb_traces_to_the_same_result_as_the_stepwise_call():
    model = small_mlp()
    x, y = clean_batch(model, size=8, seed=4)
    kwargs = dict(steps=4, binary_search_steps=2, learning_rate=0.1, initial_const=1.0)
    stepwise = ops.convert_to_numpy(CarliniWagner(model, **kwargs)(x, y))
    attack = CarliniWagner(model, **kwargs)
    x_tensor, y_tensor = ops.convert_to_tensor(x), ops.convert_to_tensor(y, "int32")
    traced = attack.compile(attack.perturb)(x_tensor, y_tensor)
    np.testing.assert_allclose(ops.convert_to_numpy(traced), stepwise, atol=1e-5)
    assert np.any(stepwise != x)  # the attack moved


def test_eot_averages_the_gradients_cw_takes():
    # On a deterministic model every draw is the same: CW on EoT(model) must equal CW.
    model = small_mlp()
    x, y = clean_batch(model, size=8, seed=5)
    attack = CarliniWagner(model, steps=4, binary_search_steps=2, learning_rate=0.1)
    eot_attack = CarliniWagner(EoT(model, samples=2), steps=4, binary_search_steps=2, learning_rate=0.1)
    eot = ops.convert_to_numpy(eot_attack(x, y))
    np.testing.assert_allclose(eot, ops.convert_to_numpy(attack(x, y)), atol=1e-6)


@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 2**16), low=st.sampled_from([0.0, -1.0]))
def test_cw_outputs_stay_in_the_bounds(seed, low):
    model = small_mlp(seed=seed % 5)
    rng = np.random.default_rng(seed)
    x = rng.uniform(low, 1.0, (6, NUM_FEATURES)).astype("float32")
    y = rng.integers(0, 5, 6)
    attack = CarliniWagner(model, steps=5, binary_search_steps=2, learning_rate=0.5, bounds=(low, 1.0))
    x_adv = ops.convert_to_numpy(attack(x, y))
    assert x_adv.shape == x.shape
    assert x_adv.min() >= low and x_adv.max() <= 1.0


def test_cw_linf_recipe_is_ifgsm20_on_the_margin():
    model = small_mlp()
    attack = cw_linf(model)
    assert isinstance(attack, PGD)
    assert (attack.eps, attack.step_size, attack.steps) == (8 / 255, 2 / 255, 20)
    assert attack.loss_identifier == "cw" and not attack.random_start and attack.norm == "linf"
    x, y = clean_batch(model, size=64, seed=3)
    x_adv = ops.convert_to_numpy(cw_linf(model, eps=0.1, step_size=0.02)(x, y))
    assert np.abs(x_adv - x).max() <= 0.1 + 1e-6
    assert np.mean(predict(model, x_adv) == y) < 1.0


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"norm": "linf"}, "norm"),
        ({"eps": -1.0}, "eps"),
        ({"steps": 0}, "steps"),
        ({"binary_search_steps": 0}, "binary_search_steps"),
        ({"learning_rate": 0.0}, "learning_rate"),
        ({"initial_const": -1.0}, "initial_const"),
        ({"kappa": -1.0}, "kappa"),
        ({"loss": "ce"}, "loss"),
    ],
)
def test_bad_arguments_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        CarliniWagner(small_mlp(), **kwargs)
