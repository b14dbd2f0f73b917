"""ONNX export: the layer graph written with the `onnx` helper API, stock operators only.

The graph is written node by node from the Keras functional graph (not
traced), for the layers the zoo's architectures use: `Conv2D` and `Dense`
(float, hard-pruned or quantized), `BatchNormalization`, activations,
2D max / average / global pooling, `Flatten`, `Add`, `Dropout` /
`Identity` (dropped), `ZeroPadChannels` and `ConstantChannelsBias` (from
`shrink`). Writing it directly keeps the file free of converter artefacts and
lets quantized kernels leave as integers:

* a float kernel is a float32 initializer;
* a binary kernel (levels `+-1`) is its signs packed eight to a UINT8 byte,
  decoded by stock operators into `scale * levels`
  (`onnx_graph.bit_packed_kernel`: a constant subgraph, which onnxruntime
  folds when it loads the file);
* another quantized kernel `q(w) = levels * scale` is an INT4 initializer
  (levels in `-7..7`: ternary, 2..4-bit; two weights per byte) or INT8 (5..8
  bits) feeding `DequantizeLinear` with its scale (per tensor, or per output
  channel with `axis`). ONNX has INT2 since opset 25, but onnxruntime 1.32's
  CPU `DequantizeLinear` decodes INT2 tensors wrongly, so 2-bit levels
  travel as INT4.

The file holds no float copy of a quantized kernel.

Images are channels-last in Keras and channels-first in ONNX's `Conv`: the
graph transposes the input once (NHWC to NCHW), computes channels-first and
transposes back before `Flatten` (so the next `Dense` sees Keras' order) or
at a 4D output. The batch axis is dynamic.

Channel blocks: onnxruntime's CPU convolutions run in its blocked NCHWc
layout (8 channels a vector with AVX2, 16 with AVX-512) only when their input
channels fill whole blocks; otherwise they fall back to im2col, which made
networks shrunk to 21 / 62 / 126 filters (`hdl_keras.pruning.shrink`) about
1.4x slower at batch 1 than the dense 32 / 64 / 128. So a convolution of more
than `CHANNEL_BLOCK` (16) filters leaves with a multiple of 16: the padded
filters have a zero kernel and bias 1, the next convolution zero weights for
them, and they are sliced off where the channel axis is read as a whole
(`Flatten`, global pooling, a `Dense` on images, softmax, `ZeroPadChannels`,
the model output). They hold a known constant `c` (the image of 1 through
the activations, batch normalization and pooling), so a
`ConstantChannelsBias` after a convolution that reads them, `conv(x, W) +
conv(ones, V)`, is written as the one convolution `conv(x, [W, V / c])`,
`V / c` on a padded input channel, which onnxruntime fuses with the bias and
the activation (an `Add` of the map would leave the blocked layout). The
logits are unchanged up to float rounding.
"""

import keras
import numpy as np

from hdl_keras.deploy.onnx_graph import GraphWriter
from hdl_keras.deploy.onnx_graph import kernel_input
from hdl_keras.deploy.onnx_graph import onnx_module
from hdl_keras.layers.constant_bias import ConstantChannelsBias
from hdl_keras.layers.quantized import QuantizedKernelMixin
from hdl_keras.models.resnet import ZeroPadChannels
from hdl_keras.utils.graph import graph_nodes

OPSET = 21  # INT4 tensors in DequantizeLinear.
CHANNEL_BLOCK = 16  # onnxruntime's NCHWc block with AVX-512 (8 with AVX2).

_PASS_THROUGH = (keras.layers.Dropout, keras.layers.Identity, keras.layers.InputLayer)


def _bias(layer):
    if layer.bias is None:
        return None
    return keras.ops.convert_to_numpy(layer.bias).astype(np.float32)


def _pair(value):
    return [int(v) for v in (value if isinstance(value, (list, tuple)) else (value, value))]


def _conv_padding(padding):
    return {"auto_pad": "SAME_UPPER"} if padding == "same" else {"pads": [0, 0, 0, 0]}


