"""`export(model, path, format)`: one deployable file, run by a stock runtime without custom operators."""

import os
import pathlib

from hdl_keras.deploy.plain import deployable

FORMATS = {"onnx": ".onnx", "litert": ".tflite"}


def export(model, path, format="onnx"):
    """Writes `model` as an ONNX or LiteRT file for deployment.

    The model is first made deployable (`hdl_keras.deploy.deployable`):
    training wrappers dropped, masked layers hard-pruned (`W * 1[s > 0]`);
    shrunk models (`hdl_keras.pruning.shrink`) export as the smaller network
    they are. Quantized kernels (`QuantDense`, `QuantConv2D`) leave as
    integers: INT4 levels (binary, ternary, 2..4-bit) or INT8 (5..8-bit) with
    their scales and a dequantize operator, no float copy of the kernel.

    - `"onnx"`: opset 21, written node by node (`hdl_keras.deploy.to_onnx`),
      runs in stock onnxruntime; any backend.
    - `"litert"`: a `.tflite` flatbuffer of builtin operators, runs in the
      stock LiteRT interpreter (`ai_edge_litert`); TensorFlow backend only
      (TensorFlow's converter traces the model).

    Args:
        model: a built functional or Sequential `keras.Model` (or a training
            wrapper on one) with one input and one output.
        path: the file to write; its extension must be `.onnx` or `.tflite`
            to match `format`.
        format: `"onnx"` (default) or `"litert"`.

    Returns:
        The number of bytes written.

    Examples:

        >>> import hdl_keras
        >>> model = hdl_keras.zoo.load("mnist-small_cnn-binaryrelax")
        >>> size = hdl_keras.deploy.export(model, "mnist.onnx")  # INT4 levels
    """
    if format not in FORMATS:
        raise ValueError(f"Expected format in {sorted(FORMATS)}. Received: format={format!r}")
    suffix = pathlib.Path(os.fspath(path)).suffix
    if suffix != FORMATS[format]:
        raise ValueError(f"A {format} file must end with {FORMATS[format]!r}. Received: path={os.fspath(path)!r}")
    plain = deployable(model)
    if format == "onnx":
        from hdl_keras.deploy.to_onnx import to_onnx

        data = to_onnx(plain).SerializeToString()
    else:
        from hdl_keras.deploy.to_litert import to_litert

        data = to_litert(plain)
    with open(path, "wb") as file:
        file.write(data)
    return len(data)
