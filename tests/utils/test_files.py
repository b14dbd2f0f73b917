"""Atomic writes: a killed or failing writer leaves the old file or the complete new one."""

import random
import signal
import subprocess
import sys
import time

import pytest

from hdl_keras.utils import files
from hdl_keras.utils.files import atomic_path
from hdl_keras.utils.files import atomic_write_bytes
from hdl_keras.utils.files import atomic_write_text

SIZE = 4 << 20  # large enough that a plain write is often caught half-way

# Rewrites the file forever, alternating two contents of SIZE bytes. It loads
# hdl_keras/utils/files.py alone (no Keras import: the process starts in ms).
WRITER = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location("files", sys.argv[3])
files = importlib.util.module_from_spec(spec)
spec.loader.exec_module(files)
atomic_write_bytes = files.atomic_write_bytes
path, size = sys.argv[1], int(sys.argv[2])
print("ready", flush=True)
while True:
    for byte in (b"a", b"b"):
        atomic_write_bytes(path, byte * size)
"""


def test_an_exception_mid_write_leaves_the_original(tmp_path):
    path = tmp_path / "card.json"
    path.write_text("original")
    with pytest.raises(RuntimeError, match="disk full"):
        with atomic_path(path) as temporary:
            temporary.write_text("half a ca")
            raise RuntimeError("disk full")
    assert path.read_text() == "original"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["card.json"]


def test_the_new_content_replaces_the_old_with_no_temporary_left(tmp_path):
    path = tmp_path / "model.weights.h5"
    atomic_write_bytes(path, b"old")
    atomic_write_text(path, "new")
    assert path.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.weights.h5"]


def test_a_writer_killed_at_random_points_never_leaves_a_partial_file(tmp_path):
    path = tmp_path / "data.bin"
    path.write_bytes(b"a" * SIZE)
    rng = random.Random(0)
    for _ in range(3):
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), str(SIZE), files.__file__], stdout=subprocess.PIPE
        )
        assert writer.stdout.readline() == b"ready\n"
        time.sleep(rng.uniform(0.05, 0.3))
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        writer.stdout.close()
        content = path.read_bytes()
        assert content in (b"a" * SIZE, b"b" * SIZE)
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "data.bin"]
    assert all(name.startswith(".tmp-") for name in leftovers)  # a killed writer's temporary, never the file
