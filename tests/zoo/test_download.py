"""Model file resolution: cache, shipped copy, and downloads from a local HTTP server."""

import hashlib
import http.server
import socket
import threading
import time

import keras
import numpy as np
import pytest

from hdl_keras import zoo
from hdl_keras.zoo import download
from hdl_keras.zoo.download import sha256_file

NAME = "iris-mlp-dl"


class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves `server.routes[path] = (status, body, declared_length)`; 404 elsewhere."""

    def do_GET(self):
        self.server.requests.append(self.path)
        status, body, length = self.server.routes.get(self.path, (404, b"not found", None))
        self.send_response(status)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        self.wfile.write(body)
        # A declared length beyond the body ends as a truncated transfer.
        self.close_connection = True

    def log_message(self, *args):
        pass


@pytest.fixture
def server(monkeypatch):
    """A local HTTP server on 127.0.0.1 that the zoo downloads from."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.routes, httpd.requests = {}, []
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    monkeypatch.delenv("HDL_KERAS_OFFLINE", raising=False)
    port = httpd.server_address[1]
    monkeypatch.setenv("HDL_KERAS_ZOO_URL", f"http://127.0.0.1:{port}/zoo/{{name}}.keras")
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture
def remote_entry(make_entry):
    """An entry that ships no file: `(card, model bytes)`; its file must be downloaded."""
    return make_entry(NAME, ship=False)


def _cached_files(cache):
    return sorted(p for p in cache.rglob("*") if p.is_file()) if cache.exists() else []


def test_download_success_is_cached_then_reused(server, remote_entry, _private_cache):
    card, body = remote_entry
    server.routes[f"/zoo/{NAME}.keras"] = (200, body, None)
    path = zoo.entry_path(NAME)
    assert path == _private_cache / NAME / card["sha256"][:12] / "model.keras"
    assert path.read_bytes() == body
    assert _cached_files(_private_cache) == [path]
    assert server.requests == [f"/zoo/{NAME}.keras"]
    server.routes.clear()
    assert zoo.entry_path(NAME) == path
    assert len(server.requests) == 1


def test_hash_mismatch_reports_both_hashes_and_caches_nothing(server, remote_entry, _private_cache):
    card, body = remote_entry
    served = body[:-1] + bytes([body[-1] ^ 1])
    server.routes[f"/zoo/{NAME}.keras"] = (200, served, None)
    with pytest.raises(zoo.ZooError) as info:
        zoo.entry_path(NAME)
    message = str(info.value)
    assert f"from http://127.0.0.1:{server.server_address[1]}/zoo/{NAME}.keras does not match" in message
    assert f"sha256 {hashlib.sha256(served).hexdigest()}, expected {card['sha256']}" in message
    assert "HDL_KERAS_ZOO_URL" in message and "Nothing was cached" in message
    assert _cached_files(_private_cache) == []


