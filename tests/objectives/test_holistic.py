"""HDL objectives: closed forms, optimum of the stable term, gradients, 8 methods."""

import keras
import numpy as np
import pytest
from keras import ops

from hdl_keras.attacks import PGD
from hdl_keras.layers import MaskedDense
from hdl_keras.objectives import METHODS
from hdl_keras.objectives import BetaAnnealing
from hdl_keras.objectives import HolisticModel
from hdl_keras.objectives import fit_sparse_rounds
from hdl_keras.objectives import masked_layers
from hdl_keras.objectives import robust_cross_entropy
from hdl_keras.objectives import start_new_round
from hdl_keras.objectives import worst_subset_loss
from hdl_keras.testing import assert_saved_model_round_trip

pytestmark = pytest.mark.backend_suite

FEATURES, CLASSES = 8, 3


def separable_data(n=128, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, FEATURES), dtype=np.float32)
    y = (x[:, 0] * 3).astype(int).clip(0, CLASSES - 1)
    return x, y


def masked_mlp(method="HDL", **kwargs):
    inputs = keras.Input((FEATURES,))
    hidden = MaskedDense(16, activation="relu")(inputs)
    return HolisticModel(inputs, MaskedDense(CLASSES)(hidden), method=method, **kwargs)


def test_robust_loss_of_a_linear_model_has_its_closed_form():
    rng = np.random.default_rng(1)
    weights = rng.standard_normal((FEATURES, CLASSES)).astype("float32")
    bias = rng.standard_normal(CLASSES).astype("float32")
    inputs = keras.Input((FEATURES,))
    model = keras.Model(inputs, keras.layers.Dense(CLASSES)(inputs))
    model.set_weights([weights, bias])
    x, y = separable_data(6)
    rho = 0.1
    z = x @ weights + bias
    dual = np.abs(weights.T[None, :, :] - weights.T[y][:, None, :]).sum(axis=2)
    terms = z - z[np.arange(len(y)), y][:, None] + rho * dual
    expected = np.log(np.exp(terms).sum(axis=1))
    actual = ops.convert_to_numpy(robust_cross_entropy(model, x, y, rho))
    np.testing.assert_allclose(actual, expected, rtol=1e-5)
    cross_entropy = ops.convert_to_numpy(robust_cross_entropy(model, x, y, 0.0))
    assert np.all(actual >= cross_entropy)


def test_robust_loss_upper_bounds_the_pgd_loss_on_average_for_small_rho():
    x, y = separable_data(256)
    model = masked_mlp(method="DL")
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    model.fit(x, y, epochs=20, batch_size=32, verbose=0)
    rho = 0.02
    bound = ops.convert_to_numpy(robust_cross_entropy(model, x, y, rho)).mean()
    x_adv = PGD(model, eps=rho, step_size=rho / 4, steps=20, seed=0)(x, y)
    attacked = ops.convert_to_numpy(ops.sparse_categorical_crossentropy(y, model(x_adv), from_logits=True)).mean()
    assert bound >= attacked


def test_stable_loss_at_its_optimum_is_the_mean_of_the_worst_subset():
    losses = np.array([0.1, 2.0, 0.5, 3.0, 1.0, 0.2, 0.7, 1.5, 0.3, 0.9], "float32")
    alpha = 0.3  # a = 3 examples
    worst = np.sort(losses)[::-1][:3]
    optimum = worst_subset_loss(ops.convert_to_tensor(losses), worst[-1], alpha)
    np.testing.assert_allclose(float(optimum), worst.mean(), rtol=1e-6)
    for theta in np.linspace(0.0, 3.0, 13):
        assert float(worst_subset_loss(ops.convert_to_tensor(losses), theta, alpha)) >= worst.mean() - 1e-6


def test_hdl_training_moves_weights_gates_and_theta():
    x, y = separable_data()
    model = masked_mlp(rho=0.01, sparsity_lambda=1e-3)
    model.compile(optimizer=keras.optimizers.SGD(0.1))
    before = {v.path: ops.convert_to_numpy(v).copy() for v in model.trainable_variables}
    model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    moved = {v.path for v in model.trainable_variables if not np.allclose(before[v.path], ops.convert_to_numpy(v))}
    assert any("kernel" in p for p in moved)
    assert any("mask_logits" in p for p in moved)
    assert any("stability_theta" in p for p in moved)


