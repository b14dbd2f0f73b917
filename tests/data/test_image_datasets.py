import os
import pickle

import numpy as np
import pytest

from hdl_keras.data import DatasetNotFoundError
from hdl_keras.data import candidate_dirs
from hdl_keras.data import images
from hdl_keras.data import load
from hdl_keras.data import load_cifar10
from hdl_keras.data import load_fashion_mnist
from hdl_keras.data import load_mnist

IDX_STEMS = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
]


@pytest.fixture
def make_idx_dataset(write_idx):
    """Writes a small MNIST-layout folder; returns its uint8 arrays."""

    def make(folder, num_train=6, num_test=4, suffix=".gz", seed=0):
        rng = np.random.default_rng(seed)
        arrays = [
            rng.integers(0, 256, (num_train, 28, 28), dtype=np.uint8),
            rng.integers(0, 10, num_train, dtype=np.uint8),
            rng.integers(0, 256, (num_test, 28, 28), dtype=np.uint8),
            rng.integers(0, 10, num_test, dtype=np.uint8),
        ]
        folder.mkdir(parents=True, exist_ok=True)
        for stem, array in zip(IDX_STEMS, arrays):
            write_idx(folder / f"{stem}{suffix}", array)
        return arrays

    return make


def assert_matches_idx(result, arrays):
    (x_train, y_train), (x_test, y_test) = result
    pairs = [(x_train, y_train, *arrays[:2]), (x_test, y_test, *arrays[2:])]
    for x, y, raw_x, raw_y in pairs:
        assert x.shape == (*raw_x.shape, 1) and x.dtype == np.float32
        assert y.shape == raw_y.shape and y.dtype == np.int64
        np.testing.assert_array_equal(x[..., 0], raw_x / np.float32(255))
        np.testing.assert_array_equal(y, raw_y)


@pytest.mark.parametrize("suffix", [".gz", ""])
def test_synthetic_mnist_from_hdl_keras_data(data_root, make_idx_dataset, suffix):
    arrays = make_idx_dataset(data_root / "mnist", suffix=suffix)
    result = load("mnist", verify=False)
    assert_matches_idx(result, arrays)
    (x_train, _), _ = result
    assert x_train.min() >= 0.0 and x_train.max() <= 1.0


def test_mnist_verify_rejects_files_that_are_not_the_release(data_root, make_idx_dataset):
    make_idx_dataset(data_root / "mnist")
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.gz: sha256"):
        load_mnist()


@pytest.mark.parametrize("subfolder", ["fashion-mnist", "fashion_mnist"])
def test_synthetic_fashion_mnist_subfolder_names(data_root, make_idx_dataset, subfolder):
    arrays = make_idx_dataset(data_root / subfolder)
    assert_matches_idx(load_fashion_mnist(), arrays)


def test_fashion_mnist_from_debian_package_folder(tmp_path, data_root, make_idx_dataset):
    arrays = make_idx_dataset(tmp_path / "system" / "fashion-mnist")
    assert_matches_idx(load("fashion_mnist"), arrays)


def test_first_complete_folder_wins(tmp_path, data_root, make_idx_dataset, monkeypatch):
    incomplete, complete, later = (tmp_path / name for name in ["a", "b", "c"])
    make_idx_dataset(incomplete / "mnist", seed=1)
    (incomplete / "mnist" / "t10k-labels-idx1-ubyte.gz").unlink()
    arrays = make_idx_dataset(complete / "mnist", seed=2)
    make_idx_dataset(later / "mnist", seed=3)
    roots = os.pathsep.join(str(root) for root in [incomplete, complete, later])
    monkeypatch.setenv("HDL_KERAS_DATA", roots)
    assert_matches_idx(load_mnist(verify=False), arrays)


def test_label_count_mismatch_raises(data_root, make_idx_dataset, write_idx):
    make_idx_dataset(data_root / "mnist")
    write_idx(data_root / "mnist" / "train-labels-idx1-ubyte.gz", np.zeros(5, np.uint8))
    with pytest.raises(ValueError, match="one label per image"):
        load_mnist(verify=False)


@pytest.mark.parametrize(
    "name, hint",
    [
        ("mnist", "set HDL_KERAS_DATA to a folder that contains mnist/"),
        ("fashion_mnist", "apt-get install dataset-fashion-mnist"),
        ("cifar10", "cifar-10-batches-py/ (data_batch_1 .. data_batch_5, test_batch)"),
    ],
)
def test_missing_dataset_lists_every_searched_folder(data_root, name, hint):
    with pytest.raises(DatasetNotFoundError) as info:
        load(name)
    message = str(info.value)
    assert isinstance(info.value, FileNotFoundError)
    searched = candidate_dirs(name)
    assert len(searched) >= 4
    for folder in searched:
        assert f"  {folder}\n" in message
    assert hint in message
    assert "not allowed" in message


class FakeKeras:
    """Stands in for `keras.datasets.<name>.load_data`; records calls."""

    def __init__(self, arrays=None, error=None):
        self.arrays, self.error, self.calls = arrays, error, []

    def __call__(self, name):
        self.calls.append(name)
        if self.error is not None:
            raise self.error
        return self.arrays


def test_offline_never_calls_keras_download(data_root, monkeypatch):
    fake = FakeKeras(error=RuntimeError("network"))
    monkeypatch.setattr(images, "_keras_load_data", fake)
    for allow_download in [None, False]:
        with pytest.raises(DatasetNotFoundError):
            load_fashion_mnist(allow_download=allow_download)
    assert fake.calls == []


