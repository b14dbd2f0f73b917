"""Deprecated: moved to `hdl_keras.preprocessing.augmentation` (this alias is removed in the next release)."""

from hdl_keras.utils.deprecation import moved_module

__getattr__ = moved_module(__name__, "hdl_keras.preprocessing.augmentation")
