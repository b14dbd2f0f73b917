"""ObjectiveModel: sample_weight in every objective, from_model / unwrap, the registry."""

import keras
import numpy as np
import pytest
from keras import ops

from hdl_keras import objectives
from hdl_keras.layers import MaskedDense
from hdl_keras.objectives import TRADES
from hdl_keras.objectives import HolisticModel
from hdl_keras.objectives import IBPTraining
from hdl_keras.objectives import ObjectiveModel
from hdl_keras.objectives import PGDAdversarialTraining
from hdl_keras.objectives import TradeOff
from hdl_keras.testing import assert_config_round_trip
from hdl_keras.testing import assert_saved_model_round_trip
from hdl_keras.testing.toy_models import small_mlp
from hdl_keras.verification import interval_bounds

FEATURES, CLASSES, BATCH = 4, 3, 16
ATTACK = {"eps": 0.1, "step_size": 0.05, "steps": 2, "random_start": False}

# One deterministic configuration per objective (the HDL methods cover robust, stable, sparse).
DETERMINISTIC = {
    "DL": (HolisticModel, {"method": "DL"}),
    "Stable": (HolisticModel, {"method": "Stable", "stability_alpha": 0.5}),
    "HDL": (HolisticModel, {"method": "HDL", "rho": 0.05, "stability_alpha": 0.5}),
    "PGD": (PGDAdversarialTraining, ATTACK),
    "TradeOff": (TradeOff, ATTACK),
    "IBP": (IBPTraining, {"eps": 0.05, "kappa_final": 0.3}),
}
ALL_OBJECTIVES = [HolisticModel, PGDAdversarialTraining, TRADES, TradeOff, IBPTraining]


def network(masked=False):
    """A seeded logits MLP `(B, 4) -> (B, 3)`; masked layers for the sparse term."""
    if not masked:
        return small_mlp(num_classes=CLASSES, num_features=FEATURES, seed=0)
    keras.utils.set_random_seed(0)
    inputs = keras.Input((FEATURES,))
    hidden = MaskedDense(8, activation="relu")(inputs)
    return keras.Model(inputs, MaskedDense(CLASSES)(hidden))


def batch(seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((BATCH, FEATURES), dtype=np.float32), rng.integers(0, CLASSES, BATCH)


def sgd_gradient(model, x, y, sample_weight=None):
    """The weights step of one full-batch `fit` with `SGD(1.0)` (minus the gradient)."""
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=1.0))
    before = [np.array(ops.convert_to_numpy(v)) for v in model.trainable_variables]
    model.fit(x, y, sample_weight=sample_weight, batch_size=len(x), epochs=1, shuffle=False, verbose=0)
    after = [ops.convert_to_numpy(v) for v in model.trainable_variables]
    for variable, value in zip(model.trainable_variables, before):
        variable.assign(value)
    return [b - a for b, a in zip(before, after)]


def assert_same_step(first, second):
    for a, b in zip(first, second, strict=True):
        np.testing.assert_allclose(a, b, rtol=2e-4, atol=1e-6)


@pytest.mark.backend_suite
@pytest.mark.parametrize("name", list(DETERMINISTIC))
def test_zero_weight_on_half_the_batch_equals_training_on_the_other_half(name):
    cls, settings = DETERMINISTIC[name]
    x, y = batch()
    half = BATCH // 2
    kept = cls.from_model(network(masked=name == "HDL"), **settings, reduction="mean_with_sample_weight")
    halves = np.concatenate([np.ones(half), np.zeros(half)]).astype("float32")
    reference = sgd_gradient(kept, x[:half], y[:half])
    weighted = sgd_gradient(kept, x, y, sample_weight=halves)
    assert_same_step(weighted, reference)
    assert np.abs(reference[-1]).max() > 1e-3  # a step that the other half would change
    # Keras' default reduction divides by the batch size: weight 2 on half is the half alone.
    default = cls.from_model(network(masked=name == "HDL"), **settings)
    assert_same_step(sgd_gradient(default, x, y, sample_weight=2.0 * halves), reference)


def hand_loss(losses, weights, reduction):
    total = len(losses) if reduction == "sum_over_batch_size" else np.sum(weights)
    return np.sum(weights * losses) / total


def cross_entropy(logits, y):
    logits = np.asarray(logits, dtype="float64")
    log_softmax = logits - np.log(np.sum(np.exp(logits), axis=1, keepdims=True))
    return -log_softmax[np.arange(len(y)), y]


