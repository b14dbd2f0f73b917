"""A training run killed with SIGKILL resumes from its last checkpoint and ends like an uninterrupted one."""

import json
import os
import random
import signal
import subprocess
import sys
import time

import keras
import numpy as np

from hdl_keras.preprocessing.augmentation import AugmentedBatches

# A tiny run: small CNN on 64 random 12x12 images, 4 epochs of FGSM training with
# random starts and augmentation (every source of randomness of a recipe run).
# Each epoch ends with a 1 s pause, so that the kill lands mid-run.
SCRIPT = """
import sys
import time
import keras
import numpy as np
from hdl_keras.recipes import train_recipe

pause = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: time.sleep(1.0))

rng = np.random.default_rng(0)
x = rng.uniform(size=(64, 12, 12, 1)).astype("float32")
y = rng.integers(0, 10, 64)
train_recipe("fast", "small_cnn", "mnist", objective="pgd", epochs=4, batch_size=32, train_data=(x, y),
             output_dir=sys.argv[1], attack_steps=1, seed=3, learning_rate=0.01, verbose=0,
             callbacks=[pause])
"""


def _start(output_dir):
    env = {**os.environ, "PYTHONPATH": os.getcwd() + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(output_dir)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def _final_weights(output_dir):
    model = keras.saving.load_model(output_dir / "model.keras")
    return [keras.ops.convert_to_numpy(w) for w in model.weights]


def test_a_killed_run_resumes_to_the_uninterrupted_result(tmp_path):
    reference_dir, killed_dir = tmp_path / "reference", tmp_path / "killed"
    reference = _start(reference_dir)
    victim = _start(killed_dir)
    state = killed_dir / "backup" / "state.json"
    deadline = time.monotonic() + 120
    while not state.is_file() and victim.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(random.Random(0).uniform(0.0, 1.5))  # in the pause or in the next epoch
    assert victim.poll() is None, victim.stderr.read().decode()[-2000:]
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    killed_at = json.loads(state.read_text())["epoch"]
    assert 1 <= killed_at < 4
    assert not (killed_dir / "model.keras").exists()

    resumed = _start(killed_dir)
    assert resumed.wait(timeout=180) == 0, resumed.stderr.read().decode()[-2000:]
    assert reference.wait(timeout=180) == 0, reference.stderr.read().decode()[-2000:]

    history = [json.loads(line)["epoch"] for line in (killed_dir / "history.jsonl").read_text().splitlines()]
    assert sorted(set(history)) == [1, 2, 3, 4]
    assert len(history) <= 5  # no epoch lost, at most the one being checkpointed re-run
    assert not (killed_dir / "backup").exists()
    for got, expected in zip(_final_weights(killed_dir), _final_weights(reference_dir), strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_seeded_batches_of_an_epoch_do_not_depend_on_the_epochs_before():
    x, y = np.arange(20, dtype="float32")[:, None], np.arange(20)
    straight = AugmentedBatches(x, y, batch_size=5, seed=1)
    for _ in range(3):
        straight.on_epoch_end()
    resumed = AugmentedBatches(x, y, batch_size=5, seed=1, initial_epoch=3)
    np.testing.assert_array_equal(straight.order, resumed.order)
    assert not np.array_equal(straight.order, AugmentedBatches(x, y, batch_size=5, seed=1).order)