def test_beta_annealing_and_round_reinitialisation_follow_the_paper():
    annealing = BetaAnnealing(beta_bar=200.0, epochs=5)
    assert annealing.beta_at(0) == 1.0
    assert annealing.beta_at(4) == pytest.approx(200.0)
    assert annealing.beta_at(2) == pytest.approx(200.0**0.5)
    model = masked_mlp()
    layer = model.layers[1]
    s = np.linspace(-1, 1, int(np.prod(layer.mask_logits.shape))).reshape(layer.mask_logits.shape)
    layer.mask_logits.assign(s.astype("float32"))
    layer.beta.assign(200.0)
    start_new_round(model, beta_bar=200.0)
    np.testing.assert_allclose(ops.convert_to_numpy(layer.mask_logits), np.minimum(200.0 * s, 0.0), atol=1e-5)
    assert float(ops.convert_to_numpy(layer.beta)) == 1.0
    layer.mask_logits.assign(s.astype("float32"))
    start_new_round(model, beta_bar=200.0, gate_reset="clip")  # the authors' code
    np.testing.assert_allclose(ops.convert_to_numpy(layer.mask_logits), np.minimum(s, 0.0), atol=1e-6)
    layer.mask_logits.assign(s.astype("float32"))
    start_new_round(model, beta_bar=200.0, gate_reset="keep")
    np.testing.assert_allclose(ops.convert_to_numpy(layer.mask_logits), s, atol=1e-6)
    with pytest.raises(ValueError, match="gate_reset"):
        start_new_round(model, beta_bar=200.0, gate_reset="zero")


class _RoundStarts(keras.callbacks.Callback):
    """Records each round's starting gates and effective kernels, the trainable variables, and its final gates."""

    def __init__(self):
        super().__init__()
        self.starts = []
        self.final_gates = []

    def on_train_end(self, logs=None):
        self.final_gates.append([ops.convert_to_numpy(layer.mask_logits) for layer in masked_layers(self.model)])

    def on_train_begin(self, logs=None):
        layers = masked_layers(self.model)
        self.starts.append(
            {
                "s": [ops.convert_to_numpy(layer.mask_logits) for layer in layers],
                "kernel": [ops.convert_to_numpy(layer.kernel) for layer in layers],
                "trainable": {v.path for v in self.model.trainable_variables},
            }
        )


def test_fit_sparse_rounds_ends_with_a_frozen_mask_and_rewound_weights():
    x, y = separable_data(64)
    keras.utils.set_random_seed(0)
    model = masked_mlp(method="Sparse", sparsity_lambda=1e-3)
    model.compile(optimizer="adam", metrics=["sparse_categorical_accuracy"])
    initial_kernels = [ops.convert_to_numpy(layer.kernel) for layer in masked_layers(model)]
    starts = _RoundStarts()
    histories = fit_sparse_rounds(
        model, x, y, rounds=3, epochs=2, rewind_epoch=0, callbacks=[starts], batch_size=16, verbose=0
    )
    assert len(histories) == 3
    for before, after in zip(starts.final_gates[0], starts.starts[1]["s"]):
        np.testing.assert_array_equal(before, after)  # gate_reset="keep": the gates carry over
    last = starts.starts[2]
    assert not any("mask_logits" in path for path in last["trainable"])
    assert any("mask_logits" in path for path in starts.starts[1]["trainable"])
    for layer, s, kernel, initial in zip(masked_layers(model), last["s"], last["kernel"], initial_kernels):
        assert set(np.unique(np.abs(s))) == {1e4}  # hard gates: sigmoid(beta s) is exactly 0 or 1
        np.testing.assert_allclose(kernel, initial * (s > 0), atol=1e-6)  # rewound to the start
        np.testing.assert_array_equal(ops.convert_to_numpy(layer.mask_logits), s)  # frozen
        assert layer.mask_logits.trainable  # thawed again after the round
    with pytest.raises(ValueError, match="rewind_epoch"):
        fit_sparse_rounds(model, x, y, rounds=2, epochs=2, rewind_epoch=2, verbose=0)


