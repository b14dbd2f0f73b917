"""Deprecated: the cost measures moved to `hdl_keras.measure.flops` (this alias is removed in the next release)."""

from hdl_keras.utils.deprecation import moved_module

__getattr__ = moved_module(__name__, "hdl_keras.measure.flops")
