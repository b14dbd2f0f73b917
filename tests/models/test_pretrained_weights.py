"""`models.get(name, weights=...)`: a zoo entry's trained network, or a weights file."""

import numpy as np
import pytest

from hdl_keras import models
from hdl_keras import zoo

ENTRY = "iris-mlp-dl"  # a shipped table entry: a 2 x 128 MLP, 4 features, 3 classes


@pytest.fixture(autouse=True)
def _offline_private_cache(tmp_path, monkeypatch):
    """The shipped zoo, a fresh cache and no network."""
    monkeypatch.delenv("HDL_KERAS_ZOO_DIR", raising=False)
    monkeypatch.setenv("HDL_KERAS_ZOO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HDL_KERAS_OFFLINE", "1")


def test_zoo_entry_weights_give_the_entrys_network():
    model = models.get("mlp", weights=ENTRY)
    x = np.random.default_rng(0).uniform(size=(8, 4)).astype("float32")
    expected = zoo.load(ENTRY).predict(x, verbose=0)
    np.testing.assert_array_equal(model.predict(x, verbose=0), expected)
    fresh = models.get("mlp", input_shape=(4,), num_classes=3)
    assert not np.allclose(fresh.predict(x, verbose=0), expected)
    assert models.get("mlp", weights=ENTRY, input_shape=(4,), num_classes=3).output_shape == (None, 3)


def test_entry_of_another_architecture_is_a_clear_error():
    with pytest.raises(ValueError, match=r"'iris-mlp-dl' is a 'mlp' network, not 'small_cnn'.*get\('mlp'"):
        models.get("small_cnn", weights=ENTRY)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"num_classes": 10}, r"has num_classes=3\. Received: num_classes=10"),
        ({"input_shape": (5,)}, r"has input_shape=\(4,\)"),
        ({"hidden_units": (64,)}, r"cannot apply.*hidden_units"),
    ],
)
def test_builder_arguments_must_match_the_entry(kwargs, message):
    with pytest.raises(ValueError, match=message):
        models.get("mlp", weights=ENTRY, **kwargs)


def test_unknown_entry_and_bad_weights_are_clear_errors():
    with pytest.raises(zoo.UnknownEntryError, match="iris-mlp-dl"):
        models.get("mlp", weights="iris-mlp-dll")
    with pytest.raises(ValueError, match="Expected weights to be None, a zoo entry name"):
        models.get("mlp", weights=3, input_shape=(4,))


def test_weights_file_loads_into_the_built_model(tmp_path):
    trained = models.get("mlp", input_shape=(4,), num_classes=3)
    path = tmp_path / "mlp.weights.h5"
    trained.save_weights(path)
    model = models.get("mlp", weights=str(path), input_shape=(4,), num_classes=3)
    for saved, loaded in zip(trained.weights, model.weights, strict=True):
        np.testing.assert_array_equal(np.asarray(saved), np.asarray(loaded))
