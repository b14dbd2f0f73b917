"""Physically smaller models: `shrink` removes the zero channels of a pruned network.

Channel pruning (RGSM of Dinh et al. (2020), filter pruning of Sehwag et al. 2019) leaves
convolution filters and Dense units whose weights are zero. The network then
has as many multiply-adds as before; `shrink(model)` rebuilds it with those
channels gone, as real `Conv2D` / `Dense` layers with fewer filters and units,
so that inference costs the FLOPs of the compact network.

How it works, on the functional graph (channels = the last axis):

1. Forward: the channels each tensor holds as a constant. A filter (unit)
   whose kernel has l2 norm below `tol` (Dinh et al. (2020) count such a channel as
   zero at 1e-15) outputs the constant `activation(bias)`; batch
   normalization (inference form), activations, pooling, `Flatten`, `Add` and
   `ZeroPadChannels` map constants to constants. A removed channel's batch
   normalization output is `beta - gamma * mean / sqrt(var + eps)`, not zero.
2. Backward: the channels each tensor must keep. A `Dense` / `Conv2D` needs
   an input channel unless it is constant (its contribution is then folded
   into the layer: `bias += c_k * sum(W_k)` for `Dense` and valid-padded
   convolutions, a `ConstantChannelsBias` for zero-padded ones, where the
   border sees fewer taps) or its weights to the kept outputs are below `tol`.
   A tensor read by several layers keeps what any of them needs.
   Channel-wise layers (batch normalization, activations, pooling, `Add`)
   keep the same channels in inputs and output, the union of what each
   needs: a residual stream loses a channel only when it is constant in
   every contributor and no block reads it. `ZeroPadChannels` (the option-A shortcut) keeps as many
   padded zeros as its output needs. `ResidualNoise` with a nonzero stddev and
   `Ensemble` need all their inputs (the noise scale is the std of the whole
   tensor; the ensemble mixes classes). Model inputs and outputs keep all
   their channels; every tensor keeps at least one.
3. Rebuild: every layer gets the kept slices of its weights.

Predictions (inference mode) are unchanged up to float rounding.
"""

import math
import numbers

import keras
import numpy as np
from keras import ops

from hdl_keras.layers.constant_bias import ConstantChannelsBias
from hdl_keras.layers.ensemble import Ensemble
from hdl_keras.layers.masked_conv import MaskedConv2D
from hdl_keras.layers.masked_dense import MaskedDense
from hdl_keras.layers.masking import MASK_CONFIG_KEYS
from hdl_keras.layers.noisy_residual import ResidualNoise
from hdl_keras.measure import ZERO_CHANNEL_TOLERANCE
from hdl_keras.models.resnet import ZeroPadChannels
from hdl_keras.utils.arrays import to_numpy
from hdl_keras.utils.graph import graph_nodes

_DENSE = (keras.layers.Dense, MaskedDense)
_CONV = (keras.layers.Conv2D, MaskedConv2D)
_CHANNELWISE = (
    keras.layers.Activation,
    keras.layers.ReLU,
    keras.layers.LeakyReLU,
    keras.layers.ELU,
    keras.layers.Dropout,
    keras.layers.Identity,
)
_POOLING = (
    keras.layers.MaxPooling2D,
    keras.layers.AveragePooling2D,
    keras.layers.GlobalAveragePooling2D,
    keras.layers.GlobalMaxPooling2D,
)


def _mixes_channels(activation):
    return activation in (keras.activations.softmax, keras.activations.log_softmax)


