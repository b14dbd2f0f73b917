"""Shared helpers: argument and input checks (`validation`), atomic file writes (`files`)."""

from hdl_keras.utils import files
from hdl_keras.utils import validation

__all__ = ["files", "validation"]
