import math

import keras
import numpy as np
import pytest

from hdl_keras.layers import QuantConv2D
from hdl_keras.layers import QuantDense
from hdl_keras.objectives import PGDAdversarialTraining
from hdl_keras.objectives import TradeOff
from hdl_keras.quantizers import BinaryQuantizer
from hdl_keras.callbacks import BinaryRelax
from hdl_keras.quantizers import TernaryQuantizer
from hdl_keras.quantizers import relaxed_kernel
from hdl_keras.quantizers import set_relax_lambda
from hdl_keras.testing import assert_config_round_trip
from hdl_keras.testing import assert_saved_model_round_trip

pytestmark = pytest.mark.backend_suite

# Keras' default `jit_compile="auto"` compiles on jax and tensorflow; on torch
# it runs eagerly (torch.compile costs ~40 s per model here); one slow test
# below compiles on torch too.
JIT = keras.backend.backend() != "torch"


def to_numpy(value):
    return keras.ops.convert_to_numpy(value)


def regression_data(num_examples=8, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(num_examples, 3)).astype("float32")
    y = rng.normal(size=(num_examples, 2)).astype("float32")
    return x, y


def linear_model(kernel_quantizer="binary"):
    layer = QuantDense(2, use_bias=False, kernel_quantizer=kernel_quantizer, name="linear")
    model = keras.Sequential([keras.Input((3,)), layer])
    kernel = np.random.default_rng(1).normal(size=(3, 2)).astype("float32")
    layer.float_kernel.assign(kernel)
    return model, layer, kernel


class LambdaRecorder(keras.callbacks.Callback):
    """Records the first quantized layer's `relax_lambda` at the end of each epoch."""

    def __init__(self, layer):
        super().__init__()
        self.layer = layer
        self.values = []

    def on_epoch_end(self, epoch, logs=None):
        self.values.append(float(to_numpy(self.layer.relax_lambda)))


def test_lambda_schedule_values():
    relax = BinaryRelax(lambda_0=2.0, rho=3.0, switch_epoch=4)
    schedule = [relax.lambda_at(epoch) for epoch in range(6)]
    assert schedule == [2.0, 6.0, 18.0, math.inf, math.inf, math.inf]
    # switch_epoch=1: BinaryConnect throughout; a huge lambda overflows to inf.
    assert BinaryRelax(rho=1.5, switch_epoch=1).lambda_at(0) == math.inf
    assert BinaryRelax(rho=10.0, switch_epoch=10**6).lambda_at(10**5) == math.inf


def test_relaxed_kernel_is_the_closed_form_minimizer():
    w = np.array([[0.5, -2.0], [1.0, 0.5]], "float32")
    q = to_numpy(BinaryQuantizer()(w))  # mean |w| = 1
    for lam in (0.0, 1.0, 3.0):
        expected = (lam * q + w) / (lam + 1)
        relaxed = to_numpy(relaxed_kernel(w, BinaryQuantizer(), lam))
        np.testing.assert_allclose(relaxed, expected, rtol=1e-6)
    np.testing.assert_array_equal(to_numpy(relaxed_kernel(w, BinaryQuantizer(), math.inf)), q)


def conv_model():
    layer = QuantConv2D(2, 2, kernel_quantizer="ternary", name="conv")
    model = keras.Sequential([keras.Input((3, 3, 1)), layer, keras.layers.Flatten()])
    return model, layer


@pytest.mark.parametrize("case", ["dense", "conv"])
def test_fit_sets_lambda_per_epoch_and_ends_exactly_quantized(case):
    x, y = regression_data()
    if case == "dense":
        model, layer, _ = linear_model("ternary")
        plain = keras.layers.Dense(2, use_bias=False)
    else:
        model, layer = conv_model()
        x, y = np.resize(x, (8, 3, 3, 1)), np.resize(y, (8, 8))
        plain = keras.layers.Conv2D(2, 2)
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse", jit_compile=JIT)
    recorder = LambdaRecorder(layer)
    relax = BinaryRelax(1.0, rho=2.0, switch_epoch=3)
    model.fit(x, y, epochs=4, batch_size=4, verbose=0, callbacks=[relax, recorder])
    assert recorder.values == [1.0, 2.0, math.inf, math.inf]
    # After epoch M the forward pass is the float layer with kernel q(w), exactly.
    quantized = to_numpy(layer.quantized_kernel())
    np.testing.assert_array_equal(to_numpy(layer.kernel), quantized)
    plain.build(layer.input.shape)
    plain.set_weights([quantized, *layer.get_weights()[1:-1]])
    expected = to_numpy(plain(x)).reshape(len(x), -1)
    # The kernel equals q(w) bit for bit (above); the two call paths (compiled `predict`, eager
    # layer call) may sum the products in another order, so the outputs agree to rounding.
    np.testing.assert_allclose(to_numpy(model.predict(x, verbose=0)), expected, rtol=1e-6, atol=1e-7)


