import os
from pathlib import Path

import pytest

import hdl_keras
from hdl_keras.data import candidate_dirs
from hdl_keras.data import search_path
from hdl_keras.data import search_roots


def test_roots_in_documented_order(tmp_path, data_root, monkeypatch):
    second = tmp_path / "second"
    monkeypatch.setenv("HDL_KERAS_DATA", os.pathsep.join([str(data_root), "", str(second)]))
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    assert search_roots() == [
        data_root,
        second,
        checkout,
        tmp_path / "home" / ".hdl_keras" / "datasets",
        tmp_path / "keras_home" / "datasets",
        tmp_path / "system",
    ]


def test_missing_checkout_folder_is_left_out(tmp_path, data_root):
    assert tmp_path / "checkout" not in search_roots()
    assert search_roots()[0] == data_root


def test_keras_home_defaults_to_dot_keras(tmp_path, data_root, monkeypatch):
    monkeypatch.delenv("KERAS_HOME")
    assert tmp_path / "home" / ".keras" / "datasets" in search_roots()


def test_without_env_variable_search_starts_at_home(tmp_path, data_root, monkeypatch):
    monkeypatch.delenv("HDL_KERAS_DATA")
    assert search_roots()[0] == tmp_path / "home" / ".hdl_keras" / "datasets"


def test_checkout_folder_is_shared_data_beside_the_checkout():
    expected = Path(hdl_keras.__file__).resolve().parents[2]
    assert search_path.CHECKOUT_DATA_DIR == expected / "shared" / "data"


@pytest.mark.parametrize(
    "name, subfolders",
    [
        ("mnist", ["mnist"]),
        ("fashion_mnist", ["fashion-mnist", "fashion_mnist"]),
        ("cifar10", ["cifar10", "cifar-10-batches-py", "cifar10/cifar-10-batches-py"]),
    ],
)
def test_candidate_dirs_try_each_subfolder_per_root(data_root, name, subfolders):
    dirs = candidate_dirs(name)
    assert dirs[: len(subfolders)] == [data_root / s for s in subfolders]
    assert len(dirs) == len(search_roots()) * len(subfolders)


def test_candidate_dirs_of_unknown_dataset_raise():
    with pytest.raises(ValueError, match="'iris'"):
        candidate_dirs("iris")
