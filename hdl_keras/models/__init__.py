"""Model zoo: functional Keras models that output logits.

Every builder takes `input_shape` (channels-last for images), `num_classes`
and `name`, validates its arguments and returns a functional `keras.Model`
made of Keras core layers (plus the registered `ZeroPadChannels`, and
`ResidualNoise` and `Ensemble` in the EnResNets, `GaussianMixtureScores` and
`ClusterLabelScores` in the Gaussian-mixture classifier), so it saves with
`model.save` and loads with `keras.saving.load_model` without custom objects.
Outputs are logits (no softmax).

Use `get(name, **kwargs)` to build a model by name and `available_models()`
to list the names; `get(name, weights="<zoo entry>")` gives the trained
network of a zoo entry of that architecture (like `keras.applications` and
timm), `weights="<file>.weights.h5"` a built model with those weights.
"""

import importlib
import os


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
from hdl_keras.models.small_cnn import tiny_cnn
from hdl_keras.models.vgg import vgg16

_BUILDERS = {
    "mlp": mlp,
    "small_cnn": small_cnn,
    "tiny_cnn": tiny_cnn,
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


def get(name, /, weights=None, **kwargs):
    """Builds the model called `name`, optionally with trained weights.

    Args:
        name: one of `available_models()`.
        weights: None (fresh initialization, the default); the name of a
            zoo entry whose architecture is `name` (e.g.
            `get("mlp", weights="iris-mlp-hdl")`): its trained network, read
            by `hdl_keras.zoo.load` (resolved from the cache, the shipped
            copy or a download, sha256-checked against the entry's card);
            or the path of a `.weights.h5` file of this architecture built
            with `kwargs`.
        **kwargs: arguments of the builder, e.g. `input_shape`, `num_classes`
            (`mlp` requires `input_shape`), or `name`, the name of the model
            (`name` itself is positional-only). With a zoo entry, only
            `input_shape` and `num_classes` are accepted, and they must be
            the entry's.

    Returns:
        A functional `keras.Model` that outputs logits (compiled for
        evaluation when it comes from the zoo).

    Raises:
        ValueError: unknown `name`; an entry of another architecture; builder
            arguments an entry does not have.
        hdl_keras.zoo.UnknownEntryError: no zoo entry is called `weights`.

    Examples:
        >>> model = get("resnet20", num_classes=100)
        >>> model.output_shape
        (None, 100)
        >>> trained = get("mlp", weights="iris-mlp-dl")  # doctest: +SKIP
    """
    if not isinstance(name, str) or name not in _BUILDERS:
        raise ValueError(f"Unknown model name. Expected one of {available_models()}. Received: name={name!r}")
    if weights is None:
        return _BUILDERS[name](**kwargs)
    if not isinstance(weights, (str, os.PathLike)):
        raise ValueError(
            "Expected weights to be None, a zoo entry name or the path of a .weights.h5 file. "
            f"Received: weights={weights!r}"
        )
    if str(weights).endswith(".weights.h5"):
        model = _BUILDERS[name](**kwargs)
        model.load_weights(weights)
        return model
    return _zoo_network(name, str(weights), kwargs)


def _zoo_network(name, entry, kwargs):
    """The trained network of zoo entry `entry`, checked to be a `name` matching `kwargs`."""
    # The zoo (a floor above the models) loads entries; imported only when weights are asked for.
    zoo = importlib.import_module("hdl_keras.zoo")

    card = zoo.card(entry)
    if card["architecture"] != name:
        raise ValueError(
            f"Zoo entry {entry!r} is a {card['architecture']!r} network, not {name!r}. "
            f"Call get({card['architecture']!r}, weights={entry!r}), or pick an entry of {name!r} "
            f"({', '.join(c['name'] for c in zoo.list_entries() if c['architecture'] == name) or 'none yet'})."
        )
    unsupported = sorted(set(kwargs) - {"input_shape", "num_classes"})
    if unsupported:
        raise ValueError(
            f"A zoo entry's network is loaded as trained: builder arguments {unsupported} cannot apply. "
            f"Received: weights={entry!r} with {unsupported}. Build get({name!r}, ...) without weights "
            "to change them."
        )
    model = zoo.load(entry)
    found = {"input_shape": tuple(model.input_shape[1:]), "num_classes": model.output_shape[-1]}
    for key, value in kwargs.items():
        expected = tuple(value) if key == "input_shape" else value
        if expected != found[key]:
            raise ValueError(
                f"Zoo entry {entry!r} has {key}={found[key]!r}. Received: {key}={value!r}. "
                f"Leave {key} out, or build get({name!r}, {key}=...) without weights."
            )
    return model


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
    "tiny_cnn",
    "vgg16",
]
