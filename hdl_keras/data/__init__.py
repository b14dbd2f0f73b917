"""Offline-first datasets: image sets from local files, scikit-learn tables, splits.

`prepare_data(name)` gives a dataset as the HDL protocol and the zoo use it
(tables scaled on the train+validation pool, the official or fixed test set).

Image datasets are read from the folders of `search_roots()` (first
`$HDL_KERAS_DATA`), and downloaded through `keras.datasets` only when missing
and `HDL_KERAS_OFFLINE` is not `"1"`.

Examples:

    ```python
    from hdl_keras import data

    (x_train, y_train), (x_test, y_test) = data.load("mnist")
    for (x_fit, y_fit), (x_val, y_val) in data.splits(x_train, y_train, n=10):
        ...
    ```
"""

from hdl_keras.data.idx import read_idx
from hdl_keras.data.images import DatasetNotFoundError
from hdl_keras.data.images import load_cifar10
from hdl_keras.data.images import load_fashion_mnist
from hdl_keras.data.images import load_mnist
from hdl_keras.data.prepared import SCALINGS
from hdl_keras.data.prepared import input_bounds
from hdl_keras.data.prepared import prepare_data
from hdl_keras.data.registry import available_datasets
from hdl_keras.data.registry import load
from hdl_keras.data.search_path import candidate_dirs
from hdl_keras.data.search_path import search_roots
from hdl_keras.data.splits import splits
from hdl_keras.data.splits import stratified_split
from hdl_keras.data.splits import stratified_subset
from hdl_keras.data.tabular import load_breast_cancer
from hdl_keras.data.tabular import load_csv
from hdl_keras.data.tabular import load_digits
from hdl_keras.data.tabular import load_iris
from hdl_keras.data.tabular import load_wine

__all__ = [
    "SCALINGS",
    "DatasetNotFoundError",
    "available_datasets",
    "candidate_dirs",
    "input_bounds",
    "load",
    "load_breast_cancer",
    "load_cifar10",
    "load_csv",
    "load_digits",
    "load_fashion_mnist",
    "load_iris",
    "load_mnist",
    "load_wine",
    "prepare_data",
    "read_idx",
    "search_roots",
    "splits",
    "stratified_split",
    "stratified_subset",
]
