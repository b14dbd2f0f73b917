"""Deprecated: the `hdl-zoo` command line moved to `hdl_keras_cli.zoo` (the `hdl zoo` command).

Every name of this module still resolves, with a `DeprecationWarning`, to
the same object of `hdl_keras_cli.zoo`, for one release; `app` (the typer
app) is now `main` (an argparse command line: `main(["list"])`).
"""

import importlib
import warnings


_RENAMED = {"app": "main"}


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    new_name = _RENAMED.get(name, name)
    warnings.warn(
        f"hdl_keras.zoo.cli.{name} is deprecated; use hdl_keras_cli.zoo.{new_name} (the `hdl zoo` command "
        "line, also `hdl-zoo`).",
        DeprecationWarning,
        stacklevel=2,
    )
    return getattr(importlib.import_module("hdl_keras_cli.zoo"), new_name)
