"""IBP verified training: the loss by hand, eps = 0, the ramps in the train step, saving."""

import keras
import numpy as np
import pytest
from keras import ops

from hdl_keras.objectives import IBPTraining
from hdl_keras.objectives import worst_case_logits
from hdl_keras.testing import assert_config_round_trip
from hdl_keras.testing import assert_saved_model_round_trip
from hdl_keras.testing.toy_models import small_mlp
from hdl_keras.verification import interval_bounds
from hdl_keras.verification import verified_accuracy

pytestmark = pytest.mark.backend_suite

# XLA on jax and tensorflow; torch.compile takes ~10 s per model here.
JIT = keras.backend.backend() != "torch"


def linear_problem(num_examples=16, num_features=4, num_classes=3):
    """A `Dense(3)` logits model with random weights and inputs in [0.2, 0.8]."""
    rng = np.random.default_rng(0)
    inputs = keras.Input((num_features,))
    base = keras.Model(inputs, keras.layers.Dense(num_classes)(inputs))
    base.set_weights(
        [
            rng.normal(size=(num_features, num_classes)).astype("float32"),
            rng.normal(size=num_classes).astype("float32"),
        ]
    )
    x = rng.uniform(0.2, 0.8, (num_examples, num_features)).astype("float32")
    y = rng.integers(0, num_classes, num_examples)
    return base, x, y


def ibp_loss_by_hand(base, x, y, eps, kappa, sample_weight=None):
    """Gowal et al. eq. 5-6 for one dense layer, the box inside [0, 1]: numpy."""
    kernel, bias = (np.asarray(w, "float64") for w in base.get_weights())
    logits = x @ kernel + bias
    radius = eps * np.abs(kernel).sum(axis=0)
    true_class = np.eye(kernel.shape[1], dtype=bool)[y]
    worst = np.where(true_class, logits - radius, logits + radius)

    def cross_entropy(z):
        top = z.max(axis=1, keepdims=True)
        log_sum = np.log(np.exp(z - top).sum(axis=1)) + top[:, 0]
        return log_sum - z[np.arange(len(y)), y]

    losses = kappa * cross_entropy(logits) + (1 - kappa) * cross_entropy(worst)
    weights = np.ones(len(y)) if sample_weight is None else sample_weight
    return float(np.mean(losses * weights))


def evaluated_loss(model, x, y, sample_weight=None):
    return model.evaluate(x, y, sample_weight=sample_weight, batch_size=len(x), verbose=0, return_dict=True)["loss"]


def test_worst_case_logits_take_the_lower_bound_of_the_label_only():
    lower = np.array([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]], "float32")
    upper = lower + 10.0
    worst = ops.convert_to_numpy(worst_case_logits(lower, upper, np.array([2, 0])))
    np.testing.assert_array_equal(worst, [[10.0, 11.0, 2.0], [3.0, 14.0, 15.0]])


def test_loss_equals_the_hand_computation_on_a_linear_model():
    base, x, y = linear_problem()
    model = IBPTraining.from_model(base, eps=0.15, kappa_final=0.3)
    model.compile()
    weights = np.random.default_rng(1).random(len(y)).astype("float32")
    for sample_weight in (None, weights):
        expected = ibp_loss_by_hand(base, x, y, eps=0.15, kappa=0.3, sample_weight=sample_weight)
        np.testing.assert_allclose(evaluated_loss(model, x, y, sample_weight), expected, rtol=1e-5)


def test_at_eps_zero_the_loss_is_the_cross_entropy():
    inputs = keras.Input((4,))
    hidden = keras.layers.Dense(8)(inputs)
    hidden = keras.layers.BatchNormalization()(hidden)
    hidden = keras.layers.ReLU()(hidden)
    base = keras.Model(inputs, keras.layers.Dense(3)(hidden))
    bn = base.layers[2]
    rng = np.random.default_rng(0)
    bn.moving_mean.assign(rng.normal(size=8).astype("float32"))
    bn.moving_variance.assign(rng.uniform(0.5, 2.0, 8).astype("float32"))
    x = rng.random((16, 4), dtype=np.float32)
    y = rng.integers(0, 3, 16)
    base.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model = IBPTraining.from_model(base, eps=0.0, kappa_final=0.0)
    model.compile()
    np.testing.assert_allclose(evaluated_loss(model, x, y), evaluated_loss(base, x, y), rtol=1e-5)


def test_ramp_values_at_given_steps():
    base, _, _ = linear_problem()
    model = IBPTraining.from_model(base, eps=0.4, kappa_final=0.2, warmup_steps=2, eps_ramp_steps=4, kappa_ramp_steps=8)
    steps = [0, 2, 3, 4, 6, 10, 20]
    eps = [float(ops.convert_to_numpy(model.eps_at(step))) for step in steps]
    kappa = [float(ops.convert_to_numpy(model.kappa_at(step))) for step in steps]
    np.testing.assert_allclose(eps, [0.0, 0.0, 0.1, 0.2, 0.4, 0.4, 0.4], atol=1e-7)
    np.testing.assert_allclose(kappa, [1.0, 1.0, 0.9, 0.8, 0.6, 0.2, 0.2], atol=1e-7)
    # A ramp of 0 steps jumps to the final value when the warm-up ends.
    jump = IBPTraining.from_model(base, eps=0.4, kappa_final=0.2, warmup_steps=2)
    np.testing.assert_allclose([float(ops.convert_to_numpy(jump.eps_at(step))) for step in (1, 2)], [0.0, 0.4])
    np.testing.assert_allclose([float(ops.convert_to_numpy(jump.kappa_at(step))) for step in (1, 2)], [1.0, 0.2])


