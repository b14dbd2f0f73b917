"""Atomic file writes: a temporary file in the same folder, fsync, then `os.replace`.

A reader (or a run killed mid-write) sees either the old file or the complete
new one, never a truncated mix.
"""

import contextlib
import os
import pathlib
import tempfile


@contextlib.contextmanager
def atomic_path(path):
    """Yields a temporary path next to `path`; on success moves it over `path`.

    Write the new content to the yielded path (e.g. `model.save(tmp)`); when
    the block exits without an exception the file is fsynced and renamed over
    `path` with `os.replace` (atomic on POSIX and Windows). On an exception the
    temporary file is removed and `path` is left untouched.

    Args:
        path: the final path (its folder must exist).

    Yields:
        A `pathlib.Path` with the same suffix as `path` (some writers, such as
        `keras.Model.save`, check it).
    """
    path = pathlib.Path(path)
    suffix = "".join(path.suffixes[-2:]) if path.name.endswith(".weights.h5") else path.suffix
    handle, temporary = tempfile.mkstemp(prefix=f".tmp-{path.stem}-", suffix=suffix, dir=path.parent)
    os.close(handle)
    temporary = pathlib.Path(temporary)
    temporary.unlink()  # writers such as Model.save refuse to overwrite silently
    try:
        yield temporary
        _fsync(temporary)
        os.replace(temporary, path)
        _fsync_folder(path.parent)
    finally:
        temporary.unlink(missing_ok=True)


def atomic_write_text(path, text, encoding="utf-8"):
    """Writes `text` to `path` atomically (see `atomic_path`)."""
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding=encoding)


def atomic_write_bytes(path, data):
    """Writes `data` to `path` atomically (see `atomic_path`)."""
    with atomic_path(path) as temporary:
        temporary.write_bytes(data)


def _fsync(path):
    with open(path, "rb+") as stream:
        os.fsync(stream.fileno())


def _fsync_folder(folder):
    """Persists the rename itself (POSIX); a no-op where folders cannot be opened."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


__all__ = ["atomic_path", "atomic_write_bytes", "atomic_write_text"]
