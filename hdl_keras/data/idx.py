"""Reader for the IDX format of MNIST and Fashion-MNIST.

An IDX file is a big-endian header followed by the array data:

- 2 zero bytes (magic), 1 byte data type code, 1 byte number of dimensions D;
- D big-endian uint32 sizes;
- `prod(sizes)` items of the data type, big-endian, row-major.

Reference: http://yann.lecun.com/exdb/mnist/ (section "The IDX file format").
"""

import gzip
import hashlib
import math
import zlib
from pathlib import Path

import numpy as np

IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"
_PREFIX_SIZE = 4  # magic (2 bytes), type code, number of dimensions


def read_idx(path, sha256=None):
    """Reads an IDX file, gzip-compressed or raw, into a numpy array.

    Compression is detected from the content (gzip magic bytes), not from the
    file name.

    Args:
        path: path to the file (`str` or `pathlib.Path`).
        sha256: optional hex digest expected for the *uncompressed* content;
            `None` (default) skips the check.

    Returns:
        A numpy array of shape `sizes` (the header's D sizes, e.g.
        `(60000, 28, 28)` for MNIST's training images) in the file's data type,
        native byte order.

    Raises:
        FileNotFoundError: if `path` does not exist.
        ValueError: naming the file, if it is not valid gzip, the header is
            malformed (magic, type code, truncated), the data size differs
            from the sizes in the header, or the hash does not match.

    Examples:

        ```python
        labels = read_idx("mnist/train-labels-idx1-ubyte.gz")  # (60000,) uint8
        ```
    """
    path = Path(path)
    data = _read_uncompressed(path)
    if sha256 is not None:
        _check_sha256(data, sha256, path)
    return parse_idx(data, source=str(path))


def parse_idx(data, source="<bytes>"):
    """Parses the uncompressed bytes of an IDX file.

    Args:
        data: a `bytes`-like object holding a whole IDX file.
        source: the name used in error messages, e.g. the file path.

    Returns:
        A numpy array of shape `sizes` (from the header), native byte order.

    Raises:
        ValueError: naming `source`, if the header or the data size is wrong.

    Examples:

        ```python
        parse_idx(bytes([0, 0, 0x08, 1, 0, 0, 0, 2, 7, 9]))  # array([7, 9], uint8)
        ```
    """
    dtype, sizes = _parse_header(data, source)
    header_size = _PREFIX_SIZE + 4 * len(sizes)
    expected = math.prod(sizes) * dtype.itemsize
    found = len(data) - header_size
    if found != expected:
        raise ValueError(
            f"{source}: IDX header declares sizes {sizes} of {dtype.name} "
            f"({expected} data bytes), but the file holds {found} data bytes."
        )
    array = np.frombuffer(data, dtype=dtype, offset=header_size).reshape(sizes)
    return array.astype(dtype.newbyteorder("="))


def _parse_header(data, source):
    """Returns `(dtype, sizes)` from an IDX header, validating it."""
    if len(data) < _PREFIX_SIZE:
        raise ValueError(f"{source}: too short for an IDX header ({len(data)} bytes, need at least {_PREFIX_SIZE}).")
    if data[0] != 0 or data[1] != 0:
        raise ValueError(f"{source}: not an IDX file: magic bytes are {bytes(data[:2]).hex()}, expected 0000.")
    code, num_dims = data[2], data[3]
    if code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02x}" for c in IDX_DTYPES)
        raise ValueError(f"{source}: unknown IDX data type code 0x{code:02x}; known: {known}.")
    header_size = _PREFIX_SIZE + 4 * num_dims
    if len(data) < header_size:
        raise ValueError(
            f"{source}: truncated IDX header: {num_dims} dimensions need "
            f"{header_size} header bytes, the file has {len(data)} bytes."
        )
    sizes = np.frombuffer(data, dtype=">u4", count=num_dims, offset=_PREFIX_SIZE)
    return IDX_DTYPES[code], tuple(int(s) for s in sizes)


def _read_uncompressed(path):
    """Returns the bytes of `path`, gunzipped when it starts with gzip magic."""
    data = path.read_bytes()
    if not data.startswith(_GZIP_MAGIC):
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as error:
        raise ValueError(f"{path}: corrupted gzip data ({error}).") from error


def _check_sha256(data, expected, path):
    """Raises `ValueError` naming `path` when sha256(data) != `expected`."""
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected.lower():
        raise ValueError(
            f"{path}: sha256 of the uncompressed content is {actual}, expected "
            f"{expected}. The file is corrupted or not the official release."
        )
