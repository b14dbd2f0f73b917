"""Tabular datasets: scikit-learn's bundled tables and CSV files (e.g. UCI).

Every loader holds out a fixed stratified test set (`test_fraction`, `seed`)
and standardizes the features with the mean and standard deviation of the
train part (constant columns are only centered). Features come out float32 of
shape `(N, D)`, labels int64 of shape `(N,)` in `0..K-1`.
"""

import csv
import math
from pathlib import Path

import numpy as np

from hdl_keras.data.splits import stratified_split


def load_iris(test_fraction=0.2, seed=0):
    """Loads Iris (Fisher 1936): 150 rows, 4 features, 3 classes of 50.

    Args:
        test_fraction: share of each class held out for testing. Defaults to
            0.2 (30 test rows).
        seed: int seed of the split. Defaults to 0.

    Returns:
        `((x_train, y_train), (x_test, y_test))`: float32 `(120, 4)` and
        `(30, 4)` at the defaults, int64 labels `(120,)` and `(30,)`.

    Raises:
        ImportError: if scikit-learn is not installed.

    Examples:

        ```python
        (x_train, y_train), (x_test, y_test) = load_iris()
        ```
    """
    return _load_sklearn("load_iris", test_fraction, seed)


def load_wine(test_fraction=0.2, seed=0):
    """Loads Wine (UCI): 178 rows, 13 features, 3 classes.

    Args:
        test_fraction: share of each class held out for testing. Defaults to
            0.2 (36 test rows).
        seed: int seed of the split. Defaults to 0.

    Returns:
        `((x_train, y_train), (x_test, y_test))`: float32 `(142, 13)` and
        `(36, 13)` at the defaults, int64 labels `(142,)` and `(36,)`.

    Raises:
        ImportError: if scikit-learn is not installed.

    Examples:

        ```python
        (x_train, y_train), (x_test, y_test) = load_wine()
        ```
    """
    return _load_sklearn("load_wine", test_fraction, seed)


def load_breast_cancer(test_fraction=0.2, seed=0):
    """Loads Breast Cancer Wisconsin (diagnostic): 569 rows, 30 features, 2 classes.

    Args:
        test_fraction: share of each class held out for testing. Defaults to
            0.2 (113 test rows).
        seed: int seed of the split. Defaults to 0.

    Returns:
        `((x_train, y_train), (x_test, y_test))`: float32 `(456, 30)` and
        `(113, 30)` at the defaults, int64 labels `(456,)` and `(113,)`.

    Raises:
        ImportError: if scikit-learn is not installed.

    Examples:

        ```python
        (x_train, y_train), (x_test, y_test) = load_breast_cancer()
        ```
    """
    return _load_sklearn("load_breast_cancer", test_fraction, seed)


def load_digits(test_fraction=0.2, seed=0):
    """Loads scikit-learn's Digits (8x8): 1797 rows, 64 features, 10 classes.

    These are the 1,797 rows of the test part of UCI's optical recognition of
    handwritten digits, not the 3,822-row set Bertsimas et al. (2023) call
    optical-recog-digits: results on it are not comparable with that row.

    The images are flattened; some pixels are constant (always 0) and stay 0.

    Args:
        test_fraction: share of each class held out for testing. Defaults to
            0.2 (359 test rows).
        seed: int seed of the split. Defaults to 0.

    Returns:
        `((x_train, y_train), (x_test, y_test))`: float32 `(1438, 64)` and
        `(359, 64)` at the defaults, int64 labels `(1438,)` and `(359,)`.

    Raises:
        ImportError: if scikit-learn is not installed.

    Examples:

        ```python
        (x_train, y_train), (x_test, y_test) = load_digits()
        ```
    """
    return _load_sklearn("load_digits", test_fraction, seed)


