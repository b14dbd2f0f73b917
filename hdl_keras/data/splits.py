"""Train/test and train/validation splits of the Holistic Deep Learning protocol.

The HDL paper (Bertsimas et al. 2023) holds out a fixed 20 % test set
(`stratified_split`), then draws 10 random 80/20 train/validation splits of
the rest (`splits`); stability is the worst test accuracy across the models
trained on those splits.
"""

import numpy as np


def stratified_split(y, test_fraction=0.2, seed=0):
    """Returns row indices of a seeded stratified train/test split.

    Each class sends `round(test_fraction * count)` of its rows to the test
    set, but always keeps at least one row in the train set.

    Args:
        y: labels, array-like of shape `(N,)`.
        test_fraction: float in (0, 1), the share of each class held out.
            Defaults to 0.2.
        seed: int seed of the shuffle. Defaults to 0.

    Returns:
        `(train_index, test_index)`: disjoint int64 arrays covering `range(N)`,
        each shuffled.

    Raises:
        ValueError: if `test_fraction` is not in (0, 1) or `y` is not 1-d
            and non-empty.

    Examples:

        ```python
        train_index, test_index = stratified_split(y, test_fraction=0.2, seed=0)
        x_test, y_test = x[test_index], y[test_index]
        ```
    """
    _check_fraction("test_fraction", test_fraction)
    y = np.asarray(y)
    if y.ndim != 1 or len(y) == 0:
        raise ValueError(f"`y` must have shape (N,) with N >= 1. Received: y.shape={y.shape}.")
    rng = np.random.default_rng(seed)
    train, test = [], []
    for label in np.unique(y):
        rows = rng.permutation(np.flatnonzero(y == label))
        num_test = min(round(test_fraction * len(rows)), len(rows) - 1)
        test.append(rows[:num_test])
        train.append(rows[num_test:])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def splits(x, y, n=10, val_fraction=0.2, seed=0):
    """Returns `n` seeded random train/validation splits of `(x, y)`.

    Each split shuffles all N rows and holds out `round(val_fraction * N)` of
    them (at least 1, at most N - 1) for validation.

    Args:
        x: features, array-like of shape `(N, ...)`.
        y: labels, array-like of shape `(N, ...)`.
        n: int >= 1, the number of splits. Defaults to 10.
        val_fraction: float in (0, 1), the validation share. Defaults to 0.2.
        seed: int seed; the same seed gives the same splits. Defaults to 0.

    Returns:
        A list of `n` tuples `((x_train, y_train), (x_val, y_val))` of numpy
        arrays; in each, the rows of train and validation are disjoint and
        together are the N rows of `(x, y)`.

    Raises:
        ValueError: if `n < 1`, `val_fraction` is not in (0, 1), `x` and `y`
            differ in length, or there are fewer than 2 rows.

    Examples:

        ```python
        for (x_train, y_train), (x_val, y_val) in splits(x, y, n=10, seed=0):
            model.fit(x_train, y_train, validation_data=(x_val, y_val))
        ```
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"`n` must be an int >= 1. Received: n={n!r}.")
    _check_fraction("val_fraction", val_fraction)
    x, y = np.asarray(x), np.asarray(y)
    if len(x) != len(y):
        raise ValueError(f"`x` and `y` must have the same number of rows. Received: len(x)={len(x)}, len(y)={len(y)}.")
    if len(x) < 2:
        raise ValueError(f"Need at least 2 rows to split. Received: len(x)={len(x)}.")
    num_val = min(max(round(val_fraction * len(x)), 1), len(x) - 1)
    rng = np.random.default_rng(seed)
    result = []
    for _ in range(n):
        order = rng.permutation(len(x))
        val, train = order[:num_val], order[num_val:]
        result.append(((x[train], y[train]), (x[val], y[val])))
    return result


def stratified_subset(y, size, seed=0):
    """Row indices of a seeded subset of exactly `size` rows, classes in proportion.

    Each class gets `size * count / N` rows, rounded by largest remainder.

    Args:
        y: int labels `(N,)`.
        size: int in `[1, N]`.
        seed: int seed.

    Returns:
        An int array `(size,)` of distinct row indices, shuffled.
    """
    y = np.asarray(y)
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or not 1 <= size <= len(y):
        raise ValueError(f"Expected an int subset size in [1, {len(y)}]. Received: size={size!r}")
    labels, counts = np.unique(y, return_counts=True)
    quota = counts * size / len(y)
    take = np.floor(quota).astype(int)
    take[np.argsort(-(quota - take), kind="stable")[: size - take.sum()]] += 1
    rng = np.random.default_rng(seed)
    rows = [rng.permutation(np.flatnonzero(y == label))[:count] for label, count in zip(labels, take)]
    return rng.permutation(np.concatenate(rows))


def _check_fraction(name, value):
    """Raises `ValueError` unless `0 < value < 1`."""
    if not 0 < value < 1:
        raise ValueError(f"`{name}` must be in (0, 1). Received: {name}={value!r}.")
