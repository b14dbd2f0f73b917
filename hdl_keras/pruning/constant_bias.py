"""Deprecated: `ConstantChannelsBias` moved to `hdl_keras.layers` (this alias is removed in the next release)."""

from hdl_keras.utils.deprecation import moved_module

__getattr__ = moved_module(__name__, "hdl_keras.layers.constant_bias")