def _kind(layer):
    """The rule `shrink` applies to `layer`; a ValueError for any other layer."""
    if isinstance(layer, keras.layers.InputLayer):
        return "input"
    if type(layer) in _DENSE or type(layer) in _CONV:
        if layer.quantization_mode is not None:
            raise ValueError(
                f"shrink does not support quantized layers. Received: layer "
                f"'{layer.name}' in quantization mode {layer.quantization_mode!r}."
            )
        if type(layer) in _CONV and (layer.groups != 1 or layer.data_format != "channels_last"):
            raise ValueError(
                "shrink supports channels-last Conv2D layers with groups=1. "
                f"Received: layer '{layer.name}' with groups={layer.groups}, "
                f"data_format={layer.data_format!r}."
            )
        return "dense" if type(layer) in _DENSE else "conv"
    if type(layer) is keras.layers.BatchNormalization:
        return "batch_norm"
    if type(layer) is keras.layers.Activation and _mixes_channels(layer.activation):
        return "opaque"
    if type(layer) in _CHANNELWISE:
        return "channelwise"
    if type(layer) in _POOLING:
        if layer.data_format != "channels_last":
            raise ValueError(
                "shrink supports channels-last pooling. Received: layer "
                f"'{layer.name}' with data_format={layer.data_format!r}."
            )
        return "channelwise"
    if type(layer) is keras.layers.Flatten:
        if layer.data_format != "channels_last":
            raise ValueError(
                "shrink supports channels-last Flatten. Received: layer "
                f"'{layer.name}' with data_format={layer.data_format!r}."
            )
        return "flatten"
    if type(layer) is keras.layers.Add:
        return "add"
    if type(layer) is ZeroPadChannels:
        return "zero_pad"
    if type(layer) is ResidualNoise:
        return "channelwise" if layer.stddev == 0 else "noise"
    if type(layer) is Ensemble:
        return "opaque"
    raise ValueError(
        f"shrink does not support layer '{layer.name}' of type "
        f"{type(layer).__name__}. Supported: InputLayer, Dense, Conv2D, "
        "MaskedDense, MaskedConv2D, BatchNormalization, Activation, ReLU, "
        "LeakyReLU, ELU, Dropout, Identity, MaxPooling2D, AveragePooling2D, "
        "GlobalAveragePooling2D, GlobalMaxPooling2D, Flatten, Add, "
        "ZeroPadChannels, ResidualNoise, Ensemble."
    )


def _channels(tensor, layer):
    channels = tensor.shape[-1]
    if channels is None:
        raise ValueError(
            f"shrink needs the number of channels of every tensor. The input "
            f"of layer '{layer.name}' has shape {tensor.shape}."
        )
    return channels


def _apply(layer, constants, rank):
    """`layer` applied to a tensor whose channels hold `constants` (nan: not constant)."""
    known = np.isfinite(constants)
    x = np.where(known, constants, 0.0).astype("float32")
    x = x.reshape((1,) * (rank - 1) + (-1,))
    y = ops.convert_to_numpy(layer(ops.convert_to_tensor(x)))
    return np.where(known, y.reshape(-1).astype("float64"), np.nan)


def _batch_norm_constants(layer, constants, rank):
    """Inference-mode batch normalization of constant channels (nan stays nan)."""
    if layer.axis not in (-1, rank - 1):
        raise ValueError(
            "shrink supports batch normalization over the last axis. Received: "
            f"layer '{layer.name}' with axis={layer.axis} on rank-{rank} inputs."
        )
    weights = {w.name: to_numpy(w).astype("float64") for w in layer.weights}
    gamma = weights.get("gamma", 1.0)
    beta = weights.get("beta", 0.0)
    scale = gamma / np.sqrt(weights["moving_variance"] + layer.epsilon)
    return (constants - weights["moving_mean"]) * scale + beta


class _Weighted:
    """Kernel, bias and geometry of a `Dense` or `Conv2D` (masked: the gated kernel)."""

    def __init__(self, layer, input_tensor):
        self.layer = layer
        self.kernel = to_numpy(layer.kernel).astype("float64")
        if layer.use_bias:
            self.bias = to_numpy(layer.bias).astype("float64")
        else:
            self.bias = np.zeros(self.kernel.shape[-1])
        self.input_shape = tuple(input_tensor.shape)

    def zero_outputs(self, tol):
        axes = tuple(range(self.kernel.ndim - 1))
        return np.sqrt((self.kernel**2).sum(axis=axes)) < tol

    def input_norms(self, kept_outputs):
        kernel = self.kernel[..., kept_outputs]
        axes = tuple(i for i in range(kernel.ndim) if i != kernel.ndim - 2)
        return np.sqrt((kernel**2).sum(axis=axes))

    def padded(self):
        """Whether a constant input does not give a constant output (border)."""
        return (
            self.kernel.ndim == 4 and self.layer.padding == "same" and any(size > 1 for size in self.kernel.shape[:2])
        )

    def spatial_size(self):
        size = self.input_shape[1:3]
        return size if all(isinstance(s, int) for s in size) else None

    def absorbable(self, constants):
        """Input channels whose constant value this layer can fold in."""
        known = np.isfinite(constants)
        if not self.padded() or self.spatial_size() is not None:
            return known
        return known & (constants == 0)


