"""The files a `train_recipe` run writes: per-epoch history, model files, packed model and log."""

import json
import os
import time

import keras

from hdl_keras.saving import export_packed
from hdl_keras.utils.files import atomic_path

PACKED_FILE = "model.hdlpack"


class EpochLog(keras.callbacks.Callback):
    """Appends `{"epoch", "seconds", **logs}` of every finished epoch to a JSON-lines file."""

    def __init__(self, path):
        super().__init__()
        self.path = path
        self._start = None

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        row = {"epoch": epoch + 1, "seconds": round(time.perf_counter() - self._start, 2)}
        row.update({key: float(value) for key, value in (logs or {}).items()})
        with open(self.path, "a") as f:
            f.write(json.dumps(row) + "\n")


def read_history(path):
    """The rows of `history.jsonl`, one per epoch (a re-run epoch keeps its last row).

    A line cut short by a killed run is skipped.
    """
    rows = {}
    with open(path) as f:
        for line in f:
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut by a killed run; its epoch was re-run
            rows[row["epoch"]] = row
    return [rows[epoch] for epoch in sorted(rows)]


def write_outputs(output_dir, base, settings, seconds, command):
    """Writes `model.keras`, `model.weights.h5`, `model.hdlpack` (quantized), `log.json` and `command.txt`."""
    with atomic_path(os.path.join(output_dir, "model.keras")) as temporary:
        base.save(temporary)
    with atomic_path(os.path.join(output_dir, "model.weights.h5")) as temporary:
        base.save_weights(temporary)
    if settings["quantization"] is not None:
        size = export_packed(base, os.path.join(output_dir, PACKED_FILE))
        settings["quantization"] = {**settings["quantization"], "packed_file": PACKED_FILE, "packed_size_bytes": size}
    log = {
        **settings,
        "history": read_history(os.path.join(output_dir, "history.jsonl")),
        "seconds_last_session": round(seconds, 1),
        "backend": keras.backend.backend(),
        "keras_version": keras.__version__,
        "command": command,
    }
    with open(os.path.join(output_dir, "log.json"), "w") as f:
        json.dump(log, f, indent=2)
    with open(os.path.join(output_dir, "command.txt"), "w") as f:
        f.write(command + "\n")
