"""Weight statistics: zero weights, zero channels, bits per weight (Dinh et al. 2020, sec. 5).

The package's one copy of these counts: the pruning methods, the quantized
nets' evaluation, the HDL protocol and the zoo cards all call the functions
here.

Dinh et al. (2020) report "sparsity", the percentage of zero weights, and "channel
sparsity", the percentage of channels whose weights' l2 norm is below
`1e-15`. Here both are computed over the kernels of the prunable layers:

- counted: the kernels of `keras.layers.Dense` and `keras.layers.Conv2D`
  layers and their subclasses, including `hdl_keras.layers.MaskedDense` and
  `MaskedConv2D`, whose effective kernel `layer.pruned_kernel()`
  (`W * 1[s > 0]`, the kernel `export_pruned` carries) is the one counted;
- not counted: biases, batch-normalization parameters and every other layer
  (depthwise or transposed convolutions, embeddings, ...).

A channel is a slice of a kernel along `channel_axis`: the default `-1` is
the output channel (a `Conv2D` filter `w[:, :, :, c]`, a `Dense` unit's
column `w[:, c]`); `-2` is the input channel, the grouping of Dinh et al.'s (2020)
reference code. Nested models are walked; a layer shared by several paths
counts once.

`count_zero_weights` (the HDL paper's sparsity, as a count) counts the
kernels of every layer that has one (not only Dense and Conv2D), as
`hdl_keras.layers.export_pruned` carries them. A quantized layer
(`QuantDense`, `QuantConv2D`) counts by the kernel of its forward pass,
`q(w)`; `bits_per_weight` by its quantizer's bits (`forward_bits`).
"""

import math

import keras
import numpy as np
from keras import ops

from hdl_keras.layers import MaskedKernelMixin
from hdl_keras.utils.arrays import to_numpy
from hdl_keras.utils.graph import flatten_layers

PRUNABLE_LAYER_TYPES = (keras.layers.Dense, keras.layers.Conv2D)
# A channel whose kernel slice has an l2 norm below this is a zero channel (Dinh et al. 2020).
ZERO_CHANNEL_TOLERANCE = 1e-15


def prunable_layers(model):
    """The built `Dense` and `Conv2D` layers (subclasses included) of `model`, in order.

    Args:
        model: a `keras.Model` (nested models are searched).

    Returns:
        A list of layers.
    """
    return [
        layer
        for layer in flatten_layers(model, include_self=False)
        if isinstance(layer, PRUNABLE_LAYER_TYPES) and layer.built
    ]


def kernel_layers(model):
    """The built layers of `model` (nested models searched) that have a `kernel`, in order."""
    return [
        layer
        for layer in flatten_layers(model, include_self=False)
        if layer.built and getattr(layer, "kernel", None) is not None
    ]


def effective_kernel(layer):
    """The kernel `layer` applies, as a numpy array: `pruned_kernel()` for masked layers."""
    if isinstance(layer, MaskedKernelMixin):
        return to_numpy(layer.pruned_kernel())
    return to_numpy(layer.kernel)


def forward_bits(layer):
    """Bits per kernel entry of `layer`'s forward pass.

    The `bits` of its `kernel_quantizer` when the forward pass uses the
    quantized kernel (no `relax_lambda`, or `lambda = inf`: BinaryConnect);
    the float width of the kernel otherwise (a relaxed layer, finite
    `lambda`, or no quantizer): an unfinished BinaryRelax run is float.
    """
    float_bits = 8 * np.dtype(keras.backend.standardize_dtype(layer.kernel.dtype)).itemsize
    quantizer = getattr(layer, "kernel_quantizer", None)
    if quantizer is None or getattr(quantizer, "bits", None) is None:
        return float_bits
    relax_lambda = getattr(layer, "relax_lambda", None)
    if relax_lambda is not None and math.isfinite(float(ops.convert_to_numpy(relax_lambda))):
        return float_bits
    return quantizer.bits


def count_zero_weights(model):
    """Counts the kernel entries equal to zero over the layers of `model`.

    For a masked layer the kernel counted is the hard-pruned one,
    `layer.pruned_kernel()`, so its zeros are the entries with `s <= 0` (plus
    any exact zero of `W`); for other layers, `layer.kernel` (layers without
    a `kernel`, e.g. batch normalization, are skipped; biases are not
    counted). This is the HDL paper's sparsity metric, as a count.

    Args:
        model: a built `keras.Model` (nested models are walked).

    Returns:
        A tuple `(zeros, total)` of python ints.
    """
    kernels = [effective_kernel(layer) for layer in kernel_layers(model)]
    return (
        sum(int(np.count_nonzero(kernel == 0)) for kernel in kernels),
        sum(int(kernel.size) for kernel in kernels),
    )


def _channel_norms(kernel, channel_axis):
    axis = channel_axis % kernel.ndim
    others = tuple(i for i in range(kernel.ndim) if i != axis)
    return np.sqrt(np.sum(np.square(kernel.astype(np.float64)), axis=others))


