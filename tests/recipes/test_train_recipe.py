"""train_recipe end to end on tiny synthetic data, resume from the backup, the hdl-train CLI."""

import json
import os

import keras
import numpy as np
import pytest

from hdl_keras.recipes import train_recipe
from hdl_keras_cli.train import main

TINY_CNN = {"filters": (4,), "dense_units": 8}


def synthetic_images(n=32, shape=(32, 32, 3), seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, *shape)).astype("float32"), rng.integers(0, 10, n)


class Interrupt(keras.callbacks.Callback):
    """Stops the run with an error at the end of epoch `epoch` (0-based)."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            raise RuntimeError("interrupted")


@pytest.mark.backend_suite
def test_recipe_end_to_end_writes_weights_log_and_command(tmp_path):
    out = tmp_path / "run"
    model = train_recipe(
        "fast",
        "small_cnn",
        dataset="cifar10",
        epochs=1,
        batch_size=16,
        output_dir=str(out),
        train_data=synthetic_images(),
        model_kwargs=TINY_CNN,
        verbose=0,
    )
    assert model.output_shape == (None, 10)
    for name in ("model.keras", "model.weights.h5", "log.json", "command.txt", "history.jsonl"):
        assert (out / name).exists(), name
    assert not (out / "backup").exists()  # removed once the run has finished
    log = json.loads((out / "log.json").read_text())
    assert [row["epoch"] for row in log["history"]] == [1]
    assert log["attack"]["steps"] == 1 and log["schedule"]["name"] == "one_cycle"
    assert log["flip"] is True and log["backend"] == keras.backend.backend()
    assert log["command"].startswith("train_recipe('fast'")
    loaded = keras.saving.load_model(out / "model.keras")
    x = synthetic_images(4)[0]
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(loaded(x)), keras.ops.convert_to_numpy(model(x)), rtol=1e-5, atol=1e-5
    )


@pytest.mark.parametrize("objective", ["pgd", "trades", "tradeoff"])
def test_recipe_runs_every_objective_on_the_paper_schedule(objective, tmp_path):
    model = train_recipe(
        "paper",
        "small_cnn",
        dataset="mnist",
        objective=objective,
        epochs=1,
        batch_size=16,
        attack_steps=1,
        train_data=synthetic_images(shape=(28, 28, 1)),
        model_kwargs=TINY_CNN,
        output_dir=str(tmp_path),
        verbose=0,
    )
    log = json.loads((tmp_path / "log.json").read_text())
    assert log["objective"] == objective and log["flip"] is False
    assert log["schedule"] == {"name": "paper", "initial_learning_rate": 0.1, "decay_epochs": [], "factor": 0.1}
    assert np.isfinite(model.history.history["loss"][0])


@pytest.mark.backend_suite
def test_interrupted_run_resumes_at_the_next_epoch(tmp_path):
    kwargs = dict(
        name="paper",
        model_name="small_cnn",
        dataset="cifar10",
        epochs=3,
        batch_size=16,
        attack_steps=1,
        train_data=synthetic_images(),
        model_kwargs=TINY_CNN,
        output_dir=str(tmp_path),
        verbose=0,
    )
    with pytest.raises(RuntimeError, match="interrupted"):
        train_recipe(**kwargs, callbacks=[Interrupt(epoch=1)])
    assert os.path.isdir(tmp_path / "backup")
    model = train_recipe(**kwargs)
    assert len(model.history.epoch) == 1 and model.history.epoch == [2]  # only the third epoch ran
    assert int(keras.ops.convert_to_numpy(model.history.model.optimizer.iterations)) == 3 * 2
    log = json.loads((tmp_path / "log.json").read_text())
    assert [row["epoch"] for row in log["history"]] == [1, 2, 3]


def test_train_recipe_rejects_unknown_names():
    with pytest.raises(ValueError, match="recipe"):
        train_recipe("slow")
    with pytest.raises(ValueError, match="objective"):
        train_recipe("paper", objective="mart")
    with pytest.raises(ValueError, match="model"):
        train_recipe("paper", model_name="resnet7")


@pytest.mark.parametrize(
    "argv",
    [
        ["slow", "--out", "x"],
        ["paper", "--model", "resnet7", "--out", "x"],
        ["paper", "--dataset", "imagenet", "--out", "x"],
        ["paper", "--objective", "mart", "--out", "x"],
        ["paper"],
    ],
)
def test_cli_unknown_names_exit_with_code_2(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert "hdl-train" in capsys.readouterr().err