def test_an_unfinished_relaxation_is_the_relaxed_forward():
    model, layer, _ = linear_model()
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse", jit_compile=JIT)
    x, y = regression_data()
    relax = BinaryRelax(1.0, rho=3.0, switch_epoch=5)
    model.fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=[relax])
    assert float(to_numpy(layer.relax_lambda)) == 3.0
    w = to_numpy(layer.float_kernel)
    u = (3.0 * to_numpy(layer.quantized_kernel()) + w) / 4.0
    np.testing.assert_allclose(to_numpy(model(x)), x @ u, rtol=1e-5, atol=1e-6)
    set_relax_lambda(model, None)  # finish with BinaryConnect
    quantized = to_numpy(layer.quantized_kernel())
    np.testing.assert_allclose(to_numpy(model(x)), x @ quantized, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("scheme", ["binary_connect", "binary_relax"])
def test_one_step_updates_w_with_the_gradient_at_u(scheme):
    # Algorithm 1, lines 6 and 11: w1 = w0 - gamma * grad L(u0), u0 = q(w0) (BinaryConnect)
    # or (lambda_0 * q(w0) + w0) / (lambda_0 + 1) (relaxed epoch).
    model, _, w0 = linear_model()
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse", jit_compile=JIT)
    x, y = regression_data()
    q0 = np.abs(w0).mean() * np.where(w0 >= 0, 1.0, -1.0)
    callbacks, u0 = [], q0
    if scheme == "binary_relax":
        callbacks, u0 = [BinaryRelax(1.0, rho=2.0, switch_epoch=2)], 0.5 * (q0 + w0)
    model.fit(x, y, epochs=1, batch_size=8, verbose=0, callbacks=callbacks)
    grad = 2.0 * x.T @ (x @ u0 - y) / y.size  # d mean((x u - y)^2) / du
    w1 = to_numpy(model.layers[0].float_kernel)
    np.testing.assert_allclose(w1, w0 - 0.1 * grad, rtol=1e-5, atol=1e-6)


def adversarial_cnn(cls, **kwargs):
    inputs = keras.Input((6, 6, 1))
    x = QuantConv2D(2, 3, kernel_quantizer="ternary", activation="relu", name="conv")(inputs)
    x = keras.layers.Flatten()(x)
    outputs = QuantDense(3, kernel_quantizer="4bit", name="head")(x)
    return cls(inputs, outputs, eps=0.1, step_size=0.05, steps=2, seed=0, **kwargs)


@pytest.mark.parametrize("cls, kwargs", [(PGDAdversarialTraining, {}), (TradeOff, {"alpha": 1.0, "beta": 8.0})])
def test_composes_with_adversarial_training_under_jit(cls, kwargs, tmp_path):
    model = adversarial_cnn(cls, **kwargs)
    model.compile(
        optimizer=keras.optimizers.SGD(0.05),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        jit_compile=JIT,
    )
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(8, 6, 6, 1)).astype("float32")
    y = rng.integers(0, 3, size=(8,))
    recorder = LambdaRecorder(model.get_layer("head"))
    before = to_numpy(model.get_layer("conv").float_kernel)
    relax = BinaryRelax(1.0, rho=4.0, switch_epoch=3)
    history = model.fit(x, y, epochs=3, batch_size=8, verbose=0, callbacks=[relax, recorder])
    assert recorder.values == [1.0, 4.0, math.inf]
    assert "adversarial_accuracy" in history.history
    assert np.all(np.isfinite(history.history["loss"]))
    assert not np.array_equal(to_numpy(model.get_layer("conv").float_kernel), before)
    loaded = assert_saved_model_round_trip(model, x, tmp_path)
    assert float(to_numpy(loaded.get_layer("head").relax_lambda)) == math.inf


@pytest.mark.slow  # torch.compile: ~40 s on 2 CPU cores
@pytest.mark.skipif(keras.backend.backend() != "torch", reason="the other backends compile above")
def test_torch_compiled_fit_also_relaxes():
    model, layer, _ = linear_model(TernaryQuantizer(per_channel=True))
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse", jit_compile=True)
    recorder = LambdaRecorder(layer)
    x, y = regression_data()
    relax = BinaryRelax(2.0, rho=2.0, switch_epoch=2)
    model.fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=[relax, recorder])
    assert recorder.values == [2.0, math.inf]
    quantized = to_numpy(layer.quantized_kernel())
    np.testing.assert_allclose(to_numpy(model(x)), x @ quantized, rtol=1e-5, atol=1e-6)


def test_saved_model_keeps_a_relaxed_lambda(tmp_path):
    model, layer, _ = linear_model()
    set_relax_lambda(model, 5.0)
    x, _ = regression_data()
    loaded = assert_saved_model_round_trip(model, x, tmp_path)
    assert float(to_numpy(loaded.layers[0].relax_lambda)) == 5.0


def test_callback_config_round_trip():
    relax = BinaryRelax(lambda_0=0.5, rho=1.2, switch_epoch=7)
    rebuilt = assert_config_round_trip(relax)
    epochs = range(8)
    assert [rebuilt.lambda_at(e) for e in epochs] == [relax.lambda_at(e) for e in epochs]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"lambda_0": 0.0, "rho": 2.0, "switch_epoch": 3}, "lambda_0"),
        ({"lambda_0": -1.0, "rho": 2.0, "switch_epoch": 3}, "lambda_0"),
        ({"rho": 0.5, "switch_epoch": 3}, "rho"),
        ({"rho": math.inf, "switch_epoch": 3}, "rho"),
        ({"rho": 2.0, "switch_epoch": 0}, "switch_epoch"),
        ({"rho": 2.0, "switch_epoch": 2.5}, "switch_epoch"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        BinaryRelax(**kwargs)


def test_models_without_quantized_layers_are_rejected():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="no quantized layers"):
        set_relax_lambda(model, 1.0)
    model.compile(optimizer="sgd", loss="mse")
    x, y = regression_data()
    with pytest.raises(ValueError, match="needs quantized layers"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[BinaryRelax(rho=2.0, switch_epoch=2)])
    quantized, _, _ = linear_model()
    with pytest.raises(ValueError, match="value"):
        set_relax_lambda(quantized, -1.0)
