"""Builds the `HolisticModel` of one configuration the way the HDL protocol does.

Bertsimas et al. (2023) sec. 4: an MLP with 2 hidden layers of 128 ReLU units
on tables, AlexNet on images, the same network (Glorot-uniform weights, gates
`s0 = 0`) for every method; Adam. `harden_gates` turns the trained gates into
the hard-pruned network. Training is `hdl_keras.recipes.train`.
"""

import keras
from keras import ops

from hdl_keras import layers
from hdl_keras import models
from hdl_keras.objectives import METHODS
from hdl_keras.objectives import HolisticModel
from hdl_keras.objectives import masked_layers

NETWORKS = ("mlp", "alexnet", "small_cnn")

# |s| given to the gates by `harden_gates`: sigmoid(beta * s) is then exactly 0 or 1.
_HARD_LOGIT = 1e4


def network_for(input_shape):
    """The paper's network for inputs of `input_shape`: `"mlp"` for `(D,)`, else `"alexnet"`."""
    return "mlp" if len(input_shape) == 1 else "alexnet"


def build_model(method, config, input_shape, num_classes, network=None):
    """Builds and compiles the `HolisticModel` of one configuration.

    Args:
        method: a name of `hdl_keras.objectives.METHODS`.
        config: dict of searched keys (see `hdl_keras.experiments.method_configs`);
            `lr` is required, the other keys default to `HolisticModel`'s.
        input_shape: shape of one example, e.g. `(4,)` or `(28, 28, 1)`.
        num_classes: number of classes `K` (logits `(B, K)`).
        network: `"mlp"` (2 x 128 ReLU), `"alexnet"` or `"small_cnn"` (a
            cheaper image network for CPU-sized runs); default
            `network_for(input_shape)`. Sparse methods get its masked copy
            (`hdl_keras.layers.to_masked`, gates `s0 = 0`; one gate per
            weight, or per output channel with `config["gate_granularity"]
            = "channel"`).

    Returns:
        A `HolisticModel` compiled with `Adam(config["lr"])` and the
        `sparse_categorical_accuracy` metric.
    """
    if method not in METHODS:
        raise ValueError(f"Unknown method. Expected one of {list(METHODS)}. Received: method={method!r}")
    network = network or network_for(tuple(input_shape))
    if network not in NETWORKS:
        raise ValueError(f"Expected network in {NETWORKS}. Received: network={network!r}")
    base = models.get(network, input_shape=tuple(input_shape), num_classes=num_classes)
    if "sparse" in METHODS[method]:
        base = layers.to_masked(base, granularity=config.get("gate_granularity", "weight"))
    objective = {
        key: config[key] for key in ("rho", "sparsity_lambda", "stability_alpha", "robust_top_k") if key in config
    }
    model = HolisticModel(base.input, base.output, method=method, **objective)
    model.compile(
        optimizer=keras.optimizers.Adam(config["lr"]),
        metrics=["sparse_categorical_accuracy"],
    )
    return model


def harden_gates(model):
    """Turns every gate `sigmoid(beta * s)` of `model` into its hard mask `1[s > 0]`, in place.

    Sets each mask logit to `+-1e4` (keeping the sign rule of
    `MaskedKernelMixin.hard_mask`), so the model computes exactly the
    hard-pruned network of `hdl_keras.layers.export_pruned` and its accuracy
    belongs to the sparsity `count_zero_weights` reports. A no-op without
    masked layers.
    """
    for layer in masked_layers(model):
        s = layer.mask_logits
        s.assign(ops.where(ops.greater(s, 0.0), _HARD_LOGIT, -_HARD_LOGIT))
