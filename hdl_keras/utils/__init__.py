"""Shared helpers: argument and input checks (`validation`), atomic file writes (`files`),
numpy copies of tensors and variables (`arrays`)."""

from hdl_keras.utils import arrays
from hdl_keras.utils import files
from hdl_keras.utils import validation

__all__ = ["arrays", "files", "validation"]
