"""hdl_keras.utils.graph: each wrapper of private Keras API against the public behaviour it stands for."""

import keras
import numpy as np
import pytest

from hdl_keras.utils import graph

pytestmark = pytest.mark.backend_suite


def _nested_model():
    inner = keras.Sequential(
        [keras.Input((3,), name="inner_x"), keras.layers.Dense(4, name="inner_dense")], name="inner"
    )
    inputs = keras.Input((3,), name="x")
    shared = keras.layers.Dense(3, name="shared")
    hidden = shared(shared(inputs))
    outputs = keras.layers.Dense(2, name="head")(inner(hidden))
    return keras.Model(inputs, outputs, name="outer")


def test_flatten_layers_walks_nested_models_once_per_layer():
    model = _nested_model()
    names = [layer.name for layer in graph.flatten_layers(model)]
    assert names[0] == "outer"
    assert sorted(names[1:]) == ["head", "inner", "inner_dense", "inner_x", "shared", "x"]
    assert "outer" not in [layer.name for layer in graph.flatten_layers(model, include_self=False)]


def test_graph_nodes_are_topological_and_include_every_call():
    model = _nested_model()
    nodes = graph.graph_nodes(model)
    names = [node.operation.name for node in nodes]
    assert names == ["x", "shared", "shared", "inner", "head"]  # the shared layer's two calls
    seen = set()
    for node in nodes:  # every input of a node is an output of an earlier node
        assert all(id(tensor) in seen for tensor in node.input_tensors)
        seen.update(id(tensor) for tensor in node.outputs)


def test_graph_nodes_rejects_a_model_without_a_graph():
    class Subclassed(keras.Model):
        def call(self, x):
            return x

    with pytest.raises(ValueError, match="symbolic outputs"):
        graph.graph_nodes(Subclassed())
    with pytest.raises(ValueError, match="keras.Model"):
        graph.graph_nodes(keras.layers.Dense(2))


def test_run_through_graph_replaces_each_layer_call():
    model = _nested_model()
    x = np.random.default_rng(0).normal(size=(2, 3)).astype("float32")
    calls = []

    def call_fn(layer, *args, **kwargs):
        calls.append(layer.name)
        return layer(*args, **kwargs)

    assert graph.has_graph(model)
    outputs = graph.run_through_graph(model, [x], call_fn)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(outputs), keras.ops.convert_to_numpy(model(x)), rtol=1e-6)
    assert calls == ["shared", "shared", "inner", "head"]


def test_run_through_graph_rejects_a_subclassed_model():
    class Subclassed(keras.Model):
        def call(self, x):
            return x

    assert not graph.has_graph(Subclassed())
    with pytest.raises(ValueError, match="functional"):
        graph.run_through_graph(Subclassed(), [np.zeros((1, 2))], lambda layer, *a, **k: None)


def test_add_weight_to_built_layer_then_untrack_it():
    layer = keras.layers.Dense(2)
    layer.build((None, 3))
    with pytest.raises(ValueError):  # Keras refuses a plain add_weight on a built layer
        layer.add_weight(name="plain", shape=(1,))
    extra = graph.add_weight_to_built_layer(layer, name="extra", shape=(3, 2), initializer="ones", trainable=False)
    assert any(weight is extra for weight in layer.non_trainable_weights)
    with pytest.raises(ValueError):  # locked again afterwards
        layer.add_weight(name="after", shape=(1,))
    graph.untrack_variable(layer, extra)
    assert all(weight is not extra for weight in layer.weights)
    assert len(layer.weights) == 2


def test_seed_generators_of_a_random_layer():
    assert len(graph.seed_generators(keras.layers.Dropout(0.5, seed=1))) == 1
    assert graph.seed_generators(keras.layers.Dense(2)) == []


def test_set_initial_epoch_makes_fit_resume_there():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    epochs_run = []

    class Resume(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            graph.set_initial_epoch(self.model, 2)

        def on_epoch_begin(self, epoch, logs=None):
            epochs_run.append(epoch)

    x, y = np.zeros((4, 2), "float32"), np.zeros((4, 1), "float32")
    model.fit(x, y, epochs=4, verbose=0, callbacks=[Resume()])
    assert epochs_run == [2, 3]
