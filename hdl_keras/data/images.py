"""Offline-first image datasets: MNIST, Fashion-MNIST and CIFAR-10.

Each loader reads the official files from the folders of
`hdl_keras.data.search_path` and falls back to `keras.datasets.<name>` (a
download) only when files are missing and downloads are allowed. Images come
out float32 in [0, 1], channels-last; labels int64 of shape `(N,)`.
"""

import os
import pickle

import numpy as np

from hdl_keras.data.idx import read_idx
from hdl_keras.data.search_path import candidate_dirs
from hdl_keras.data.search_path import find_dataset_dir
from hdl_keras.data.search_path import first_existing

IDX_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
# sha256 of the uncompressed official MNIST files.
MNIST_SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
CIFAR10_TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR10_TEST_FILE = "test_batch"
_CIFAR10_IMAGE_SHAPE = (3, 32, 32)  # channels-first, as stored in the pickles
_MALFORMED_PICKLE_ERRORS = (
    pickle.UnpicklingError,
    EOFError,
    KeyError,
    TypeError,
    ValueError,
)

_HOW_TO_PROVIDE = {
    "mnist": (
        "set HDL_KERAS_DATA to a folder that contains mnist/ with the four "
        "files " + ", ".join(f"{f}.gz" for f in IDX_FILES) + " (or uncompressed, "
        "without .gz)."
    ),
    "fashion_mnist": (
        "install the Debian package (apt-get install dataset-fashion-mnist, "
        "which fills /usr/share/datasets/fashion-mnist/), or set HDL_KERAS_DATA "
        "to a folder that contains fashion-mnist/ with the four files " + ", ".join(f"{f}.gz" for f in IDX_FILES) + "."
    ),
    "cifar10": (
        "put the official CIFAR-10 python version, the folder "
        "cifar-10-batches-py/ (data_batch_1 .. data_batch_5, test_batch), in a "
        "folder named by HDL_KERAS_DATA, as cifar-10-batches-py/ or cifar10/."
    ),
}


class DatasetNotFoundError(FileNotFoundError):
    """Raised when a dataset's files are in none of the searched folders."""


def load_mnist(verify=True, allow_download=None):
    """Loads MNIST (LeCun et al. 1998) from the official IDX files.

    Args:
        verify: whether to check the sha256 of each file's uncompressed content
            against `MNIST_SHA256` (default `True`; costs about 0.2 s).
        allow_download: whether to fall back to `keras.datasets.mnist` when
            the files are not found. `None` (default) allows it unless the
            environment variable `HDL_KERAS_OFFLINE` is `"1"`.

    Returns:
        `((x_train, y_train), (x_test, y_test))`: float32 images in [0, 1] of
        shape `(60000, 28, 28, 1)` and `(10000, 28, 28, 1)`, int64 labels in
        0..9 of shape `(60000,)` and `(10000,)`.

    Raises:
        DatasetNotFoundError: if the files are not found and cannot be
            downloaded; the message lists the folders searched.
        ValueError: if a file is malformed or fails the hash check.

    Examples:

        ```python
        (x_train, y_train), (x_test, y_test) = load_mnist()
        ```
    """
    hashes = MNIST_SHA256 if verify else {}
    return _load_image_dataset("mnist", lambda folder: _read_idx_folder(folder, hashes), allow_download)


def load_fashion_mnist(allow_download=None):
    """Loads Fashion-MNIST (Xiao et al. 2017) from the official IDX files.

    Same file names and format as MNIST, found e.g. in
    `/usr/share/datasets/fashion-mnist/` (Debian package
    `dataset-fashion-mnist`).

    Args:
        allow_download: whether to fall back to `keras.datasets.fashion_mnist`
            when the files are not found. `None` (default) allows it unless
            the environment variable `HDL_KERAS_OFFLINE` is `"1"`.

    Returns:
        `((x_train, y_train), (x_test, y_test))`: float32 images in [0, 1] of
        shape `(60000, 28, 28, 1)` and `(10000, 28, 28, 1)`, int64 labels in
        0..9 of shape `(60000,)` and `(10000,)`.

    Raises:
        DatasetNotFoundError: if the files are not found and cannot be
            downloaded; the message lists the folders searched.
        ValueError: if a file is malformed.

    Examples:

        ```python
        (x_train, y_train), _ = load_fashion_mnist()
        ```
    """
    return _load_image_dataset("fashion_mnist", lambda folder: _read_idx_folder(folder, {}), allow_download)


def load_cifar10(allow_download=None):
    """Loads CIFAR-10 (Krizhevsky 2009) from the official python version.

    Reads the pickles `data_batch_1` .. `data_batch_5` and `test_batch` of
    `cifar-10-batches-py/`. Only load files from a trusted source: unpickling
    can run code.

    Args:
        allow_download: whether to fall back to `keras.datasets.cifar10` when
            the files are not found. `None` (default) allows it unless the
            environment variable `HDL_KERAS_OFFLINE` is `"1"`.

    Returns:
        `((x_train, y_train), (x_test, y_test))`: float32 images in [0, 1] of
        shape `(50000, 32, 32, 3)` and `(10000, 32, 32, 3)`, int64 labels in
        0..9 of shape `(50000,)` and `(10000,)`.

    Raises:
        DatasetNotFoundError: if the files are not found and cannot be
            downloaded; the message lists the folders searched.
        ValueError: if a batch is not in the official format.

    Examples:

        ```python
        (x_train, y_train), (x_test, y_test) = load_cifar10()
        ```
    """
    return _load_image_dataset("cifar10", _read_cifar10_folder, allow_download)


