"""train_recipe / hdl-train with quantized weights: BinaryConnect, BinaryRelax, packed outputs."""

import json
import math

import keras
import numpy as np
import pytest

from hdl_keras import data
from hdl_keras.layers import QuantConv2D
from hdl_keras.layers import QuantDense
from hdl_keras.measure import weight_statistics
from hdl_keras.saving import load_packed
from hdl_keras_cli import train_run
from hdl_keras.recipes import train_recipe
from hdl_keras_cli.train import main

TINY_CNN = {"filters": (4,), "dense_units": 8}


def synthetic_images(n=32, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 28, 28, 1)).astype("float32"), rng.integers(0, 10, n)


class LambdaLog(keras.callbacks.Callback):
    """Records the first quantized layer's relax_lambda after the first batch of each epoch."""

    def __init__(self):
        super().__init__()
        self.values = []

    def on_train_batch_end(self, batch, logs=None):
        if batch == 0:
            layer = next(layer for layer in self.model._flatten_layers() if hasattr(layer, "relax_lambda"))
            self.values.append(float(keras.ops.convert_to_numpy(layer.relax_lambda)))


def tiny_run(tmp_path, **kwargs):
    settings = dict(
        name="paper",
        model_name="small_cnn",
        dataset="mnist",
        objective="pgd",
        epochs=1,
        batch_size=16,
        attack_steps=1,
        train_data=synthetic_images(),
        model_kwargs=TINY_CNN,
        output_dir=str(tmp_path),
        verbose=0,
    )
    settings.update(kwargs)
    return train_recipe(**settings)


@pytest.mark.backend_suite
def test_binaryrelax_schedule_ends_quantized_and_packed_file_predicts_the_same(tmp_path):
    log_callback = LambdaLog()
    model = tiny_run(
        tmp_path,
        epochs=3,
        kernel_quantizer="binary",
        scheme="binaryrelax",
        relax_rho=3.0,
        callbacks=[log_callback],
    )
    # lambda = 1, rho in the relaxed epochs, then BinaryConnect (inf) from the switch epoch (the last).
    assert log_callback.values == [1.0, 3.0, math.inf]
    quantized = [layer for layer in model.layers if isinstance(layer, (QuantDense, QuantConv2D))]
    assert [layer.name for layer in quantized] == ["conv1", "fc1", "logits"]  # every layer (Li, Wang and Xin 2020)
    for layer in quantized:
        kernel = keras.ops.convert_to_numpy(layer.kernel)
        scale = np.mean(np.abs(keras.ops.convert_to_numpy(layer.float_kernel)))
        np.testing.assert_allclose(np.abs(kernel), scale, rtol=1e-6)  # exactly +-mean|w| after the switch
    log = json.loads((tmp_path / "log.json").read_text())
    quantization = log["quantization"]
    assert quantization["scheme"] == "binaryrelax" and quantization["bits"] == 1
    assert quantization["relax"] == {"lambda_0": 1.0, "rho": 3.0, "switch_epoch": 3}
    assert quantization["skip_first_last"] is False
    packed = tmp_path / quantization["packed_file"]
    assert packed.stat().st_size == quantization["packed_size_bytes"]
    # 1 bit per kernel weight: the packed file is far below the float32 weights file.
    assert packed.stat().st_size * 8 < (tmp_path / "model.weights.h5").stat().st_size
    restored = load_packed(packed)
    x = synthetic_images(4, seed=1)[0]
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(restored(x)), keras.ops.convert_to_numpy(model(x)), rtol=1e-5, atol=1e-5
    )


@pytest.mark.parametrize("objective", ["trades", "tradeoff"])
def test_binaryconnect_composes_with_the_other_objectives(objective, tmp_path):
    model = tiny_run(tmp_path, objective=objective, kernel_quantizer="ternary", skip_first_last=True)
    kinds = {
        layer.name: type(layer).__name__
        for layer in model.layers
        if "conv" in layer.name or "fc" in layer.name or layer.name == "logits"
    }
    assert kinds == {"conv1": "Conv2D", "fc1": "QuantDense", "logits": "Dense"}  # first and last kept float
    log = json.loads((tmp_path / "log.json").read_text())
    assert log["objective"] == objective
    assert log["quantization"]["scheme"] == "binaryconnect" and log["quantization"]["relax"] is None
    assert log["quantization"]["bits"] == 2
    assert np.isfinite(model.history.history["loss"][0])
    assert (tmp_path / "model.hdlpack").exists()


