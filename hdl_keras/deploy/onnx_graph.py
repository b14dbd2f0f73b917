"""The ONNX graph writer of `hdl_keras.deploy.to_onnx`: nodes, initializers, layouts, padded channels.

`GraphWriter` accumulates the nodes and initializers of one graph and tracks,
per tensor, its layout and the channels padded to whole channel blocks
blocks (see `hdl_keras.deploy.to_onnx`); `kernel_input` writes a layer's
kernel as a float initializer or as integer levels feeding `DequantizeLinear`.
"""

import keras
import numpy as np

from hdl_keras.deploy.plain import integer_kernel
from hdl_keras.deploy.plain import level_bits
from hdl_keras.layers.quantized import QuantizedKernelMixin

_ACTIVATIONS = {
    "relu": "Relu",
    "sigmoid": "Sigmoid",
    "tanh": "Tanh",
    "elu": "Elu",
    "softplus": "Softplus",
}


def onnx_module():
    try:
        import onnx
    except ImportError as exc:
        raise ImportError("ONNX export needs the `onnx` package: pip install 'hdl_keras[export]'.") from exc
    return onnx


class GraphWriter:
    """Accumulates ONNX nodes and initializers; each Keras tensor maps to a name and a layout.

    Layouts: `"nchw"` for a channels-first image tensor, `"keras"` for a
    tensor laid out as in Keras (rank 2 features, or an NHWC image).
    `extra_channels[name]`: how many padded channels (see `to_onnx.CHANNEL_BLOCK`)
    follow the Keras channels of an `"nchw"` tensor (0 when absent);
    `padded_values[name]`: the constant they hold; `folded_maps`: the
    names of the `ConstantChannelsBias` layers written into their convolution.
    """

    def __init__(self):
        self.onnx = onnx_module()
        self.nodes = []
        self.initializers = []
        self.extra_channels = {}
        self.padded_values = {}
        self.folded_maps = set()
        self._shared = {}
        self._count = 0

    def name(self, hint):
        self._count += 1
        return f"{hint}_{self._count}"

    def constant(self, hint, value):
        name = self.name(hint)
        self.initializers.append(self.onnx.numpy_helper.from_array(np.asarray(value), name))
        return name

    def node(self, op_type, inputs, hint, **attributes):
        output = self.name(hint)
        self.nodes.append(self.onnx.helper.make_node(op_type, inputs, [output], name=output, **attributes))
        return output

    def channelwise(self, op_type, inputs, hint, padded_value=float, **attributes):
        """A node that maps channel `k` to channel `k`: its output keeps the padding of `inputs[0]`.

        `padded_value(c)`: what the node makes of the padded channels' constant `c`.
        """
        output = self.node(op_type, inputs, hint, **attributes)
        self.extra_channels[output] = self.extra_channels.get(inputs[0], 0)
        if self.extra_channels[output]:
            self.padded_values[output] = padded_value(self.padded_values[inputs[0]])
        return output

    def unpadded(self, tensor, hint):
        """`tensor` (channels-first) without its padded channels."""
        return self._drop_last_channels(tensor, self.extra_channels.get(tensor, 0), 1, hint)

    def _drop_last_channels(self, tensor, extra, axis, hint):
        if not extra:
            return tensor
        inputs = [tensor] + [
            self.constant(f"{hint}_{key}", np.asarray([value], np.int64))
            for key, value in (("starts", 0), ("ends", -extra), ("axes", axis))
        ]
        return self.node("Slice", inputs, f"{hint}_unpadded")

    def shared_constant(self, key, value):
        """An initializer written once per graph and reused: small index and shape constants."""
        if key not in self._shared:
            self._shared[key] = self.constant(key, value)
        return self._shared[key]

    def integer_constant(self, hint, levels):
        """An INT4 or INT8 initializer holding `levels` (int8 numpy)."""
        import ml_dtypes

        name = self.name(hint)
        dtype = ml_dtypes.int4 if level_bits(levels) == 4 else np.int8
        self.initializers.append(self.onnx.numpy_helper.from_array(levels.astype(dtype), name))
        return name

    def activation(self, activation, tensor, layout, hint):
        name = getattr(activation, "__name__", str(activation))
        if name == "linear":
            return tensor
        if name == "softmax":
            return self.node("Softmax", [self.unpadded(tensor, hint)], hint, axis=1 if layout == "nchw" else -1)
        if name not in _ACTIVATIONS:
            raise ValueError(
                f"ONNX export supports the activations linear, softmax, "
                f"{', '.join(_ACTIVATIONS)}. Received: activation={name!r} in "
                f"layer '{hint}'."
            )
        return self.channelwise(
            _ACTIVATIONS[name],
            [tensor],
            hint,
            padded_value=lambda value: float(keras.ops.convert_to_numpy(activation(np.float32([value])))[0]),
        )

    def to_keras_layout(self, tensor, layout, hint):
        if layout == "nchw":
            # Transpose first: onnxruntime fuses it into its NCHWc reorder.
            nhwc = self.node("Transpose", [tensor], f"{hint}_nhwc", perm=[0, 2, 3, 1])
            return self._drop_last_channels(nhwc, self.extra_channels.get(tensor, 0), 3, hint)
        return tensor


def zero_padded(kernel, extra_inputs, extra_outputs):
    """A Keras kernel `(..., in, out)` with zero rows for padded input and output channels."""
    return np.pad(kernel, [(0, 0)] * (kernel.ndim - 2) + [(0, extra_inputs), (0, extra_outputs)])


