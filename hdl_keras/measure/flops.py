"""Size and cost of a model: parameters, multiply-adds, zero weights and channels."""

import math

import keras

from hdl_keras.layers.constant_bias import ConstantChannelsBias
from hdl_keras.measure.weights import ZERO_CHANNEL_TOLERANCE
from hdl_keras.measure.weights import sparsity_report
from hdl_keras.utils.graph import graph_nodes


def _layer_flops(layer, node):
    """Multiply-adds of one call of `layer` on one example."""
    if isinstance(layer, ConstantChannelsBias):
        out_shape = node.outputs[0].shape
        return math.prod(out_shape[1:]) * math.prod(layer.kernel_size)
    if isinstance(layer, keras.layers.Dense):
        in_shape, units = node.input_tensors[0].shape, layer.units
        return math.prod(in_shape[1:]) * units
    if isinstance(layer, keras.layers.Conv2D):
        kernel_height, kernel_width, channels_per_group, filters = layer.kernel.shape
        out_shape = node.outputs[0].shape
        positions = math.prod(out_shape[1:3] if layer.data_format == "channels_last" else out_shape[2:])
        return positions * kernel_height * kernel_width * channels_per_group * filters
    if any("kernel" in weight.name for weight in layer.weights):
        raise ValueError(
            "count_flops counts Dense, Conv2D (masked or not) and "
            f"ConstantChannelsBias layers. Received: layer '{layer.name}' of "
            f"type {type(layer).__name__}, which has a kernel."
        )
    return 0


def count_flops(model):
    """Multiply-adds (MACs) of one forward pass of `model` on one example.

    The dense cost of the layer shapes: `Dense` on inputs `(batch, ...,
    n_in)` costs `prod(...) * n_in * units`, `Conv2D` costs `out_height *
    out_width * kernel_height * kernel_width * (channels / groups) *
    filters`, whatever the zeros in the kernels: `MaskedDense` /
    `MaskedConv2D` count as their plain layers, and unstructured sparsity
    saves nothing here, since dense kernels run at dense cost; only
    `hdl_keras.pruning.shrink` turns zero channels into fewer FLOPs. A
    `ConstantChannelsBias` counts as one input channel of its convolution
    (`out_height * out_width * kernel_height * kernel_width * filters`, an
    upper bound: it runs once per batch). Biases, batch normalization,
    activations, pooling and additions are not counted (they are linear in
    the activations, not in the weights). Multiply by 2 for FLOPs.

    Args:
        model: a built functional or Sequential `keras.Model` (nested
            models are walked) with static shapes.

    Returns:
        The number of multiply-adds per example, a python int.

    Raises:
        ValueError: for another layer with a kernel (e.g. `Conv1D`), whose
            cost this function does not know.

    Examples:
        >>> inputs = keras.Input((6, 6, 2))
        >>> x = keras.layers.Conv2D(4, 3)(inputs)  # 4 * 4 positions * 9 * 2 * 4
        >>> x = keras.layers.Flatten()(x)
        >>> outputs = keras.layers.Dense(3)(x)  # 64 * 3
        >>> count_flops(keras.Model(inputs, outputs))
        1344
    """
    total = 0
    for node in graph_nodes(model):
        layer = node.operation
        if isinstance(layer, keras.Model):
            total += count_flops(layer)
        elif not isinstance(layer, keras.layers.InputLayer):
            total += _layer_flops(layer, node)
    return int(total)


def count_parameters(model):
    """Number of scalars in the weights of `model`: trainable and not.

    What a `.keras` file stores: kernels, biases, batch-normalization
    statistics, and for masked layers the mask logits and `beta` too.
    Equals `model.count_params()`.

    Args:
        model: a built `keras.Model`.

    Returns:
        A python int.
    """
    if not isinstance(model, keras.Model) or not model.built:
        raise ValueError(f"Expected a built keras.Model. Received: model={model!r}")
    return int(sum(math.prod(weight.shape) for weight in model.weights))


def model_summary(model, tol=ZERO_CHANNEL_TOLERANCE):
    """Parameters, multiply-adds, zero weights and zero channels of `model`.

    Args:
        model: a built functional or Sequential `keras.Model`.
        tol: l2-norm threshold of a zero channel. Defaults to `1e-15`.

    Returns:
        A dict with `"parameters"` (`count_parameters`), `"flops"`
        (multiply-adds per example, `count_flops`), and over the kernels of
        the `Dense` / `Conv2D` layers (masked ones by their hard-pruned
        kernel, see `hdl_keras.measure.sparsity_report`):
        `"zero_weights"`, `"total_weights"`, `"zero_weight_fraction"`,
        `"zero_channels"` (output channels of l2 norm below `tol`, Dinh et al. 2020),
        `"total_channels"` and `"zero_channel_fraction"`.

    Examples:
        >>> model = hdl_keras.models.mlp((4,), num_classes=2, hidden_units=(3,))
        >>> summary = model_summary(model)
        >>> summary["parameters"], summary["flops"], summary["zero_channels"]
        (23, 18, 0)
    """
    report = sparsity_report(model, tol=tol)
    zero_weights = sum(row["zero_weights"] for row in report)
    total_weights = sum(row["weights"] for row in report)
    zero_channels = sum(row["zero_channels"] for row in report)
    total_channels = sum(row["channels"] for row in report)
    return {
        "parameters": count_parameters(model),
        "flops": count_flops(model),
        "zero_weights": zero_weights,
        "total_weights": total_weights,
        "zero_weight_fraction": zero_weights / total_weights,
        "zero_channels": zero_channels,
        "total_channels": total_channels,
        "zero_channel_fraction": zero_channels / total_channels,
    }
