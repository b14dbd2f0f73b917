"""Quantized-net evaluation: float twin, STE gradient check, weight statistics, evaluate_quantized."""

import keras
import numpy as np
import pytest
from keras import ops

from hdl_keras import backend
from hdl_keras.attacks import PGD
from hdl_keras.attacks import NAttack
from hdl_keras.attacks import Square
from hdl_keras.attacks import Transfer
from hdl_keras.layers import QuantConv2D
from hdl_keras.layers import QuantDense
from hdl_keras.layers import to_quantized
from hdl_keras.quantizers import set_relax_lambda
from hdl_keras.evaluation import evaluate_quantized
from hdl_keras.evaluation import float_twin
from hdl_keras.evaluation import gradient_check
from hdl_keras.measure import weight_statistics

pytestmark = pytest.mark.backend_suite


@keras.saving.register_keras_serializable(package="hdl_keras_tests")
class StopGradient(keras.layers.Layer):
    """Identity forward, zero input gradient: a model that masks its gradients completely."""

    def call(self, inputs):
        # `0 * inputs` keeps the input in the graph (torch refuses gradients of unused inputs).
        return ops.stop_gradient(inputs) + 0.0 * inputs


def tiny_cnn(quantizer="binary", masked=False):
    inputs = keras.Input((8, 8, 1))
    x = StopGradient()(inputs) if masked else inputs
    x = keras.layers.Conv2D(4, 3, activation="relu", name="conv")(x)
    x = keras.layers.Flatten()(x)
    outputs = keras.layers.Dense(3, name="logits")(x)
    float_model = keras.Model(inputs, outputs)
    return float_model, to_quantized(float_model, quantizer)


def images(n=16, seed=0):
    return np.random.default_rng(seed).random((n, 8, 8, 1)).astype("float32")


def numpy(value):
    return ops.convert_to_numpy(value)


@pytest.mark.parametrize("quantizer", ["binary", "ternary", "4bit"])
def test_float_twin_computes_what_the_quantized_model_computes(quantizer):
    _, model = tiny_cnn(quantizer)
    twin = float_twin(model)
    assert [type(layer).__name__ for layer in twin.layers] == ["InputLayer", "Conv2D", "Flatten", "Dense"]
    x = images(4)
    np.testing.assert_allclose(numpy(twin(x)), numpy(model(x)), rtol=1e-6, atol=1e-6)
    quantized_kernel = numpy(model.get_layer("conv").quantized_kernel())
    np.testing.assert_array_equal(numpy(twin.get_layer("conv").kernel), quantized_kernel)


def test_float_twin_with_shadow_kernels_is_the_float_network_being_trained():
    float_model, model = tiny_cnn("binary")
    shadow = float_twin(model, "shadow")
    x = images(4)
    # to_quantized copied the float weights into the shadow kernels: the shadow twin is the float model.
    np.testing.assert_allclose(numpy(shadow(x)), numpy(float_model(x)), rtol=1e-6, atol=1e-6)
    assert not np.allclose(numpy(shadow(x)), numpy(model(x)), atol=1e-3)


def test_float_twin_of_a_relaxed_model_uses_the_relaxed_kernel():
    _, model = tiny_cnn("binary")
    set_relax_lambda(model, 1.0)  # u = (q(w) + w) / 2
    layer = model.get_layer("logits")
    expected = (numpy(layer.quantized_kernel()) + numpy(layer.float_kernel)) / 2
    np.testing.assert_allclose(numpy(float_twin(model).get_layer("logits").kernel), expected, rtol=1e-6, atol=1e-7)


def test_float_twin_rejects_bad_arguments():
    _, model = tiny_cnn()
    with pytest.raises(ValueError, match="kernels"):
        float_twin(model, "float")
    with pytest.raises(ValueError, match="built keras.Model"):
        float_twin(QuantDense(2))


def test_input_gradient_through_the_ste_path_is_the_exact_gradient_by_hand():
    # logits = x @ q(W) + b with q(W) = mean|W| * sign(W); d CE / dx = (softmax - onehot) @ q(W)^T.
    layer = QuantDense(3, kernel_quantizer="binary")
    model = keras.Sequential([keras.Input((4,)), layer])
    kernel = np.array([[0.5, -1.0, 2.0], [-0.25, 0.75, -1.5], [1.0, 1.0, -0.5], [-2.0, 0.25, 0.5]], "float32")
    layer.float_kernel.assign(kernel)
    layer.bias.assign(np.array([0.1, -0.2, 0.3], "float32"))
    x = np.array([[0.2, 0.4, 0.6, 0.8], [1.0, 0.0, 0.5, 0.25]], "float32")
    y = np.array([2, 0])
    quantized = np.mean(np.abs(kernel)) * np.where(kernel >= 0, 1.0, -1.0)
    logits = x @ quantized + np.array([0.1, -0.2, 0.3])
    softmax = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    expected = (softmax - np.eye(3)[y]) @ quantized.T

    def loss(inputs):
        return keras.losses.sparse_categorical_crossentropy(y, model(inputs), from_logits=True)

    gradient = numpy(backend.input_grad(loss, ops.convert_to_tensor(x), differentiable=False))
    np.testing.assert_allclose(gradient, expected, rtol=1e-5, atol=1e-6)
    check = gradient_check(model, x, y)
    assert check["max_abs_difference"] <= 1e-6 and check["max_abs_gradient"] > 0.1


