"""ONNX export of shrunk networks: convolutions padded to whole channel blocks, so that
onnxruntime runs them in its blocked NCHWc kernels as it runs the dense network."""

import collections

import keras
import numpy as np
import pytest

from hdl_keras import deploy
from hdl_keras import models
from hdl_keras.deploy.to_onnx import CHANNEL_BLOCK
from hdl_keras.pruning import shrink

onnx = pytest.importorskip("onnx", reason="ONNX export needs the [export] extra (onnx)")
onnxruntime = pytest.importorskip("onnxruntime", reason="ONNX checks need the [export] extra (onnxruntime)")


def conv_net():
    """conv 32 - BN - elu - pool - conv 32 - pool - Dense 10, seeded, nonzero biases."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((12, 12, 1))
    x = keras.layers.Conv2D(32, 3, padding="same", name="conv1")(inputs)
    x = keras.layers.BatchNormalization(name="bn1")(x)
    x = keras.layers.Activation("elu", name="elu1")(x)
    x = keras.layers.MaxPooling2D(name="pool1")(x)
    x = keras.layers.Conv2D(32, 3, padding="same", activation="relu", name="conv2")(x)
    x = keras.layers.MaxPooling2D(name="pool2")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    model = keras.Model(inputs, keras.layers.Dense(10, name="logits")(x))
    rng = np.random.default_rng(0)
    for layer in model.layers:
        weights = layer.get_weights()
        if weights:
            layer.set_weights(
                [rng.normal(0.5 if w.ndim == 1 else 0.0, 0.2, w.shape).astype("float32") for w in weights]
            )
    return model


def channel_pruned(model):
    """conv1 keeps 21 filters (11 constant channels feed the zero-padded conv2), conv2 27."""
    for name, zeroed in (("conv1", 11), ("conv2", 5)):
        kernel, bias = model.get_layer(name).get_weights()
        kernel[..., :zeroed] = 0.0
        model.get_layer(name).set_weights([kernel, bias])
    return shrink(model)


def optimized_graph(path, tmp_path):
    """The nodes onnxruntime runs (its default, all optimizations) as `(op_type, domain)`."""
    options = onnxruntime.SessionOptions()
    options.optimized_model_filepath = str(tmp_path / f"optimized_{path.name}")
    onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return [(node.op_type, node.domain) for node in onnx.load(options.optimized_model_filepath).graph.node]


def test_shrunk_convolutions_fill_channel_blocks_and_keep_the_logits(tmp_path):
    model = conv_net()
    shrunk = channel_pruned(model)
    assert [shrunk.get_layer(name).filters for name in ("conv1", "conv2")] == [21, 27]
    assert "conv2_constant_channels" in [layer.name for layer in shrunk.layers]
    path = tmp_path / "shrunk.onnx"
    deploy.export(shrunk, path)
    x = np.random.default_rng(1).uniform(size=(16, 12, 12, 1)).astype("float32")
    reference = keras.ops.convert_to_numpy(model(x, training=False))
    for optimization in ("basic", "all"):
        np.testing.assert_allclose(deploy.predict_onnx(path, x, optimization=optimization), reference, atol=1e-4)
    graph = onnx.load(str(path)).graph
    kernels = {init.name.rsplit("_", 2)[0]: tuple(init.dims) for init in graph.initializer if "_kernel_" in init.name}
    assert kernels["conv1"] == (2 * CHANNEL_BLOCK, 1, 3, 3)  # 21 filters and 11 zero ones
    assert kernels["conv2"] == (2 * CHANNEL_BLOCK, 2 * CHANNEL_BLOCK, 3, 3)
    # The constant channels' map is folded into conv2, not added after it.
    assert "Add" not in collections.Counter(node.op_type for node in graph.node)


def test_shrunk_network_runs_in_the_blocked_layout_of_the_dense_one(tmp_path):
    dense_path, shrunk_path = tmp_path / "dense.onnx", tmp_path / "shrunk.onnx"
    deploy.export(conv_net(), dense_path)
    deploy.export(channel_pruned(conv_net()), shrunk_path)
    dense, shrunk = optimized_graph(dense_path, tmp_path), optimized_graph(shrunk_path, tmp_path)
    blocked = [domain == "com.microsoft.nchwc" for op_type, domain in dense if op_type == "Conv"]
    if not any(blocked):
        pytest.skip("onnxruntime has no NCHWc convolutions on this CPU")
    assert [domain == "com.microsoft.nchwc" for op_type, domain in shrunk if op_type == "Conv"] == blocked
    reorders = collections.Counter(op_type for op_type, _ in shrunk if op_type.startswith("Reorder"))
    assert reorders == collections.Counter(op_type for op_type, _ in dense if op_type.startswith("Reorder"))


def test_shrunk_resnet_with_padded_streams_and_option_a_shortcuts_keeps_the_logits(tmp_path):
    """resnet20: residual `Add`s of padded and unpadded streams, `ZeroPadChannels` (p, p) shortcuts."""
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    model = models.resnet20(input_shape=(8, 8, 3))
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            shape = layer.gamma.shape
            layer.set_weights(
                [
                    rng.uniform(0.5, 1.5, shape),
                    rng.normal(0.0, 0.3, shape),
                    rng.normal(0.0, 0.3, shape),
                    rng.uniform(0.5, 1.5, shape),
                ]
            )
        if isinstance(layer, keras.layers.Conv2D):
            kernel, *rest = layer.get_weights()
            kernel[..., rng.random(kernel.shape[-1]) < 0.25] = 0.0
            layer.set_weights([kernel, *rest])
    shrunk = shrink(model)
    assert {shrunk.get_layer(name).filters for name in ("stage2_block1_conv1", "stage3_block1_conv1")} == {24, 46}
    path = tmp_path / "resnet.onnx"
    deploy.export(shrunk, path)
    x = rng.uniform(size=(8, 8, 8, 3)).astype("float32")
    reference = keras.ops.convert_to_numpy(model(x, training=False))
    for optimization in ("basic", "all"):
        np.testing.assert_allclose(deploy.predict_onnx(path, x, optimization=optimization), reference, atol=1e-4)
