"""Run exported files with the stock runtimes: onnxruntime and the LiteRT interpreter.

`predict_onnx(path, x)` and `predict_litert(path, x)` return the logits of
an exported file for a batch of inputs, in batches, as `model.predict` does
for the Keras model. Neither needs Keras or a custom operator: what they run
is what a deployment runs.
"""

import numpy as np


def _batches(x, batch_size):
    x = np.asarray(x, dtype=np.float32)
    for start in range(0, len(x), batch_size):
        yield x[start : start + batch_size]


def onnx_session(path, optimization="all"):
    """An onnxruntime CPU `InferenceSession` on `path`.

    Args:
        path: an `.onnx` file.
        optimization: onnxruntime's graph optimization level, `"all"` (its
            default; it can fuse `DequantizeLinear` into integer kernels that
            round activations, a pattern `hdl_keras.deploy.export` avoids) or
            `"basic"` (constant folding only: the float computation of the
            file, exact).
    """
    try:
        import onnxruntime
    except ImportError as exc:
        raise ImportError("Running ONNX files needs onnxruntime: pip install 'hdl_keras[export]'.") from exc
    levels = {
        "all": onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL,
        "basic": onnxruntime.GraphOptimizationLevel.ORT_ENABLE_BASIC,
    }
    if optimization not in levels:
        raise ValueError(f"Expected optimization 'all' or 'basic'. Received: optimization={optimization!r}")
    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = levels[optimization]
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def predict_onnx(path, x, batch_size=256, optimization="all"):
    """Logits of the ONNX file `path` for `x` (float32 numpy, Keras layout), by batches."""
    session = onnx_session(path, optimization)
    name = session.get_inputs()[0].name
    return np.concatenate([session.run(None, {name: batch})[0] for batch in _batches(x, batch_size)])


def litert_interpreter(path):
    """The stock LiteRT interpreter on `path` (`ai_edge_litert`, else `tf.lite`)."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        try:
            from tensorflow.lite import Interpreter
        except ImportError as exc:
            raise ImportError(
                "Running LiteRT files needs ai-edge-litert (or tensorflow): pip install 'hdl_keras[export]'."
            ) from exc
    return Interpreter(model_path=str(path))


def predict_litert(path, x, batch_size=256):
    """Logits of the LiteRT (`.tflite`) file `path` for `x`, by batches."""
    interpreter = litert_interpreter(path)
    (input_detail,) = interpreter.get_input_details()
    (output_detail,) = interpreter.get_output_details()
    outputs = []
    current = None
    for batch in _batches(x, batch_size):
        if current != len(batch):
            interpreter.resize_tensor_input(input_detail["index"], batch.shape)
            interpreter.allocate_tensors()
            current = len(batch)
        interpreter.set_tensor(input_detail["index"], batch)
        interpreter.invoke()
        outputs.append(interpreter.get_tensor(output_detail["index"]).copy())
    return np.concatenate(outputs)