def test_weight_statistics_by_hand():
    inputs = keras.Input((3, 3, 2))
    conv = QuantConv2D(2, 3, kernel_quantizer="ternary", use_bias=False, name="conv")
    x = keras.layers.Flatten()(conv(inputs))
    dense = keras.layers.Dense(3, name="logits")
    model = keras.Model(inputs, dense(x))
    kernel = np.zeros((3, 3, 2, 2), "float32")
    kernel[..., 0] = 1.0  # channel 0: all 1 -> ternary levels +1, scale 1
    kernel[0, 0, 0, 1] = 0.01  # channel 1: below the threshold 0.7 * mean|w| -> all zero
    conv.float_kernel.assign(kernel)
    dense_kernel = np.ones((2, 3), "float32")
    dense_kernel[0, 0] = 0.0
    dense.kernel.assign(dense_kernel)
    stats = weight_statistics(model)
    assert stats["kernel_weights"] == 36 + 6
    assert stats["zero_weights"] == pytest.approx((18 + 1) / 42)  # channel 1 of conv, one Dense entry
    assert stats["zero_channels"] == pytest.approx(1 / 5)  # 2 conv filters + 3 Dense units
    assert stats["bits_per_weight"] == pytest.approx((36 * 2 + 6 * 32) / 42)


def test_evaluate_quantized_reports_every_attack_and_an_exact_gradient_path():
    float_model, model = tiny_cnn("binary")
    x = images(12)
    y = np.argmax(numpy(model(x)), axis=-1)  # every example correct clean
    result = evaluate_quantized(
        model,
        x,
        y,
        eps=0.25,
        float_model=float_model,
        steps=3,
        square_queries=10,
        eps_sweep=(0.5, 1.0),
        gradient_examples=4,
    )
    accuracy = result["accuracy"]
    assert accuracy["natural"] == 1.0
    assert set(accuracy) == {"natural", "pgd", "bpda", "transfer", "square", "worst_case"}
    assert all(accuracy["worst_case"] <= accuracy[name] <= 1.0 for name in ("pgd", "bpda", "transfer", "square"))
    assert accuracy["pgd"] < 1.0  # white-box PGD through the STE path finds adversarial examples
    check = result["gradient_check"]
    assert check["max_abs_difference"] <= 1e-5 * max(1.0, check["max_abs_gradient"])
    assert result["eps_sweep"]["eps"] == pytest.approx([0.125, 0.25])
    assert result["unbounded_accuracy"] is not None
    assert result["transfer_source"] == "float_model" and result["weights"]["bits_per_weight"] == 1.0
    assert result["num_examples"] == 12 and result["settings"]["square_queries"] == 10


def test_evaluate_quantized_flags_a_model_that_masks_its_gradients():
    # Zero input gradient: PGD and BPDA stay at their random start; transfer from the unmasked float
    # network (the same function) is stronger, which the black_box_stronger flag reports.
    _, quantized = tiny_cnn("binary")
    _, masked = tiny_cnn("binary", masked=True)
    masked.set_weights(quantized.get_weights())
    x = images(24)
    y = np.argmax(numpy(masked(x)), axis=-1)
    unmasked = float_twin(quantized)  # the same function, with its gradients
    result = evaluate_quantized(
        masked,
        x,
        y,
        eps=0.5,
        float_model=unmasked,
        steps=10,
        square_queries=0,
        eps_sweep=None,
        check_unbounded=False,
        gradient_examples=0,
    )
    assert "square" not in result["accuracy"] and result["gradient_check"] is None
    assert result["accuracy"]["transfer"] < result["accuracy"]["pgd"]
    assert "black_box_stronger" in result["flags"]


def test_evaluate_quantized_rejects_bad_arguments():
    _, model = tiny_cnn()
    x, y = images(2), np.zeros(2, "int64")
    with pytest.raises(ValueError, match="eps"):
        evaluate_quantized(model, x, y, eps=0.0)
    with pytest.raises(ValueError, match="steps"):
        evaluate_quantized(model, x, y, eps=0.1, steps=0)
    with pytest.raises(ValueError, match="square_queries"):
        evaluate_quantized(model, x, y, eps=0.1, square_queries=1)


def test_square_counts_as_a_black_box_attack_in_the_masking_flags():
    # evaluate's black_box_stronger flag compares black-box attacks (Square, NAttack, Transfer)
    # with the white-box ones; a query-only attack marked white-box would never raise it.
    assert Square.black_box and NAttack.black_box and Transfer.black_box
    assert not getattr(PGD, "black_box", False)
