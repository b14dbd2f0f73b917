"""Fault-tolerant training: atomic per-epoch checkpoints and per-epoch random streams.

A run killed at any point (even by SIGKILL, mid-write) and restarted with the
same command resumes from its last finished epoch and ends with the weights
of an uninterrupted run at the same seed:

- `ResumableBackup` saves the weights (model and optimizer state) after each
  epoch under a new name, atomically (`hdl_keras.utils.files`), and only
  then the small `state.json` naming that file and the epoch; a kill between
  the two leaves the previous, complete checkpoint in force;
- `EpochSeeds` re-seeds every random generator of the run (the training
  attack's random starts, augmentation, dropout) at the start of each epoch
  from `(seed, epoch)`, and `AugmentedBatches(seed=...)` orders the examples
  of an epoch from `(seed, epoch)`: an epoch replays the same randomness
  whether or not the run was interrupted before it.
"""

import json
import pathlib
import shutil

import keras
import numpy as np

from hdl_keras.utils.files import atomic_path
from hdl_keras.utils.files import atomic_write_text
from hdl_keras.utils.graph import flatten_layers
from hdl_keras.utils.graph import seed_generators
from hdl_keras.utils.graph import set_initial_epoch

STATE_FILE = "state.json"


class ResumableBackup(keras.callbacks.Callback):
    """Checkpoints at each epoch end, atomically; restores the last one at train begin.

    A fault-tolerant `keras.callbacks.BackupAndRestore`: the weights file of
    epoch `e` is `epoch-<e>.weights.h5`, written under a temporary name and
    renamed, and `state.json` (`{"epoch": e, "weights": name}`) is replaced
    after it, so a kill at any instant leaves a complete checkpoint. The
    folder is removed when training ends normally.

    Args:
        backup_dir: folder of the checkpoints (created when needed).
    """

    def __init__(self, backup_dir):
        super().__init__()
        self.backup_dir = pathlib.Path(backup_dir)

    @staticmethod
    def saved_epoch(backup_dir):
        """The number of finished epochs saved in `backup_dir` (0 when none)."""
        state = _read_state(pathlib.Path(backup_dir))
        return state["epoch"] if state else 0

    def on_train_begin(self, logs=None):
        state = _read_state(self.backup_dir)
        if state is None:
            return
        optimizer = self.model.optimizer
        if optimizer is not None and not optimizer.built:
            optimizer.build(self.model.trainable_variables)
        self.model.load_weights(self.backup_dir / state["weights"])
        set_initial_epoch(self.model, state["epoch"])

    def on_epoch_end(self, epoch, logs=None):
        self.backup_dir.mkdir(parents=True, exist_ok=True)
        name = f"epoch-{epoch + 1}.weights.h5"
        with atomic_path(self.backup_dir / name) as temporary:
            self.model.save_weights(temporary)
        atomic_write_text(self.backup_dir / STATE_FILE, json.dumps({"epoch": epoch + 1, "weights": name}))
        for old in self.backup_dir.glob("epoch-*.weights.h5"):
            if old.name != name:
                old.unlink(missing_ok=True)

    def on_train_end(self, logs=None):
        shutil.rmtree(self.backup_dir, ignore_errors=True)


class EpochSeeds(keras.callbacks.Callback):
    """Sets every random generator's state from `(seed, epoch)` at each epoch's start.

    The generators are the `keras.random.SeedGenerator`s of the model (its
    layers, and a training attack it tracks) and of `extra` layers (e.g. an
    augmentation pipeline outside the model), in a fixed order.

    Args:
        seed: int seed of the run.
        extra: further layers or models whose generators are re-seeded.
    """

    def __init__(self, seed, extra=()):
        super().__init__()
        self.seed = int(seed)
        self.extra = [layer for layer in extra if layer is not None]

    def on_epoch_begin(self, epoch, logs=None):
        for index, generator in enumerate(_seed_generators([self.model, *self.extra])):
            state = generator.state
            value = np.array([(self.seed * 7919 + index) % (2**31 - 1), epoch * 2**16])
            state.assign(keras.ops.cast(value, state.dtype))


def _seed_generators(layers):
    """The distinct seed generators of `layers` and their sublayers, in traversal order."""
    found = {}
    for top in layers:
        for layer in flatten_layers(top):
            for generator in seed_generators(layer):
                found.setdefault(id(generator), generator)
    return list(found.values())


def _read_state(folder):
    path = folder / STATE_FILE
    if not path.is_file():
        return None
    state = json.loads(path.read_text())
    return state if (folder / state["weights"]).is_file() else None


__all__ = ["EpochSeeds", "ResumableBackup"]
