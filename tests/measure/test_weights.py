"""Sparsity accounting: which kernels count, % zero weights, % zero channels (l2 norm < 1e-15)."""

import keras
import numpy as np
import pytest

from hdl_keras.layers import MaskedDense
from hdl_keras.measure import prunable_layers
from hdl_keras.measure import sparsity_report
from hdl_keras.measure import zero_channel_fraction
from hdl_keras.measure import zero_weight_fraction

pytestmark = pytest.mark.backend_suite


def measured_model():
    """Conv2D (3x3, 2 -> 4), BN, flatten, Dense (64 -> 3), MaskedDense (3 -> 2): known zeros."""
    inputs = keras.Input((4, 4, 2))
    conv = keras.layers.Conv2D(4, 3, padding="same", name="conv")
    norm = keras.layers.BatchNormalization(name="norm")
    dense = keras.layers.Dense(3, name="dense")
    masked = MaskedDense(2, name="masked")
    outputs = masked(dense(keras.layers.Flatten()(norm(conv(inputs)))))
    model = keras.Model(inputs, outputs)

    kernel = np.ones((3, 3, 2, 4), "float32")
    kernel[..., 1] = 0.0  # a zero output channel: 18 zero weights
    kernel[..., 2] = 1e-20  # l2 norm 4.2e-20 < 1e-15: a zero channel, but no zero weight
    kernel[0, 0, 0, 3] = 0.0  # one more zero weight
    conv.set_weights([kernel, np.zeros(4, "float32")])  # zero biases are not counted
    norm.set_weights([np.zeros(4, "float32")] * 2 + [np.zeros(4, "float32"), np.ones(4, "float32")])
    dense_kernel = np.ones((64, 3), "float32")
    dense_kernel[:32, 0] = 0.0  # 32 zero weights, no zero channel
    dense_kernel[:, 2] = 1e-10  # norm 8e-10 >= 1e-15: not a zero channel
    dense.set_weights([dense_kernel, np.zeros(3, "float32")])
    # Masked layer: W has no zeros, the hard mask 1[s > 0] zeroes column 1 (3 weights).
    logits = np.ones((3, 2), "float32")
    logits[:, 1] = -1.0
    masked.set_weights([np.full((3, 2), 0.5, "float32"), np.zeros(2, "float32"), logits, np.ones((), "float32")])
    return model


def test_only_dense_and_conv_kernels_count():
    model = measured_model()
    assert [layer.name for layer in prunable_layers(model)] == ["conv", "dense", "masked"]
    rows = sparsity_report(model)
    assert [(row["name"], row["class_name"], row["kernel_shape"]) for row in rows] == [
        ("conv", "Conv2D", (3, 3, 2, 4)),
        ("dense", "Dense", (64, 3)),
        ("masked", "MaskedDense", (3, 2)),
    ]
    assert [row["weights"] for row in rows] == [72, 192, 6]


def test_zero_weights_and_zero_channels_per_layer_and_overall():
    model = measured_model()
    rows = sparsity_report(model)
    assert [row["zero_weights"] for row in rows] == [19, 32, 3]
    assert [row["zero_channels"] for row in rows] == [2, 0, 1]
    assert [row["channels"] for row in rows] == [4, 3, 2]
    assert rows[0]["zero_weight_fraction"] == pytest.approx(19 / 72)
    assert rows[2]["zero_channel_fraction"] == pytest.approx(0.5)
    assert zero_weight_fraction(model) == pytest.approx((19 + 32 + 3) / (72 + 192 + 6))
    assert zero_channel_fraction(model) == pytest.approx(3 / 9)
    # A looser tolerance also counts the dense layer's 8e-10 column.
    assert zero_channel_fraction(model, tol=1e-9) == pytest.approx(4 / 9)


def test_input_channels_are_the_second_to_last_kernel_axis():
    model = measured_model()
    rows = sparsity_report(model, channel_axis=-2)
    assert [row["channels"] for row in rows] == [2, 64, 3]
    # Dense rows 0..31 keep the 1e-10 and the ones of column 1: none is zero.
    assert [row["zero_channels"] for row in rows] == [0, 0, 0]
    assert zero_channel_fraction(model, channel_axis=-2) == 0.0


def test_nested_models_are_walked_and_shared_layers_count_once():
    inner = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, use_bias=False)])
    inner.layers[0].set_weights([np.array([[0.0, 1.0], [0.0, 2.0], [0.0, 3.0]], "float32")])
    inputs = keras.Input((3,))
    outer = keras.Model(inputs, keras.layers.Add()([inner(inputs), inner(inputs)]))
    assert len(sparsity_report(outer)) == 1
    assert zero_weight_fraction(outer) == 0.5
    assert zero_channel_fraction(outer) == 0.5


def relu_only():
    return keras.Sequential([keras.Input((2,)), keras.layers.ReLU()])


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda model: zero_channel_fraction(model, tol=0.0), "tol=0.0"),
        (lambda model: sparsity_report(model, channel_axis=0), "channel_axis=0"),
        (lambda model: zero_weight_fraction(relu_only()), "no built"),
    ],
)
def test_invalid_arguments_are_reported(call, message):
    with pytest.raises(ValueError, match=message):
        call(measured_model())
