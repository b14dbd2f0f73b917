"""Deprecation aliases for names that moved to another module (kept for one release).

A module whose names moved assigns its module-level `__getattr__` (PEP 562)
from one of these factories. The new module is imported when an old name is
first read, with `importlib`, not at import time: an alias left on a lower
floor of the package (e.g. `hdl_keras.quantizers.BinaryRelax`, now in
`hdl_keras.callbacks`) then adds no import from a lower floor to a higher one.

Examples:
    >>> # in hdl_keras/quantizers/__init__.py
    >>> __getattr__ = moved_names(__name__, {"BinaryRelax": "hdl_keras.callbacks"})
"""

import importlib
import warnings


def _warn(old, new):
    warnings.warn(
        f"`{old}` moved to `{new}`; the old name is removed in the next release. Import it from its new place.",
        DeprecationWarning,
        stacklevel=3,
    )


def moved_names(module_name, new_homes):
    """A module `__getattr__` resolving the moved names of `module_name`, with a DeprecationWarning.

    Args:
        module_name: the old module (`__name__`).
        new_homes: `{name: new module path}` for each moved name.

    Returns:
        A function `__getattr__(name)`; an unknown name raises AttributeError.
    """

    def __getattr__(name):
        if name not in new_homes:
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
        _warn(f"{module_name}.{name}", f"{new_homes[name]}.{name}")
        return getattr(importlib.import_module(new_homes[name]), name)

    return __getattr__


def moved_module(module_name, new_module_name):
    """A module `__getattr__` forwarding every public name of `module_name` to `new_module_name`.

    For a module that moved whole: each read of an attribute warns
    (DeprecationWarning) and returns the new module's attribute.
    """

    def __getattr__(name):
        if name.startswith("__"):
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
        _warn(f"{module_name}.{name}", f"{new_module_name}.{name}")
        return getattr(importlib.import_module(new_module_name), name)

    return __getattr__
