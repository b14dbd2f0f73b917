"""Fixtures of the `hdl_keras.data` tests: no network, isolated search paths."""

import gzip

import numpy as np
import pytest

from hdl_keras.data import search_path


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    """No test of `hdl_keras.data` may try a download."""
    monkeypatch.setenv("HDL_KERAS_OFFLINE", "1")


@pytest.fixture
def data_root(tmp_path, monkeypatch):
    """An empty `$HDL_KERAS_DATA` root; every default folder points into tmp_path."""
    root = tmp_path / "data"
    root.mkdir()
    monkeypatch.setenv("HDL_KERAS_DATA", str(root))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.setattr(search_path, "CHECKOUT_DATA_DIR", tmp_path / "checkout")
    monkeypatch.setattr(search_path, "SYSTEM_DATA_DIR", tmp_path / "system")
    return root


@pytest.fixture
def write_idx():
    """Returns `write(path, array)`: writes `array` as IDX, gzipped if `.gz`."""
    codes = {
        "uint8": 0x08,
        "int8": 0x09,
        "int16": 0x0B,
        "int32": 0x0C,
        "float32": 0x0D,
        "float64": 0x0E,
    }

    def write(path, array):
        array = np.asarray(array)
        header = bytes([0, 0, codes[array.dtype.name], array.ndim])
        header += np.asarray(array.shape, dtype=">u4").tobytes()
        content = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
        path.write_bytes(gzip.compress(content) if path.suffix == ".gz" else content)
        return path

    return write
