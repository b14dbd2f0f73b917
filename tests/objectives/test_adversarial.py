"""Adversarial objectives: robustness gain, special cases, the attack in the train step, saving."""

import keras
import numpy as np
import pytest
from keras import ops

from hdl_keras.attacks import PGD
from hdl_keras.objectives import ATTACK_PRESETS
from hdl_keras.objectives import TRADES
from hdl_keras.objectives import PGDAdversarialTraining
from hdl_keras.objectives import TradeOff
from hdl_keras.objectives import kl_divergence
from hdl_keras.testing import assert_config_round_trip
from hdl_keras.testing import assert_saved_model_round_trip
from hdl_keras.testing.gradcheck import fit_gradient
from hdl_keras.testing.toy_models import small_mlp

pytestmark = pytest.mark.backend_suite

OBJECTIVES = [PGDAdversarialTraining, TRADES, TradeOff]
ATTACK = {"eps": 0.1, "step_size": 0.025, "steps": 3, "seed": 0}


def robust_and_brittle_features(n, seed=0):
    """2-D inputs in [0, 1]: `x0` agrees with the label 85% of the time, 0.3 away from the
    middle (robust at eps = 0.15); `x1` always agrees, but only 0.1 away (brittle)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    sign = 2.0 * y - 1.0
    agree = np.where(rng.random(n) < 0.85, 1.0, -1.0)
    x0 = 0.5 + 0.3 * sign * agree + rng.normal(0.0, 0.03, n)
    x1 = 0.5 + 0.1 * sign + rng.normal(0.0, 0.01, n)
    return np.clip(np.stack([x0, x1], axis=1), 0.0, 1.0).astype("float32"), y


def pgd_accuracy(model, x, y, eps):
    x_adv = PGD(model, eps=eps, step_size=eps / 4, steps=10, seed=0)(x, y)
    predictions = np.argmax(ops.convert_to_numpy(model(x_adv, training=False)), axis=1)
    return float(np.mean(predictions == y))


def cross_entropy_model():
    model = small_mlp(num_classes=3, num_features=4, seed=0)
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def test_pgd_training_raises_pgd_accuracy_over_nominal_training():
    x, y = robust_and_brittle_features(256)
    x_test, y_test = robust_and_brittle_features(256, seed=1)
    eps = 0.15

    nominal = small_mlp(num_classes=2, num_features=2, seed=0)
    nominal.compile(
        optimizer=keras.optimizers.Adam(0.05),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    nominal.fit(x, y, epochs=20, batch_size=32, verbose=0)

    robust = PGDAdversarialTraining.from_model(
        small_mlp(num_classes=2, num_features=2, seed=0),
        eps=eps,
        step_size=eps / 4,
        steps=3,
        seed=0,
    )
    robust.compile(optimizer=keras.optimizers.Adam(0.05))
    robust.fit(x, y, epochs=10, batch_size=64, verbose=0)

    # Nominal training fits every example with the brittle feature, which the attack flips;
    # PGD training keeps the robust feature and its 85%.
    assert pgd_accuracy(nominal, x_test, y_test, eps) < 0.2
    assert pgd_accuracy(robust, x_test, y_test, eps) > 0.75


def test_trades_at_beta_zero_and_tradeoff_at_alpha_one_beta_zero_are_the_cross_entropy():
    rng = np.random.default_rng(0)
    x = rng.random((32, 4), dtype=np.float32)
    y = rng.integers(0, 3, 32)
    weights = rng.random(32).astype("float32")
    base = cross_entropy_model()
    for model in (
        TRADES.from_model(base, beta=0.0, **ATTACK),
        TradeOff.from_model(base, alpha=1.0, beta=0.0, **ATTACK),
    ):
        model.compile()
        for sample_weight in (None, weights):
            expected = base.evaluate(x, y, sample_weight=sample_weight, batch_size=32, verbose=0)
            actual = model.evaluate(x, y, sample_weight=sample_weight, batch_size=32, verbose=0, return_dict=True)[
                "loss"
            ]
            np.testing.assert_allclose(actual, expected, rtol=1e-5)


def test_tradeoff_at_alpha_zero_beta_one_is_pgd_training():
    rng = np.random.default_rng(0)
    x = rng.random((32, 4), dtype=np.float32)
    y = rng.integers(0, 3, 32)
    base = cross_entropy_model()
    losses = []
    for model in (
        PGDAdversarialTraining.from_model(base, **ATTACK),
        TradeOff.from_model(base, alpha=0.0, beta=1.0, **ATTACK),
    ):
        model.compile()
        losses.append(model.evaluate(x, y, batch_size=32, verbose=0, return_dict=True)["loss"])
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-6)
    assert losses[0] > base.evaluate(x, y, batch_size=32, verbose=0)


def test_pgd_training_step_is_the_cross_entropy_step_at_the_attacked_batch():
    rng = np.random.default_rng(0)
    x = rng.random((16, 4), dtype=np.float32)
    y = rng.integers(0, 3, 16)
    base = small_mlp(num_classes=3, num_features=4, seed=0)
    settings = {"eps": 0.1, "step_size": 0.025, "steps": 3, "random_start": False}
    model = PGDAdversarialTraining.from_model(base, **settings)
    model.compile(optimizer=keras.optimizers.SGD(1.0))
    gradient = fit_gradient(model, x, y)
    # The attack in inference mode, then the weights' gradient of the CE at the fixed x'.
    x_adv = ops.convert_to_numpy(PGD(base, **settings)(x, y))
    base.compile(
        optimizer=keras.optimizers.SGD(1.0),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    for actual, expected in zip(gradient, fit_gradient(base, x_adv, y)):
        np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-6)


def test_trades_loss_is_cross_entropy_plus_beta_kl_at_the_kl_attack_point():
    rng = np.random.default_rng(0)
    x = rng.random((16, 4), dtype=np.float32)
    y = rng.integers(0, 3, 16)
    base = small_mlp(num_classes=3, num_features=4, seed=0)
    model = TRADES.from_model(base, beta=2.0, **ATTACK)
    model.compile()
    loss = model.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)["loss"]
    clean = base(x, training=False)
    kl_attack = PGD(base, loss=lambda logits, reference: kl_divergence(reference, logits), **ATTACK)
    adversarial = base(kl_attack.perturb(ops.convert_to_tensor(x), clean), training=False)
    expected = ops.sparse_categorical_crossentropy(y, clean, from_logits=True)
    expected = expected + 2.0 * kl_divergence(clean, adversarial)
    np.testing.assert_allclose(loss, ops.convert_to_numpy(ops.mean(expected)), rtol=1e-5)


def test_kl_divergence_is_zero_on_equal_logits_and_matches_numpy():
    rng = np.random.default_rng(0)
    p_logits = rng.standard_normal((5, 4)).astype("float32")
    q_logits = rng.standard_normal((5, 4)).astype("float32")
    p = np.exp(p_logits) / np.exp(p_logits).sum(axis=1, keepdims=True)
    q = np.exp(q_logits) / np.exp(q_logits).sum(axis=1, keepdims=True)
    expected = np.sum(p * np.log(p / q), axis=1)
    np.testing.assert_allclose(ops.convert_to_numpy(kl_divergence(p_logits, q_logits)), expected, rtol=1e-5)
    np.testing.assert_allclose(ops.convert_to_numpy(kl_divergence(p_logits, p_logits)), 0.0, atol=1e-6)


def recording(cls):
    """`cls` recording, inside the train step, the attack's farthest move and range."""

    class Recording(cls):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.largest_move = self.add_weight(shape=(), initializer="zeros", trainable=False)
            self.lowest = self.add_weight(shape=(), initializer="ones", trainable=False)
            self.highest = self.add_weight(shape=(), initializer="zeros", trainable=False)

        def adversarial_examples(self, x, labels):
            x_adv = super().adversarial_examples(x, labels)
            move = ops.max(ops.abs(x_adv - x))
            self.largest_move.assign(ops.maximum(self.largest_move, move))
            self.lowest.assign(ops.minimum(self.lowest, ops.min(x_adv)))
            self.highest.assign(ops.maximum(self.highest, ops.max(x_adv)))
            return x_adv

    return Recording


