"""Deprecation aliases of moved public names: a module-level `__getattr__` that warns.

Examples:

    ```python
    # hdl_keras/zoo/recipes.py, after its contents moved:
    from hdl_keras.utils.moved import moved_names

    __getattr__ = moved_names(__name__, "hdl_keras.recipes.zoo_entries", renamed={"RECIPES": "ENTRY_RECIPES"})
    ```
"""

import importlib
import warnings


def moved_names(old_module, new_module, renamed=None):
    """A module `__getattr__` (PEP 562) that serves `old_module.NAME` from `new_module`, warning.

    The new module is imported on first access only, so the old module
    imports nothing from it until a moved name is used.

    Args:
        old_module: the dotted name of the module the names left.
        new_module: the dotted name of the module that holds them now (may
            be `old_module` itself, for names renamed in place).
        renamed: `{old name: new name}` for names that changed on the way.

    Returns:
        A function `__getattr__(name)` that returns the moved object with a
        `DeprecationWarning` naming the new path, and raises `AttributeError`
        for names `new_module` does not have.
    """
    renamed = dict(renamed or {})

    def __getattr__(name):
        if name.startswith("__"):
            raise AttributeError(f"module {old_module!r} has no attribute {name!r}")
        module = importlib.import_module(new_module)
        new_name = renamed.get(name, name)
        if new_name not in vars(module):  # not hasattr: a module may alias its own renamed names
            raise AttributeError(f"module {old_module!r} has no attribute {name!r}")
        warnings.warn(
            f"{old_module}.{name} moved to {new_module}.{new_name}; the old path is deprecated and will be "
            "removed in the next release.",
            DeprecationWarning,
            stacklevel=2,
        )
        return vars(module)[new_name]

    return __getattr__