def test_float_run_writes_no_packed_file_and_records_no_quantization(tmp_path):
    tiny_run(tmp_path)
    assert not (tmp_path / "model.hdlpack").exists()
    assert json.loads((tmp_path / "log.json").read_text())["quantization"] is None


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"scheme": "binaryrelax"}, "kernel_quantizer"),
        ({"skip_first_last": True}, "kernel_quantizer"),
        ({"kernel_quantizer": "binary", "relax_rho": 2.0}, "scheme='binaryrelax'"),
        ({"kernel_quantizer": "binary", "scheme": "binaryrelax", "relax_switch_epoch": 3}, "1..epochs"),
        ({"kernel_quantizer": "binary", "scheme": "binaryrelax", "relax_rho": 0.5}, "rho"),
        ({"kernel_quantizer": "binary", "scheme": "relaxed"}, "scheme"),
        ({"kernel_quantizer": "9bit"}, "quantizer"),
    ],
)
def test_bad_quantization_settings_raise_before_training(kwargs, match):
    with pytest.raises(ValueError, match=match):
        train_recipe("paper", "small_cnn", "mnist", epochs=2, train_data=synthetic_images(4), **kwargs)


@pytest.mark.parametrize(
    "argv",
    [
        ["paper", "--kernel-quantizer", "9bit", "--out", "x"],
        ["paper", "--kernel-quantizer", "binary", "--scheme", "relaxed", "--out", "x"],
        [
            "paper",
            "--relax-rho",
            "2",
            "--kernel-quantizer",
            "binary",
            "--out",
            "x",
            "--dataset",
            "mnist",
            "--model",
            "small_cnn",
        ],
    ],
)
def test_cli_bad_quantization_options_exit_with_code_2(argv, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert "hdl-train" in capsys.readouterr().err


def test_cli_trains_a_quantized_model_and_reports_sparsity_bits_and_packed_size(tmp_path, monkeypatch):
    images = (synthetic_images(32), synthetic_images(8, seed=1))
    monkeypatch.setattr(data, "load", lambda name: images)  # the CLI and train_recipe load through it
    seen = {}

    def fake_evaluation(model, x, y, dataset, **kwargs):  # the attacks are tested in test_evaluate_like_paper
        seen["model"] = model
        return {
            "dataset": dataset,
            "num_examples": len(x),
            "nattack_examples": 0,
            "flags": {},
            "accuracy": {"natural": 0.5, "fgsm": 0.25, "ifgsm20": 0.25, "cw": 0.25, "worst_case": 0.25},
            "settings": {"eps": 8 / 255},
        }

    monkeypatch.setattr(train_run, "evaluate_like_paper", fake_evaluation)
    out = tmp_path / "run"
    main(
        [
            "paper",
            "--model",
            "small_cnn",
            "--dataset",
            "mnist",
            "--epochs",
            "1",
            "--batch-size",
            "16",
            "--attack-steps",
            "1",
            "--kernel-quantizer",
            "ternary",
            "--evaluate",
            "8",
            "--quiet",
            "--out",
            str(out),
        ]
    )
    result = json.loads((out / "evaluation.json").read_text())
    weights = result["weights"]
    assert weights == weight_statistics(seen["model"])
    assert weights["bits_per_weight"] == 2.0 and 0.0 <= weights["zero_channels"] <= 1.0
    assert weights["zero_weights"] > 0.0  # ternary kernels hold exact zeros (TWN threshold)
    packed_size = (out / "model.hdlpack").stat().st_size
    assert result["training"]["quantization"]["packed_size_bytes"] == packed_size
    markdown = (out / "evaluation.md").read_text()
    assert "2 bits per weight" in markdown and f"{packed_size:,} bytes" in markdown
    assert "--kernel-quantizer ternary" in result["command"]


def test_learning_rate_override_reaches_the_schedule_and_the_log(tmp_path):
    tiny_run(tmp_path, learning_rate=0.02, kernel_quantizer="binary")
    log = json.loads((tmp_path / "log.json").read_text())
    assert log["schedule"]["initial_learning_rate"] == 0.02 and log["recipe"]["learning_rate"] == 0.02
    with pytest.raises(ValueError, match="learning_rate"):
        train_recipe("paper", "small_cnn", "mnist", learning_rate=0.0, train_data=synthetic_images(4))
