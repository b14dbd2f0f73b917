import keras
import numpy as np
import pytest

from hdl_keras import models
from hdl_keras.models import ZeroPadChannels
from hdl_keras.testing import assert_config_round_trip
from hdl_keras.testing import assert_saved_model_round_trip

pytestmark = pytest.mark.backend_suite

# Small variants keep the saved files and the run time small.
BUILDS = {
    "mlp": lambda: models.mlp(input_shape=(12,), num_classes=3),
    "small_cnn": lambda: models.small_cnn(input_shape=(16, 16, 3)),
    "alexnet": lambda: models.alexnet(input_shape=(28, 28, 1), width=0.25, dense_units=(32, 32)),
    "resnet20": lambda: models.resnet20(input_shape=(16, 16, 3)),
}


def build(name):
    """Builds a model whose weights are all non-trivial (batch norm included)."""
    model = BUILDS[name]()
    rng = np.random.default_rng(0)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            shapes = [weight.shape for weight in layer.weights]
            layer.set_weights([rng.uniform(0.5, 1.5, shape).astype("float32") for shape in shapes])
    return model


def inputs_for(model):
    shape = (2, *model.input_shape[1:])
    return np.random.default_rng(1).random(shape, dtype="float32")


@pytest.mark.parametrize("name", list(BUILDS))
def test_saved_model_round_trip(name, tmp_path):
    model = build(name)
    loaded = assert_saved_model_round_trip(model, inputs_for(model), tmp_path)
    assert loaded.name == model.name


@pytest.mark.parametrize("name", list(BUILDS))
def test_config_round_trip(name):
    model = build(name)
    rebuilt = assert_config_round_trip(model)
    assert isinstance(rebuilt, keras.Model)
    rebuilt.set_weights(model.get_weights())
    x = inputs_for(model)
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(rebuilt(x, training=False)),
        keras.ops.convert_to_numpy(model(x, training=False)),
    )


def test_functional_from_config():
    model = build("resnet20")
    rebuilt = keras.Model.from_config(model.get_config())
    assert rebuilt.get_config() == model.get_config()
    assert rebuilt.count_params() == model.count_params()


@pytest.mark.parametrize("padding", [4, (0, 3)])
def test_zero_pad_channels_config_round_trip(padding):
    layer = ZeroPadChannels(padding, name="pad")
    rebuilt = assert_config_round_trip(layer)
    assert rebuilt.padding == layer.padding
    assert rebuilt.name == "pad"
