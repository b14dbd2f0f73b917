"""Where the offline loaders look for dataset files, in order.

Roots, first match wins:

1. each entry of `$HDL_KERAS_DATA` (`os.pathsep`-separated), e.g.
   `HDL_KERAS_DATA=/data` finds MNIST in `/data/mnist/`;
2. `shared/data/` beside a source checkout of the project (only if it exists);
3. `~/.hdl_keras/datasets`;
4. `$KERAS_HOME/datasets` (default `~/.keras/datasets`), Keras' own cache;
5. `/usr/share/datasets`, where the Debian package `dataset-fashion-mnist`
   installs `fashion-mnist/`.

Inside each root, a dataset is looked for in the subfolders named in
`SUBFOLDERS`.
"""

import os
from pathlib import Path

# <checkout>/hdl_keras/data/search_path.py -> the folder holding <checkout>,
# i.e. `Path(hdl_keras.__file__).resolve().parents[2]`.
CHECKOUT_DATA_DIR = Path(__file__).resolve().parents[3] / "shared" / "data"
SYSTEM_DATA_DIR = Path("/usr/share/datasets")

SUBFOLDERS = {
    "mnist": ("mnist",),
    "fashion_mnist": ("fashion-mnist", "fashion_mnist"),
    "cifar10": ("cifar10", "cifar-10-batches-py", "cifar10/cifar-10-batches-py"),
}


def search_roots():
    """Returns the root folders searched for datasets, in priority order.

    Folders that do not exist are kept (they are reported when nothing is
    found), except the checkout's `shared/data`, listed only when it exists.

    Returns:
        A list of `pathlib.Path`.

    Examples:

        ```python
        # with HDL_KERAS_DATA=/data:/more
        search_roots()[:2]  # [PosixPath('/data'), PosixPath('/more')]
        ```
    """
    roots = [Path(entry).expanduser() for entry in _env_entries("HDL_KERAS_DATA")]
    if CHECKOUT_DATA_DIR.is_dir():
        roots.append(CHECKOUT_DATA_DIR)
    roots.append(Path.home() / ".hdl_keras" / "datasets")
    roots.append(_keras_home() / "datasets")
    roots.append(SYSTEM_DATA_DIR)
    return roots


def candidate_dirs(name):
    """Returns the folders that may hold dataset `name`, in priority order.

    Args:
        name: a key of `SUBFOLDERS`, e.g. `"fashion_mnist"`.

    Returns:
        A list of `pathlib.Path`: for each root of `search_roots()`, each
        subfolder name of the dataset.

    Raises:
        ValueError: if `name` has no known subfolders.

    Examples:

        ```python
        # with HDL_KERAS_DATA=/data
        candidate_dirs("fashion_mnist")[:2]
        # [PosixPath('/data/fashion-mnist'), PosixPath('/data/fashion_mnist')]
        ```
    """
    if name not in SUBFOLDERS:
        raise ValueError(f"No search folders for dataset {name!r}; known: {sorted(SUBFOLDERS)}.")
    return [root / sub for root in search_roots() for sub in SUBFOLDERS[name]]


def find_dataset_dir(name, required):
    """Returns the first candidate folder of `name` that holds all `required` files.

    Args:
        name: a key of `SUBFOLDERS`.
        required: a sequence of file entries; each entry is a tuple of
            alternative file names, one of which must exist, e.g.
            `[("a.gz", "a"), ("b.gz", "b")]`.

    Returns:
        A `pathlib.Path`, or `None` when no candidate folder is complete.

    Examples:

        ```python
        folder = find_dataset_dir("cifar10", [("test_batch",)])
        ```
    """
    for folder in candidate_dirs(name):
        if all(first_existing(folder, names) for names in required):
            return folder
    return None


def first_existing(folder, names):
    """Returns `folder / n` for the first of `names` that is a file, else `None`."""
    for file_name in names:
        path = folder / file_name
        if path.is_file():
            return path
    return None


def _env_entries(variable):
    """Non-empty `os.pathsep`-separated entries of an environment variable."""
    return [entry for entry in os.environ.get(variable, "").split(os.pathsep) if entry]


def _keras_home():
    """`$KERAS_HOME`, or `~/.keras` when unset (as Keras resolves it)."""
    return Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras").expanduser()