def test_truncated_download_caches_nothing(server, remote_entry, _private_cache):
    _, body = remote_entry
    server.routes[f"/zoo/{NAME}.keras"] = (200, body[: len(body) // 2], len(body))
    expected = rf"Could not download zoo entry '{NAME}' from http://127\.0\.0\.1.*cut short"
    with pytest.raises(zoo.ZooError, match=expected + r" \(retrieval incomplete: got only"):
        zoo.entry_path(NAME)
    assert _cached_files(_private_cache) == []


def test_http_error_names_url_and_status(server, remote_entry, _private_cache):
    expected = rf"Could not download .*/zoo/{NAME}\.keras: HTTP error 404 \(Not Found\)"
    with pytest.raises(zoo.ZooError, match=expected) as info:
        zoo.entry_path(NAME)
    assert "Check the network connection and HDL_KERAS_ZOO_URL" in str(info.value)
    assert _cached_files(_private_cache) == []


def test_server_down_is_a_clear_error(remote_entry, monkeypatch, _private_cache):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.delenv("HDL_KERAS_OFFLINE", raising=False)
    monkeypatch.setenv("HDL_KERAS_ZOO_URL", f"http://127.0.0.1:{port}/")
    expected = rf"from http://127\.0\.0\.1:{port}/{NAME}\.keras: .*Connection refused\. "
    with pytest.raises(zoo.ZooError, match=expected + r"Nothing was cached\. Check .* retry\."):
        zoo.entry_path(NAME)
    assert _cached_files(_private_cache) == []


def test_corrupt_cached_file_is_reported_and_fetched_again(server, remote_entry, _private_cache):
    card, body = remote_entry
    cached = download.cached_path(card)
    cached.parent.mkdir(parents=True)
    cached.write_bytes(body[:100])
    server.routes[f"/zoo/{NAME}.keras"] = (200, body, None)
    expected = f"has sha256 {sha256_file(cached)}, its card expects {card['sha256']}"
    with pytest.warns(UserWarning, match=expected):
        assert zoo.entry_path(NAME) == cached
    assert cached.read_bytes() == body
    assert _cached_files(_private_cache) == [cached]


def test_corrupt_cached_file_gives_way_to_the_shipped_one(make_entry, _private_cache):
    card, body = make_entry(NAME)
    cached = download.cached_path(card)
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"stale")
    with pytest.warns(UserWarning, match="removing it"):
        assert zoo.entry_path(NAME) == zoo.zoo_root() / NAME / "model.keras"
    assert _cached_files(_private_cache) == []


def test_good_cached_file_comes_first_and_needs_no_network(make_entry, _private_cache, monkeypatch):
    card, body = make_entry(NAME)
    cached = download.cached_path(card)
    cached.parent.mkdir(parents=True)
    cached.write_bytes(body)
    monkeypatch.delenv("HDL_KERAS_OFFLINE", raising=False)
    monkeypatch.setenv("HDL_KERAS_ZOO_URL", "http://127.0.0.1:1/")
    (zoo.zoo_root() / NAME / "model.keras").unlink()
    assert zoo.entry_path(NAME) == cached
    assert cached.read_bytes() == body


def test_shipped_file_is_hash_checked(make_entry):
    card, body = make_entry(NAME)
    shipped = zoo.zoo_root() / NAME / "model.keras"
    assert zoo.entry_path(NAME) == shipped
    shipped.write_bytes(body[:-10])
    with pytest.raises(zoo.ZooError, match=f"repository copy of zoo entry '{NAME}' is corrupt") as info:
        zoo.entry_path(NAME)
    assert f"({len(body) - 10} bytes) has sha256 {sha256_file(shipped)}" in str(info.value)
    assert f"expects {card['sha256']} ({len(body)} bytes)" in str(info.value)


def test_offline_mode_refuses_to_download(server, remote_entry, monkeypatch, _private_cache):
    monkeypatch.setenv("HDL_KERAS_OFFLINE", "1")
    with pytest.raises(zoo.ZooError, match="HDL_KERAS_OFFLINE=1 forbids downloading"):
        zoo.entry_path(NAME)
    assert server.requests == []
    assert _cached_files(_private_cache) == []


def test_unwritable_cache_is_a_zoo_error(server, remote_entry, tmp_path, monkeypatch):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("HDL_KERAS_ZOO_CACHE", str(blocker))
    with pytest.raises(zoo.ZooError, match="Cannot create the zoo cache folder .*HDL_KERAS_ZOO_CACHE"):
        zoo.entry_path(NAME)
    assert server.requests == []


def test_explicit_cache_dir_is_used(server, remote_entry, tmp_path, _private_cache):
    card, body = remote_entry
    server.routes[f"/zoo/{NAME}.keras"] = (200, body, None)
    path = zoo.entry_path(NAME, cache_dir=tmp_path / "elsewhere")
    assert path == tmp_path / "elsewhere" / NAME / card["sha256"][:12] / "model.keras"
    assert _cached_files(_private_cache) == []


@pytest.mark.parametrize(
    "setting, url",
    [
        (None, f"https://github.com/hdl-keras/hdl_keras/releases/download/zoo-v1/{NAME}.keras"),
        ("https://example.org/models/", f"https://example.org/models/{NAME}.keras"),
        ("https://example.org/m/{name}/model.keras?dl=1", f"https://example.org/m/{NAME}/model.keras?dl=1"),
    ],
)
def test_entry_url(monkeypatch, setting, url):
    if setting is None:
        monkeypatch.delenv("HDL_KERAS_ZOO_URL", raising=False)
    else:
        monkeypatch.setenv("HDL_KERAS_ZOO_URL", setting)
    assert download.entry_url(NAME) == url


def test_cache_root_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("HDL_KERAS_ZOO_CACHE", str(tmp_path / "c"))
    assert download.cache_root() == tmp_path / "c"
    monkeypatch.delenv("HDL_KERAS_ZOO_CACHE")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    assert download.cache_root() == tmp_path / "kh" / "hdl_keras" / "zoo"


def test_sha256_file_matches_a_known_digest(tmp_path):
    path = tmp_path / "abc"
    path.write_bytes(b"abc")
    assert sha256_file(path) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


@pytest.mark.backend_suite
def test_downloaded_entry_loads(server, make_entry, build_tiny_model, iris_batch):
    x, _ = iris_batch
    model = build_tiny_model()
    _, body = make_entry(NAME, model=model, ship=False)
    server.routes[f"/zoo/{NAME}.keras"] = (200, body, None)
    loaded = zoo.load(NAME)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(loaded.predict(x, verbose=0)),
        keras.ops.convert_to_numpy(model(x)),
        atol=1e-6,
    )