def test_download_fallback_converts_keras_arrays(data_root, monkeypatch):
    rng = np.random.default_rng(0)
    x_train = rng.integers(0, 256, (4, 28, 28), dtype=np.uint8)
    y_train = np.array([3, 1, 4, 1], dtype=np.uint8)
    fake = FakeKeras(arrays=((x_train, y_train), (x_train[:2], y_train[:2])))
    monkeypatch.setattr(images, "_keras_load_data", fake)
    monkeypatch.delenv("HDL_KERAS_OFFLINE")
    (x, y), (x_test, y_test) = load_mnist()
    assert fake.calls == ["mnist"]
    assert x.shape == (4, 28, 28, 1) and x.dtype == np.float32
    np.testing.assert_array_equal(x[..., 0], x_train / np.float32(255))
    assert y.dtype == np.int64 and y.tolist() == [3, 1, 4, 1]
    assert x_test.shape == (2, 28, 28, 1) and y_test.tolist() == [3, 1]


def test_download_fallback_makes_cifar_channels_last(data_root, monkeypatch):
    chw = np.arange(2 * 3 * 32 * 32, dtype=np.int64).reshape(2, 3, 32, 32) % 256
    chw = chw.astype(np.uint8)
    labels = np.array([[7], [2]], dtype=np.uint8)
    fake = FakeKeras(arrays=((chw, labels), (chw, labels)))
    monkeypatch.setattr(images, "_keras_load_data", fake)
    (x, y), _ = load_cifar10(allow_download=True)
    assert x.shape == (2, 32, 32, 3)
    np.testing.assert_array_equal(x, chw.transpose(0, 2, 3, 1) / np.float32(255))
    assert y.shape == (2,) and y.tolist() == [7, 2]


def test_failed_download_reports_the_reason(data_root, monkeypatch):
    fake = FakeKeras(error=OSError("URL fetch failure"))
    monkeypatch.setattr(images, "_keras_load_data", fake)
    with pytest.raises(DatasetNotFoundError, match="URL fetch failure") as info:
        load_mnist(allow_download=True)
    assert str(data_root / "mnist") in str(info.value)
    assert fake.calls == ["mnist"]


def write_cifar_batches(folder, sizes, seed=0):
    """Writes synthetic batches in the official format; returns (data, labels)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    written = []
    for name, size in zip(names, sizes):
        batch = {
            b"batch_label": name.encode(),
            b"data": rng.integers(0, 256, (size, 3072), dtype=np.uint8),
            b"labels": rng.integers(0, 10, size).tolist(),
        }
        with open(folder / name, "wb") as file:
            pickle.dump(batch, file, protocol=2)
        written.append((batch[b"data"], batch[b"labels"]))
    return written


@pytest.mark.parametrize("subfolder", ["cifar-10-batches-py", "cifar10/cifar-10-batches-py"])
def test_synthetic_cifar10(data_root, subfolder):
    written = write_cifar_batches(data_root / subfolder, sizes=[2, 1, 3, 1, 2, 4])
    (x_train, y_train), (x_test, y_test) = load("cifar10")
    assert x_train.shape == (9, 32, 32, 3) and x_test.shape == (4, 32, 32, 3)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int64
    train_data = np.concatenate([data for data, _ in written[:5]])
    # Row layout: 1024 red, 1024 green, 1024 blue values, each 32x32 row-major.
    n, h, w, c = 4, 5, 17, 2
    assert x_train[n, h, w, c] == np.float32(train_data[n, c * 1024 + h * 32 + w]) / 255
    np.testing.assert_array_equal(x_test * 255, written[5][0].reshape(4, 3, 32, 32).transpose(0, 2, 3, 1))
    assert y_train.tolist() == sum((labels for _, labels in written[:5]), [])
    assert y_test.tolist() == written[5][1]


def test_cifar10_needs_every_batch(data_root):
    folder = data_root / "cifar10"
    write_cifar_batches(folder, sizes=[1] * 6)
    (folder / "data_batch_5").unlink()
    with pytest.raises(DatasetNotFoundError, match="data_batch_5"):
        load_cifar10()


@pytest.mark.parametrize(
    "batch, message",
    [
        (
            {b"data": np.zeros((2, 3000), np.uint8), b"labels": [0, 1]},
            r"shape \(N, 3072\)",
        ),
        (
            {b"data": np.zeros((2, 3072), np.uint8), b"labels": [0]},
            "one label per image",
        ),
        ({b"labels": [0, 1]}, "not a CIFAR-10 python batch"),
    ],
)
def test_malformed_cifar10_batch_raises_naming_it(data_root, batch, message):
    write_cifar_batches(data_root / "cifar10", sizes=[1] * 6)
    with open(data_root / "cifar10" / "data_batch_3", "wb") as file:
        pickle.dump(batch, file)
    with pytest.raises(ValueError, match=message) as info:
        load_cifar10()
    assert "data_batch_3" in str(info.value)


def load_real_or_skip(name):
    try:
        return load(name)
    except DatasetNotFoundError as error:
        pytest.skip(f"real {name} files not found: {str(error).splitlines()[0]}")


def test_real_mnist():
    (x_train, y_train), (x_test, y_test) = load_real_or_skip("mnist")  # verify=True
    assert x_train.shape == (60000, 28, 28, 1) and x_test.shape == (10000, 28, 28, 1)
    assert y_train.shape == (60000,) and y_test.shape == (10000,)
    assert x_train.min() == 0.0 and x_train.max() == 1.0
    assert y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert sorted(set(y_test.tolist())) == list(range(10))


def test_real_fashion_mnist():
    (x_train, y_train), (x_test, y_test) = load_real_or_skip("fashion_mnist")
    assert x_train.shape == (60000, 28, 28, 1) and x_test.shape == (10000, 28, 28, 1)
    assert x_train.min() == 0.0 and x_train.max() == 1.0
    assert y_train[:10].tolist() == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]
