"""The HDL objective under keras.distribution.DataParallel (jax, two host devices)."""

import json
import os
import subprocess
import sys

import pytest

ONE_EPOCH = """
import json, sys
import keras, numpy as np
from hdl_keras.layers import to_masked
from hdl_keras.models import mlp
from hdl_keras.objectives import HolisticModel

if sys.argv[1] == "data_parallel":
    devices = keras.distribution.list_devices()
    keras.distribution.set_distribution(keras.distribution.DataParallel(devices=devices))
keras.utils.set_random_seed(0)
rng = np.random.default_rng(0)
x, y = rng.random((128, 20), dtype=np.float32), rng.integers(0, 3, 128)
base = to_masked(mlp((20,), num_classes=3))
model = HolisticModel(base.input, base.output, method="HDL", rho=1e-2)
model.compile(optimizer=keras.optimizers.SGD(0.1))
history = model.fit(x, y, batch_size=32, epochs=1, verbose=0, shuffle=False)
print(json.dumps({"devices": len(keras.distribution.list_devices()), "loss": history.history["loss"][0]}))
"""


def one_epoch(mode, device_count):
    env = {
        **os.environ,
        "KERAS_BACKEND": "jax",
        "XLA_FLAGS": f"--xla_force_host_platform_device_count={device_count}",
    }
    completed = subprocess.run(
        [sys.executable, "-c", ONE_EPOCH, mode], env=env, capture_output=True, text=True, timeout=600
    )
    if completed.returncode != 0:
        pytest.fail(completed.stderr[-2000:])
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_hdl_epoch_under_data_parallel_matches_one_device():
    pytest.importorskip("jax")
    single = one_epoch("single", 1)
    parallel = one_epoch("data_parallel", 2)
    assert (single["devices"], parallel["devices"]) == (1, 2)
    assert parallel["loss"] == pytest.approx(single["loss"], rel=1e-5)