@pytest.mark.parametrize("cls", OBJECTIVES, ids=lambda cls: cls.__name__)
def test_adversarial_examples_in_the_train_step_stay_in_the_ball_and_the_bounds(cls):
    rng = np.random.default_rng(0)
    # Half the inputs on the bounds 0 and 1, where the attack must clip.
    x = np.concatenate([rng.random((16, 4)), rng.integers(0, 2, (16, 4))]).astype("float32")
    y = rng.integers(0, 3, 32)
    inputs = keras.Input((4,))
    hidden = keras.layers.Dense(8, activation="relu")(inputs)
    model = recording(cls)(inputs, keras.layers.Dense(3)(hidden), **ATTACK)
    model.compile(optimizer="sgd")
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    eps = ATTACK["eps"]
    assert eps * 0.9 <= float(ops.convert_to_numpy(model.largest_move)) <= eps + 1e-6
    assert float(ops.convert_to_numpy(model.lowest)) >= 0.0
    assert float(ops.convert_to_numpy(model.highest)) <= 1.0


@pytest.mark.parametrize("cls", OBJECTIVES, ids=lambda cls: cls.__name__)
def test_objectives_train_one_epoch_and_save_and_load(cls, tmp_path):
    rng = np.random.default_rng(0)
    x = rng.random((32, 4), dtype=np.float32)
    y = rng.integers(0, 3, 32)
    model = cls.from_model(small_mlp(num_classes=3, num_features=4, seed=0), **ATTACK)
    model.compile(optimizer="adam", metrics=["accuracy"])
    seed_state = np.array(ops.convert_to_numpy(model.attack_seed_generator.state))
    history = model.fit(x, y, epochs=1, batch_size=16, verbose=0, validation_data=(x, y))
    logs = ("loss", "accuracy", "adversarial_accuracy", "val_loss", "val_adversarial_accuracy")
    for name in logs:
        assert np.isfinite(history.history[name][0]), name
    # The random starts change from one step to the next.
    assert not np.array_equal(ops.convert_to_numpy(model.attack_seed_generator.state), seed_state)
    assert_config_round_trip(model)
    loaded = assert_saved_model_round_trip(model, x, tmp_path)
    assert type(loaded) is cls
    settings = ("eps", "step_size", "steps", "random_start", "norm", "bounds", "seed")
    for key in settings + ("alpha", "beta"):
        assert loaded.get_config().get(key) == model.get_config().get(key), key
    loaded.fit(x, y, epochs=1, batch_size=16, verbose=0)


