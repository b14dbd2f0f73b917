"""hdl_keras.deploy: ONNX and LiteRT files of float, hard-pruned, shrunk and quantized
models give the Keras model's logits in the stock runtimes, with integer kernels."""

import keras
import numpy as np
import pytest

from hdl_keras import deploy
from hdl_keras.layers import to_masked
from hdl_keras.layers import to_quantized
from hdl_keras.layers.export import export_pruned
from hdl_keras.models import small_cnn
from hdl_keras.pruning import shrink
from hdl_keras.quantizers import BinaryQuantizer
from hdl_keras.quantizers import KBitQuantizer
from hdl_keras.quantizers import TernaryQuantizer
from hdl_keras.quantizers import set_relax_lambda
from hdl_keras.testing.toy_models import small_mlp

onnx = pytest.importorskip("onnx", reason="ONNX export needs the [export] extra (onnx)")
pytest.importorskip("onnxruntime", reason="ONNX checks need the [export] extra (onnxruntime)")

# The jax and torch suites (CI) run the float and one quantized ONNX check and the
# LiteRT backend error; the rest, backend-independent file writing, runs on tensorflow.
backend_suite = pytest.mark.backend_suite

QUANTIZERS = {
    "binary": "binary",
    "binary_per_channel": BinaryQuantizer(per_channel=True),
    "ternary_per_channel": TernaryQuantizer(per_channel=True),
    "4bit": "4bit",
    "4bit_per_channel": KBitQuantizer(bits=4, per_channel=True),
    "8bit": KBitQuantizer(bits=8),
}


def tiny_cnn(seed=0):
    """A seeded conv 4 - pool - conv 8 - pool - Dense 8 - Dense 10 net, nonzero biases."""
    keras.utils.set_random_seed(seed)
    model = small_cnn(filters=(4, 8), dense_units=8)
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if getattr(layer, "bias", None) is not None:
            layer.bias.assign(rng.normal(0.0, 0.1, layer.bias.shape).astype("float32"))
    return model


def images(n=16, seed=1):
    return np.random.default_rng(seed).uniform(size=(n, 28, 28, 1)).astype("float32")


def keras_logits(model, x):
    return keras.ops.convert_to_numpy(model(x, training=False))


def onnx_logits(model, x, tmp_path, optimization="basic"):
    path = tmp_path / "model.onnx"
    size = deploy.export(model, path, format="onnx")
    assert size == path.stat().st_size
    return deploy.predict_onnx(path, x, batch_size=5, optimization=optimization), path


def kernel_initializers(path):
    """The ONNX initializers that hold kernels (float `{layer}_kernel_N`, integer `{layer}_levels_N`,
    binary `{layer}_bits_N`), by layer."""
    graph = onnx.load(str(path)).graph
    kernels = {}
    for init in graph.initializer:
        layer, kind, _ = init.name.rsplit("_", 2)
        if kind in ("kernel", "levels", "bits"):
            kernels[layer] = init
    return kernels


@backend_suite
@pytest.mark.parametrize("build", [tiny_cnn, lambda: small_mlp(num_features=12)], ids=["cnn", "mlp"])
def test_float_onnx_matches_keras(build, tmp_path):
    model = build()
    x = images() if len(model.inputs[0].shape) == 4 else np.random.default_rng(0).normal(size=(9, 12)).astype("float32")
    logits, _ = onnx_logits(model, x, tmp_path, optimization="all")
    np.testing.assert_allclose(logits, keras_logits(model, x), atol=1e-4)


def test_masked_model_exports_its_hard_pruned_network(tmp_path):
    model = to_masked(tiny_cnn())
    rng = np.random.default_rng(0)
    for layer in model.layers:
        if hasattr(layer, "mask_logits"):
            layer.mask_logits.assign(rng.normal(size=layer.mask_logits.shape).astype("float32"))
    x = images()
    logits, path = onnx_logits(model, x, tmp_path)
    np.testing.assert_allclose(logits, keras_logits(export_pruned(model), x), atol=1e-5)
    kernel = onnx.numpy_helper.to_array(kernel_initializers(path)["fc1"])
    assert 0.3 < float(np.mean(kernel == 0)) < 0.7  # about half the logits s are <= 0


def test_shrunk_model_exports_the_smaller_network(tmp_path):
    model = tiny_cnn()
    conv1 = model.get_layer("conv1")
    kernel, bias = conv1.get_weights()
    kernel[..., :2] = 0.0  # two constant channels relu(bias) into a "same" conv
    conv1.set_weights([kernel, np.abs(bias) + 0.1])
    shrunk = shrink(model)
    x = images()
    logits, path = onnx_logits(shrunk, x, tmp_path, optimization="all")
    np.testing.assert_allclose(logits, keras_logits(model, x), atol=1e-4)
    shapes = {layer: tuple(init.dims) for layer, init in kernel_initializers(path).items()}
    assert shapes["conv1"] == (2, 1, 3, 3)  # (out, in, kh, kw): 2 of 4 filters left
    assert shapes["conv2"] == (8, 2, 3, 3)


