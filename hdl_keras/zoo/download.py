"""Where a zoo entry's model file comes from: user cache, shipped copy, or download.

`resolve(card, folder)` returns a local file whose sha256 equals the card's,
trying in order:

1. the user cache, `<cache root>/<name>/<sha256[:12]>/<file>`, where the cache
   root is `$HDL_KERAS_ZOO_CACHE` or `$KERAS_HOME/hdl_keras/zoo` (`KERAS_HOME`
   defaults to `~/.keras`);
2. the file shipped with the entry, `<zoo root>/<name>/<file>`;
3. a download from `entry_url(name)` (`$HDL_KERAS_ZOO_URL`, else the project's
   release URL) into the cache, with connect and read timeouts
   (`$HDL_KERAS_DOWNLOAD_TIMEOUT`, default 30 s) and retries after transient
   failures (`$HDL_KERAS_DOWNLOAD_RETRIES`, default 2).

Every file is hash-checked. A download goes to a temporary name inside the
cache folder and is renamed to its final name only once its sha256 matches, so
a hash mismatch, a truncated transfer, an HTTP error, an unreachable server
or one that never answers raises `ZooError` and leaves nothing in the cache. A cached copy that does not
match is reported (a warning), removed and fetched again; a shipped copy that
does not match is a `ZooError` (the repository copy is corrupt). Downloads are
refused while `HDL_KERAS_OFFLINE=1`.
"""

import hashlib
import http.client
import math
import os
import pathlib
import socket
import time
import urllib.error
import urllib.request
import uuid
import warnings

from hdl_keras.zoo.errors import ZooError

# Seconds to wait for a connection and for each read, extra attempts after a
# transient failure, and the first pause between attempts (doubled each time).
DEFAULT_TIMEOUT_SECONDS = 30.0
DEFAULT_RETRIES = 2
RETRY_PAUSE_SECONDS = 0.5

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

    The file is streamed with `urllib` under a temporary name in `target`'s
    folder, with a timeout on connecting and on every read
    (`download_timeout()`, `$HDL_KERAS_DOWNLOAD_TIMEOUT` seconds, default
    30), retried up to `download_retries()` times (`$HDL_KERAS_DOWNLOAD_RETRIES`,
    default 2) with a doubling pause after transient failures (timeouts,
    reset connections, truncated transfers, HTTP 5xx and 429), and renamed to `target`
    only after its sha256 matched.

    Args:
        card: a validated card.
        target: the final path of the file in the cache.

    Returns:
        `target`.

    Raises:
        ZooError: offline mode, an unwritable cache, a failed transfer (HTTP
            error, refused connection, a server that does not answer in time,
            truncated file) or a hash mismatch; the message names the URL and
            what to do, and no file is left behind.
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
            f"Cannot create the zoo cache folder {folder} ({exc}). Set HDL_KERAS_ZOO_CACHE to a writable folder."
        ) from exc
    timeout, retries = download_timeout(), download_retries()
    partial = folder / f".{target.name}.{uuid.uuid4().hex}.part"
    try:
        for attempt in range(retries + 1):
            try:
                _fetch(url, partial, timeout)
                break
            except Exception as exc:
                partial.unlink(missing_ok=True)
                if attempt < retries and _transient(exc):
                    time.sleep(RETRY_PAUSE_SECONDS * 2**attempt)
                    continue
                tries = f" (after {attempt + 1} attempts)" if attempt else ""
                raise ZooError(
                    f"Could not download zoo entry {name!r} from {url}: {_reason(exc, timeout)}"
                    f"{tries}. Nothing was cached. Check the network connection and "
                    f"HDL_KERAS_ZOO_URL ({_url_setting()}), then retry."
                ) from exc
        got = sha256_file(partial)
        if got != expected:
            raise ZooError(
                f"The file downloaded for zoo entry {name!r} from {url} does not match "
                f"its card: sha256 {got}, expected {expected}. Nothing was cached. "
                f"Check that HDL_KERAS_ZOO_URL ({_url_setting()}) serves this version "
                "of the zoo (not an error page or another release), then retry."
            )
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def download_timeout():
    """Seconds to wait for a connection and for each read: `$HDL_KERAS_DOWNLOAD_TIMEOUT`, default 30."""
    return _setting("HDL_KERAS_DOWNLOAD_TIMEOUT", DEFAULT_TIMEOUT_SECONDS, float, "a number of seconds > 0")


def download_retries():
    """Extra attempts after a transient failure: `$HDL_KERAS_DOWNLOAD_RETRIES`, default 2."""
    return _setting("HDL_KERAS_DOWNLOAD_RETRIES", DEFAULT_RETRIES, int, "an integer >= 0")


def _setting(variable, default, kind, expected):
    text = os.environ.get(variable)
    if not text:
        return default
    try:
        value = kind(text)
    except ValueError:
        value = None
    if value is None or not math.isfinite(value) or value < 0 or (kind is float and value == 0):
        raise ZooError(f"{variable} must be {expected}. Received: {variable}={text!r}. Fix or unset it.")
    return value


def _fetch(url, path, timeout):
    """Streams `url` into `path`; `timeout` bounds the connection and every read."""
    request = urllib.request.Request(url, headers={"User-Agent": "hdl_keras"})
    with urllib.request.urlopen(request, timeout=timeout) as response, open(path, "wb") as stream:
        declared = response.headers.get("Content-Length")
        received = 0
        try:
            for chunk in iter(lambda: response.read(1 << 16), b""):
                stream.write(chunk)
                received += len(chunk)
        except http.client.IncompleteRead as exc:
            received += len(exc.partial)
            declared = declared or str(received + (exc.expected or 0))
        if declared is not None and received < int(declared):
            raise urllib.error.ContentTooShortError(
                f"retrieval incomplete: got only {received} out of {declared} bytes", None
            )


def _transient(error):
    """Whether a retry may help: timeouts, dropped connections and transfers, HTTP 5xx and 429."""
    if isinstance(error, urllib.error.HTTPError):
        return error.code >= 500 or error.code == 429
    if isinstance(error, urllib.error.ContentTooShortError):
        return True
    if isinstance(error, urllib.error.URLError):
        error = error.reason
    if isinstance(error, ConnectionRefusedError):
        return False  # nothing listens there: retrying would only delay the message
    return isinstance(error, (TimeoutError, socket.timeout, ConnectionError, http.client.RemoteDisconnected))


def _reason(error, timeout):
    """What went wrong in a failed transfer, in words."""
    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP error {error.code} ({error.reason})"
    if isinstance(error, urllib.error.ContentTooShortError):
        return f"the transfer was cut short ({error.reason})"
    if isinstance(error, urllib.error.URLError):
        error = error.reason
    if isinstance(error, (TimeoutError, socket.timeout)):
        return (
            f"the server did not answer within {timeout:g} s (HDL_KERAS_DOWNLOAD_TIMEOUT; "
            "raise it on a slow connection)"
        )
    return str(error)


def _url_setting():
    value = os.environ.get("HDL_KERAS_ZOO_URL")
    return f"now {value!r}" if value else "unset: the project's release URL"