def _output_constants(kind, node, layer, in_constants, weighted, tol):
    if kind == "input":
        return np.full(_channels(node.outputs[0], layer), np.nan)
    if kind in ("dense", "conv") and not _mixes_channels(layer.activation):
        zero = weighted.zero_outputs(tol)
        values = np.where(zero, weighted.bias, np.nan)
        return _apply(layer.activation, values, 1)
    if kind == "batch_norm":
        return _batch_norm_constants(layer, in_constants[0], len(node.outputs[0].shape))
    if kind == "channelwise":
        if isinstance(layer, _POOLING + (keras.layers.Dropout, ResidualNoise)):
            return in_constants[0]  # Identity on constant channels (inference).
        return _apply(layer, in_constants[0], len(node.outputs[0].shape))
    if kind == "flatten":
        return np.tile(in_constants[0], _spatial_positions(node))
    if kind == "add":
        return np.sum(in_constants, axis=0)
    if kind == "zero_pad":
        before, after = layer.padding
        return np.concatenate([np.zeros(before), in_constants[0], np.zeros(after)])
    # Noise, opaque layers, softmax activations: no constant channel.
    return np.full(_channels(node.outputs[0], layer), np.nan)


def _spatial_positions(node):
    shape = node.input_tensors[0].shape[1:-1]
    if not all(isinstance(size, int) for size in shape):
        raise ValueError(
            f"shrink needs the static input shape of Flatten layer "
            f"'{node.operation.name}'. Received: {node.input_tensors[0].shape}"
        )
    return math.prod(shape)


def _input_needs(kind, node, layer, need, constants, weighted, tol):
    """What each input of `node` must keep, and what its output must keep.

    A layer that maps channel `k` to channel `k` (batch normalization,
    activations, pooling, `Add`, the middle of `ZeroPadChannels`) keeps the
    same channels in its inputs and output: the union of what each needs.
    """
    inputs, output = node.input_tensors, node.outputs[0]
    out_need = need[id(output)]
    if kind in ("dense", "conv"):
        used = weighted.input_norms(out_need) >= tol
        folded = weighted.absorbable(constants[id(inputs[0])])
        return [used & ~folded], out_need
    if kind in ("batch_norm", "channelwise", "add"):
        union = np.logical_or.reduce([out_need] + [need[id(t)] for t in inputs])
        return [union] * len(inputs), union
    in_need = need[id(inputs[0])]
    if kind == "flatten":
        channels = _channels(inputs[0], layer)
        in_need = in_need | out_need.reshape(-1, channels).any(axis=0)
        return [in_need], np.tile(in_need, _spatial_positions(node))
    if kind == "zero_pad":
        middle = slice(layer.padding[0], layer.padding[0] + len(in_need))
        in_need = in_need | out_need[middle]
        out_need = out_need.copy()
        out_need[middle] = in_need
        return [in_need], out_need
    # noise (its scale is the std of the whole tensor) and opaque layers.
    everything = [np.ones(_channels(t, layer), bool) for t in inputs]
    return everything, np.ones_like(out_need) if kind == "noise" else out_need


def _analyse(nodes, model, tol):
    """Constants and kept channels of every tensor (dicts keyed by tensor id)."""
    weighted, constants = {}, {}
    for node in nodes:
        layer = node.operation
        kind = _kind(layer)
        if kind in ("dense", "conv"):
            weighted[id(node)] = _Weighted(layer, node.input_tensors[0])
        in_constants = [constants[id(t)] for t in node.input_tensors]
        constants[id(node.outputs[0])] = _output_constants(kind, node, layer, in_constants, weighted.get(id(node)), tol)
    need = {key: np.zeros(len(value), bool) for key, value in constants.items()}
    for tensor in list(model.inputs) + list(model.outputs):
        need[id(tensor)][:] = True
    changed = True
    while changed:  # Needs only grow: a fixed point within sum(channels) passes.
        changed = False
        for node in reversed(nodes):
            kind = _kind(node.operation)
            if kind == "input":
                continue
            output = id(node.outputs[0])
            if not need[output].any():
                need[output][0] = True
                changed = True
            in_needs, out_need = _input_needs(kind, node, node.operation, need, constants, weighted.get(id(node)), tol)
            for key, value in [(output, out_need)] + [(id(t), n) for t, n in zip(node.input_tensors, in_needs)]:
                if (value & ~need[key]).any():
                    need[key] = need[key] | value
                    changed = True
    return constants, need, weighted


def _plain_config(layer, **changes):
    config = {key: value for key, value in layer.get_config().items() if key not in MASK_CONFIG_KEYS}
    if "lora_rank" in config:
        config["lora_rank"] = None
    config.update(changes)
    return config