def test_train_steps_advance_the_ramp_and_evaluation_does_not():
    base, x, y = linear_problem()
    model = IBPTraining.from_model(base, eps=0.2, kappa_final=0.4, eps_ramp_steps=4, kappa_ramp_steps=8)
    model.compile(optimizer=keras.optimizers.SGD(0.1), jit_compile=JIT)
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)  # 2 steps
    assert int(ops.convert_to_numpy(model.ibp_step)) == 2
    # After 2 steps: eps = 0.2 * 2/4, kappa = 1 - 0.6 * 2/8.
    expected = ibp_loss_by_hand(base, x, y, eps=0.1, kappa=0.85)
    np.testing.assert_allclose(evaluated_loss(model, x, y), expected, rtol=1e-5)
    assert int(ops.convert_to_numpy(model.ibp_step)) == 2


def test_tensor_eps_gives_the_bounds_of_the_number():
    base, x, _ = linear_problem()
    for expected, actual in zip(interval_bounds(base, x, 0.1), interval_bounds(base, x, ops.convert_to_tensor(0.1))):
        np.testing.assert_allclose(ops.convert_to_numpy(actual), ops.convert_to_numpy(expected))


def robust_and_brittle_features(n, seed=0):
    """2-D inputs in [0, 1]: `x0` agrees with the label 85% of the time, 0.3 away from the
    middle (verifiable at eps = 0.15); `x1` always agrees, but only 0.1 away (brittle)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    sign = 2.0 * y - 1.0
    agree = np.where(rng.random(n) < 0.85, 1.0, -1.0)
    x0 = 0.5 + 0.3 * sign * agree + rng.normal(0.0, 0.03, n)
    x1 = 0.5 + 0.1 * sign + rng.normal(0.0, 0.01, n)
    return np.clip(np.stack([x0, x1], axis=1), 0.0, 1.0).astype("float32"), y


def test_ibp_training_raises_verified_accuracy_over_natural_training():
    x, y = robust_and_brittle_features(256)
    x_test, y_test = robust_and_brittle_features(256, seed=1)
    eps = 0.15
    natural = small_mlp(num_classes=2, num_features=2, seed=0)
    natural.compile(
        optimizer=keras.optimizers.Adam(0.05),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    natural.fit(x, y, epochs=20, batch_size=32, verbose=0)
    verified = IBPTraining.from_model(
        small_mlp(num_classes=2, num_features=2, seed=0),
        eps=eps,
        kappa_final=0.0,
        eps_ramp_steps=8,
    )
    verified.compile(optimizer=keras.optimizers.Adam(0.05))
    verified.fit(x, y, epochs=10, batch_size=64, verbose=0)

    # Natural training relies on the brittle feature, which no point of the box keeps;
    # IBP training keeps the robust feature and its 85%.
    assert verified_accuracy(natural, x_test, y_test, eps) < 0.2
    assert verified_accuracy(verified, x_test, y_test, eps) > 0.75


def test_trains_saves_and_loads_with_its_schedule(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.random((32, 4), dtype=np.float32)
    y = rng.integers(0, 3, 32)
    settings = {
        "eps": 0.1,
        "kappa_final": 0.25,
        "warmup_steps": 1,
        "eps_ramp_steps": 3,
        "kappa_ramp_steps": 5,
        "bounds": (0.0, 1.0),
    }
    model = IBPTraining.from_model(small_mlp(num_classes=3, num_features=4), **settings)
    model.compile(optimizer="adam", metrics=["accuracy"])
    history = model.fit(x, y, epochs=1, batch_size=16, verbose=0, validation_data=(x, y))
    for name in ("loss", "accuracy", "verified_accuracy", "val_loss", "val_verified_accuracy"):
        assert np.isfinite(history.history[name][0]), name
    assert_config_round_trip(model)
    loaded = assert_saved_model_round_trip(model, x, tmp_path)
    assert type(loaded) is IBPTraining
    for key, value in settings.items():
        assert loaded.get_config()[key] == value, key
    assert int(ops.convert_to_numpy(loaded.ibp_step)) == 2
    loaded.compile(optimizer="adam")
    loaded.fit(x, y, epochs=1, batch_size=16, verbose=0)
    assert int(ops.convert_to_numpy(loaded.ibp_step)) == 4


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"eps": -0.1}, "eps=-0.1"),
        ({"kappa_final": 1.5}, "kappa_final=1.5"),
        ({"warmup_steps": -1}, "warmup_steps=-1"),
        ({"eps_ramp_steps": 2.5}, "eps_ramp_steps=2.5"),
        ({"kappa_ramp_steps": None}, "kappa_ramp_steps=None"),
        ({"bounds": (1.0, 0.0)}, r"bounds=\(1.0, 0.0\)"),
    ],
)
def test_invalid_arguments_are_reported(kwargs, message):
    inputs = keras.Input((4,))
    with pytest.raises(ValueError, match=message):
        IBPTraining(inputs, keras.layers.Dense(3)(inputs), **kwargs)
