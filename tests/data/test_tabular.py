import sys

import numpy as np
import pytest

from hdl_keras.data import load_breast_cancer
from hdl_keras.data import load_csv
from hdl_keras.data import load_digits
from hdl_keras.data import load_iris
from hdl_keras.data import load_wine
from hdl_keras.data import stratified_split

# loader, rows, features, rows per class
SKLEARN_SETS = [
    (load_iris, 150, 4, [50, 50, 50]),
    (load_wine, 178, 13, [59, 71, 48]),
    (load_breast_cancer, 569, 30, [212, 357]),
    (load_digits, 1797, 64, [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]),
]


@pytest.mark.parametrize("loader, rows, features, class_counts", SKLEARN_SETS)
def test_sklearn_set_split_and_standardized(loader, rows, features, class_counts):
    (x_train, y_train), (x_test, y_test) = loader()
    assert x_train.dtype == x_test.dtype == np.float32
    assert y_train.dtype == y_test.dtype == np.int64
    assert x_train.shape[1] == x_test.shape[1] == features
    assert len(x_train) + len(x_test) == rows
    assert y_train.shape == (len(x_train),) and y_test.shape == (len(x_test),)
    # Stratified: each class sends round(20 %) of its rows to the test set.
    np.testing.assert_array_equal(np.bincount(y_test), [round(0.2 * count) for count in class_counts])
    np.testing.assert_allclose(x_train.mean(axis=0), 0.0, atol=1e-5)
    std = x_train.std(axis=0)
    constant = np.ptp(x_train, axis=0) == 0
    np.testing.assert_allclose(std[~constant], 1.0, rtol=1e-4)
    np.testing.assert_array_equal(x_train[:, constant], 0.0)
    assert np.isfinite(x_test).all()


def test_digits_has_constant_pixels_that_stay_zero():
    (x_train, _), (x_test, _) = load_digits()
    constant = np.ptp(x_train, axis=0) == 0
    assert constant.any()
    assert np.isfinite(x_test[:, constant]).all()


def test_standardization_uses_train_statistics_only():
    from sklearn.datasets import load_iris as sklearn_iris

    x, y = sklearn_iris(return_X_y=True)
    train, test = stratified_split(y, test_fraction=0.25, seed=4)
    mean, std = x[train].mean(axis=0), x[train].std(axis=0)
    (x_train, y_train), (x_test, y_test) = load_iris(test_fraction=0.25, seed=4)
    np.testing.assert_allclose(x_train, (x[train] - mean) / std, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(x_test, (x[test] - mean) / std, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(y_test, y[test])
    assert not np.allclose(x_test.mean(axis=0), 0.0, atol=1e-5)


def test_split_is_deterministic_per_seed():
    (a_train, a_labels), (a_test, _) = load_wine(seed=0)
    (b_train, b_labels), (b_test, _) = load_wine(seed=0)
    (c_train, _), _ = load_wine(seed=1)
    np.testing.assert_array_equal(a_train, b_train)
    np.testing.assert_array_equal(a_labels, b_labels)
    np.testing.assert_array_equal(a_test, b_test)
    assert not np.array_equal(a_train, c_train)


def test_test_fraction_is_validated():
    with pytest.raises(ValueError, match="Received: test_fraction=1.5"):
        load_iris(test_fraction=1.5)


def test_missing_scikit_learn_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    with pytest.raises(ImportError, match="pip install scikit-learn"):
        load_iris()


def write_table(path, lines):
    path.write_text("\n".join(lines) + "\n")
    return path


def iris_like_lines(num_per_class=10, seed=0):
    rng = np.random.default_rng(seed)
    lines = []
    for offset, name in [(2.0, "virginica"), (0.0, "setosa"), (1.0, "versicolor")]:
        for _ in range(num_per_class):
            a, b = rng.normal(offset, 0.1, 2)
            lines.append(f"{a:.4f}, {b:.4f}, 0.1, {name}")
    return lines


def test_csv_with_header_and_string_labels(tmp_path):
    path = write_table(tmp_path / "t.csv", ["len,width,flat,species"] + iris_like_lines())
    (x_train, y_train), (x_test, y_test), classes = load_csv(path)
    assert classes.tolist() == ["setosa", "versicolor", "virginica"]
    assert x_train.shape == (24, 3) and x_test.shape == (6, 3)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(y_test), [2, 2, 2])
    np.testing.assert_allclose(x_train.mean(axis=0), 0.0, atol=1e-5)
    # Constant column 0.1: its float64 std is ~1e-17, not 0; it must stay ~0.
    np.testing.assert_allclose(x_train[:, 2], 0.0, atol=1e-6)
    # Feature 0 was generated around 0, 1, 2 for setosa, versicolor, virginica.
    means = [x_train[y_train == k, 0].mean() for k in range(3)]
    assert means[0] < means[1] < means[2]


def test_csv_without_header_numeric_labels_first_column(tmp_path):
    lines = [f"{label};{i};{i % 3}" for i, label in enumerate([10, 9, 2] * 5)]
    path = write_table(tmp_path / "t.data", lines)
    (x_train, y_train), (x_test, y_test), classes = load_csv(path, label_column=0, delimiter=";")
    assert classes.tolist() == [2, 9, 10]
    assert x_train.shape == (12, 2) and x_test.shape == (3, 2)
    # Column 1 holds the row number i (standardizing keeps its order), and row i
    # has label [10, 9, 2][i % 3], i.e. class id [2, 1, 0][i % 3].
    row_number = np.concatenate([x_train[:, 0], x_test[:, 0]])
    labels = np.concatenate([y_train, y_test])
    expected = [[2, 1, 0][i % 3] for i in range(15)]
    assert labels[np.argsort(row_number)].tolist() == expected


def test_csv_label_column_by_name(tmp_path):
    lines = ["kind,a,b"] + [f"{'xy'[i % 2]},{i},{i * i}" for i in range(10)]
    (x_train, y_train), (x_test, y_test), classes = load_csv(
        write_table(tmp_path / "t.csv", lines), label_column="kind"
    )
    assert classes.tolist() == ["x", "y"]
    assert x_train.shape == (8, 2) and x_test.shape == (2, 2)


def test_csv_non_numeric_feature_column_is_named(tmp_path):
    lines = ["id,bare_nuclei,label"] + [f"{i},{i % 4},benign" for i in range(6)]
    lines.append("6,?,malignant")
    with pytest.raises(ValueError, match=r"'bare_nuclei' \(index 1\).*line 8 holds '\?'"):
        load_csv(write_table(tmp_path / "t.csv", lines))


@pytest.mark.parametrize(
    "lines, kwargs, message",
    [
        (["1,2,a", "3,4"], {}, "line 2: 2 fields"),
        (["1", "2"], {}, "at least 2 columns"),
        (["1,2,a", "3,4,b"], {"label_column": "y"}, "no column named 'y'"),
        (["1,2,a", "3,4,b"], {"label_column": 3}, "label_column=3 is out of range"),
        (["1,2,a", "3,4,b"], {"header": "yes"}, "Received: header='yes'"),
        (["a,b,c"], {"header": True}, "no data rows"),
        (["1,inf,a", "3,4,b"], {}, "column index 1 is not numeric: line 1 holds 'inf'"),
    ],
)
def test_csv_errors(tmp_path, lines, kwargs, message):
    with pytest.raises(ValueError, match=message):
        load_csv(write_table(tmp_path / "t.csv", lines), **kwargs)


def test_csv_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="absent.csv"):
        load_csv(tmp_path / "absent.csv")