def test_defaults_are_the_paper_settings():
    inputs = keras.Input((4,))
    outputs = keras.layers.Dense(3)(inputs)
    pgd = PGDAdversarialTraining(inputs, outputs)
    assert (pgd.eps, pgd.step_size, pgd.steps, pgd.random_start) == (8 / 255, 2 / 255, 10, True)
    assert TRADES(inputs, outputs).beta == 6.0
    tradeoff = TradeOff(inputs, outputs)
    assert (tradeoff.alpha, tradeoff.beta) == (1.0, 8.0)
    mnist = PGDAdversarialTraining(inputs, outputs, **ATTACK_PRESETS["mnist"])
    assert (mnist.eps, mnist.step_size, mnist.steps) == (16 / 255, 2 / 255, 20)


@pytest.mark.parametrize(
    "cls, kwargs, message",
    [
        (TRADES, {"beta": -1.0}, "beta=-1.0"),
        (TRADES, {"random_start": False}, "random_start=False"),
        (TradeOff, {"alpha": 0.0, "beta": 0.0}, "alpha=0.0, beta=0.0"),
        (PGDAdversarialTraining, {"steps": 0}, "steps=0"),
        (PGDAdversarialTraining, {"eps": -0.1}, "eps=-0.1"),
    ],
)
def test_invalid_arguments_are_reported(cls, kwargs, message):
    inputs = keras.Input((4,))
    with pytest.raises(ValueError, match=message):
        cls(inputs, keras.layers.Dense(3)(inputs), **kwargs)
