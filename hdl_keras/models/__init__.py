"""Model zoo: functional Keras models that output logits.

Every builder takes `input_shape` (channels-last for images), `num_classes`
and `name`, validates its arguments and returns a functional `keras.Model`
made of Keras core layers (plus the registered `ZeroPadChannels`, and
`ResidualNoise` and `Ensemble` in the EnResNets, `GaussianMixtureScores` and
`ClusterLabelScores` in the Gaussian-mixture classifier), so it saves with
`model.save` and loads with `keras.saving.load_model` without custom objects.
Outputs are logits (no softmax).

Use `get(name, **kwargs)` to build a model by name and `available_models()`
to list the names.
"""

from hdl_keras.models.alexnet import alexnet
from hdl_keras.models.en_resnet import en1_resnet20
from hdl_keras.models.en_resnet import en1_resnet56
from hdl_keras.models.en_resnet import en2_resnet20
from hdl_keras.models.en_resnet import en2_resnet56
from hdl_keras.models.en_resnet import en5_resnet20
from hdl_keras.models.en_resnet import en_resnet
from hdl_keras.models.gaussian_mixture import ClusterLabelScores
from hdl_keras.models.gaussian_mixture import GaussianMixtureScores
from hdl_keras.models.gaussian_mixture import cluster_mode_labels
from hdl_keras.models.gaussian_mixture import from_sklearn
from hdl_keras.models.gaussian_mixture import gaussian_mixture
from hdl_keras.models.mlp import mlp
from hdl_keras.models.resnet import ZeroPadChannels
from hdl_keras.models.resnet import basic_block
from hdl_keras.models.resnet import identity_shortcut
from hdl_keras.models.resnet import resnet
from hdl_keras.models.resnet import resnet20
from hdl_keras.models.resnet import resnet32
from hdl_keras.models.resnet import resnet44
from hdl_keras.models.resnet import resnet56
from hdl_keras.models.resnet import resnet110
from hdl_keras.models.resnet import resnet_logits
from hdl_keras.models.small_cnn import small_cnn
from hdl_keras.models.vgg import vgg16

_BUILDERS = {
    "mlp": mlp,
    "small_cnn": small_cnn,
    "alexnet": alexnet,
    "resnet20": resnet20,
    "resnet32": resnet32,
    "resnet44": resnet44,
    "resnet56": resnet56,
    "resnet110": resnet110,
    "vgg16": vgg16,
    "en1_resnet20": en1_resnet20,
    "en2_resnet20": en2_resnet20,
    "en5_resnet20": en5_resnet20,
    "en1_resnet56": en1_resnet56,
    "en2_resnet56": en2_resnet56,
    "gaussian_mixture": gaussian_mixture,
}


def available_models():
    """Returns the names `get` accepts, as a list of strings."""
    return list(_BUILDERS)


def get(name, /, **kwargs):
    """Builds the model called `name`.

    Args:
        name: one of `available_models()`.
        **kwargs: arguments of the builder, e.g. `input_shape`, `num_classes`
            (`mlp` requires `input_shape`), or `name`, the name of the model
            (`name` itself is positional-only).

    Returns:
        A functional `keras.Model` that outputs logits.

    Examples:
        >>> model = get("resnet20", num_classes=100)
        >>> model.output_shape
        (None, 100)
    """
    if not isinstance(name, str) or name not in _BUILDERS:
        raise ValueError(
            f"Unknown model name. Expected one of {available_models()}. "
            f"Received: name={name!r}"
        )
    return _BUILDERS[name](**kwargs)


__all__ = [
    "ClusterLabelScores",
    "GaussianMixtureScores",
    "ZeroPadChannels",
    "alexnet",
    "available_models",
    "basic_block",
    "en1_resnet20",
    "en1_resnet56",
    "en2_resnet20",
    "en2_resnet56",
    "en5_resnet20",
    "cluster_mode_labels",
    "en_resnet",
    "from_sklearn",
    "gaussian_mixture",
    "get",
    "identity_shortcut",
    "mlp",
    "resnet",
    "resnet20",
    "resnet32",
    "resnet44",
    "resnet56",
    "resnet110",
    "resnet_logits",
    "small_cnn",
    "vgg16",
]
