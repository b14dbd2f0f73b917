"""Where a zoo entry's model file comes from: user cache, shipped copy, or download.

`resolve(card, folder)` returns a local file whose sha256 equals the card's,
trying in order:

1. the user cache, `<cache root>/<name>/<sha256[:12]>/<file>`, where the cache
   root is `$HDL_KERAS_ZOO_CACHE` or `$KERAS_HOME/hdl_keras/zoo` (`KERAS_HOME`
   defaults to `~/.keras`);
2. the file shipped with the entry, `<zoo root>/<name>/<file>`;
3. a download from `entry_url(name)` (`$HDL_KERAS_ZOO_URL`, else the project's
   release URL) with `keras.utils.get_file(..., file_hash=sha256)` into the
   cache.

Every file is hash-checked. A download goes to a temporary name inside the
cache folder and is renamed to its final name only once its sha256 matches, so
a hash mismatch, a truncated transfer, an HTTP error or an unreachable server
raises `ZooError` and leaves nothing in the cache. A cached copy that does not
match is reported (a warning), removed and fetched again; a shipped copy that
does not match is a `ZooError` (the repository copy is corrupt). Downloads are
refused while `HDL_KERAS_OFFLINE=1`.
"""

import hashlib
import os
import pathlib
import urllib.error
import uuid
import warnings

import keras

from hdl_keras.zoo.errors import ZooError

DEFAULT_URL = "https://github.com/hdl-keras/hdl_keras/releases/download/zoo-v1/{name}.keras"


def cache_root():
    """Returns the folder of the user cache of zoo model files.

    `$HDL_KERAS_ZOO_CACHE` when set, else `$KERAS_HOME/hdl_keras/zoo` with
    `KERAS_HOME` defaulting to `~/.keras` (as for Keras' own downloads).

    Returns:
        A `pathlib.Path` (it may not exist yet).
    """
    override = os.environ.get("HDL_KERAS_ZOO_CACHE")
    if override:
        return pathlib.Path(override).expanduser()
    keras_home = os.environ.get("KERAS_HOME", "~/.keras")
    return pathlib.Path(keras_home).expanduser() / "hdl_keras" / "zoo"


def entry_url(name, suffix=".keras"):
    """Returns the URL the model file of entry `name` downloads from.

    `$HDL_KERAS_ZOO_URL` may be a pattern holding `{name}` (e.g.
    `https://example.org/zoo/{name}.keras`) or a base URL, to which
    `/<name><suffix>` is appended. Unset, the project's release URL
    `DEFAULT_URL` is used. `suffix` is the extension of the entry's file
    (`.keras`, or `.hdlpack` for a packed quantized model): a `{name}.keras`
    in a pattern becomes `<name><suffix>`.

    Examples:
        >>> entry_url("iris-mlp-hdl")
        'https://github.com/hdl-keras/hdl_keras/releases/download/zoo-v1/iris-mlp-hdl.keras'
    """
    pattern = os.environ.get("HDL_KERAS_ZOO_URL") or DEFAULT_URL
    if "{name}" in pattern:
        return pattern.replace("{name}.keras", "{name}" + suffix).replace("{name}", name)
    return f"{pattern.rstrip('/')}/{name}{suffix}"


