"""Sparsity accounting: % zero weights and % zero channels (Dinh et al. 2020, sec. 5).

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
"""

import keras
import numpy as np

from hdl_keras.layers import MaskedKernelMixin
from hdl_keras.utils.arrays import to_numpy

PRUNABLE_LAYER_TYPES = (keras.layers.Dense, keras.layers.Conv2D)


def prunable_layers(model):
    """The built `Dense` and `Conv2D` layers (subclasses included) of `model`, in order.

    Args:
        model: a `keras.Model` (nested models are searched).

    Returns:
        A list of layers.
    """
    return [
        layer
        for layer in model._flatten_layers(include_self=False)
        if isinstance(layer, PRUNABLE_LAYER_TYPES) and layer.built
    ]


def effective_kernel(layer):
    """The kernel `layer` applies, as a numpy array: `pruned_kernel()` for masked layers."""
    if isinstance(layer, MaskedKernelMixin):
        return to_numpy(layer.pruned_kernel())
    return to_numpy(layer.kernel)


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


def sparsity_report(model, tol=1e-15, channel_axis=-1):
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


def zero_channel_fraction(model, tol=1e-15, channel_axis=-1):
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