@pytest.fixture
def silent_server(monkeypatch):
    """A server on 127.0.0.1 that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.05)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])  # kept open, never read or answered
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    port = listener.getsockname()[1]
    monkeypatch.delenv("HDL_KERAS_OFFLINE", raising=False)
    monkeypatch.setenv("HDL_KERAS_ZOO_URL", f"http://127.0.0.1:{port}/zoo/{{name}}.keras")
    yield accepted
    stop.set()
    thread.join()
    for connection in accepted:
        connection.close()
    listener.close()


def test_a_server_that_never_answers_times_out_and_caches_nothing(
    silent_server, remote_entry, monkeypatch, _private_cache
):
    monkeypatch.setenv("HDL_KERAS_DOWNLOAD_TIMEOUT", "1")
    monkeypatch.setenv("HDL_KERAS_DOWNLOAD_RETRIES", "1")
    monkeypatch.setattr(download, "RETRY_PAUSE_SECONDS", 0.01)
    start = time.monotonic()
    with pytest.raises(zoo.ZooError, match=r"did not answer within 1 s \(HDL_KERAS_DOWNLOAD_TIMEOUT") as info:
        zoo.entry_path(NAME)
    assert time.monotonic() - start < 10
    assert "(after 2 attempts). Nothing was cached" in str(info.value)
    assert len(silent_server) == 2  # one retry
    assert _cached_files(_private_cache) == []


def test_a_transient_server_error_is_retried(server, remote_entry, monkeypatch, _private_cache):
    card, body = remote_entry
    monkeypatch.setattr(download, "RETRY_PAUSE_SECONDS", 0.01)
    route = f"/zoo/{NAME}.keras"
    server.routes[route] = (503, b"busy", None)
    original = _Handler.do_GET

    def recover_after_first(handler):
        original(handler)
        server.routes[route] = (200, body, None)

    monkeypatch.setattr(_Handler, "do_GET", recover_after_first)
    assert zoo.entry_path(NAME).read_bytes() == body
    assert server.requests == [route, route]


@pytest.mark.parametrize("value", ["0", "-1", "soon", "nan"])
def test_a_bad_timeout_setting_is_a_clear_error(value, monkeypatch):
    monkeypatch.setenv("HDL_KERAS_DOWNLOAD_TIMEOUT", value)
    with pytest.raises(zoo.ZooError, match="HDL_KERAS_DOWNLOAD_TIMEOUT must be a number of seconds > 0"):
        download.download_timeout()
