"""Property tests: random shapes, dtypes, NaN/inf and out-of-range values fed to every
attack and to the objectives give either a clear error or a valid result."""

import functools

import keras
import numpy as np
import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from hdl_keras import attacks
from hdl_keras.objectives import HolisticModel

NUM_FEATURES, NUM_CLASSES = 4, 3
SETTINGS = settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# What a clear error says: the expectation and what was received (Keras style).
CLEAR = ("Expected", "expects", "must be", "supports")

ATTACKS = {
    "FGSM": lambda model, eps: attacks.FGSM(model, eps=eps),
    "PGD": lambda model, eps: attacks.PGD(model, eps=eps, steps=2, seed=0),
    "APGD": lambda model, eps: attacks.APGD(model, eps=eps, steps=2, seed=0),
    "CarliniWagner": lambda model, eps: attacks.CarliniWagner(model, eps=eps, steps=2, binary_search_steps=1),
    "Square": lambda model, eps: attacks.Square(model, eps=eps, n_queries=3, seed=0),
    "NAttack": lambda model, eps: attacks.NAttack(model, eps=eps, max_iterations=2, population=4, seed=0),
}

special = st.sampled_from([np.nan, np.inf, -np.inf, -0.5, 1.5, 255.0])
values = st.one_of(st.floats(0.0, 1.0), special)
eps_values = st.one_of(st.floats(0.0, 0.45), st.sampled_from([np.nan, np.inf, -0.1, 2.0, 8.0]))


@functools.cache
def _mlp():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((NUM_FEATURES,))
    return keras.Model(inputs, keras.layers.Dense(NUM_CLASSES)(keras.layers.Dense(8, activation="relu")(inputs)))


@functools.cache
def _cnn():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((6, 6, 1))
    flat = keras.layers.Flatten()(keras.layers.Conv2D(2, 3)(inputs))
    return keras.Model(inputs, keras.layers.Dense(NUM_CLASSES)(flat))


@st.composite
def batches(draw, image=False):
    """`(x, y)`: mostly valid, sometimes a wrong shape, dtype, value or label."""
    batch = draw(st.integers(0, 3))
    shape = (batch, 6, 6, 1) if image else (batch, NUM_FEATURES)
    if draw(st.booleans()) and draw(st.booleans()):  # a quarter of the draws: another shape
        shape = (batch, *draw(st.lists(st.integers(1, 5), min_size=1, max_size=3)))
    dtype = draw(st.sampled_from(["float16", "float32", "float64"]))
    x = np.full(shape, draw(st.floats(0.0, 1.0)), dtype=dtype)
    if draw(st.booleans()) and x.size:
        x.flat[draw(st.integers(0, x.size - 1))] = draw(values)
    y = np.array(draw(st.lists(st.integers(-1, NUM_CLASSES), min_size=batch, max_size=batch)), dtype="int64")
    if draw(st.booleans()) and draw(st.booleans()):
        y = y[:-1]
    return x, y


def _assert_clear(error):
    assert isinstance(error, ValueError), f"{type(error).__name__}: {error}"
    assert any(phrase in str(error) for phrase in CLEAR), str(error)


def _run_attack(name, model, eps, x, y):
    try:
        attack = ATTACKS[name](model, eps)
        x_adv = attack(x, y)
    except ValueError as error:
        _assert_clear(error)
        return
    x_adv = keras.ops.convert_to_numpy(x_adv)
    assert x_adv.shape == x.shape and x_adv.dtype == x.dtype
    assert np.all(np.isfinite(x_adv))
    assert np.all((x_adv >= 0) & (x_adv <= 1))
    if attack.norm == "linf":
        tolerance = 1e-3 if x.dtype == np.float16 else 1e-6
        assert np.max(np.abs(x_adv.astype("float64") - x.astype("float64"))) <= attack.eps + tolerance


@pytest.mark.parametrize("name", ["FGSM", "PGD", "APGD", "CarliniWagner"])
@SETTINGS
@given(data=batches(), eps=eps_values)
def test_gradient_attacks_give_a_clear_error_or_a_valid_result(name, data, eps):
    _run_attack(name, _mlp(), eps, *data)


@pytest.mark.parametrize("name", ["Square", "NAttack"])
@SETTINGS
@given(data=batches(image=True), eps=eps_values)
def test_black_box_attacks_give_a_clear_error_or_a_valid_result(name, data, eps):
    _run_attack(name, _cnn(), eps, *data)


@settings(max_examples=6, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(
    rho=st.one_of(st.floats(0.0, 0.1), st.sampled_from([np.nan, np.inf, -1.0])),
    sparsity_lambda=st.one_of(st.floats(0.0, 1e-3), st.sampled_from([np.nan, -1.0])),
    alpha=st.one_of(st.floats(0.1, 1.0), st.sampled_from([0.0, np.nan, 1.5, 0.05])),
    data=batches(),
)
def test_holistic_objective_gives_a_clear_error_or_a_finite_loss(rho, sparsity_lambda, alpha, data):
    x, y = data
    try:
        inputs = keras.Input((NUM_FEATURES,))
        model = HolisticModel(
            inputs,
            keras.layers.Dense(NUM_CLASSES)(inputs),
            method="Stable+Robust",
            rho=rho,
            sparsity_lambda=sparsity_lambda,
            stability_alpha=alpha,
        )
        model.compile(optimizer="sgd")
        history = model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    except ValueError as error:
        _assert_clear(error)
        return
    assert np.isfinite(history.history["loss"][-1])