@pytest.mark.backend_suite
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "mean_with_sample_weight"])
def test_weighted_holistic_losses_match_the_hand_computation(reduction):
    x, y = batch(1)
    weights = np.random.default_rng(1).uniform(0.0, 2.0, BATCH).astype("float32")
    model = HolisticModel.from_model(network(), method="DL", reduction=reduction)
    ce = cross_entropy(ops.convert_to_numpy(model(x)), y)
    loss = model.compute_loss(x, y, model(x), sample_weight=weights)
    np.testing.assert_allclose(float(loss), hand_loss(ce, weights, reduction), rtol=1e-5)

    stable = HolisticModel.from_model(network(), method="Stable", stability_alpha=0.5, reduction=reduction)
    stable.theta.assign(float(np.median(ce)))
    loss = stable.compute_loss(x, y, stable(x), sample_weight=weights)
    total = BATCH if reduction == "sum_over_batch_size" else np.sum(weights)
    theta = float(np.median(ce))
    expected = theta + np.sum(weights * np.maximum(ce - theta, 0.0)) / (0.5 * total)
    np.testing.assert_allclose(float(loss), expected, rtol=1e-5)


@pytest.mark.backend_suite
@pytest.mark.parametrize("cls", [PGDAdversarialTraining, TRADES, TradeOff], ids=lambda c: c.__name__)
def test_weighted_adversarial_losses_match_the_hand_computation(cls):
    x, y = batch(2)
    weights = np.concatenate([np.zeros(4), np.random.default_rng(2).uniform(0.5, 2.0, BATCH - 4)])
    model = cls.from_model(network(), eps=0.1, step_size=0.05, steps=2, seed=0, reduction="mean_with_sample_weight")
    state = np.array(ops.convert_to_numpy(model.attack_seed_generator.state))
    labels = ops.convert_to_tensor(y, "int32")
    x_adv = model.adversarial_examples(ops.convert_to_tensor(x), labels)
    losses = ops.convert_to_numpy(model.objective(labels, model(x), model(x_adv)))
    model.attack_seed_generator.state.assign(state)  # the same random start again
    loss = model.compute_loss(x, y, model(x), sample_weight=weights.astype("float32"), training=False)
    expected = hand_loss(losses, weights, "mean_with_sample_weight")
    np.testing.assert_allclose(float(loss), expected, rtol=1e-5)
    # The four zero-weight rows do not count: the mean of the other rows.
    np.testing.assert_allclose(expected, np.sum(weights[4:] * losses[4:]) / np.sum(weights[4:]))


@pytest.mark.backend_suite
def test_weighted_ibp_loss_matches_the_hand_computation():
    x, y = batch(3)
    weights = np.random.default_rng(3).uniform(0.0, 2.0, BATCH).astype("float32")
    model = IBPTraining.from_model(network(), eps=0.05, kappa_final=0.3)
    lower, upper = (ops.convert_to_numpy(t) for t in interval_bounds(model, x, 0.05, bounds=(0.0, 1.0)))
    worst = np.where(np.arange(CLASSES)[None, :] == y[:, None], lower, upper)
    losses = 0.3 * cross_entropy(ops.convert_to_numpy(model(x)), y) + 0.7 * cross_entropy(worst, y)
    loss = model.compute_loss(x, y, model(x), sample_weight=weights, training=False)
    np.testing.assert_allclose(float(loss), hand_loss(losses, weights, "sum_over_batch_size"), rtol=1e-5)


@pytest.mark.backend_suite
@pytest.mark.parametrize("cls", ALL_OBJECTIVES, ids=lambda c: c.__name__)
def test_from_model_unwrap_and_reduction_round_trip(cls, tmp_path):
    base = network()
    model = cls.from_model(base, reduction="mean_with_sample_weight")
    assert isinstance(model, ObjectiveModel) and model.reduction == "mean_with_sample_weight"
    plain = model.unwrap()
    assert isinstance(plain, keras.Model) and not isinstance(plain, ObjectiveModel)
    assert plain.name == model.name
    assert [id(v) for v in plain.weights] == [id(v) for v in base.weights]
    x, _ = batch(4)
    np.testing.assert_allclose(ops.convert_to_numpy(plain(x)), ops.convert_to_numpy(model(x)))
    assert assert_config_round_trip(model).reduction == "mean_with_sample_weight"
    loaded = assert_saved_model_round_trip(model, x, tmp_path)
    assert type(loaded) is cls and loaded.reduction == "mean_with_sample_weight"


def test_from_model_rejects_a_network_without_a_graph():
    class Subclassed(keras.Model):
        def call(self, inputs):
            return inputs

    with pytest.raises(ValueError, match="built functional or Sequential"):
        HolisticModel.from_model(Subclassed())


def test_an_unknown_reduction_is_rejected():
    with pytest.raises(ValueError, match="reduction="):
        HolisticModel.from_model(network(), reduction="sum")


def test_registry_resolves_names_classes_and_suggests_close_names():
    assert objectives.available_objectives() == ["hdl", "ibp", "pgd", "tradeoff", "trades"]
    assert objectives.get("hdl") is HolisticModel
    assert objectives.get("HDL") is HolisticModel
    assert objectives.get("PGDAdversarialTraining") is PGDAdversarialTraining
    assert objectives.get(TRADES) is TRADES
    with pytest.raises(ValueError, match="Did you mean 'trades'"):
        objectives.get("trade")
    with pytest.raises(ValueError, match="Expected one of"):
        objectives.get("nothing-like-it")
    with pytest.raises(TypeError, match="ObjectiveModel subclass"):
        objectives.get(3)