def load_csv(path, label_column=-1, test_fraction=0.2, seed=0, delimiter=",", header="infer"):
    """Loads a numeric CSV table with one label column, split and standardized.

    Labels may be numbers or strings; they are mapped to `0..K-1` in the
    sorted order of their distinct values (numerically when all are numbers),
    and these values are returned as `classes`. Blank lines are skipped and
    cells stripped of surrounding spaces.

    Args:
        path: path to the CSV file.
        label_column: index (negative counts from the end) or header name of
            the label column. Defaults to -1, the last column.
        test_fraction: share of each class held out for testing. Defaults to
            0.2.
        seed: int seed of the split. Defaults to 0.
        delimiter: one-character field separator. Defaults to `","`.
        header: `True` if the first row holds column names, `False` if not,
            `"infer"` (default) to treat it as a header when one of its cells
            is not a number while the cell below is.

    Returns:
        `((x_train, y_train), (x_test, y_test), classes)`: float32 features of
        shape `(N_train, D)` and `(N_test, D)` (D = number of columns - 1),
        int64 labels of shape `(N_train,)` and `(N_test,)`, and `classes`, a
        numpy array of shape `(K,)` with the original label of each class id.

    Raises:
        FileNotFoundError: if `path` is not a file.
        ValueError: if the file has no data rows, rows of different lengths,
            fewer than 2 columns, an unknown `label_column`, a feature
            column with a non-numeric (or infinite, NaN) cell (the message
            names the column and the line), a label column of non-integer
            numbers or of one class, or an empty test set.

    Examples:

        ```python
        # iris.data: 5.1,3.5,1.4,0.2,Iris-setosa
        (x_train, y_train), (x_test, y_test), classes = load_csv("iris.data")
        classes  # array(['Iris-setosa', 'Iris-versicolor', 'Iris-virginica'], ...)
        ```
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"CSV file not found: {path}")
    rows, lines = _read_rows(path, delimiter)
    names = rows[0] if _has_header(header, rows) else None
    if names is not None:
        rows, lines = rows[1:], lines[1:]
    if not rows:
        raise ValueError(f"{path}: no data rows.")
    label_index = _label_index(label_column, names, len(rows[0]), path)
    feature_indices = [j for j in range(len(rows[0])) if j != label_index]
    x = _parse_features(rows, lines, feature_indices, names, path)
    y, classes = _encode_labels([row[label_index] for row in rows], label_index, names, path)
    train, test = _split_and_standardize(x, y, test_fraction, seed)
    if not len(test[1]):
        raise ValueError(
            f"{path}: test_fraction={test_fraction} leaves an empty test set ({len(y)} rows, "
            f"{len(classes)} classes, the split is stratified). Use more rows, fewer classes "
            "or a larger test_fraction."
        )
    return train, test, classes


def _load_sklearn(loader_name, test_fraction, seed):
    """Loads `sklearn.datasets.<loader_name>` split and standardized."""
    try:
        from sklearn import datasets
    except ImportError as error:
        raise ImportError(
            "The tabular datasets need scikit-learn: `pip install scikit-learn` (or `pip install hdl_keras[tabular]`)."
        ) from error
    x, y = getattr(datasets, loader_name)(return_X_y=True)
    return _split_and_standardize(x, y, test_fraction, seed)


def _split_and_standardize(x, y, test_fraction, seed):
    """Stratified split, then standardization with the train statistics.

    Args:
        x: float array of shape `(N, D)`.
        y: int array of shape `(N,)`.
        test_fraction: share of each class held out for testing.
        seed: int seed of the split.

    Returns:
        `((x_train, y_train), (x_test, y_test))`, float32 and int64.
    """
    train, test = stratified_split(y, test_fraction, seed)
    x_train = x[train]
    mean = x_train.mean(axis=0)
    std = x_train.std(axis=0)
    std[np.ptp(x_train, axis=0) == 0] = 1.0  # constant columns: only centered

    def standardize(rows):
        return ((x[rows] - mean) / std).astype(np.float32)

    y = np.asarray(y, dtype=np.int64)
    return (standardize(train), y[train]), (standardize(test), y[test])


def _read_rows(path, delimiter):
    """Returns the non-blank rows (lists of stripped cells) and their line numbers."""
    rows, lines = [], []
    with open(path, newline="", encoding="utf-8") as file:
        reader = csv.reader(file, delimiter=delimiter)
        for row in reader:
            cells = [cell.strip() for cell in row]
            if any(cells):
                rows.append(cells)
                lines.append(reader.line_num)
    if not rows:
        raise ValueError(f"{path}: no data rows.")
    for row, line in zip(rows, lines):
        if len(row) != len(rows[0]):
            raise ValueError(f"{path}, line {line}: {len(row)} fields, but line {lines[0]} has {len(rows[0])}.")
    if len(rows[0]) < 2:
        raise ValueError(
            f"{path}: need at least 2 columns (features and a label), found "
            f"{len(rows[0])}. Is `delimiter={delimiter!r}` right?"
        )
    return rows, lines


def _has_header(header, rows):
    """Resolves `header` ("infer", True or False) for the given rows."""
    if isinstance(header, bool):
        return header
    if header != "infer":
        raise ValueError(f"`header` must be 'infer', True or False. Received: header={header!r}.")
    if len(rows) < 2:
        return False
    return any(not _is_number(top) and _is_number(below) for top, below in zip(rows[0], rows[1]))


def _label_index(label_column, names, width, path):
    """Resolves `label_column` (index or header name) to an index in [0, width)."""
    if isinstance(label_column, str):
        if names is None or label_column not in names:
            raise ValueError(
                f"{path}: no column named {label_column!r}; column names: "
                f"{names if names is not None else 'none (no header row)'}."
            )
        return names.index(label_column)
    if not -width <= label_column < width:
        raise ValueError(f"{path}: label_column={label_column} is out of range for {width} columns.")
    return label_column % width


def _parse_features(rows, lines, feature_indices, names, path):
    """Returns the float64 `(N, D)` feature matrix, or names the bad cell."""
    x = np.empty((len(rows), len(feature_indices)), dtype=np.float64)
    for k, j in enumerate(feature_indices):
        for i, row in enumerate(rows):
            value = _to_finite_float(row[j])
            if value is None:
                column = f"{names[j]!r} (index {j})" if names is not None else f"index {j}"
                raise ValueError(
                    f"{path}: feature column {column} is not numeric: line "
                    f"{lines[i]} holds {row[j]!r}. Clean or drop the column, or "
                    "pass it as `label_column`."
                )
            x[i, k] = value
    return x


def _encode_labels(values, label_index, names, path):
    """Maps label strings to int64 ids in sorted order; returns `(y, classes)`.

    Labels that are all numbers sort numerically (and are returned as
    numbers); they must be whole numbers (class ids, not a measurement), and
    there must be at least 2 classes.
    """
    column = f"{names[label_index]!r} (index {label_index})" if names is not None else f"index {label_index}"
    numbers = [_to_finite_float(value) for value in values]
    if all(number is not None for number in numbers):
        classes, y = np.unique(np.array(numbers), return_inverse=True)
        if not np.all(classes == np.round(classes)):
            raise ValueError(
                f"{path}: the label column {column} holds non-integer numbers (e.g. "
                f"{next(c for c in classes if c != round(c))!r}): it looks like a feature, "
                "not class labels. Pass the column of class labels as `label_column`."
            )
        classes = classes.astype(np.int64)
    else:
        classes, y = np.unique(np.array(values), return_inverse=True)
    if len(classes) < 2:
        raise ValueError(
            f"{path}: the label column {column} holds a single class ({classes[0]!r}); "
            "classification needs at least 2. Check `label_column`."
        )
    return y.astype(np.int64), classes


def _is_number(text):
    """Whether `float(text)` succeeds (also for "nan" and "inf")."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def _to_finite_float(text):
    """`float(text)` when it is a finite number, else `None`."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None
