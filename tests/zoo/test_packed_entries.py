"""Zoo entries shipped as packed quantized files (`model.hdlpack`): load, hash, download, cards."""

import functools
import http.server
import json
import threading

import keras
import numpy as np
import pytest

from hdl_keras import zoo
from hdl_keras.layers import QuantDense
from hdl_keras.measure import weight_statistics
from hdl_keras.saving import export_packed
from hdl_keras.recipes import train_recipe
from hdl_keras.zoo import download
from hdl_keras.zoo import registry
from hdl_keras.zoo.download import sha256_file
from hdl_keras.zoo.evaluation import evaluate_entry
from hdl_keras.zoo.packed import PACKED_ENTRIES
from hdl_keras.zoo.packed import add_packed_entry

pytestmark = pytest.mark.backend_suite

NAME = "iris-mlp-binaryrelax"
# Bind the shipped zoo now, before any fixture points HDL_KERAS_ZOO_DIR elsewhere.
SHIPPED_ZOO = registry.zoo_root()


def binary_mlp():
    """An iris-sized binary network: 4 -> QuantDense 8 -> QuantDense 3 logits."""
    inputs = keras.Input((4,))
    hidden = QuantDense(8, activation="relu", kernel_quantizer="binary")(inputs)
    return keras.Model(inputs, QuantDense(3, kernel_quantizer="binary")(hidden), name="binary_mlp")


@pytest.fixture
def make_packed_entry(make_entry, zoo_dir):
    """`make_packed_entry(name, model, ship=True) -> (card, file bytes)`: an entry shipping `model.hdlpack`."""

    def make(name, model, ship=True):
        card, _ = make_entry(name)  # a valid card, then its .keras file swapped for a packed one
        folder = zoo_dir / name
        (folder / "model.keras").unlink()
        path = folder / "model.hdlpack"
        export_packed(model, path)
        card.update(
            file=path.name,
            file_size_bytes=path.stat().st_size,
            sha256=sha256_file(path),
            parameters=model.count_params(),
        )
        card["method"]["name"] = "BinaryRelax"
        (folder / "card.json").write_text(json.dumps(card, indent=2))
        data = path.read_bytes()
        if not ship:
            path.unlink()
        return card, data

    return make


def test_packed_entry_loads_with_load_packed_and_predicts_like_the_model(make_packed_entry, zoo_dir, iris_batch):
    model = binary_mlp()
    make_packed_entry(NAME, model)
    loaded = zoo.load(NAME)
    assert all(isinstance(layer, QuantDense) for layer in loaded.layers[1:])
    assert loaded.compiled  # for evaluation
    x, y = iris_batch
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(loaded(x)), keras.ops.convert_to_numpy(model(x)), rtol=1e-5, atol=1e-6
    )
    assert loaded.evaluate(x, y, verbose=0)[1] == pytest.approx(
        np.mean(np.argmax(keras.ops.convert_to_numpy(model(x)), axis=-1) == y)
    )
    assert zoo.entry_path(NAME) == zoo_dir / NAME / "model.hdlpack"


def test_corrupt_shipped_packed_file_is_refused(make_packed_entry, zoo_dir):
    make_packed_entry(NAME, binary_mlp())
    path = zoo_dir / NAME / "model.hdlpack"
    path.write_bytes(path.read_bytes()[:-1] + b"\x00")
    with pytest.raises(zoo.ZooError, match="corrupt"):
        zoo.load(NAME)


def test_card_schema_accepts_keras_and_hdlpack_files_only(make_packed_entry):
    card, _ = make_packed_entry(NAME, binary_mlp())
    zoo.validate_card(card)
    for bad in ("model.h5", "model.hdlpack.zip", "model.weights.h5"):
        with pytest.raises(zoo.ZooError, match="file"):
            zoo.validate_card({**card, "file": bad})


@pytest.mark.parametrize(
    "setting, url",
    [
        (None, f"https://github.com/hdl-keras/hdl_keras/releases/download/zoo-v1/{NAME}.hdlpack"),
        ("https://example.org/models/", f"https://example.org/models/{NAME}.hdlpack"),
        ("https://example.org/{name}.keras?dl=1", f"https://example.org/{NAME}.hdlpack?dl=1"),
        ("https://example.org/m/{name}/file", f"https://example.org/m/{NAME}/file"),
    ],
)
def test_entry_url_follows_the_file_type(monkeypatch, setting, url):
    if setting is None:
        monkeypatch.delenv("HDL_KERAS_ZOO_URL", raising=False)
    else:
        monkeypatch.setenv("HDL_KERAS_ZOO_URL", setting)
    assert download.entry_url(NAME, ".hdlpack") == url


