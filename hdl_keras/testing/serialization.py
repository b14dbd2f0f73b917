"""Serialization round trips every layer, model and object of hdl_keras must pass."""

import os

import keras
import numpy as np


def assert_config_round_trip(obj):
    """Checks `from_config(get_config())` rebuilds an object with the same config.

    Works for layers, models, losses, schedules and any Keras-serializable
    object (uses `keras.saving.serialize_keras_object`, so a registered custom
    class must resolve by name).

    Returns:
        The rebuilt object.
    """
    serialized = keras.saving.serialize_keras_object(obj)
    rebuilt = keras.saving.deserialize_keras_object(serialized)
    assert type(rebuilt) is type(obj), (type(rebuilt), type(obj))
    assert rebuilt.get_config() == obj.get_config()
    return rebuilt


def assert_saved_model_round_trip(model, x, directory, atol=1e-6):
    """Saves `model` to a `.keras` file, loads it back, compares predictions.

    Args:
        model: a built `keras.Model`.
        x: a batch of inputs (numpy) the model accepts.
        directory: a writable folder (e.g. pytest's `tmp_path`).
        atol: largest allowed absolute difference of outputs.

    Returns:
        The loaded model.
    """
    path = os.path.join(str(directory), "round_trip.keras")
    expected = keras.ops.convert_to_numpy(model(x, training=False))
    model.save(path)
    loaded = keras.saving.load_model(path)
    actual = keras.ops.convert_to_numpy(loaded(x, training=False))
    np.testing.assert_allclose(actual, expected, atol=atol, rtol=0)
    assert len(loaded.weights) == len(model.weights)
    return loaded