def _load_image_dataset(name, read_folder, allow_download):
    """Reads dataset `name` from the first complete folder, else downloads it."""
    folder = find_dataset_dir(name, _required_files(name))
    if folder is not None:
        return read_folder(folder)
    if not _download_allowed(allow_download):
        note = "not allowed (allow_download=False or HDL_KERAS_OFFLINE=1)"
        raise _not_found(name, note)
    try:
        arrays = _keras_load_data(name)
    except Exception as error:  # Any download or cache failure means "not found".
        raise _not_found(name, f"keras.datasets.{name} failed: {error}") from error
    return _from_keras_arrays(arrays)


def _required_files(name):
    """Alternative names of each file dataset `name` needs in its folder."""
    if name == "cifar10":
        return [(f,) for f in (*CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE)]
    return [(f"{f}.gz", f) for f in IDX_FILES]


def _download_allowed(allow_download):
    """Resolves `allow_download=None` from the `HDL_KERAS_OFFLINE` variable."""
    if allow_download is None:
        return os.environ.get("HDL_KERAS_OFFLINE") != "1"
    return bool(allow_download)


def _not_found(name, download_note):
    """Builds the error listing every folder searched for dataset `name`."""
    wanted = ", ".join(" or ".join(names) for names in _required_files(name))
    searched = "\n".join(f"  {folder}" for folder in candidate_dirs(name))
    return DatasetNotFoundError(
        f"Dataset {name!r} not found: no folder holds all of {wanted}.\n"
        f"Searched, in order:\n{searched}\n"
        f"Download: {download_note}.\n"
        f"To provide it: {_HOW_TO_PROVIDE[name]}"
    )


def _keras_load_data(name):
    """Downloads dataset `name` with `keras.datasets` (imports Keras lazily)."""
    import keras

    return getattr(keras.datasets, name).load_data()


def _from_keras_arrays(arrays):
    """Converts `keras.datasets` uint8 arrays to this module's conventions.

    Keras returns CIFAR-10 as `(N, 3, 32, 32)` when its image data format is
    channels-first; such arrays are transposed to channels-last.
    """
    (x_train, y_train), (x_test, y_test) = arrays
    if x_train.ndim == 4 and x_train.shape[1] == 3 and x_train.shape[-1] != 3:
        x_train, x_test = x_train.transpose(0, 2, 3, 1), x_test.transpose(0, 2, 3, 1)
    return (
        (_to_unit_float(x_train), _to_labels(y_train)),
        (_to_unit_float(x_test), _to_labels(y_test)),
    )


def _read_idx_folder(folder, hashes):
    """Reads the four IDX files of an MNIST-layout folder.

    `hashes` maps file stems to expected sha256 (empty: no check).
    """
    x_train, y_train, x_test, y_test = [
        read_idx(first_existing(folder, (f"{stem}.gz", stem)), sha256=hashes.get(stem)) for stem in IDX_FILES
    ]
    _check_pair(x_train, y_train, folder / IDX_FILES[0], image_ndim=3)
    _check_pair(x_test, y_test, folder / IDX_FILES[2], image_ndim=3)
    return (
        (_to_unit_float(x_train), _to_labels(y_train)),
        (_to_unit_float(x_test), _to_labels(y_test)),
    )


def _read_cifar10_folder(folder):
    """Reads the six pickled batches of a `cifar-10-batches-py` folder."""
    train = [_read_cifar10_batch(folder / f) for f in CIFAR10_TRAIN_FILES]
    x_test, y_test = _read_cifar10_batch(folder / CIFAR10_TEST_FILE)
    x_train = np.concatenate([x for x, _ in train])
    y_train = np.concatenate([y for _, y in train])
    return (
        (_to_unit_float(x_train), y_train),
        (_to_unit_float(x_test), y_test),
    )


def _read_cifar10_batch(path):
    """Returns `(x, y)` of one batch: uint8 `(N, 32, 32, 3)`, int64 `(N,)`.

    The pickle holds `b"data"`, uint8 `(N, 3072)` (each row: the 1024 red,
    then green, then blue pixels, row-major), and `b"labels"`, N ints.
    """
    try:
        with open(path, "rb") as file:
            batch = pickle.load(file, encoding="bytes")
        data = np.asarray(batch[b"data"], dtype=np.uint8)
        labels = _to_labels(batch[b"labels"])
    except _MALFORMED_PICKLE_ERRORS as error:
        raise ValueError(
            f"{path}: not a CIFAR-10 python batch (a pickled dict with b'data' and b'labels'): {error!r}."
        ) from error
    if data.ndim != 2 or data.shape[1] != np.prod(_CIFAR10_IMAGE_SHAPE):
        raise ValueError(f"{path}: b'data' must have shape (N, 3072). Received: {data.shape}.")
    _check_pair(data, labels, path, image_ndim=2)
    return data.reshape(-1, *_CIFAR10_IMAGE_SHAPE).transpose(0, 2, 3, 1), labels


def _check_pair(images, labels, path, image_ndim):
    """Checks that `images` has `image_ndim` dims and one label per image."""
    if images.ndim != image_ndim or labels.shape != (images.shape[0],):
        raise ValueError(
            f"{path}: expected {image_ndim}-d images and one label per image. "
            f"Received: images of shape {images.shape}, labels of shape "
            f"{labels.shape}."
        )


def _to_unit_float(images):
    """uint8 `(N, H, W)` or `(N, H, W, C)` -> float32 `(N, H, W, C)` in [0, 1]."""
    if images.ndim == 3:
        images = images[..., None]
    result = images.astype(np.float32)
    result /= 255.0
    return result


def _to_labels(labels):
    """Integer labels (list, `(N,)` or `(N, 1)`) -> int64 `(N,)`."""
    return np.asarray(labels, dtype=np.int64).reshape(-1)
