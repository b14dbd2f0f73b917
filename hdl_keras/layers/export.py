"""Hard-pruned export of masked models (`export_pruned`) and its inverse (`to_masked`).

`export_pruned(model)` replaces every masked layer (`MaskedDense`,
`MaskedConv2D`) by its Keras base layer (`Dense`, `Conv2D`) carrying the
final sparse kernel `gate_scale * W * 1[s > 0]` of continuous sparsification (Savarese et
al., 2020) and the same bias. The result is made of Keras core layers only,
has exact zeros where the mask logits are not positive, and equals the masked
model in the limit `beta -> inf`.
"""

import math

import keras

from hdl_keras.layers.masking import MASK_CONFIG_KEYS
from hdl_keras.layers.masking import MaskedKernelMixin
from hdl_keras.layers.masking import check_granularity
from hdl_keras.utils.arrays import to_numpy
from hdl_keras.utils.surgery import replace_layers


def _base_layer_class(cls):
    """The first class of `cls`'s MRO that is a Keras layer without a mask."""
    for base in cls.__mro__:
        if issubclass(base, keras.layers.Layer) and not issubclass(base, MaskedKernelMixin):
            return base
    raise TypeError(f"{cls.__name__} has no Keras base layer.")


def _masked_class(serialized):
    """The masked layer class a serialized object names, or `None`."""
    registered_name = serialized.get("registered_name")
    if not isinstance(registered_name, str):
        return None
    cls = keras.saving.get_registered_object(registered_name)
    if isinstance(cls, type) and issubclass(cls, MaskedKernelMixin):
        return cls
    return None


def _unmask_config(rewritten):
    """A serialized masked layer rewritten to its Keras base layer; other entries as they are."""
    cls = _masked_class(rewritten)
    if cls is not None and isinstance(rewritten.get("config"), dict):
        base = _base_layer_class(cls)
        rewritten["module"] = "keras.layers"
        rewritten["class_name"] = base.__name__
        rewritten["registered_name"] = None
        rewritten["config"] = {key: item for key, item in rewritten["config"].items() if key not in MASK_CONFIG_KEYS}
    return rewritten


def _copy_pruned(source, target):
    """A masked source gives its pruned kernel (and bias) to the plain layer replacing it."""
    if not isinstance(source, MaskedKernelMixin):
        return False
    weights = [to_numpy(source.pruned_kernel())]
    if source.bias is not None:
        weights.append(to_numpy(source.bias))
    target.set_weights(weights)
    return True


def export_pruned(model):
    """Returns a copy of `model` with masked layers hard-pruned to Keras layers.

    Each `MaskedDense`/`MaskedConv2D` becomes a `keras.layers.Dense`/
    `keras.layers.Conv2D` with the same configuration (minus the gates' options,
    `MASK_CONFIG_KEYS`), the kernel `layer.pruned_kernel()` (`W * 1[s > 0]`,
    exact zeros where `s <= 0`) and the same bias; every other layer is rebuilt from its
    config and gets a copy of its weights. The copy is not compiled.

    Works for `Sequential` and functional models (nested ones included) made
    of Keras layers, masked layers and other registered serializable layers;
    a subclassed model without a usable `get_config` is not supported.

    Args:
        model: a built `keras.Sequential` or functional `keras.Model`.

    Returns:
        A new model of the same class, name and layer names, whose outputs
        equal those of `model` with every gate `sigmoid(beta * s)` replaced by
        the hard mask `1[s > 0]` (the limit `beta -> inf`).

    Examples:
        >>> from hdl_keras.layers import MaskedDense
        >>> model = keras.Sequential([keras.Input((4,)), MaskedDense(2)])
        >>> plain = export_pruned(model)
        >>> type(plain.layers[0]).__name__
        'Dense'
    """
    if not isinstance(model, keras.Model):
        raise ValueError(f"Expected a keras.Model. Received: model={type(model).__name__}")
    if not model.built:
        raise ValueError(f"Model '{model.name}' must be built before export_pruned.")
    return replace_layers(model, _unmask_config, _copy_pruned)


def _mask_config(rewritten, mask_config):
    """A serialized Keras `Dense`/`Conv2D` rewritten to its masked layer; other entries as they are."""
    class_name = rewritten.get("class_name")
    if rewritten.get("module") == "keras.layers" and class_name in ("Dense", "Conv2D"):
        rewritten["module"] = "hdl_keras.layers"
        rewritten["class_name"] = f"Masked{class_name}"
        rewritten["registered_name"] = f"hdl_keras>Masked{class_name}"
        rewritten["config"] = {**rewritten["config"], **mask_config}
    return rewritten


def _copy_into_masked(source, target):
    """A masked target gets the source's kernel (as `W`) and bias."""
    if not isinstance(target, MaskedKernelMixin):
        return False
    target.unmasked_kernel.assign(source.kernel)
    if source.bias is not None:
        target.bias.assign(source.bias)
    return True


def to_masked(model, mask_init=0.0, gate_scale=None, granularity="weight"):
    """Returns a copy of `model` whose `Dense`/`Conv2D` layers are masked.

    The inverse of `export_pruned`: every Keras `Dense` and `Conv2D` becomes a
    `MaskedDense`/`MaskedConv2D` with the same configuration and weights and
    mask logits `s = mask_init` (the HDL paper starts from 0); other layers are
    copied. Use it to give any zoo architecture the HDL sparsity gates. With
    the default `gate_scale`, every fresh gate is exactly 1, so the masked
    copy computes the same function as `model` until its gates move.

    Args:
        model: a built `keras.Sequential` or functional `keras.Model`.
        mask_init: initial value of every mask logit, default 0.0.
        gate_scale: `c` of the gates `c * sigmoid(beta * s)`; default
            `1 / sigmoid(mask_init)` (2 for `mask_init = 0`), as in
            Bertsimas et al. (2023)'s code. Pass 1.0 for the papers' equation.
        granularity: `"weight"` (one gate per kernel entry, the papers') or
            `"channel"` (one per output channel: structured sparsity that
            `hdl_keras.pruning.shrink` turns into a smaller network).

    Returns:
        A new, uncompiled model of the same structure and layer names.
    """
    if not isinstance(model, keras.Model) or not model.built:
        raise ValueError(f"Expected a built keras.Model. Received: model={model!r}")
    mask_init = float(mask_init)
    if gate_scale is None:
        gate_scale = 1.0 + math.exp(-mask_init)
    mask_config = {
        "mask_init": mask_init,
        "gate_scale": float(gate_scale),
        "granularity": check_granularity(granularity),
    }
    return replace_layers(model, lambda entry: _mask_config(entry, mask_config), _copy_into_masked)
