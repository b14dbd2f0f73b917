"""Deprecated: the `hdl-train` command line moved to `hdl_keras_cli.train` (the `hdl train` command).

Every name of this module still resolves, with a `DeprecationWarning`, to
the same object of `hdl_keras_cli.train` (the parser) or
`hdl_keras_cli.train_run` (the training run), for one release.
"""

import importlib
import warnings


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    warnings.warn(
        f"hdl_keras.recipes.cli.{name} is deprecated; use hdl_keras_cli.train (the `hdl train` "
        "command line, also `hdl-train`).",
        DeprecationWarning,
        stacklevel=2,
    )
    parser = importlib.import_module("hdl_keras_cli.train")
    if hasattr(parser, name):
        return getattr(parser, name)
    return getattr(importlib.import_module("hdl_keras_cli.train_run"), name)


if __name__ == "__main__":  # `python -m hdl_keras.recipes.cli ...`, as before
    from hdl_keras_cli.train import main

    raise SystemExit(main())
