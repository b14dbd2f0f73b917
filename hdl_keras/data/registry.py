"""`load(name)`: one entry point for every dataset of `hdl_keras.data`."""

from hdl_keras.data import images
from hdl_keras.data import tabular

_LOADERS = {
    "mnist": images.load_mnist,
    "fashion_mnist": images.load_fashion_mnist,
    "cifar10": images.load_cifar10,
    "iris": tabular.load_iris,
    "wine": tabular.load_wine,
    "breast_cancer": tabular.load_breast_cancer,
    "digits": tabular.load_digits,
}


def available_datasets():
    """Returns the names `load` accepts.

    Returns:
        A list of str: the image datasets, then the tabular ones.

    Examples:

        ```python
        available_datasets()[:3]  # ['mnist', 'fashion_mnist', 'cifar10']
        ```
    """
    return list(_LOADERS)


def load(name, **kwargs):
    """Loads a dataset by name, offline first.

    Args:
        name: one of `available_datasets()`.
        **kwargs: passed to the dataset's loader, e.g. `verify` and
            `allow_download` for `"mnist"` (see `load_mnist`), `test_fraction`
            and `seed` for the tabular sets (see `load_iris`).

    Returns:
        `((x_train, y_train), (x_test, y_test))`. Images: float32 in [0, 1],
        channels-last, `(N, 28, 28, 1)` for MNIST and Fashion-MNIST,
        `(N, 32, 32, 3)` for CIFAR-10. Tables: standardized float32 `(N, D)`.
        Labels: int64 `(N,)`.

    Raises:
        ValueError: if `name` is unknown (the message lists the known names).
        DatasetNotFoundError: if an image dataset's files are not found.

    Examples:

        ```python
        (x_train, y_train), (x_test, y_test) = load("fashion_mnist")
        ```
    """
    if name not in _LOADERS:
        raise ValueError(f"Unknown dataset: {name!r}. Known datasets: {', '.join(_LOADERS)}.")
    return _LOADERS[name](**kwargs)