def _conv2d(writer, layer, tensor, layout, constant_channels=None):
    """A `Conv`; `constant_channels`: the `ConstantChannelsBias` that follows it, folded in when it can be."""
    if layer.data_format != "channels_last" or layer.groups != 1:
        raise ValueError(
            f"ONNX export supports channels_last Conv2D with groups=1. Received: "
            f"layer '{layer.name}' with data_format={layer.data_format!r}, "
            f"groups={layer.groups}."
        )
    quantized = isinstance(layer, QuantizedKernelMixin)
    extra_outputs = 0 if quantized else _padded_filters(layer.filters) - layer.filters
    folded = None
    if constant_channels is not None and not quantized and writer.padded_values.get(tensor, 0.0):
        # conv(ones, V) == conv(c * ones, V / c): the padded channel c reads V / c.
        folded = keras.ops.convert_to_numpy(constant_channels.kernel) / writer.padded_values[tensor]
        writer.folded_maps.add(constant_channels.name)
    kernel = kernel_input(
        writer,
        layer,
        (3, 2, 0, 1),
        channel_axis=0,
        extra_inputs=writer.extra_channels.get(tensor, 0),
        extra_outputs=extra_outputs,
        folded=folded,
    )
    inputs = [tensor, kernel]
    bias = _bias(layer)
    if extra_outputs:  # Padded filters output the constant 1.
        bias = np.zeros(layer.filters, np.float32) if bias is None else bias
        bias = np.pad(bias, (0, extra_outputs), constant_values=1.0)
    if bias is not None:
        inputs.append(writer.constant(f"{layer.name}_bias", bias))
    output = writer.node(
        "Conv",
        inputs,
        layer.name,
        kernel_shape=_pair(layer.kernel_size),
        strides=_pair(layer.strides),
        dilations=_pair(layer.dilation_rate),
        **_conv_padding(layer.padding),
    )
    writer.extra_channels[output] = extra_outputs
    if extra_outputs:
        writer.padded_values[output] = 1.0
    return writer.activation(layer.activation, output, layout, f"{layer.name}_act")


