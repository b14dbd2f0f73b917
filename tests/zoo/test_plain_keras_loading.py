"""The `.keras` entries load with plain Keras, without hdl_keras (why the zoo keeps one file per entry)."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENTRIES = ("iris-mlp-hdl", "mnist-small_cnn-pgd_at")  # an MLP and a CNN, a pruned and an adversarial one


def test_shipped_keras_entries_load_without_hdl_keras():
    paths = [str(ROOT / "zoo" / name / "model.keras") for name in ENTRIES]
    code = textwrap.dedent(f"""
        import json, sys
        import keras
        shapes = [keras.saving.load_model(path, compile=False).output_shape for path in {paths!r}]
        print(json.dumps({{"shapes": shapes, "hdl_keras": any(m.startswith("hdl_keras") for m in sys.modules)}}))
    """)
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT / "zoo", timeout=300
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    assert result == {"shapes": [[None, 3], [None, 10]], "hdl_keras": False}