def sha256_file(path):
    """Returns the hex sha256 digest of the file at `path` (read in 1 MiB chunks)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def cached_path(card, cache_dir=None):
    """Returns where the user cache keeps the model file of `card`.

    Args:
        card: a validated card (uses `name`, `sha256` and `file`).
        cache_dir: cache root; defaults to `cache_root()`.

    Returns:
        `<cache root>/<name>/<sha256[:12]>/<file>` as a `pathlib.Path`.
    """
    root = pathlib.Path(cache_dir) if cache_dir is not None else cache_root()
    return root / card["name"] / card["sha256"][:12] / card["file"]


def resolve(card, folder, *, cache_dir=None):
    """Returns a local model file of `card` whose sha256 matches: cache, shipped, download.

    Args:
        card: a validated card.
        folder: the entry's folder in the zoo (holding `card.json`, and the
            shipped model file when the entry ships one).
        cache_dir: cache root; defaults to `cache_root()`.

    Returns:
        A `pathlib.Path` to the hash-checked file.

    Raises:
        ZooError: the shipped copy is corrupt, or the download failed (no
            file is left in the cache).
    """
    name, expected = card["name"], card["sha256"]
    cached = cached_path(card, cache_dir)
    if cached.is_file():
        got = sha256_file(cached)
        if got == expected:
            return cached
        warnings.warn(
            f"The cached model file of zoo entry {name!r} at {cached} has sha256 {got}, "
            f"its card expects {expected}: removing it and fetching the file again.",
            stacklevel=2,
        )
        cached.unlink(missing_ok=True)
    shipped = pathlib.Path(folder) / card["file"]
    if shipped.is_file():
        got = sha256_file(shipped)
        if got != expected:
            raise ZooError(
                f"The repository copy of zoo entry {name!r} is corrupt: {shipped} "
                f"({shipped.stat().st_size} bytes) has sha256 {got}, its card expects "
                f"{expected} ({card['file_size_bytes']} bytes). Restore the file from "
                f"version control (a Git LFS pointer must be pulled), or rebuild it with "
                f"`hdl-zoo train {name}`."
            )
        return shipped
    return download(card, cached)


def download(card, target):
    """Downloads the model file of `card` to `target`, atomically and hash-checked.

    The file is fetched with `keras.utils.get_file(..., file_hash=sha256,
    hash_algorithm="sha256")` under a temporary name in `target`'s folder and
    renamed to `target` only after its sha256 matched.

    Args:
        card: a validated card.
        target: the final path of the file in the cache.

    Returns:
        `target`.

    Raises:
        ZooError: offline mode, an unwritable cache, a failed transfer (HTTP
            error, refused connection, truncated file) or a hash mismatch; the
            message names the URL and what to do, and no file is left behind.
    """
    name, expected = card["name"], card["sha256"]
    url = entry_url(name, pathlib.Path(card["file"]).suffix)
    if os.environ.get("HDL_KERAS_OFFLINE") == "1":
        raise ZooError(
            f"Zoo entry {name!r} ships no model file and HDL_KERAS_OFFLINE=1 forbids "
            f"downloading it from {url}. Unset HDL_KERAS_OFFLINE to download it, or put "
            f"the file at {target}."
        )
    folder = target.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ZooError(
            f"Cannot create the zoo cache folder {folder} ({exc}). Set HDL_KERAS_ZOO_CACHE "
            "to a writable folder."
        ) from exc
    partial = folder / f".{target.name}.{uuid.uuid4().hex}.part"
    try:
        try:
            keras.utils.get_file(
                fname=partial.name,
                origin=url,
                cache_dir=str(folder),
                cache_subdir=str(folder),
                file_hash=expected,
                hash_algorithm="sha256",
            )
        except Exception as exc:
            # get_file removes what it fetched when the transfer fails and
            # keeps it when only the hash differs.
            if partial.is_file():
                got = sha256_file(partial)
                raise ZooError(
                    f"The file downloaded for zoo entry {name!r} from {url} does not match "
                    f"its card: sha256 {got}, expected {expected}. Nothing was cached. "
                    f"Check that HDL_KERAS_ZOO_URL ({_url_setting()}) serves this version "
                    "of the zoo (not an error page or another release), then retry."
                ) from exc
            raise ZooError(
                f"Could not download zoo entry {name!r} from {url}: {_reason(exc)}. Nothing was "
                f"cached. Check the network connection and HDL_KERAS_ZOO_URL "
                f"({_url_setting()}), then retry."
            ) from exc
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def _reason(error):
    """What went wrong in a `get_file` failure, from the urllib error it re-raised."""
    cause = error.__context__
    if isinstance(cause, urllib.error.HTTPError):
        return f"HTTP error {cause.code} ({cause.reason})"
    if isinstance(cause, urllib.error.ContentTooShortError):
        return f"the transfer was cut short ({cause.reason})"
    if isinstance(cause, urllib.error.URLError):
        return str(cause.reason)
    return str(error)


def _url_setting():
    value = os.environ.get("HDL_KERAS_ZOO_URL")
    return f"now {value!r}" if value else "unset: the project's release URL"