def _padded_filters(filters):
    """`filters` rounded up to whole `CHANNEL_BLOCK`s; fewer than one block stay as they are."""
    if filters <= CHANNEL_BLOCK:
        return filters
    return -(-filters // CHANNEL_BLOCK) * CHANNEL_BLOCK


def _dense(writer, layer, tensor, layout, rank):
    bias = _bias(layer)
    if rank == 2:
        # Integer kernels are stored (out, in) for Gemm(transB=1): onnxruntime's default
        # optimizations fuse DequantizeLinear -> Gemm/MatMul with a (in, out) INT4 kernel into
        # MatMulNBits, which quantizes the activations to int8 (its default accuracy level 4)
        # and so changes logits and even argmaxes; with transB=1 the Gemm computes in float.
        transposed = isinstance(layer, QuantizedKernelMixin)
        axes, channel_axis = ((1, 0), 0) if transposed else ((0, 1), 1)
        kernel = kernel_input(writer, layer, axes, channel_axis=channel_axis)
        inputs = [tensor, kernel] + ([writer.constant(f"{layer.name}_bias", bias)] if bias is not None else [])
        output = writer.node("Gemm", inputs, layer.name, **({"transB": 1} if transposed else {}))
    else:
        kernel = kernel_input(writer, layer, (0, 1), channel_axis=1)
        tensor = writer.to_keras_layout(tensor, layout, layer.name)
        layout = "keras"
        output = writer.node("MatMul", [tensor, kernel], layer.name)
        if bias is not None:
            output = writer.node("Add", [output, writer.constant(f"{layer.name}_bias", bias)], layer.name)
    return writer.activation(layer.activation, output, layout, f"{layer.name}_act"), layout


def _batch_norm(writer, layer, tensor, layout, rank):
    if layer.axis not in (-1, rank - 1):
        raise ValueError(
            f"ONNX export supports BatchNormalization on the last (channel) axis. "
            f"Received: layer '{layer.name}' with axis={layer.axis}."
        )
    if rank not in (2, 4):
        raise ValueError(
            f"ONNX export supports BatchNormalization of rank 2 or 4 tensors. "
            f"Received: layer '{layer.name}' on a rank {rank} tensor."
        )
    channels = int(layer.moving_mean.shape[0])
    values = {
        "scale": layer.gamma if layer.scale else np.ones(channels),
        "bias": layer.beta if layer.center else np.zeros(channels),
        "mean": layer.moving_mean,
        "var": layer.moving_variance,
    }
    extra = writer.extra_channels.get(tensor, 0)
    padding = {"scale": 1.0, "bias": 0.0, "mean": 0.0, "var": 1.0}  # identity on padded channels
    inputs = [tensor] + [
        writer.constant(
            f"{layer.name}_{key}",
            np.pad(np.asarray(keras.ops.convert_to_numpy(value), np.float32), (0, extra), constant_values=padding[key]),
        )
        for key, value in values.items()
    ]
    return writer.channelwise(
        "BatchNormalization",
        inputs,
        layer.name,
        padded_value=lambda value: value / float(np.sqrt(np.float32(1.0) + np.float32(layer.epsilon))),
        epsilon=float(layer.epsilon),
    )


def _pool(writer, layer, tensor, op_type):
    if layer.data_format != "channels_last":
        raise ValueError(
            f"ONNX export supports channels_last pooling. Received: layer "
            f"'{layer.name}' with data_format={layer.data_format!r}."
        )
    return writer.channelwise(
        op_type,
        [tensor],
        layer.name,
        kernel_shape=_pair(layer.pool_size),
        strides=_pair(layer.strides),
        **_conv_padding(layer.padding),
    )


def _constant_channels_bias(writer, layer, tensor, layout):
    """Adds the precomputed map `conv(ones(1, H, W, 1), V)` (channels-first) and the activation.

    Only the activation when the convolution before has the map folded in (`_conv2d`).
    """
    if layer.name in writer.folded_maps:
        return writer.activation(layer.activation, tensor, layout, f"{layer.name}_act")
    ones = keras.ops.ones((1, *layer.input_size, 1))
    kernel = keras.ops.expand_dims(layer.kernel, 2)
    response = keras.ops.conv(
        ones, kernel, strides=layer.strides, padding=layer.padding, dilation_rate=layer.dilation_rate
    )
    response = np.transpose(keras.ops.convert_to_numpy(response), (0, 3, 1, 2)).astype(np.float32)
    response = np.pad(response, [(0, 0), (0, writer.extra_channels.get(tensor, 0)), (0, 0), (0, 0)])
    output = writer.channelwise("Add", [tensor, writer.constant(f"{layer.name}_map", response)], layer.name)
    return writer.activation(layer.activation, output, layout, f"{layer.name}_act")


def _zero_pad_channels(writer, layer, tensor, layout, rank):
    """`Pad` of the channel axis: `layer.padding = (before, after)` zero channels."""
    pads = [0] * (2 * rank)  # ONNX order: all starts, then all ends.
    channel_axis = 1 if layout == "nchw" else rank - 1
    pads[channel_axis], pads[rank + channel_axis] = layer.padding
    tensor = writer.unpadded(tensor, layer.name)
    return writer.node("Pad", [tensor, writer.constant(f"{layer.name}_pads", np.asarray(pads, np.int64))], layer.name)


def _write_layer(writer, node, inputs, constant_channels=None):
    """Writes one Keras node; returns `(onnx output name, layout)`.

    `constant_channels`: the `ConstantChannelsBias` that alone reads a convolution's output
    (`_foldable_constant_channels`).
    """
    layer = node.operation
    (tensor, layout), *_ = inputs
    rank = len(node.input_tensors[0].shape)
    if isinstance(layer, _PASS_THROUGH):
        return tensor, layout
    if isinstance(layer, keras.layers.Conv2D) and rank == 4:
        return _conv2d(writer, layer, tensor, layout, constant_channels), layout
    if isinstance(layer, keras.layers.Dense):
        return _dense(writer, layer, tensor, layout, rank)
    if isinstance(layer, keras.layers.BatchNormalization):
        return _batch_norm(writer, layer, tensor, layout, rank), layout
    if isinstance(layer, keras.layers.Activation):
        return writer.activation(layer.activation, tensor, layout, layer.name), layout
    if isinstance(layer, keras.layers.ReLU):
        if layer.max_value is not None or layer.negative_slope or layer.threshold:
            raise ValueError(
                f"ONNX export supports ReLU without max_value, negative_slope or "
                f"threshold. Received: layer '{layer.name}'."
            )
        return writer.channelwise("Relu", [tensor], layer.name, padded_value=lambda value: max(value, 0.0)), layout
    if isinstance(layer, keras.layers.LeakyReLU):
        slope = float(layer.negative_slope)
        leaky = lambda value: value if value >= 0 else slope * value  # noqa: E731
        return writer.channelwise("LeakyRelu", [tensor], layer.name, padded_value=leaky, alpha=slope), layout
    if isinstance(layer, keras.layers.MaxPooling2D):
        return _pool(writer, layer, tensor, "MaxPool"), layout
    if isinstance(layer, keras.layers.AveragePooling2D):
        return _pool(writer, layer, tensor, "AveragePool"), layout
    if isinstance(layer, (keras.layers.GlobalAveragePooling2D, keras.layers.GlobalMaxPooling2D)):
        if layer.keepdims or layer.data_format != "channels_last":
            raise ValueError(
                f"ONNX export supports channels_last global pooling without keepdims. Received: layer '{layer.name}'."
            )
        op_type = "GlobalAveragePool" if isinstance(layer, keras.layers.GlobalAveragePooling2D) else "GlobalMaxPool"
        pooled = writer.node(op_type, [writer.unpadded(tensor, layer.name)], layer.name)
        return writer.node("Flatten", [pooled], f"{layer.name}_flat", axis=1), "keras"
    if isinstance(layer, keras.layers.Flatten):
        tensor = writer.to_keras_layout(tensor, layout, layer.name)
        return writer.node("Flatten", [tensor], layer.name, axis=1), "keras"
    if isinstance(layer, keras.layers.Add):
        if len({item_layout for _, item_layout in inputs}) != 1:
            raise ValueError(f"Layer '{layer.name}' adds tensors of different layouts.")
        operands = [item for item, _ in inputs]
        if len({writer.extra_channels.get(item, 0) for item in operands}) != 1:
            operands = [writer.unpadded(item, layer.name) for item in operands]
        output = operands[0]
        for other in operands[1:]:
            total = writer.padded_values.get(other, 0.0)
            output = writer.channelwise("Add", [output, other], layer.name, padded_value=lambda value: value + total)
        return output, layout
    if isinstance(layer, ConstantChannelsBias):
        return _constant_channels_bias(writer, layer, tensor, layout), layout
    if isinstance(layer, ZeroPadChannels):
        return _zero_pad_channels(writer, layer, tensor, layout, rank), layout
    raise ValueError(
        f"ONNX export does not support layer '{layer.name}' of type "
        f"{type(layer).__name__}. Supported: Conv2D, Dense (float, masked, "
        "quantized), BatchNormalization, Activation, ReLU, LeakyReLU, 2D max / "
        "average / global pooling, Flatten, Add, Dropout, Identity, "
        "ZeroPadChannels, ConstantChannelsBias."
    )


def _foldable_constant_channels(nodes, model, node):
    """The `ConstantChannelsBias` that alone reads the output of the `Conv2D` `node`, with its geometry; or None."""
    output = id(node.outputs[0])
    readers = [reader.operation for reader in nodes if any(id(t) == output for t in reader.input_tensors)]
    if any(id(t) == output for t in model.outputs) or len(readers) != 1:
        return None
    (reader,), conv = readers, node.operation
    if not isinstance(reader, ConstantChannelsBias) or not isinstance(conv, keras.layers.Conv2D):
        return None
    if getattr(conv.activation, "__name__", None) != "linear":  # the map is added before any activation
        return None
    geometry = (_pair(conv.kernel_size), _pair(conv.strides), conv.padding, _pair(conv.dilation_rate))
    same = geometry == (_pair(reader.kernel_size), _pair(reader.strides), reader.padding, _pair(reader.dilation_rate))
    return reader if same and tuple(node.input_tensors[0].shape[1:3]) == reader.input_size else None


def _value_info(onnx, name, shape):
    return onnx.helper.make_tensor_value_info(
        name, onnx.TensorProto.FLOAT, [None if dim is None else int(dim) for dim in shape]
    )


def to_onnx(model):
    """Returns the ONNX `ModelProto` of a deployable model (see `deployable`).

    Args:
        model: a built functional or Sequential model with one input and one
            output, made of the supported layers, masked layers already
            hard-pruned (`hdl_keras.deploy.deployable` does it).

    Returns:
        An `onnx.ModelProto` (opset 21) with input `"inputs"` (Keras shape,
        dynamic batch) and output `"logits"`; `onnx.checker` passes on it.
    """
    onnx = onnx_module()
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ValueError(
            f"ONNX export supports models with one input and one output. Received: "
            f"model '{model.name}' with {len(model.inputs)} inputs and "
            f"{len(model.outputs)} outputs."
        )
    writer = GraphWriter()
    (model_input,) = model.inputs
    tensors = {}
    nodes = graph_nodes(model)
    for node in nodes:
        if isinstance(node.operation, keras.layers.InputLayer):
            if len(model_input.shape) == 4:
                tensors[id(node.outputs[0])] = (
                    writer.node("Transpose", ["inputs"], "inputs_nchw", perm=[0, 3, 1, 2]),
                    "nchw",
                )
            else:
                tensors[id(node.outputs[0])] = ("inputs", "keras")
            continue
        inputs = [tensors[id(tensor)] for tensor in node.input_tensors]
        constant_channels = _foldable_constant_channels(nodes, model, node)
        tensors[id(node.outputs[0])] = _write_layer(writer, node, inputs, constant_channels)
    (model_output,) = model.outputs
    output, layout = tensors[id(model_output)]
    output = writer.to_keras_layout(output, layout, "output")
    writer.nodes.append(onnx.helper.make_node("Identity", [output], ["logits"], name="logits"))
    graph = onnx.helper.make_graph(
        writer.nodes,
        model.name,
        [_value_info(onnx, "inputs", model_input.shape)],
        [_value_info(onnx, "logits", model_output.shape)],
        initializer=writer.initializers,
    )
    proto = onnx.helper.make_model(
        graph,
        opset_imports=[onnx.helper.make_opsetid("", OPSET)],
        producer_name="hdl_keras",
    )
    proto.ir_version = 10
    onnx.checker.check_model(proto, full_check=True)
    return proto
