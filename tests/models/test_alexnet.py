import keras
import pytest

from hdl_keras.models import alexnet


def conv_layers(model):
    return [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]


def test_default_architecture_and_parameter_count():
    model = alexnet()
    convs = conv_layers(model)
    assert [layer.filters for layer in convs] == [64, 192, 384, 256, 256]
    assert [layer.kernel_size for layer in convs] == [(5, 5)] * 2 + [(3, 3)] * 3
    assert model.get_layer("flatten").output.shape == (None, 4 * 4 * 256)
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    assert [layer.units for layer in dense] == [512, 512, 10]
    expected = (
        (5 * 5 * 3 + 1) * 64
        + (5 * 5 * 64 + 1) * 192
        + (3 * 3 * 192 + 1) * 384
        + (3 * 3 * 384 + 1) * 256
        + (3 * 3 * 256 + 1) * 256
        + (4 * 4 * 256 + 1) * 512
        + (512 + 1) * 512
        + (512 + 1) * 10
    )
    assert model.count_params() == expected


def test_accepts_mnist_images():
    model = alexnet(input_shape=(28, 28, 1))
    assert model.get_layer("flatten").output.shape == (None, 3 * 3 * 256)
    assert model.output_shape == (None, 10)


def test_width_and_dense_units():
    model = alexnet(width=0.25, dense_units=(64,), num_classes=3)
    assert [layer.filters for layer in conv_layers(model)] == [16, 48, 96, 64, 64]
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    assert [layer.units for layer in dense] == [64, 3]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"input_shape": (4, 4, 3)}, "at least 8"),
        ({"input_shape": (32, 32)}, "input_shape"),
        ({"input_shape": (32, -32, 3)}, "input_shape"),
        ({"width": 0}, "width=0"),
        ({"width": "wide"}, "width"),
        ({"dense_units": (512, -1)}, "dense_units"),
        ({"num_classes": -3}, "num_classes=-3"),
    ],
)
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        alexnet(**kwargs)
