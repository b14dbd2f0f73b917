import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from hdl_keras.data import splits
from hdl_keras.data import stratified_split


@settings(max_examples=60, deadline=None)
@given(
    num_rows=st.integers(2, 300),
    n=st.integers(1, 4),
    val_fraction=st.floats(0.01, 0.99),
    seed=st.integers(0, 2**32 - 1),
)
def test_each_split_partitions_the_rows(num_rows, n, val_fraction, seed):
    x = np.arange(num_rows)
    y = 2 * x
    result = splits(x, y, n=n, val_fraction=val_fraction, seed=seed)
    assert len(result) == n
    expected_val = min(max(round(val_fraction * num_rows), 1), num_rows - 1)
    for (x_train, y_train), (x_val, y_val) in result:
        assert len(x_val) == expected_val
        assert sorted(np.concatenate([x_train, x_val]).tolist()) == list(range(num_rows))
        np.testing.assert_array_equal(y_train, 2 * x_train)
        np.testing.assert_array_equal(y_val, 2 * x_val)


def test_default_is_ten_distinct_80_20_splits():
    x = np.random.default_rng(0).normal(size=(100, 28, 28, 1))
    y = np.arange(100)
    result = splits(x, y)
    assert len(result) == 10
    val_sets = {tuple(sorted(y_val.tolist())) for _, (_, y_val) in result}
    assert len(val_sets) == 10
    (x_train, y_train), (x_val, y_val) = result[0]
    assert x_train.shape == (80, 28, 28, 1) and x_val.shape == (20, 28, 28, 1)
    np.testing.assert_array_equal(x_val, x[y_val])


def test_splits_are_deterministic_per_seed():
    x, y = np.arange(50), np.arange(50) % 3

    def val_rows(seed):
        return [x_val.tolist() for _, (x_val, _) in splits(x, y, n=3, seed=seed)]

    assert val_rows(7) == val_rows(7)
    assert val_rows(7) != val_rows(8)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n": 0}, "Received: n=0"),
        ({"n": 2.5}, "Received: n=2.5"),
        ({"val_fraction": 0.0}, "Received: val_fraction=0.0"),
        ({"val_fraction": 1.0}, "Received: val_fraction=1.0"),
        ({"val_fraction": -0.2}, "Received: val_fraction=-0.2"),
    ],
)
def test_invalid_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        splits(np.arange(10), np.arange(10), **kwargs)


def test_lengths_must_match_and_allow_a_split():
    with pytest.raises(ValueError, match=r"len\(x\)=10, len\(y\)=9"):
        splits(np.arange(10), np.arange(9))
    with pytest.raises(ValueError, match=r"at least 2 rows to split. Received: len\(x\)=1"):
        splits(np.arange(1), np.arange(1))


@settings(max_examples=60, deadline=None)
@given(
    labels=st.lists(st.integers(0, 4), min_size=1, max_size=200),
    test_fraction=st.floats(0.05, 0.95),
    seed=st.integers(0, 1000),
)
def test_stratified_split_per_class_counts(labels, test_fraction, seed):
    y = np.array(labels)
    train, test = stratified_split(y, test_fraction=test_fraction, seed=seed)
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(len(y)))
    for label in np.unique(y):
        count = int(np.sum(y == label))
        num_test = int(np.sum(y[test] == label))
        assert num_test == min(round(test_fraction * count), count - 1)
        assert np.sum(y[train] == label) >= 1


def test_stratified_split_is_seeded():
    y = np.arange(100) % 4
    first = stratified_split(y, seed=1)
    np.testing.assert_array_equal(first[1], stratified_split(y, seed=1)[1])
    assert not np.array_equal(first[1], stratified_split(y, seed=2)[1])


def test_stratified_split_rejects_bad_input():
    with pytest.raises(ValueError, match="Received: test_fraction=0"):
        stratified_split(np.arange(4), test_fraction=0)
    with pytest.raises(ValueError, match=r"Received: y.shape=\(2, 2\)"):
        stratified_split(np.zeros((2, 2)))