def kernel_input(writer, layer, onnx_kernel_axes, channel_axis, extra_inputs=0, extra_outputs=0, folded=None):
    """The kernel as ONNX input: float initializer, packed bits, or integer levels + DequantizeLinear.

    `onnx_kernel_axes` permutes the Keras kernel into the ONNX layout;
    `channel_axis` is the output-channel axis there (per-channel scales).
    `extra_inputs` / `extra_outputs`: zero weights for padded channels
    (INT4/INT8 kernels only get `extra_inputs`); `folded`: `(kh, kw, out)`
    weights given to the first padded input channel instead (float kernels).
    A binary kernel (every level `+-1`) leaves as 1 bit per weight
    (`bit_packed_kernel`).
    """
    if isinstance(layer, QuantizedKernelMixin):
        levels, scale = integer_kernel(layer)
        if is_binary(levels):
            levels = np.transpose(levels, onnx_kernel_axes)
            kernel = bit_packed_kernel(writer, layer.name, levels, scale, channel_axis)
            return _padded_in_graph(writer, kernel, levels.ndim, layer.name, extra_inputs, extra_outputs)
        levels = np.transpose(zero_padded(levels, extra_inputs, 0), onnx_kernel_axes)
        inputs = [
            writer.integer_constant(f"{layer.name}_levels", levels),
            writer.constant(f"{layer.name}_scale", scale),
        ]
        attributes = {"axis": channel_axis} if scale.ndim else {}
        return writer.node("DequantizeLinear", inputs, f"{layer.name}_kernel", **attributes)
    kernel = zero_padded(keras.ops.convert_to_numpy(layer.kernel).astype(np.float32), extra_inputs, extra_outputs)
    if folded is not None:
        kernel[..., kernel.shape[-2] - extra_inputs, : folded.shape[-1]] = folded
    return writer.constant(f"{layer.name}_kernel", np.transpose(kernel, onnx_kernel_axes))


def is_binary(levels):
    """Whether every integer level is -1 or +1 (a binary kernel, 1 bit per weight)."""
    return levels.size > 0 and bool(np.all(np.abs(levels) == 1))


def bit_packed_kernel(writer, hint, levels, scale, channel_axis):
    """The float kernel `scale * levels` of a binary kernel stored as 1 bit per weight.

    ONNX has no 1-bit tensor type (its smallest is INT4 / INT2), so the signs
    leave as a UINT8 initializer, eight weights per byte (`np.packbits`, first
    weight in the high bit), and stock operators decode them: `BitShift`
    right by 7..0 and `BitwiseAnd 1` give the bits `b` (shape `(bytes, 8)`),
    `Reshape` / `Slice` / `Reshape` the kernel's shape, then `levels = 2 b - 1`
    and the product with the per-tensor or per-channel `scale`. Every input of
    that subgraph is constant, so runtimes fold it once when they load the file
    (onnxruntime's constant folding, on from its basic optimization level): the
    file is 1 bit per weight, the session computes in float.

    Args:
        writer: the `GraphWriter`.
        hint: the layer's name (names of the new tensors).
        levels: int8 levels, every one `+-1`, in the ONNX kernel layout.
        scale: float32 `()` or `(out,)` (on `channel_axis` of the ONNX layout).
        channel_axis: the output-channel axis of the ONNX layout.

    Returns:
        The name of the float32 kernel tensor, of `levels.shape`.
    """
    bits = np.packbits((levels.reshape(-1) > 0).astype(np.uint8))
    column = writer.node(
        "Unsqueeze", [writer.constant(f"{hint}_bits", bits), writer.shared_constant("axis_1", np.int64([1]))], hint
    )
    shifted = writer.node(
        "BitShift",
        [column, writer.shared_constant("bit_shifts", np.arange(7, -1, -1, dtype=np.uint8))],
        hint,
        direction="RIGHT",
    )
    bit = writer.node("BitwiseAnd", [shifted, writer.shared_constant("uint8_one", np.uint8(1))], hint)
    flat = writer.node("Reshape", [bit, writer.shared_constant("flat_shape", np.int64([-1]))], hint)
    inputs = [flat] + [
        writer.constant(f"{hint}_{key}", np.int64([value])) for key, value in (("start", 0), ("end", levels.size))
    ]
    weights = writer.node("Slice", inputs, hint)
    shaped = writer.node("Reshape", [weights, writer.constant(f"{hint}_shape", np.int64(levels.shape))], hint)
    as_float = writer.node("Cast", [shaped], hint, to=writer.onnx.TensorProto.FLOAT)
    doubled = writer.node("Mul", [as_float, writer.shared_constant("float_two", np.float32(2.0))], hint)
    signs = writer.node("Sub", [doubled, writer.shared_constant("float_one", np.float32(1.0))], hint)
    if scale.ndim:
        broadcast = [1] * levels.ndim
        broadcast[channel_axis] = -1
        scale = scale.reshape(broadcast)
    return writer.node("Mul", [signs, writer.constant(f"{hint}_scale", scale)], f"{hint}_kernel")


def _padded_in_graph(writer, kernel, rank, hint, extra_inputs, extra_outputs):
    """`kernel` (ONNX `(out, in, ...)` or Gemm's `(out, in)`) with zero rows for padded channels, by a `Pad` node."""
    if not (extra_inputs or extra_outputs):
        return kernel
    pads = [0] * (2 * rank)
    pads[rank], pads[rank + 1] = extra_outputs, extra_inputs  # ends of axes 0 (out) and 1 (in)
    return writer.node("Pad", [kernel, writer.constant(f"{hint}_pads", np.int64(pads))], hint)
