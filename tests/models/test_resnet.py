import keras
import numpy as np
import pytest

from hdl_keras import models
from hdl_keras.models import ZeroPadChannels
from hdl_keras.models import basic_block
from hdl_keras.models import identity_shortcut
from hdl_keras.models import resnet


def trainable_param_count(model):
    return sum(int(np.prod(weight.shape)) for weight in model.trainable_weights)


# Parameters of He et al. (2016), Table 6, with parameter-free shortcuts; the
# exact numbers are those of the reference PyTorch implementation (trainable
# parameters: batch norm moving statistics excluded).
@pytest.mark.parametrize(
    "name, paper, reference",
    [
        ("resnet20", 0.27e6, 269_722),
        ("resnet32", 0.46e6, 464_154),
        ("resnet44", 0.66e6, 658_586),
        ("resnet56", 0.85e6, 853_018),
        ("resnet110", 1.7e6, 1_727_962),
    ],
)
def test_parameter_counts_match_the_literature(name, paper, reference):
    model = models.get(name)
    count = trainable_param_count(model)
    assert count == pytest.approx(paper, rel=0.03)
    assert count == reference


def test_architecture_of_resnet20():
    model = resnet(20)
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    # 6n + 2 weighted layers, no projection in the shortcuts.
    assert len(convs) + len(dense) == 20
    assert not any(layer.use_bias for layer in convs)
    assert model.get_layer("stage1_block3_out").output.shape == (None, 32, 32, 16)
    assert model.get_layer("stage2_block1_out").output.shape == (None, 16, 16, 32)
    assert model.get_layer("stage3_block3_out").output.shape == (None, 8, 8, 64)
    assert model.get_layer("stage2_block1_conv1").strides == (2, 2)
    assert model.get_layer("stage2_block2_conv1").strides == (1, 1)


def test_other_input_shapes():
    model = resnet(8, input_shape=(28, 28, 1), num_classes=4)
    assert model.name == "resnet8"
    assert model.output_shape == (None, 4)
    assert model.get_layer("stage3_block1_out").output.shape == (None, 7, 7, 64)


@pytest.mark.parametrize("depth", [21, 2, 0, -4, 19, 20.0, "20"])
def test_bad_depth_raises(depth):
    with pytest.raises(ValueError, match="depth"):
        resnet(depth)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"input_shape": (32, 32)}, "input_shape"),
        ({"num_classes": 0}, "num_classes=0"),
    ],
)
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        models.resnet20(**kwargs)


def test_zero_pad_channels_pads_both_sides_with_zeros():
    x = np.random.default_rng(0).random((2, 3, 3, 4), dtype="float32")
    padded = keras.ops.convert_to_numpy(ZeroPadChannels((2, 1))(x))
    assert padded.shape == (2, 3, 3, 7)
    np.testing.assert_array_equal(padded[..., 2:6], x)
    np.testing.assert_array_equal(padded[..., :2], 0)
    np.testing.assert_array_equal(padded[..., 6:], 0)
    assert ZeroPadChannels(3).compute_output_shape((None, 3, 3, 4)) == (
        None,
        3,
        3,
        10,
    )


@pytest.mark.parametrize("padding", [-1, (1, 2, 3), (1, -1), "2", (1.0, 2)])
def test_zero_pad_channels_bad_padding_raises(padding):
    with pytest.raises(ValueError, match="padding"):
        ZeroPadChannels(padding)


def test_identity_shortcut_subsamples_and_pads():
    inputs = keras.Input(shape=(8, 8, 16))
    outputs = identity_shortcut(inputs, filters=32, stride=2, name="shortcut")
    model = keras.Model(inputs, outputs)
    assert model.count_params() == 0
    x = np.random.default_rng(0).random((2, 8, 8, 16), dtype="float32")
    y = keras.ops.convert_to_numpy(model(x))
    assert y.shape == (2, 4, 4, 32)
    np.testing.assert_array_equal(y[..., 8:24], x[:, ::2, ::2, :])
    np.testing.assert_array_equal(y[..., :8], 0)
    np.testing.assert_array_equal(y[..., 24:], 0)


def test_basic_block_can_be_reused():
    inputs = keras.Input(shape=(8, 8, 16))
    x = basic_block(inputs, 16, 1, name="a")
    outputs = basic_block(x, 32, 2, name="b")
    model = keras.Model(inputs, outputs)
    assert model.output_shape == (None, 4, 4, 32)
    assert [layer.name for layer in model.layers if "b_conv" in layer.name] == [
        "b_conv1",
        "b_conv2",
    ]


@pytest.mark.parametrize(
    "filters, stride, match",
    [(8, 1, "filters=8"), (0, 1, "filters=0"), (16, 0, "stride=0")],
)
def test_basic_block_bad_arguments_raise(filters, stride, match):
    with pytest.raises(ValueError, match=match):
        basic_block(keras.Input(shape=(8, 8, 16)), filters, stride, name="block")
