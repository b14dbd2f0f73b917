import gzip
import hashlib

import numpy as np
import pytest

from hdl_keras.data import read_idx


@pytest.mark.parametrize("name", ["a.idx", "a.idx.gz"])
@pytest.mark.parametrize(
    "array",
    [
        np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4),
        np.array([7, 0, 255], dtype=np.uint8),
        np.array([[-300, 2], [1, 32000]], dtype=np.int16),
        np.array([-(2**31), 1, 2**31 - 1], dtype=np.int32),
        np.array([[0.5, -1.25e-3]], dtype=np.float32),
        np.array([np.pi, -np.e], dtype=np.float64),
    ],
)
def test_round_trip(tmp_path, write_idx, name, array):
    result = read_idx(write_idx(tmp_path / name, array))
    assert result.dtype == array.dtype
    assert result.dtype.isnative
    np.testing.assert_array_equal(result, array)


def test_gzip_detected_from_content_not_name(tmp_path, write_idx):
    array = np.arange(6, dtype=np.uint8).reshape(2, 3)
    path = write_idx(tmp_path / "a.gz", array).rename(tmp_path / "no_suffix")
    np.testing.assert_array_equal(read_idx(path), array)


def test_result_is_writable(tmp_path, write_idx):
    result = read_idx(write_idx(tmp_path / "a", np.zeros(3, np.uint8)))
    result[0] = 1
    assert result[0] == 1


def _valid_bytes():
    return bytes([0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 3]) + bytes(range(6))


@pytest.mark.parametrize(
    "content, message",
    [
        (b"\x00\x00", "too short"),
        (b"\x01\x00\x08\x01\x00\x00\x00\x01\x05", "magic"),
        (b"\x00\x00\x07\x01\x00\x00\x00\x01\x05", "unknown IDX data type code 0x07"),
        (b"\x00\x00\x08\x03\x00\x00\x00\x01", "truncated IDX header"),
        (_valid_bytes()[:-1], "holds 5 data bytes"),
        (_valid_bytes() + b"\x00", "holds 7 data bytes"),
    ],
)
@pytest.mark.parametrize("compress", [False, True])
def test_malformed_file_raises_naming_it(tmp_path, content, message, compress):
    path = tmp_path / "broken-idx1-ubyte"
    path.write_bytes(gzip.compress(content) if compress else content)
    with pytest.raises(ValueError, match=message) as info:
        read_idx(path)
    assert "broken-idx1-ubyte" in str(info.value)


def test_valid_bytes_fixture_is_valid(tmp_path):
    path = tmp_path / "ok"
    path.write_bytes(_valid_bytes())
    np.testing.assert_array_equal(read_idx(path), np.arange(6).reshape(2, 3))


def test_corrupted_gzip_raises_value_error(tmp_path, write_idx):
    path = write_idx(tmp_path / "labels.gz", np.arange(100, dtype=np.uint8))
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(ValueError, match="labels.gz: corrupted gzip"):
        read_idx(path)


def test_sha256_of_uncompressed_content_is_checked(tmp_path, write_idx):
    raw = write_idx(tmp_path / "a", np.arange(5, dtype=np.uint8))
    digest = hashlib.sha256(raw.read_bytes()).hexdigest()
    packed = write_idx(tmp_path / "a.gz", np.arange(5, dtype=np.uint8))
    np.testing.assert_array_equal(read_idx(packed, sha256=digest), np.arange(5))
    with pytest.raises(ValueError, match=r"a\.gz: sha256"):
        read_idx(packed, sha256="0" * 64)


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "absent.gz")
