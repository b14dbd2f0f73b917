"""Fixtures building a tiny temporary zoo: small Keras models saved with valid cards.

Every test here gets its own empty model cache (`HDL_KERAS_ZOO_CACHE`), so no
test reads or writes the user's `~/.keras`, and `HDL_KERAS_ZOO_URL` unset
(downloads stay off: tests/conftest.py sets `HDL_KERAS_OFFLINE=1`).
`zoo_dir` points `HDL_KERAS_ZOO_DIR` at an empty temporary zoo, `make_entry`
adds entries to it and `tiny_zoo` holds three.
"""

import json

import keras
import numpy as np
import pytest

from hdl_keras.layers import MaskedDense
from hdl_keras.zoo.download import sha256_file

NUM_FEATURES = 4
NUM_CLASSES = 3


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    cache = tmp_path / "zoo_cache"
    monkeypatch.setenv("HDL_KERAS_ZOO_CACHE", str(cache))
    monkeypatch.delenv("HDL_KERAS_ZOO_URL", raising=False)
    return cache


def tiny_model(wrapper=None):
    """An iris-sized network (4 -> MaskedDense 8 -> Dense 3 logits), optionally an objective wrapper."""
    inputs = keras.Input((NUM_FEATURES,))
    hidden = MaskedDense(8, activation="relu")(inputs)
    outputs = keras.layers.Dense(NUM_CLASSES)(hidden)
    if wrapper is None:
        return keras.Model(inputs, outputs, name="tiny")
    return wrapper(inputs, outputs, name="tiny")


def card_for(name, model_file, parameters, method="DL", **overrides):
    """A valid card for the model saved at `model_file` (dataset and architecture from `name`)."""
    dataset, architecture, _ = name.split("-", 2)
    card = {
        "name": name,
        "dataset": dataset,
        "architecture": architecture,
        "parameters": parameters,
        "method": {"name": method, "objective": "cross-entropy", "hyperparameters": {}},
        "threat_model": {"norm": "linf", "eps": 0.1},
        "training": {
            "recipe": name,
            "command": f"hdl-zoo train {name}",
            "epochs": 0,
            "train_examples": 1,
            "backend": keras.backend.backend(),
            "hardware": "test",
            "wall_time_seconds": 0.0,
            "reduced": "untrained test model",
        },
        "metrics": None,
        "gradient_masking_flags": [],
        "file": model_file.name,
        "file_size_bytes": model_file.stat().st_size,
        "sha256": sha256_file(model_file),
        "reference": {"paper": None, "table": None, "figure": None, "values": {}},
        "evaluation": None,
    }
    card.update(overrides)
    return card


def write_entry(root, name, model, ship=True, method="DL", **overrides):
    """Saves `model` as entry `name` under `root` and writes its card.

    Returns:
        `(card, model_bytes)`; with `ship=False` the model file is removed
        after hashing, as for an entry that must be downloaded.
    """
    folder = root / name
    folder.mkdir(parents=True)
    model_file = folder / "model.keras"
    model.save(model_file)
    card = card_for(name, model_file, model.count_params(), method=method, **overrides)
    (folder / "card.json").write_text(json.dumps(card, indent=2))
    model_bytes = model_file.read_bytes()
    if not ship:
        model_file.unlink()
    return card, model_bytes


@pytest.fixture
def zoo_dir(tmp_path, monkeypatch):
    """An empty temporary zoo that `hdl_keras.zoo` uses (`HDL_KERAS_ZOO_DIR`)."""
    root = tmp_path / "zoo"
    root.mkdir()
    monkeypatch.setenv("HDL_KERAS_ZOO_DIR", str(root))
    return root


@pytest.fixture
def make_entry(zoo_dir):
    """Adds an entry to the temporary zoo.

    Call it as `make_entry(name, model=None, ship=True, method="DL", **card_overrides)`;
    it returns `(card, model_bytes)` (see `write_entry`).
    """

    def make(name, model=None, ship=True, method="DL", **overrides):
        model = model or tiny_model()
        return write_entry(zoo_dir, name, model, ship=ship, method=method, **overrides)

    return make


@pytest.fixture
def tiny_zoo(zoo_dir, make_entry):
    """A temporary zoo of three shipped entries: iris-mlp-dl, iris-mlp-hdl, wine-mlp-dl."""
    make_entry("iris-mlp-dl")
    make_entry("iris-mlp-hdl", method="HDL")
    make_entry("wine-mlp-dl")
    return zoo_dir


@pytest.fixture
def iris_batch():
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(6, NUM_FEATURES)).astype("float32")
    y = np.array([0, 1, 2, 0, 1, 2])
    return x, y


@pytest.fixture
def build_tiny_model():
    """The builder of the tiny models: `build_tiny_model(wrapper=None)`."""
    return tiny_model
