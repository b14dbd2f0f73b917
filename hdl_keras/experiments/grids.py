"""Hyper-parameter grids of the HDL protocol (Bertsimas et al. 2023, sec. 4).

A grid is a dict with the searched keys, each a tuple of values,

- `lr`: Adam learning rate (every method),
- `rho`: robustness radius (methods with the robust part),
- `sparsity_lambda`, `beta_bar`: sparsity weight and final temperature
  (methods with the sparse part),
- `stability_alpha`: subset fraction of the stable part (stable methods),

and the fixed training keys `epochs` (per round), `batch_size` and `rounds`
(training rounds of the sparse methods), each an int. `PAPER_GRIDS` holds the
paper's values ("Hyperparameter search", sec. 4) for UCI tables and images.
"""

import itertools
import numbers

from hdl_keras.objectives import METHODS

SEARCHED_KEYS = ("lr", "rho", "sparsity_lambda", "beta_bar", "stability_alpha")
TRAINING_KEYS = ("epochs", "batch_size", "rounds")

# The searched keys each part of the objective (`METHODS[method]`) brings.
COMPONENT_KEYS = {
    "robust": ("rho",),
    "sparse": ("sparsity_lambda", "beta_bar"),
    "stable": ("stability_alpha",),
}

# Valid values of each searched key: (test, description for the error message).
_VALID = {
    "lr": (lambda v: v > 0, "> 0"),
    "rho": (lambda v: v >= 0, ">= 0"),
    "sparsity_lambda": (lambda v: v >= 0, ">= 0"),
    "beta_bar": (lambda v: v >= 1, ">= 1"),
    "stability_alpha": (lambda v: 0 < v <= 1, "in (0, 1]"),
}

_SHARED = {
    "rho": (1e-1, 1e-2, 1e-3, 1e-4, 1e-5),
    "sparsity_lambda": (1e-6, 1e-8, 1e-10),
    "beta_bar": (200.0, 1000.0),
    "stability_alpha": (0.7, 0.8, 0.9, 1.0),
    "rounds": 5,
}

PAPER_GRIDS = {
    "uci": {"lr": (1e-2, 1e-3), **_SHARED, "epochs": 150, "batch_size": 32},
    "image": {"lr": (1e-3, 1e-4), **_SHARED, "epochs": 50, "batch_size": 64},
}
# Deprecated alias of `PAPER_GRIDS`, kept for one release.
SEED_GRIDS = PAPER_GRIDS


def get_grid(grid):
    """Returns a checked copy of `grid`: a name of `PAPER_GRIDS` or a full grid dict."""
    if isinstance(grid, str):
        if grid not in PAPER_GRIDS:
            raise ValueError(f"Unknown grid. Expected one of {list(PAPER_GRIDS)}. Received: grid={grid!r}")
        return dict(PAPER_GRIDS[grid])
    if not isinstance(grid, dict):
        raise ValueError(f"Expected a grid name or dict. Received: grid={grid!r}")
    missing = [key for key in (*SEARCHED_KEYS, *TRAINING_KEYS) if key not in grid]
    if missing:
        raise ValueError(f"The grid misses the keys {missing}. Received: grid={grid!r}")
    checked = {}
    for key, value in grid.items():
        checked[key] = _check_value(key, value)
    return checked


def reduced_grid(base, **overrides):
    """Returns the grid `base` with some keys replaced (a reduced search).

    Args:
        base: a name of `PAPER_GRIDS` (`"uci"`, `"image"`) or a grid dict.
        **overrides: new values by key: a value or a sequence of values for
            the searched keys (`lr=[1e-2]`), an int for `epochs`,
            `batch_size` and `rounds`.

    Returns:
        A new grid dict.

    Examples:
        >>> grid = reduced_grid("uci", lr=1e-2, rho=[1e-1, 1e-3], epochs=20)
        >>> grid["lr"], grid["rho"], grid["epochs"]
        ((0.01,), (0.1, 0.001), 20)
    """
    grid = get_grid(base)
    for key, value in overrides.items():
        grid[key] = _check_value(key, value)
    return grid


def method_configs(method, grid):
    """Enumerates the configurations `method` searches on `grid`.

    A method searches `lr` and the keys of its parts (`COMPONENT_KEYS`), in
    the order of `SEARCHED_KEYS`, e.g. `HDL` on `"uci"`: 2 * 5 * 3 * 2 * 4 = 240
    configurations, `DL`: 2.

    Args:
        method: a name of `hdl_keras.objectives.METHODS`.
        grid: a grid name or dict (see `get_grid`).

    Returns:
        A list of dicts mapping the searched keys of `method` to values, in
        the order of the grid (last key fastest).
    """
    keys = method_keys(method)
    grid = get_grid(grid)
    return [dict(zip(keys, values)) for values in itertools.product(*(grid[key] for key in keys))]


def method_keys(method):
    """The searched keys of `method`, in the order of `SEARCHED_KEYS`."""
    if method not in METHODS:
        raise ValueError(f"Unknown method. Expected one of {list(METHODS)}. Received: method={method!r}")
    used = {"lr"}.union(*(COMPONENT_KEYS[part] for part in METHODS[method]))
    return [key for key in SEARCHED_KEYS if key in used]


def config_id(config):
    """A short stable name of a configuration, e.g. `"lr=0.01,rho=0.1"`."""
    return ",".join(f"{key}={config[key]:g}" for key in SEARCHED_KEYS if key in config)


def grid_differences(grid, base):
    """Lists how `grid` differs from the grid `base`, as readable strings.

    Returns:
        A list like `["lr (0.01) instead of (0.01, 0.001)", "epochs 2 instead of 150"]`,
        empty when the grids are equal.
    """
    grid, base = get_grid(grid), get_grid(base)
    differences = []
    for key in (*SEARCHED_KEYS, *TRAINING_KEYS):
        if grid[key] != base[key]:
            differences.append(f"{key} {_format(grid[key])} instead of {_format(base[key])}")
    return differences


def _format(value):
    if isinstance(value, tuple):
        return "(" + ", ".join(f"{item:g}" for item in value) + ")"
    return str(value)


def _check_value(key, value):
    if key in TRAINING_KEYS:
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"Expected an int >= 1 for {key!r}. Received: {key}={value!r}")
        return int(value)
    if key not in SEARCHED_KEYS:
        raise ValueError(f"Unknown grid key. Expected one of {[*SEARCHED_KEYS, *TRAINING_KEYS]}. Received: {key!r}")
    values = tuple(value) if isinstance(value, (list, tuple)) else (value,)
    valid, expected = _VALID[key]
    if not values or any(
        isinstance(item, bool) or not isinstance(item, numbers.Real) or not valid(item) for item in values
    ):
        raise ValueError(f"Expected one or more numbers {expected} for {key!r}. Received: {key}={value!r}")
    return tuple(float(item) for item in values)