class _EpochRates(keras.callbacks.Callback):
    """The optimizer's learning rate during each epoch of every `fit`."""

    def __init__(self):
        super().__init__()
        self.rates = []

    def on_epoch_end(self, epoch, logs=None):
        self.rates.append(float(ops.convert_to_numpy(self.model.optimizer.learning_rate)))


def test_fixed_mask_decay_falls_by_a_cosine_in_the_last_round_only():
    x, y = separable_data(64)
    model = masked_mlp(method="Sparse", sparsity_lambda=1e-3)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    rates = _EpochRates()
    fit_sparse_rounds(
        model, x, y, rounds=2, epochs=4, callbacks=[rates], fixed_mask_decay=True, batch_size=32, verbose=0
    )
    np.testing.assert_allclose(rates.rates, [1e-2] * 4 + [1e-2, 8.536e-3, 5e-3, 1.464e-3], rtol=1e-3)
    assert float(ops.convert_to_numpy(model.optimizer.learning_rate)) == pytest.approx(1e-2)  # back after the round
    scheduled = masked_mlp(method="Sparse")
    scheduled.compile(optimizer=keras.optimizers.Adam(keras.optimizers.schedules.ExponentialDecay(1e-2, 10, 0.5)))
    with pytest.raises(ValueError, match="constant learning rate"):
        fit_sparse_rounds(scheduled, x, y, rounds=2, epochs=1, fixed_mask_decay=True, verbose=0)
    with pytest.raises(ValueError, match="needs rounds >= 2"):
        fit_sparse_rounds(model, x, y, rounds=1, epochs=1, fixed_mask_decay=True, verbose=0)


@pytest.mark.parametrize("method", list(METHODS))
def test_every_method_trains_one_epoch_and_round_trips(method, tmp_path):
    x, y = separable_data(64)
    model = masked_mlp(method=method, rho=0.01)
    model.compile(optimizer="adam", metrics=["sparse_categorical_accuracy"])
    history = model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    loaded = assert_saved_model_round_trip(model, x, tmp_path)
    assert loaded.method == method and loaded.rho == 0.01


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match="method"):
        masked_mlp(method="Robustest")
    with pytest.raises(ValueError, match="stability_alpha"):
        masked_mlp(stability_alpha=0.0)
    inputs = keras.Input((FEATURES,))
    plain = HolisticModel(inputs, keras.layers.Dense(CLASSES)(inputs), method="Sparse")
    plain.compile(optimizer="adam")
    with pytest.raises(ValueError, match="masked layers"):
        plain.fit(*separable_data(32), epochs=1, verbose=0)


def test_top_k_robust_loss_matches_the_exact_term_on_its_classes():
    """Top-k keeps the dual norms of the k most competing classes, drops the rest."""
    rng = np.random.default_rng(2)
    weights = rng.standard_normal((FEATURES, 6)).astype("float32")
    inputs = keras.Input((FEATURES,))
    model = keras.Model(inputs, keras.layers.Dense(6)(inputs))
    model.set_weights([weights, np.zeros(6, "float32")])
    x, _ = separable_data(5)
    y = rng.integers(0, 6, 5)
    rho, k = 0.1, 2
    z = x @ weights
    dual = np.abs(weights.T[None, :, :] - weights.T[y][:, None, :]).sum(axis=2)
    masked = np.where(np.eye(6, dtype=bool)[y], -np.inf, z)
    kept = np.zeros_like(z, dtype=bool)
    np.put_along_axis(kept, np.argsort(-masked, axis=1)[:, :k], True, axis=1)
    terms = z - z[np.arange(5), y][:, None] + rho * np.where(kept, dual, 0.0)
    expected = np.log(np.exp(terms).sum(axis=1))
    actual = ops.convert_to_numpy(robust_cross_entropy(model, x, y, rho, top_k=k))
    np.testing.assert_allclose(actual, expected, rtol=1e-5)
    exact = ops.convert_to_numpy(robust_cross_entropy(model, x, y, rho))
    assert np.all(actual <= exact + 1e-6)
    with pytest.raises(ValueError, match="top_k"):
        robust_cross_entropy(model, x, y, rho, top_k=5)
