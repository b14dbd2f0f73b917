"""Fixtures of the bad-input cases: tiny models and batches, files, command lines, a scratch zoo.

Every fixture builds what one case needs in a few milliseconds (tiny models
with a fixed seed, 4 to 8 rows of data), so that the corpus runs fast.
"""

import os
import pathlib
import shutil
import socket
import subprocess
import sys
import threading

import keras
import numpy as np

from hdl_keras.testing.bad_inputs.case import CliError
from hdl_keras.testing.bad_inputs.case import CliWarning
from hdl_keras.testing.cli import environment


def mlp(num_classes=3, num_features=4, seed=0):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((num_features,))
    hidden = keras.layers.Dense(8, activation="relu")(inputs)
    return keras.Model(inputs, keras.layers.Dense(num_classes)(hidden))


def cnn(seed=0):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((8, 8, 1))
    hidden = keras.layers.Conv2D(4, 3, activation="relu")(inputs)
    logits = keras.layers.Dense(3)(keras.layers.Flatten()(hidden))
    return keras.Model(inputs, logits)


def two_output_model():
    inputs = keras.Input((4,))
    return keras.Model(inputs, [keras.layers.Dense(3)(inputs), keras.layers.Dense(2)(inputs)])


def holistic_model(**kwargs):
    from hdl_keras.objectives import HolisticModel

    inputs = keras.Input((4,))
    hidden = keras.layers.Dense(8, activation="relu")(inputs)
    return HolisticModel(inputs, keras.layers.Dense(3)(hidden), **kwargs)


def table_batch(n=6, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(size=(n, 4)).astype("float32"), np.arange(n) % 3


def image_batch(n=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(size=(n, 8, 8, 1)).astype("float32"), np.arange(n) % 3


def backend_tensor(x):
    return keras.ops.convert_to_tensor(x)


def write_csv(folder, text, name="table.csv"):
    path = pathlib.Path(folder) / name
    path.write_text(text)
    return path


def make_attack(name, model=None, **kwargs):
    from hdl_keras import attacks

    return getattr(attacks, name)(model if model is not None else mlp(), **kwargs)


def fgsm_call(x, y, model=None, **kwargs):
    return make_attack("FGSM", model, **kwargs)(x, y)


def run_cli(app_module, *args):
    """Runs a command line's `main` in-process; raises CliError / CliWarning from what it printed."""
    import importlib

    from hdl_keras.testing.cli import invoke

    result = invoke(importlib.import_module(app_module).main, args)
    if result.exit_code != 0:
        raise CliError(result.stderr.strip())
    if "warning:" in result.stderr:
        raise CliWarning(result.stderr.strip())
    return result.stdout


def run_subprocess_cli(env_overrides, *args):
    """Runs `python -m MODULE ARGS` with `env_overrides`; raises CliError with its stderr."""
    env = {**os.environ, **env_overrides}
    result = subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines()
        if len(lines) != 1:
            raise RuntimeError(f"expected one line on stderr, got {len(lines)}:\n{result.stderr}")
        raise CliError(lines[0])
    return result.stdout


def scratch_zoo(folder, broken=False):
    """A scratch zoo (env `HDL_KERAS_ZOO_DIR`) holding a copy of iris-mlp-dl (and a broken card)."""
    from hdl_keras import zoo

    root = pathlib.Path(folder) / "zoo"
    if not root.exists():
        source = zoo.zoo_root() / "iris-mlp-dl"
        shutil.copytree(source, root / "iris-mlp-dl")
        if broken:
            (root / "wine-mlp-dl").mkdir()
            (root / "wine-mlp-dl" / "card.json").write_text('{"name": "wine-mlp-dl",')
    os.environ["HDL_KERAS_ZOO_DIR"] = str(root)
    return root


def silent_server():
    """A socket on 127.0.0.1 that accepts connections and never answers; returns (url, close)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.05)
    held, stop = [], threading.Event()

    def accept():
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()

    def close():
        stop.set()
        thread.join()
        for connection in held:
            connection.close()
        listener.close()

    return f"http://127.0.0.1:{listener.getsockname()[1]}/", close


def with_env(env, fn):
    with environment(env):
        return fn()
