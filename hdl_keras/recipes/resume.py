"""Deprecated: the resume callbacks moved to `hdl_keras.callbacks.resume` (this alias is removed in the next release)."""

from hdl_keras.utils.deprecation import moved_module

__getattr__ = moved_module(__name__, "hdl_keras.callbacks.resume")