class _Files(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = self.server.files.get(self.path)
        self.send_response(200 if body is not None else 404)
        body = body if body is not None else b"not found"
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_packed_entry_downloads_hash_checked(make_packed_entry, monkeypatch, iris_batch, _private_cache):
    model = binary_mlp()
    card, data = make_packed_entry(NAME, model, ship=False)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Files)
    httpd.files = {f"/zoo/{NAME}.hdlpack": data}
    thread = threading.Thread(target=functools.partial(httpd.serve_forever, poll_interval=0.05), daemon=True)
    thread.start()
    try:
        monkeypatch.delenv("HDL_KERAS_OFFLINE", raising=False)
        monkeypatch.setenv("HDL_KERAS_ZOO_URL", f"http://127.0.0.1:{httpd.server_address[1]}/zoo/{{name}}.keras")
        path = zoo.entry_path(NAME)
        assert path == _private_cache / NAME / card["sha256"][:12] / "model.hdlpack"
        x, _ = iris_batch
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(zoo.load(NAME)(x)), keras.ops.convert_to_numpy(model(x)), rtol=1e-5, atol=1e-6
        )
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def test_evaluating_a_packed_entry_counts_one_bit_per_weight(make_packed_entry):
    make_packed_entry(NAME, binary_mlp())
    result = evaluate_entry(NAME, n=30, verbose=0)
    assert result["bits_per_weight"] == 1.0 and result["zero_weights"] == 0.0
    assert result["num_examples"] == 30
    assert result["worst_case_accuracy"] <= result["attacks"]["pgd20"] <= result["clean_accuracy"]


def tiny_run(tmp_path, **kwargs):
    rng = np.random.default_rng(0)
    images = rng.random((16, 28, 28, 1)).astype("float32"), rng.integers(0, 10, 16)
    return train_recipe(
        "paper",
        "small_cnn",
        "mnist",
        epochs=2,
        batch_size=8,
        attack_steps=1,
        train_data=images,
        model_kwargs={"filters": (4,), "dense_units": 8},
        output_dir=str(tmp_path),
        verbose=0,
        **kwargs,
    )


def test_add_packed_entry_from_a_binaryrelax_run(tmp_path, zoo_dir):
    run = tmp_path / "run"
    model = tiny_run(run, kernel_quantizer="binary", scheme="binaryrelax")
    name = "mnist-small_cnn-binaryrelax"
    card = add_packed_entry(name, run)
    assert card == zoo.card(name)
    assert card["file"] == "model.hdlpack" and card["metrics"] is None and card["evaluation"] is None
    assert (zoo_dir / name / "model.hdlpack").read_bytes() == (run / "model.hdlpack").read_bytes()
    method = card["method"]
    assert method["name"] == "BinaryRelax"
    assert method["hyperparameters"]["bits"] == 1 and method["hyperparameters"]["switch_epoch"] == 2
    assert card["threat_model"] == {"norm": "linf", "eps": pytest.approx(8 / 255)}
    assert card["reference"] == PACKED_ENTRIES[name]
    assert card["reference"]["values"]["clean_accuracy"] == pytest.approx(0.9922)
    assert card["training"]["command"].startswith("train_recipe('paper'")
    assert "16 training images, 2 epochs" in card["training"]["reduced"]
    x = np.random.default_rng(1).random((3, 28, 28, 1)).astype("float32")
    loaded = zoo.load(name)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(loaded(x)), keras.ops.convert_to_numpy(model(x)), rtol=1e-5, atol=1e-5
    )
    assert weight_statistics(loaded)["bits_per_weight"] == 1.0


def test_add_packed_entry_refuses_float_runs_and_mismatched_names(tmp_path, zoo_dir):
    def run_with_log(folder, **log):  # only the log fields read before anything else
        folder.mkdir()
        (folder / "log.json").write_text(json.dumps({"dataset": "mnist", "model": "small_cnn", **log}))
        return folder

    float_run = run_with_log(tmp_path / "float", quantization=None)
    with pytest.raises(ValueError, match="float run"):
        add_packed_entry("mnist-small_cnn-binaryrelax", float_run)
    binary_run = run_with_log(tmp_path / "binary", quantization={"packed_file": "model.hdlpack"})
    with pytest.raises(ValueError, match="must start with 'mnist-small_cnn-'"):
        add_packed_entry("fashion_mnist-small_cnn-binaryrelax", binary_run)
    with pytest.raises(ValueError, match="no log.json"):
        add_packed_entry("mnist-small_cnn-binaryrelax", tmp_path)
    assert not any(zoo_dir.iterdir())


@pytest.mark.parametrize("name", sorted(PACKED_ENTRIES))
def test_shipped_packed_entries_are_binary_and_match_their_card(name):
    folder = SHIPPED_ZOO / name
    if not (folder / "card.json").is_file():
        pytest.skip(f"{name} is not in the zoo")
    card = registry._read_card(folder)
    assert card["file"] == "model.hdlpack"
    model = registry.load(name)
    stats = weight_statistics(model)
    assert stats["bits_per_weight"] == 1.0 and card["method"]["hyperparameters"]["bits"] == 1
    assert card["parameters"] == model.count_params()
    if card["metrics"] is not None:
        assert card["metrics"]["bits_per_weight"] == 1.0
        assert card["metrics"]["worst_case_accuracy"] <= card["metrics"]["clean_accuracy"]
