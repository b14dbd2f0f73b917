"""Deprecated: the `hdl-protocol` command line moved to `hdl_keras_cli.protocol` (the `hdl protocol` command).

Every name of this module still resolves, with a `DeprecationWarning`, to
the same object of `hdl_keras_cli.protocol`, for one release.
"""

import importlib
import warnings


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    warnings.warn(
        f"hdl_keras.experiments.cli.{name} is deprecated; use hdl_keras_cli.protocol.{name} (the `hdl protocol` command "
        "line, also `hdl-protocol`).",
        DeprecationWarning,
        stacklevel=2,
    )
    return getattr(importlib.import_module("hdl_keras_cli.protocol"), name)
