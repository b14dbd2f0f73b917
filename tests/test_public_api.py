"""The public API: documented, registered by a bare `import hdl_keras`, loadable.

Each check runs in a fresh interpreter, so that no other test has imported a
subpackage (and thereby registered its classes) before.
"""

import json
import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.backend_suite

SUBPACKAGES = (
    "attacks",
    "backend",
    "callbacks",
    "data",
    "deploy",
    "evaluation",
    "experiments",
    "layers",
    "measure",
    "models",
    "objectives",
    "preprocessing",
    "pruning",
    "quantizers",
    "presets",
    "recipes",
    "saving",
    "verification",
    "zoo",
)


def run_fresh(code):
    """Runs `code` in a new interpreter on this backend; returns its last stdout line."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    completed = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return completed.stdout.strip().splitlines()[-1]


def test_bare_import_registers_every_keras_object():
    output = run_fresh(
        f"""
        import importlib, json, keras
        import hdl_keras
        bare = set(keras.saving.get_custom_objects())
        for name in {SUBPACKAGES!r}:
            importlib.import_module("hdl_keras." + name)
        full = set(keras.saving.get_custom_objects())
        print(json.dumps({{"bare": sorted(bare), "missing": sorted(full - bare)}}))
        """
    )
    result = json.loads(output)
    assert result["missing"] == [], f"registered only after a subpackage import: {result['missing']}"
    assert "hdl_keras>ConstantChannelsBias" in result["bare"]
    assert "hdl_keras>RVSM" in result["bare"]


def test_every_exported_object_is_documented():
    output = run_fresh(
        f"""
        import importlib, inspect, json
        undocumented = []
        for name in {SUBPACKAGES!r}:
            module = importlib.import_module("hdl_keras." + name)
            for public in getattr(module, "__all__", []):
                obj = getattr(module, public)
                if inspect.isclass(obj) or inspect.isfunction(obj):
                    if not (inspect.getdoc(obj) or "").strip():
                        undocumented.append(name + "." + public)
        print(json.dumps(undocumented))
        """
    )
    assert json.loads(output) == []


def test_pruning_objects_load_from_keras_file_after_bare_import(tmp_path):
    path = tmp_path / "pruned.keras"
    run_fresh(
        f"""
        import keras, numpy as np
        from hdl_keras.layers import ConstantChannelsBias
        from hdl_keras.pruning import apply_rvsm
        inputs = keras.Input((3, 3, 2))
        hidden = keras.layers.Conv2D(2, 3, padding="same")(inputs)
        hidden = ConstantChannelsBias((3, 3), 3)(hidden)
        outputs = keras.layers.Dense(2)(keras.layers.Flatten()(hidden))
        model = keras.Model(inputs, outputs)
        apply_rvsm(model, beta=0.5, lam=1e-6)
        model.save({str(path)!r})
        print("saved")
        """
    )
    output = run_fresh(
        f"""
        import keras
        import hdl_keras
        model = keras.saving.load_model({str(path)!r})
        layer_types = sorted(type(layer).__name__ for layer in model.layers)
        regularizer = type(model.layers[1].kernel_regularizer).__name__
        print(layer_types.count("ConstantChannelsBias"), regularizer)
        """
    )
    assert output == "1 RVSM"
