import keras
import pytest

from hdl_keras.models import vgg16


def layers_of(model, layer_type):
    return [layer for layer in model.layers if isinstance(layer, layer_type)]


def test_architecture_and_parameter_count():
    model = vgg16()
    convs = layers_of(model, keras.layers.Conv2D)
    assert [layer.filters for layer in convs] == ([64] * 2 + [128] * 2 + [256] * 3 + [512] * 6)
    assert len(layers_of(model, keras.layers.BatchNormalization)) == 13
    assert len(layers_of(model, keras.layers.MaxPooling2D)) == 5
    assert model.get_layer("flatten").output.shape == (None, 512)
    assert [layer.units for layer in layers_of(model, keras.layers.Dense)] == [512, 10]
    # 14.7 M in the convolutions, 0.26 M in the classifier.
    assert model.count_params() == pytest.approx(15.0e6, rel=0.01)


def test_without_batch_norm():
    model = vgg16(batch_norm=False, num_classes=100)
    assert not layers_of(model, keras.layers.BatchNormalization)
    assert all(layer.use_bias for layer in layers_of(model, keras.layers.Conv2D))
    assert model.output_shape == (None, 100)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"input_shape": (28, 28, 1)}, "at least 32"),
        ({"input_shape": (32, 32)}, "input_shape"),
        ({"batch_norm": "yes"}, "batch_norm"),
        ({"dense_units": 0}, "dense_units=0"),
    ],
)
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        vgg16(**kwargs)
