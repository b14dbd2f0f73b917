"""hdl_keras.utils.surgery: config rewrite and weight copy shared by the layer conversions."""

import keras
import numpy as np
import pytest

from hdl_keras.utils import surgery

pytestmark = pytest.mark.backend_suite


def _model():
    inner = keras.Sequential([keras.Input((3,)), keras.layers.Dense(3, name="inner_dense")], name="inner")
    inputs = keras.Input((3,))
    hidden = keras.layers.Dense(3, activation="relu", name="first")(inputs)
    outputs = keras.layers.Dense(2, name="head")(inner(hidden))
    model = keras.Model(inputs, outputs)
    for weight in model.weights:
        weight.assign(np.random.default_rng(len(weight.path)).normal(size=weight.shape))
    return model


def _linear(entry):
    """Every Dense becomes linear (activation None)."""
    if entry.get("class_name") == "Dense":
        entry["config"] = {**entry["config"], "activation": "linear"}
    return entry


def test_rewrite_configs_applies_to_nested_objects_and_leaves_the_source():
    serialized = surgery.serialized_model(_model())
    before = repr(serialized)
    rewritten = surgery.rewrite_configs(serialized, _linear)
    assert repr(serialized) == before
    assert "relu" in before and "relu" not in repr(rewritten)
    assert "compile_config" not in serialized


def test_replace_layers_copies_every_weight_and_calls_copy_layer_first():
    model = _model()
    seen = []

    def copy_layer(source, target):
        seen.append(source.name)
        return False

    rebuilt = surgery.replace_layers(model, _linear, copy_layer)
    assert rebuilt.get_layer("first").activation is keras.activations.linear
    for source, target in zip(model.weights, rebuilt.weights):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(source), keras.ops.convert_to_numpy(target))
    assert {"first", "inner", "inner_dense", "head"} <= set(seen)
    x = np.ones((2, 3), "float32")
    assert not np.allclose(keras.ops.convert_to_numpy(rebuilt(x)), keras.ops.convert_to_numpy(model(x)))


def test_copy_weights_rejects_models_of_different_layers():
    source = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, name="a")])
    other = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, name="b")])
    with pytest.raises(ValueError, match="rebuilt as 'b'"):
        surgery.copy_weights(source, other, lambda s, t: False)
