"""Model selection on validation robust accuracy, with catastrophic-overfitting detection."""

import json
import os
import warnings

import keras
import numpy as np

from hdl_keras.attacks import PGD


@keras.saving.register_keras_serializable(package="hdl_keras")
class RobustValidation(keras.callbacks.Callback):
    """Early stopping and model selection on PGD accuracy of a held-out split.

    At the end of every epoch it attacks the validation images with PGD
    (`steps` iterations of `step_size`, random start, at l_inf radius `eps`)
    and logs their robust accuracy as `val_pgd_accuracy` (so `History`,
    `CSVLogger` and later callbacks see it). It keeps the weights of the best
    epoch and restores them when training ends (Rice, Wong, Kolter 2020:
    robust overfitting; early stopping on validation robust accuracy).

    Catastrophic overfitting (Wong, Rice, Kolter 2020): with FGSM training,
    PGD accuracy can collapse within an epoch while the training attack's
    accuracy rises, as the model learns to defeat the single FGSM step only.
    The callback flags it when `val_pgd_accuracy` falls more than
    `collapse_drop` below the best epoch's while the training adversarial
    accuracy (`adversarial_accuracy` of `hdl_keras.objectives.AdversarialModel`)
    is higher than at the best epoch; it then records the epoch in
    `collapse_epoch`, logs `catastrophic_overfitting = 1`, warns, and stops
    training when `stop_on_collapse` (the best weights are restored).
    Training also stops after `patience` epochs without improvement, if set.
    With `start_epoch`, earlier epochs are neither evaluated nor candidates:
    for a schedule whose model only becomes final later (BinaryRelax's
    relaxed epochs compute with float kernels until its `switch_epoch`).

    With `state_path`, the best weights and the callback's state are written
    to `state_path` (`.weights.h5`) and `state_path + ".json"` after every
    improvement and read back at the start of training, so a run resumed by
    `keras.callbacks.BackupAndRestore` keeps its selection.

    Args:
        validation_data: `(x, y)`: images `(N, *input_shape)` in the model's
            bounds and int labels `(N,)`, held out from the training set.
        eps: l_inf radius of the validation attack.
        step_size: PGD step, default `eps / 4`.
        steps: PGD iterations, default 10.
        batch_size: rows per attack call, default 500.
        patience: epochs without improvement before stopping, default None
            (never).
        start_epoch: the first (0-based) epoch evaluated and eligible,
            default 0.
        collapse_drop: the drop of validation PGD accuracy below the best
            epoch's that counts as a collapse, in (0, 1), default 0.2.
        stop_on_collapse: stop training on a collapse, default True.
        restore_best_weights: restore the best epoch's weights at the end,
            default True.
        state_path: file of the best weights (`*.weights.h5`), default None
            (kept in memory only).
        seed: seed of the attack's random starts, default 0.
        verbose: print one line per epoch, default 1.

    Attributes:
        best: the best `val_pgd_accuracy`, `best_epoch` its (0-based) epoch.
        history: one `{"epoch", "val_pgd_accuracy", "adversarial_accuracy"}`
            dict per evaluated epoch.
        collapse_epoch: the epoch of catastrophic overfitting, or None.

    Examples:
        >>> model = PGDAdversarialTraining.from_model(small_cnn(), **fast_at_settings(16 / 255))
        >>> model.compile(optimizer="adam", metrics=["accuracy"])
        >>> selection = RobustValidation((x_val, y_val), eps=16 / 255)
        >>> model.fit(x_train, y_train, epochs=10, callbacks=[selection])  # doctest: +SKIP
        >>> selection.best_epoch, selection.collapse_epoch  # doctest: +SKIP

    Reference:
        Rice, Wong, Kolter, "Overfitting in adversarially robust deep
        learning", ICML 2020; Wong, Rice, Kolter, "Fast is better than free:
        Revisiting adversarial training", ICLR 2020.
    """

    def __init__(
        self,
        validation_data,
        eps,
        step_size=None,
        steps=10,
        batch_size=500,
        patience=None,
        start_epoch=0,
        collapse_drop=0.2,
        stop_on_collapse=True,
        restore_best_weights=True,
        state_path=None,
        seed=0,
        verbose=1,
    ):
        super().__init__()
        x, y = validation_data
        x = np.asarray(x, dtype="float32")
        y = np.asarray(y).reshape(-1).astype("int32")
        if len(x) != len(y) or len(x) == 0:
            raise ValueError(
                "validation_data must be (x, y) with as many labels as images, at least one. "
                f"Received: {len(x)} images and {len(y)} labels."
            )
        if not eps > 0:
            raise ValueError(f"eps must be > 0. Received: eps={eps}")
        if not 0 < collapse_drop < 1:
            raise ValueError(f"collapse_drop must be in (0, 1). Received: collapse_drop={collapse_drop}")
        if patience is not None and patience < 1:
            raise ValueError(f"patience must be None or an int >= 1. Received: patience={patience}")
        if isinstance(start_epoch, bool) or not isinstance(start_epoch, int) or start_epoch < 0:
            raise ValueError(f"start_epoch must be an int >= 0. Received: start_epoch={start_epoch!r}")
        if state_path is not None and not str(state_path).endswith(".weights.h5"):
            raise ValueError(f"state_path must end with '.weights.h5'. Received: state_path={state_path!r}")
        self.x_val, self.y_val = x, y
        self.eps = float(eps)
        self.step_size = float(step_size) if step_size is not None else self.eps / 4
        self.steps = int(steps)
        self.batch_size = int(batch_size)
        self.patience = patience
        self.start_epoch = start_epoch
        self.collapse_drop = float(collapse_drop)
        self.stop_on_collapse = bool(stop_on_collapse)
        self.restore_best_weights = bool(restore_best_weights)
        self.state_path = None if state_path is None else str(state_path)
        self.seed = seed
        self.verbose = verbose
        self._reset()

    def _reset(self):
        self.best = -1.0
        self.best_epoch = None
        self.best_weights = None
        self.history = []
        self.collapse_epoch = None
        self._attack = None

    def robust_accuracy(self):
        """PGD accuracy of the current model on the validation split (a float)."""
        if self._attack is None:
            self._attack = PGD(
                self.model,
                eps=self.eps,
                step_size=self.step_size,
                steps=self.steps,
                random_start=True,
                seed=self.seed,
            )
        correct = 0
        for start in range(0, len(self.y_val), self.batch_size):
            x = self.x_val[start : start + self.batch_size]
            y = self.y_val[start : start + self.batch_size]
            x_adv = self._attack(x, y)
            logits = keras.ops.convert_to_numpy(self.model(x_adv, training=False))
            correct += int(np.sum(np.argmax(logits, axis=-1) == y))
        return correct / len(self.y_val)

    def on_train_begin(self, logs=None):
        self._reset()
        if self.state_path is not None and os.path.exists(self.state_path + ".json"):
            with open(self.state_path + ".json") as handle:
                state = json.load(handle)
            self.best, self.best_epoch = state["best"], state["best_epoch"]
            self.history, self.collapse_epoch = state["history"], state["collapse_epoch"]
            if os.path.exists(self.state_path):
                current = self.model.get_weights()
                self.model.load_weights(self.state_path)
                self.best_weights = self.model.get_weights()
                self.model.set_weights(current)

    def on_epoch_end(self, epoch, logs=None):
        if epoch < self.start_epoch:
            return
        logs = logs if logs is not None else {}
        accuracy = self.robust_accuracy()
        training_accuracy = logs.get("adversarial_accuracy")
        training_accuracy = None if training_accuracy is None else float(training_accuracy)
        self.history.append(
            {"epoch": int(epoch), "val_pgd_accuracy": accuracy, "adversarial_accuracy": training_accuracy}
        )
        logs["val_pgd_accuracy"] = accuracy
        collapsed = self._collapsed(accuracy, training_accuracy)
        logs["catastrophic_overfitting"] = float(collapsed)
        improved = accuracy > self.best
        if improved:
            self.best, self.best_epoch = accuracy, int(epoch)
            self.best_weights = self.model.get_weights()
        if collapsed and self.collapse_epoch is None:
            self.collapse_epoch = int(epoch)
            warnings.warn(
                f"Catastrophic overfitting at epoch {epoch + 1}: validation PGD accuracy {accuracy:.4f} "
                f"fell more than {self.collapse_drop} below the best {self.best:.4f} (epoch "
                f"{self.best_epoch + 1}) while the training attack's accuracy rose to "
                f"{training_accuracy:.4f}. Use more attack steps, a smaller step size or fewer epochs.",
                stacklevel=2,
            )
            if self.stop_on_collapse:
                self.model.stop_training = True
        if self.patience is not None and epoch - self.best_epoch >= self.patience:
            self.model.stop_training = True
        if self.verbose:
            print(
                f"epoch {epoch + 1}: val_pgd_accuracy {accuracy:.4f} (best {self.best:.4f} at epoch "
                f"{self.best_epoch + 1}){' CATASTROPHIC OVERFITTING' if collapsed else ''}",
                flush=True,
            )
        self._save_state(improved)

    def _collapsed(self, accuracy, training_accuracy):
        if self.best_epoch is None or training_accuracy is None:
            return False
        best_training = next(row["adversarial_accuracy"] for row in self.history if row["epoch"] == self.best_epoch)
        rising = best_training is not None and training_accuracy > best_training
        return accuracy < self.best - self.collapse_drop and rising

    def _save_state(self, improved):
        if self.state_path is None:
            return
        if improved:
            self.model.save_weights(self.state_path)
        state = {
            "best": self.best,
            "best_epoch": self.best_epoch,
            "history": self.history,
            "collapse_epoch": self.collapse_epoch,
        }
        with open(self.state_path + ".json", "w") as handle:
            json.dump(state, handle)

    def on_train_end(self, logs=None):
        if self.restore_best_weights and self.best_weights is not None:
            self.model.set_weights(self.best_weights)

    def get_config(self):
        return {
            "validation_data": (self.x_val.tolist(), self.y_val.tolist()),
            "eps": self.eps,
            "step_size": self.step_size,
            "steps": self.steps,
            "batch_size": self.batch_size,
            "patience": self.patience,
            "start_epoch": self.start_epoch,
            "collapse_drop": self.collapse_drop,
            "stop_on_collapse": self.stop_on_collapse,
            "restore_best_weights": self.restore_best_weights,
            "state_path": self.state_path,
            "seed": self.seed,
            "verbose": self.verbose,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)
