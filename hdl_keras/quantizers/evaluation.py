"""Deprecated: moved to `hdl_keras.evaluation.quantized` and `hdl_keras.measure` (removed in the next release)."""

from hdl_keras.utils.deprecation import moved_names

__getattr__ = moved_names(
    __name__,
    {
        "TWIN_KERNELS": "hdl_keras.evaluation.quantized",
        "evaluate_quantized": "hdl_keras.evaluation.quantized",
        "float_twin": "hdl_keras.evaluation.quantized",
        "gradient_check": "hdl_keras.evaluation.quantized",
        "weight_statistics": "hdl_keras.measure",
    },
)
