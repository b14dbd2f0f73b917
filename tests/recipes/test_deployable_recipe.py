"""train_deployable: robust + RGSM channel sparsity, shrink, then quantized fine-tuning, exportable."""

import keras
import numpy as np
import pytest

from hdl_keras import deploy
from hdl_keras.layers.quantized import QuantizedKernelMixin
from hdl_keras.models import small_cnn
from hdl_keras.recipes.deployable import train_deployable


def toy_images(n=64, seed=0):
    """Two classes: bright top half or bright bottom half, on 12x12 images."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = rng.uniform(0.0, 0.3, (n, 12, 12, 1)).astype("float32")
    x[y == 0, :6] += 0.6
    x[y == 1, 6:] += 0.6
    return x, y


def train_toy(**settings):
    """`train_deployable` on the toy images with a conv 8 - conv 8 - Dense 16 net; returns `(x, model, summary)`."""
    x, y = toy_images()
    base = small_cnn(input_shape=(12, 12, 1), num_classes=2, filters=(8, 8), dense_units=16)
    defaults = {"eps": 0.05, "attack_steps": 1, "learning_rate": 0.05, "batch_size": 32, "verbose": 0}
    return (x, *train_deployable(base, x, y, **{**defaults, **settings}))


def test_recipe_shrinks_then_quantizes_and_exports(tmp_path):
    x, model, summary = train_toy(sparsify_epochs=2, quantize_epochs=2, rgsm_lam1=0.3, kernel_quantizer="ternary")
    assert summary["channels"]["after"] < summary["channels"]["before"]  # RGSM zeroed channels, shrink removed them
    assert summary["parameters"]["after"] < summary["parameters"]["before"]
    quantized = [layer for layer in model.layers if isinstance(layer, QuantizedKernelMixin)]
    assert len(quantized) == 4
    assert all(np.isinf(keras.ops.convert_to_numpy(layer.relax_lambda)) for layer in quantized)  # BinaryRelax switched
    assert model.get_layer("conv1").filters < 8
    if pytest.importorskip("onnxruntime", reason="export check needs the [export] extra"):
        path = tmp_path / "model.onnx"
        deploy.export(model, path)
        np.testing.assert_allclose(
            deploy.predict_onnx(path, x, optimization="basic"),
            keras.ops.convert_to_numpy(model(x, training=False)),
            atol=1e-5,
        )


def test_admm_channel_sparsity_prunes_that_fraction_of_each_hidden_layer():
    _, model, summary = train_toy(
        sparsify_epochs=1, quantize_epochs=1, channel_sparsity=0.5, kernel_quantizer="binary", float_layers=["conv1"]
    )
    # conv1 and the logits keep their channels; conv2 and fc1 lose half (ADMM's projection, hard-pruned).
    filters = {layer.name: int(layer.kernel.shape[-1]) for layer in model.layers if hasattr(layer, "kernel")}
    assert filters == {"conv1": 8, "conv2": 4, "fc1": 8, "logits": 2}
    assert summary["channels"] == {"before": 34, "after": 22}
    kinds = {layer.name: type(layer).__name__ for layer in model.layers if hasattr(layer, "kernel")}
    assert kinds == {"conv1": "Conv2D", "conv2": "QuantConv2D", "fc1": "QuantDense", "logits": "QuantDense"}


def test_bad_arguments_are_refused():
    x, y = toy_images(8)
    base = small_cnn(input_shape=(12, 12, 1), num_classes=2, filters=(4,), dense_units=4)
    with pytest.raises(ValueError, match="Expected objective"):
        train_deployable(base, x, y, objective="hdl")
    with pytest.raises(ValueError, match="Expected scheme"):
        train_deployable(base, x, y, scheme="relax")
    with pytest.raises(ValueError, match="sparsify_epochs"):
        train_deployable(base, x, y, sparsify_epochs=0)
    with pytest.raises(ValueError, match="channel_sparsity"):
        train_deployable(base, x, y, channel_sparsity=1.0)
    with pytest.raises(ValueError, match=r"not Dense/Conv2D layers of the model: \['stem'\]"):
        train_deployable(base, x, y, float_layers=["stem"])  # refused before the float phase trains


def test_hdl_train_runs_the_composed_recipe(tmp_path):
    pytest.importorskip("onnx", reason="the composed recipe writes model.onnx with the [export] extra")
    import json

    from hdl_keras_cli.train import main

    out = tmp_path / "run"
    main(
        [
            "seed",
            "--model",
            "small_cnn",
            "--dataset",
            "mnist",
            "--sparsify-epochs",
            "1",
            "--epochs",
            "1",
            "--train-subset",
            "128",
            "--attack-steps",
            "1",
            "--eps",
            "0.1",
            "--rgsm-lam1",
            "0.3",
            "--kernel-quantizer",
            "binary",
            "--float-layers",
            "conv1",
            "--quantize-learning-rate",
            "0.001",
            "--scheme",
            "binaryrelax",
            "--batch-size",
            "64",
            "--quiet",
            "--out",
            str(out),
        ]
    )
    log = json.loads((out / "log.json").read_text())
    assert log["shrink"]["channels"]["after"] < log["shrink"]["channels"]["before"]
    assert log["quantization"]["bits"] == 1
    assert (log["quantization"]["float_layers"], log["quantize_learning_rate"]) == (["conv1"], 0.001)
    assert (out / "model.onnx").stat().st_size == log["quantization"]["onnx_bytes"]
    assert (out / "model.hdlpack").stat().st_size == log["quantization"]["packed_size_bytes"]
    assert log["command"].startswith("hdl-train seed --model small_cnn")


def test_hdl_train_composed_recipe_needs_a_quantizer(tmp_path, capsys):
    from hdl_keras_cli.train import main

    with pytest.raises(SystemExit):
        main(["seed", "--model", "small_cnn", "--dataset", "mnist", "--sparsify-epochs", "1", "--out", str(tmp_path)])
    assert "--kernel-quantizer" in capsys.readouterr().err


def test_hdl_train_quantized_phase_flags_need_the_composed_recipe(tmp_path, capsys):
    from hdl_keras_cli.train import main

    with pytest.raises(SystemExit):
        main(["seed", "--model", "small_cnn", "--dataset", "mnist", "--float-layers", "conv1", "--out", str(tmp_path)])
    assert "--float-layers set the composed recipe's quantized phase: pass --sparsify-epochs" in capsys.readouterr().err