def _check_tol(tol):
    if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not tol > 0:
        raise ValueError(
            "Expected `tol` to be a positive number (channels with l2 norm below it count "
            f"as zero; Dinh et al. (2020) use 1e-15). Received: tol={tol!r}"
        )


def sparsity_report(model, tol=ZERO_CHANNEL_TOLERANCE, channel_axis=-1):
    """Per-layer sparsity of the prunable kernels of `model`.

    Args:
        model: a built `keras.Model`.
        tol: a channel whose l2 norm is `< tol` is a zero channel (default
            `1e-15`, Dinh et al.'s (2020) definition).
        channel_axis: the kernel axis indexing channels, `-1` (output
            channels, default) or `-2` (input channels).

    Returns:
        A list with one dict per prunable layer, in model order, with keys
        `"name"`, `"class_name"`, `"kernel_shape"` (tuple), `"weights"`,
        `"zero_weights"`, `"zero_weight_fraction"`, `"channels"`,
        `"zero_channels"` and `"zero_channel_fraction"`.

    Examples:
        >>> for row in sparsity_report(model):
        ...     print(row["name"], row["zero_weight_fraction"], row["zero_channel_fraction"])
    """
    _check_tol(tol)
    if channel_axis not in (-1, -2):
        raise ValueError(
            "Expected `channel_axis` to be -1 (output channels) or -2 (input channels). "
            f"Received: channel_axis={channel_axis!r}"
        )
    layers = prunable_layers(model)
    if not layers:
        raise ValueError(
            f"Model {model.name!r} has no built Dense or Conv2D layer to measure. "
            "Build the model (call it on a batch) first."
        )
    report = []
    for layer in layers:
        kernel = effective_kernel(layer)
        zero_weights = int(np.count_nonzero(kernel == 0))
        zero_channels = int(np.count_nonzero(_channel_norms(kernel, channel_axis) < tol))
        channels = int(kernel.shape[channel_axis])
        report.append(
            {
                "name": layer.name,
                "class_name": type(layer).__name__,
                "kernel_shape": tuple(int(d) for d in kernel.shape),
                "weights": int(kernel.size),
                "zero_weights": zero_weights,
                "zero_weight_fraction": zero_weights / kernel.size,
                "channels": channels,
                "zero_channels": zero_channels,
                "zero_channel_fraction": zero_channels / channels,
            }
        )
    return report


def zero_weight_fraction(model):
    """The fraction of zero entries over all prunable kernels of `model` (Dinh et al.'s (2020) "Sp").

    Kernels of `Dense` and `Conv2D` layers (masked ones by their effective
    kernel) count; biases and batch normalization do not.

    Args:
        model: a built `keras.Model`.

    Returns:
        A python float in [0, 1].
    """
    report = sparsity_report(model)
    return sum(row["zero_weights"] for row in report) / sum(row["weights"] for row in report)


def zero_channel_fraction(model, tol=ZERO_CHANNEL_TOLERANCE, channel_axis=-1):
    """The fraction of channels of l2 norm `< tol` over all prunable kernels (Dinh et al.'s (2020) "Ch. Sp").

    Args:
        model: a built `keras.Model`.
        tol: zero-channel threshold on the l2 norm, default `1e-15` (Dinh et al. 2020).
        channel_axis: `-1` (output channels, default) or `-2` (input channels).

    Returns:
        A python float in [0, 1].
    """
    report = sparsity_report(model, tol=tol, channel_axis=channel_axis)
    return sum(row["zero_channels"] for row in report) / sum(row["channels"] for row in report)


def weight_statistics(model):
    """Zero weights, zero channels and bits per weight of `model`'s Dense/Conv2D kernels.

    Counts the kernels of `prunable_layers` (Dense, Conv2D and their
    subclasses: masked ones by their hard-pruned kernel, quantized ones by
    the kernel of their forward pass, `q(w)`); biases and batch
    normalization are left out, as in Dinh et al. (2020) and Li, Wang and
    Xin (2020).

    Args:
        model: a built `keras.Model`.

    Returns:
        A dict: `zero_weights` (fraction of kernel entries equal to 0),
        `zero_channels` (fraction of output channels whose kernel slice has
        l2 norm `< ZERO_CHANNEL_TOLERANCE`: Dinh et al.'s (2020) "channel
        sparsity"), `bits_per_weight` (the `bits` of each layer's
        `kernel_quantizer`, 32 for float32 kernels, averaged over the kernel
        entries, `forward_bits`) and `kernel_weights` (the number of kernel
        entries).

    Examples:
        >>> from hdl_keras.layers import to_quantized
        >>> from hdl_keras.models import small_cnn
        >>> weight_statistics(to_quantized(small_cnn(), "binary"))["bits_per_weight"]
        1.0
    """
    report = sparsity_report(model)
    total = sum(row["weights"] for row in report)
    bits = sum(int(np.prod(layer.kernel.shape)) * forward_bits(layer) for layer in prunable_layers(model))
    return {
        "zero_weights": sum(row["zero_weights"] for row in report) / total,
        "zero_channels": sum(row["zero_channels"] for row in report) / sum(row["channels"] for row in report),
        "bits_per_weight": bits / total,
        "kernel_weights": total,
    }