class _Replacement:
    """A new layer, the weights to give it once built, its configured initializers.

    The layer is created with zeros initializers: `shrink` overwrites every
    weight, and jax compiles a random initializer once per new shape (seconds
    each). `finish()`, after the layer's first call, sets the weights and
    restores the initializers of `config`, so that `get_config()` keeps them.
    """

    def __init__(self, cls, config, weights):
        self.initializers = {key: value for key, value in config.items() if key.endswith("_initializer")}
        zeros = {key: "zeros" for key in self.initializers}
        self.layer = cls.from_config({**config, **zeros})
        self.weights = weights

    def finish(self):
        self.layer.set_weights(self.weights)
        for key, value in self.initializers.items():
            setattr(self.layer, key, keras.initializers.get(value))


def _rebuild_weighted(kind, weighted, kept_in, kept_out, in_constants):
    """New layers (and their weights) for a `Dense` / `Conv2D` with kept channels."""
    layer, kernel = weighted.layer, weighted.kernel
    removed = ~kept_in & weighted.absorbable(in_constants) & (in_constants != 0)
    removed_kernel = kernel[..., removed, :][..., kept_out]
    contribution = np.tensordot(in_constants[removed], removed_kernel, axes=([0], [-2]))
    bias = weighted.bias[kept_out]
    bias_map = None
    if kind == "dense" or not weighted.padded():
        bias = bias + contribution.reshape(-1, bias.size).sum(axis=0)
    elif removed.any():
        bias_map = contribution  # (kh, kw, kept filters)
    use_bias = bool(layer.use_bias or (bias_map is None and removed.any()))
    new_kernel = kernel[..., kept_in, :][..., kept_out]
    size = {"units" if kind == "dense" else "filters": int(kept_out.sum())}
    activation = "linear" if bias_map is not None else layer.get_config()["activation"]
    config = _plain_config(layer, use_bias=use_bias, activation=activation, **size)
    base = keras.layers.Dense if kind == "dense" else keras.layers.Conv2D
    weights = [new_kernel, bias] if use_bias else [new_kernel]
    new_layers = [_Replacement(base, config, weights)]
    if bias_map is not None:
        extra = {
            "name": f"{layer.name}_constant_channels",
            "input_size": weighted.spatial_size(),
            "kernel_size": layer.kernel_size,
            "strides": layer.strides,
            "padding": layer.padding,
            "dilation_rate": layer.dilation_rate,
            "activation": layer.get_config()["activation"],
        }
        new_layers.append(_Replacement(ConstantChannelsBias, extra, [bias_map]))
    return new_layers


def _rebuild(kind, node, need, constants, weighted):
    """The `_Replacement`s of `node.operation`, applied in sequence."""
    layer = node.operation
    kept_in = [need[id(t)] for t in node.input_tensors]
    kept_out = need[id(node.outputs[0])]
    if kind in ("dense", "conv"):
        return _rebuild_weighted(kind, weighted, kept_in[0], kept_out, constants[id(node.input_tensors[0])])
    if kind == "batch_norm":
        weights = [w[kept_out] for w in layer.get_weights()]
        return [_Replacement(type(layer), layer.get_config(), weights)]
    if kind == "zero_pad":
        before, _ = layer.padding
        end = before + len(kept_in[0])
        padding = (int(kept_out[:before].sum()), int(kept_out[end:].sum()))
        config = {**layer.get_config(), "padding": padding}
        return [_Replacement(ZeroPadChannels, config, [])]
    return [_Replacement(type(layer), layer.get_config(), layer.get_weights())]


def _check_tol(tol):
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real) or not math.isfinite(tol) or tol <= 0:
        raise ValueError(
            "Expected `tol` to be a finite positive number (a channel is zero "
            f"when its l2 norm is below it). Received: tol={tol!r}"
        )
    return float(tol)


