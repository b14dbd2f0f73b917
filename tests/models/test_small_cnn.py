import keras
import pytest

from hdl_keras.models import small_cnn


def expected_param_count(input_shape, filters, dense_units, num_classes):
    height, width, channels = input_shape
    count = 0
    for num_filters in filters:
        count += 3 * 3 * channels * num_filters + num_filters
        channels = num_filters
        height, width = height // 2, width // 2
    features = height * width * channels
    return count + (features + 1) * dense_units + (dense_units + 1) * num_classes


@pytest.mark.parametrize(
    "input_shape, features_shape",
    [((28, 28, 1), (3, 3, 128)), ((32, 32, 3), (4, 4, 128))],
)
def test_architecture_and_parameter_count(input_shape, features_shape):
    model = small_cnn(input_shape=input_shape)
    assert model.input_shape == (None, *input_shape)
    assert model.get_layer("pool3").output.shape == (None, *features_shape)
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert [layer.kernel_size for layer in convs] == [(3, 3)] * 3
    assert {layer.padding for layer in convs} == {"same"}
    assert model.count_params() == expected_param_count(input_shape, (32, 64, 128), 128, 10)


def test_custom_widths():
    model = small_cnn(input_shape=(16, 16, 3), num_classes=5, filters=(8, 16), dense_units=32)
    assert model.output_shape == (None, 5)
    assert model.count_params() == expected_param_count((16, 16, 3), (8, 16), 32, 5)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"input_shape": (4, 4, 1)}, "at least 8"),
        ({"input_shape": (28, 28)}, "input_shape"),
        ({"input_shape": (28, 28, 0)}, "input_shape"),
        ({"filters": ()}, "filters"),
        ({"filters": (32, -64)}, "filters"),
        ({"dense_units": -1}, "dense_units=-1"),
        ({"num_classes": 0}, "num_classes=0"),
    ],
)
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        small_cnn(**kwargs)
