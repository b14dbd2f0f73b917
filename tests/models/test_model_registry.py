import keras
import numpy as np
import pytest

from hdl_keras import models
from hdl_keras.layers import Ensemble
from hdl_keras.models import ClusterLabelScores

# Inputs of each registered model when built with its default arguments
# (`mlp` has no default input shape).
INPUT_SHAPES = {"mlp": (20,), "small_cnn": (28, 28, 1), "tiny_cnn": (28, 28, 1), "gaussian_mixture": (28, 28, 1)}


def input_shape_of(name):
    return INPUT_SHAPES.get(name, (32, 32, 3))


def test_available_models():
    assert models.available_models() == [
        "mlp",
        "small_cnn",
        "tiny_cnn",
        "alexnet",
        "resnet20",
        "resnet32",
        "resnet44",
        "resnet56",
        "resnet110",
        "vgg16",
        "en1_resnet20",
        "en2_resnet20",
        "en5_resnet20",
        "en1_resnet56",
        "en2_resnet56",
        "gaussian_mixture",
    ]


@pytest.mark.parametrize("name", models.available_models())
def test_forward_pass_gives_finite_logits(name):
    kwargs = {"input_shape": INPUT_SHAPES["mlp"]} if name == "mlp" else {}
    model = models.get(name, num_classes=7, **kwargs)
    shape = input_shape_of(name)
    assert model.name == name
    assert model.input_shape == (None, *shape)
    assert model.output_shape == (None, 7)
    # Logits: the last layer has no activation (or averages members' logits).
    last = model.layers[-1]
    assert isinstance(last, (Ensemble, ClusterLabelScores)) or last.get_config()["activation"] == "linear"

    x = np.random.default_rng(0).random((2, *shape), dtype="float32")
    logits = keras.ops.convert_to_numpy(model(x, training=False))
    assert logits.shape == (2, 7)
    assert np.all(np.isfinite(logits))


def test_get_passes_arguments_to_the_builder():
    model = models.get("small_cnn", input_shape=(32, 32, 3), num_classes=3, name="cifar_cnn")
    assert model.name == "cifar_cnn"
    assert model.input_shape == (None, 32, 32, 3)
    assert model.output_shape == (None, 3)


@pytest.mark.parametrize("name", ["resnet18", "ResNet20", "", None])
def test_get_unknown_name_lists_known_names(name):
    with pytest.raises(ValueError, match="resnet20") as info:
        models.get(name)
    assert "Received: name=" in str(info.value)