def shrink(model, tol=ZERO_CHANNEL_TOLERANCE):
    """Rebuilds a structurally pruned model without its zero channels.

    Every `Conv2D` filter / `Dense` unit whose kernel has l2 norm below `tol`
    (Dinh et al.'s (2020) "zero channel"), and every channel no later layer reads, is
    removed: the layer is rebuilt with fewer filters or units and the layers
    downstream get the matching slices of their weights (batch-normalization
    parameters, the input rows of the next `Dense`, through `Flatten`, the
    input channels of the next `Conv2D`, the zero padding of option-A
    shortcuts). A removed channel is constant, not always zero (its bias,
    batch normalization `beta - gamma * mean / sqrt(var + eps)` or
    activation): its contribution is folded into the next layer's bias, or a
    `ConstantChannelsBias` where the next convolution pads with zeros. The
    channels of a residual stream (the operands of an `Add`) go only when
    every contributor makes them constant and no block reads them; the inner
    convolutions of a block shrink freely. See the module docstring for the
    rules.

    `MaskedDense` / `MaskedConv2D` become plain `Dense` / `Conv2D` with their
    effective (gated) kernel `W * sigmoid(beta * s)`, which has no zero unless
    `W` has: call `hdl_keras.layers.export_pruned` first to apply the hard
    mask `1[s > 0]`.

    Supported layers: `InputLayer`, `Dense`, `Conv2D` (channels last,
    `groups=1`), their masked versions, `BatchNormalization` (last axis),
    `Activation`, `ReLU`, `LeakyReLU`, `ELU`, `Dropout`, `Identity`, 2D max /
    average / global pooling, `Flatten`, `Add`, `ZeroPadChannels`,
    `ResidualNoise` and `Ensemble`: every architecture of `hdl_keras.models`.
    A `ResidualNoise` with `stddev > 0` keeps its whole stream (its scale is
    the standard deviation of the whole tensor) and passes its random state
    on, so the shrunk model draws the same noise.

    Args:
        model: a built functional or Sequential `keras.Model`; each layer is
            called once (no shared layers, no nested models).
        tol: l2-norm threshold below which a filter, unit or input slice of a
            kernel counts as zero. Defaults to `1e-15` (Dinh et al. 2020).

    Returns:
        A new, uncompiled functional `keras.Model` with the same name, inputs
        and outputs and the same layer names (plus a
        `"{conv name}_constant_channels"` layer after convolutions that
        absorbed nonzero constant channels), whose predictions in inference
        mode equal those of `model` up to float rounding. Fine-tune it as any
        model (batch normalization then uses batch statistics, as before).

    Raises:
        ValueError: for an unsupported layer (named in the message), a shared
            layer, unknown channel counts or a bad `tol`.

    Examples:
        >>> model = hdl_keras.models.small_cnn(filters=(8, 16), dense_units=16)
        >>> conv = model.get_layer("conv1")
        >>> kernel, bias = conv.get_weights()
        >>> kernel[..., :4] = 0.0  # Filter-prune half of the first convolution.
        >>> conv.set_weights([kernel, bias])
        >>> shrink(model).get_layer("conv1").filters
        4

    Reference:
        - Dinh, Wang, Bertozzi, Osher, Xin, Sparsity Meets Robustness:
          Channel Pruning for the Feynman-Kac Formalism Principled Robust
          DNNs (Dinh et al. 2020), section 4: zero channels at l2 norm < 1e-15.
        - Sehwag, Wang, Mittal, Jana, Towards Compact and Robust Deep Neural
          Networks (Sehwag et al. 2019): filter pruning.
    """
    tol = _check_tol(tol)
    nodes = graph_nodes(model)
    layers = [node.operation for node in nodes]
    for layer in layers:
        if isinstance(layer, keras.Model):
            raise ValueError(
                f"shrink does not support nested models. Received: model "
                f"'{layer.name}' inside '{model.name}'; build one flat model."
            )
        if layers.count(layer) > 1:
            raise ValueError(
                f"shrink does not support shared layers. Received: layer "
                f"'{layer.name}', called {layers.count(layer)} times."
            )
    constants, need, weighted = _analyse(nodes, model, tol)

    new_tensors = {}
    for node in nodes:
        kind = _kind(node.operation)
        if kind == "input":
            tensor = node.outputs[0]
            new_tensors[id(tensor)] = keras.Input(
                batch_shape=tensor.shape, dtype=tensor.dtype, name=node.operation.name
            )
            continue
        replacements = _rebuild(kind, node, need, constants, weighted.get(id(node)))
        args, kwargs = node.arguments.fill_in(new_tensors)
        outputs = replacements[0].layer(*args, **kwargs)
        for replacement in replacements[1:]:
            outputs = replacement.layer(outputs)
        for replacement in replacements:
            replacement.finish()
        if type(node.operation) is ResidualNoise:
            replacements[0].layer.seed_generator.state.assign(node.operation.seed_generator.state)
        new_tensors[id(node.outputs[0])] = outputs
    inputs = [new_tensors[id(t)] for t in model.inputs]
    outputs = [new_tensors[id(t)] for t in model.outputs]
    return keras.Model(
        inputs[0] if len(inputs) == 1 else inputs,
        outputs[0] if len(outputs) == 1 else outputs,
        name=model.name,
    )