@pytest.mark.parametrize(
    "name",
    [pytest.param(name, id=name, marks=[backend_suite] if name == "4bit_per_channel" else []) for name in QUANTIZERS],
)
def test_quantized_kernels_leave_as_integers(name, tmp_path):
    model = to_quantized(tiny_cnn(), QUANTIZERS[name])
    x = images(64)
    exact, path = onnx_logits(model, x, tmp_path, optimization="basic")
    reference = keras_logits(model, x)
    np.testing.assert_allclose(exact, reference, atol=1e-5)
    # onnxruntime's default optimizations keep the float computation: Dense kernels are stored
    # (out, in) for Gemm(transB=1), which its MatMulNBits fusion (int8 activations) leaves alone.
    fused = deploy.predict_onnx(path, x, optimization="all")
    np.testing.assert_allclose(fused, reference, atol=1e-4)
    kernels = kernel_initializers(path)
    assert sorted(kernels) == ["conv1", "conv2", "fc1", "logits"]
    bits = {"binary": 1, "binary_per_channel": 1, "8bit": 8}.get(name, 4)
    expected = {1: onnx.TensorProto.UINT8, 4: onnx.TensorProto.INT4, 8: onnx.TensorProto.INT8}[bits]
    assert {init.data_type for init in kernels.values()} == {expected}  # no float kernel
    assert len(kernels["fc1"].raw_data) == 8 * 8 * 7 * 7 * bits // 8  # (8, 392) kernel, transposed for Gemm
    assert all(init.name.split("_")[1] == ("bits" if bits == 1 else "levels") for init in kernels.values())


def test_binary_kernels_leave_as_one_bit_and_fill_channel_blocks(tmp_path):
    """A float stem of 20 filters leaves padded to 32: the binary kernel after it gets zero rows in the graph."""
    keras.utils.set_random_seed(3)
    model = to_quantized(small_cnn(filters=(20, 8), dense_units=8), "binary", skip_first_last=True)
    x = images(32)
    logits, path = onnx_logits(model, x, tmp_path, optimization="all")
    np.testing.assert_allclose(logits, keras_logits(model, x), atol=1e-4)
    kernels = kernel_initializers(path)
    assert tuple(kernels["conv1"].dims) == (32, 1, 3, 3)  # float, 20 filters + 12 padded
    assert kernels["conv2"].data_type == onnx.TensorProto.UINT8
    assert len(kernels["conv2"].raw_data) == 3 * 3 * 20 * 8 // 8  # 1 bit per weight, no padded rows stored


def test_relaxed_kernels_are_refused(tmp_path):
    model = to_quantized(tiny_cnn(), "binary")
    set_relax_lambda(model, 2.0)
    with pytest.raises(ValueError, match="relaxed kernel"):
        deploy.export(model, tmp_path / "model.onnx")


def test_bad_format_path_and_layer_are_refused(tmp_path):
    model = small_mlp()
    with pytest.raises(ValueError, match="Expected format"):
        deploy.export(model, tmp_path / "model.onnx", format="tflite")
    with pytest.raises(ValueError, match="must end with '.tflite'"):
        deploy.export(model, tmp_path / "model.onnx", format="litert")
    inputs = keras.Input((6,))
    unsupported = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.GaussianNoise(0.1)(inputs)))
    with pytest.raises(ValueError, match="does not support layer"):
        deploy.export(unsupported, tmp_path / "model.onnx")


def test_export_model_is_the_top_level_alias():
    import hdl_keras

    assert hdl_keras.export_model is deploy.export


needs_tensorflow = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="LiteRT export traces the model with TensorFlow's converter (tensorflow backend only)",
)


@needs_tensorflow
@pytest.mark.parametrize("quantizer", [None, "binary", "4bit"], ids=["float", "binary", "4bit"])
def test_litert_matches_keras_with_integer_kernels(quantizer, tmp_path):
    pytest.importorskip("ai_edge_litert", reason="LiteRT checks need the [export] extra")
    model = tiny_cnn() if quantizer is None else to_quantized(tiny_cnn(), quantizer)
    path = tmp_path / "model.tflite"
    size = deploy.export(model, path, format="litert")
    x = images()
    np.testing.assert_allclose(deploy.predict_litert(path, x, batch_size=5), keras_logits(model, x), atol=1e-4)
    interpreter = deploy.runtime.litert_interpreter(path)
    operators = {op["op_name"] for op in interpreter._get_ops_details()}
    assert "CUSTOM" not in operators
    if quantizer is None:
        assert "DEQUANTIZE" not in operators
    else:
        assert "DEQUANTIZE" in operators
        float_size = deploy.export(tiny_cnn(), tmp_path / "float.tflite", format="litert")
        assert size < 0.4 * float_size  # kernels at 4 bits instead of 32


@backend_suite
@pytest.mark.skipif(keras.backend.backend() == "tensorflow", reason="checks the error raised off tensorflow")
def test_litert_off_tensorflow_says_why(tmp_path):
    with pytest.raises(RuntimeError, match="KERAS_BACKEND=tensorflow"):
        deploy.export(small_mlp(), tmp_path / "model.tflite", format="litert")
