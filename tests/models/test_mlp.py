import keras
import numpy as np
import pytest

from hdl_keras.models import mlp


def dense_param_count(sizes):
    """Weights and biases of Dense layers mapping sizes[i] to sizes[i + 1]."""
    return sum((n_in + 1) * n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))


def test_default_is_two_hidden_layers_of_128_relu_units():
    model = mlp(input_shape=(20,), num_classes=3)
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    assert [layer.units for layer in dense] == [128, 128, 3]
    assert [layer.get_config()["activation"] for layer in dense] == [
        "relu",
        "relu",
        "linear",
    ]
    assert dense[0].get_config()["kernel_initializer"]["class_name"] == ("GlorotUniform")
    assert model.count_params() == dense_param_count([20, 128, 128, 3])


@pytest.mark.parametrize(
    "input_shape, hidden_units, num_classes",
    [((20,), (64, 32, 16), 2), ((28, 28, 1), (100,), 10), ((5,), (), 4)],
)
def test_parameter_count(input_shape, hidden_units, num_classes):
    model = mlp(input_shape, num_classes=num_classes, hidden_units=hidden_units)
    features = int(np.prod(input_shape))
    expected = dense_param_count([features, *hidden_units, num_classes])
    assert model.count_params() == expected
    assert model.output_shape == (None, num_classes)


def test_activation_is_used_in_hidden_layers():
    model = mlp(input_shape=(4,), hidden_units=(8,), activation="tanh")
    assert model.get_layer("dense1").get_config()["activation"] == "tanh"


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"input_shape": ()}, "input_shape"),
        ({"input_shape": (0,)}, "input_shape"),
        ({"input_shape": 20}, "input_shape"),
        ({"input_shape": (20,), "num_classes": 0}, "num_classes=0"),
        ({"input_shape": (20,), "num_classes": 2.0}, "num_classes"),
        ({"input_shape": (20,), "hidden_units": (128, -1)}, "hidden_units"),
        ({"input_shape": (20,), "hidden_units": 128}, "hidden_units"),
        ({"input_shape": (20,), "hidden_units": (True,)}, "hidden_units"),
        ({"input_shape": (20,), "activation": "not_an_activation"}, "activation"),
    ],
)
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        mlp(**kwargs)
