"""Deployment: export to ONNX and LiteRT, and the stock runtimes that run the files.

`export(model, path, format="onnx" | "litert")` writes a float, hard-pruned,
shrunk or quantized model as one file of standard operators (quantized
kernels as INT4/INT8 integers with a dequantize operator);
`predict_onnx(path, x)` and `predict_litert(path, x)` run it with
onnxruntime and the LiteRT interpreter. The exporters' packages (`onnx`,
`onnxruntime`, `ai-edge-litert`, `ai-edge-quantizer`) are the optional
extra `hdl_keras[export]`, imported only when used. `hdl_keras.export_model`
is `export`.
"""

from hdl_keras.deploy.export import FORMATS
from hdl_keras.deploy.export import export
from hdl_keras.deploy.plain import deployable
from hdl_keras.deploy.plain import integer_kernel
from hdl_keras.deploy.runtime import onnx_session
from hdl_keras.deploy.runtime import predict_litert
from hdl_keras.deploy.runtime import predict_onnx

__all__ = [
    "FORMATS",
    "deployable",
    "export",
    "integer_kernel",
    "onnx_session",
    "predict_litert",
    "predict_onnx",
]
