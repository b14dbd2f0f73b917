"""Verified training with interval bound propagation (IBP, Gowal et al. 2018) inside `model.fit`."""

import numbers

import keras
from keras import ops

from hdl_keras.objectives.base import ObjectiveModel
from hdl_keras.verification import interval_bounds


def _check_steps(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"Expected `{name}` to be an int >= 0. Received: {name}={value!r}")
    return int(value)


def worst_case_logits(lower, upper, labels):
    """The IBP worst-case logits: `z_y = lower_y`, `z_j = upper_j` for `j != y`.

    Gowal et al. (2018), eq. 5-6: with elementwise bounds `lower <= z <=
    upper` of the logits over the eps-box, these logits are the worst case
    for the label `y`; their cross-entropy upper-bounds the cross-entropy of
    every input in the box.

    Args:
        lower: lower bounds of the logits `(B, K)`.
        upper: upper bounds of the logits `(B, K)`.
        labels: int labels `(B,)`.

    Returns:
        The worst-case logits `(B, K)`.
    """
    classes = ops.arange(ops.shape(lower)[-1], dtype="int32")
    true_class = ops.equal(ops.expand_dims(ops.cast(labels, "int32"), -1), classes)
    return ops.where(true_class, lower, upper)


@keras.saving.register_keras_serializable(package="hdl_keras")
class IBPTraining(ObjectiveModel):
    """IBP verified training: a functional model that trains on its interval bounds.

    Minimises (Gowal et al. 2018, eq. 5-6 and sec. 4)

        L = kappa * CE(z(x), y) + (1 - kappa) * CE(z_hat(x, eps), y),

    where `z(x)` are the clean logits (the `y_pred` of the train step) and
    `z_hat` the worst-case logits of `worst_case_logits`, from the bounds
    `hdl_keras.verification.interval_bounds(model, x, eps)` over the L-inf
    box of radius `eps` (clipped to `bounds`). Both terms are averaged over the
    batch (weighted by `sample_weight` if given, `ObjectiveModel.reduce_losses`). The schedules of the paper
    ramp the radius and the mixing weight linearly over training steps
    (optimizer updates): after `warmup_steps` at `eps = 0, kappa = 1`, eps
    rises from 0 to `eps` over `eps_ramp_steps` and kappa falls from 1 to
    `kappa_final` over `kappa_ramp_steps` (a ramp of 0 steps jumps to the
    final value). The step counter `ibp_step` is a non-trainable model weight
    advanced by each training step inside the compiled step, so the
    schedules run under `jit_compile` on every backend and resume from a
    saved model; `eps_at(step)`, `kappa_at(step)` give the values.

    The bounds are those of the inference network (batch norm with its
    moving statistics, dropout off, `ResidualNoise` off), the network that
    `verified_accuracy` certifies; the clean term runs in training mode.
    Besides the compiled metrics the model tracks `verified_accuracy`, the
    fraction of the batch whose worst-case logits are classified correctly
    at the current radius (`val_verified_accuracy` in validation).

    Sehwag et al. (2019) train and fine-tunes verified networks with MixTrain (Wang et
    al. 2018), which mixes IBP-like symbolic-interval bounds on sampled
    sub-batches with natural training. IBP is the substitute here: it is the
    same kind of objective (a convex mix of the natural loss and a sound
    worst-case bound, Sehwag et al.'s (2019) vra is certified with such bounds), needs
    only the interval propagation the project already has, and is
    traceable in one train step on all backends; MixTrain's symbolic
    intervals (per-neuron linear relaxations) have no implementation here.

    Args:
        *args: `inputs, outputs` as for `keras.Model`; outputs are logits
            `(B, K)`, made of the layers `interval_bounds` supports.
        eps: final L-inf training radius, default 2/255 (Sehwag et al.'s (2019) verified
            training budget, 2 on the 0-255 scale).
        kappa_final: final weight of the clean loss, in `[0, 1]`, default 0.5
            (Gowal et al.).
        warmup_steps: steps at `eps = 0, kappa = 1` before the ramps, default 0.
        eps_ramp_steps: length of the linear eps ramp, default 0.
        kappa_ramp_steps: length of the linear kappa ramp, default 0.
        bounds: `(low, high)` of valid inputs, or None; default `(0.0, 1.0)`.
        **kwargs: `reduction` (see `ObjectiveModel`) and those of
            `keras.Model` (e.g. `name`).

    Examples:
        >>> base = small_cnn(input_shape=(28, 28, 1))
        >>> model = IBPTraining.from_model(base, eps=0.1, eps_ramp_steps=2000,
        ...                                kappa_ramp_steps=2000)
        >>> model.compile(optimizer="adam", metrics=["accuracy"])
        >>> model.fit(x_train, y_train, batch_size=128, epochs=10)  # doctest: +SKIP

    Reference:
        Gowal, Dvijotham, Stanforth, Bunel, Qin, Uesato, Arandjelovic, Mann,
        Kohli, "On the Effectiveness of Interval Bound Propagation for
        Training Verifiably Robust Models", 2018 (arXiv:1810.12715).
    """

    objective_name = "ibp"

    def __init__(
        self,
        *args,
        eps=2 / 255,
        kappa_final=0.5,
        warmup_steps=0,
        eps_ramp_steps=0,
        kappa_ramp_steps=0,
        bounds=(0.0, 1.0),
        **kwargs,
    ):
        if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not eps >= 0:
            raise ValueError(f"Expected `eps` to be a number >= 0. Received: eps={eps!r}")
        if isinstance(kappa_final, bool) or not isinstance(kappa_final, numbers.Real) or not 0 <= kappa_final <= 1:
            raise ValueError(f"Expected `kappa_final` to be a number in [0, 1]. Received: kappa_final={kappa_final!r}")
        if bounds is not None and (
            not isinstance(bounds, (list, tuple)) or len(bounds) != 2 or not bounds[0] <= bounds[1]
        ):
            raise ValueError(
                f"Expected `bounds` to be None or a pair (low, high) with low <= high. Received: bounds={bounds!r}"
            )
        super().__init__(*args, **kwargs)
        self.eps = float(eps)
        self.kappa_final = float(kappa_final)
        self.warmup_steps = _check_steps("warmup_steps", warmup_steps)
        self.eps_ramp_steps = _check_steps("eps_ramp_steps", eps_ramp_steps)
        self.kappa_ramp_steps = _check_steps("kappa_ramp_steps", kappa_ramp_steps)
        self.bounds = None if bounds is None else (float(bounds[0]), float(bounds[1]))
        self.ibp_step = self.add_weight(name="ibp_step", shape=(), dtype="int32", initializer="zeros", trainable=False)
        self.verified_accuracy = keras.metrics.SparseCategoricalAccuracy(name="verified_accuracy")

    def _progress(self, step, ramp_steps):
        """`clip((step - warmup_steps) / ramp_steps, 0, 1)`; a 0-step ramp jumps to 1."""
        elapsed = ops.cast(step, "float32") - self.warmup_steps
        if ramp_steps == 0:
            return ops.cast(ops.greater_equal(elapsed, 0.0), "float32")
        return ops.clip(elapsed / ramp_steps, 0.0, 1.0)

    def eps_at(self, step):
        """The training radius after `step` training steps (a float32 scalar tensor)."""
        return self.eps * self._progress(step, self.eps_ramp_steps)

    def kappa_at(self, step):
        """The clean-loss weight after `step` training steps (a float32 scalar tensor)."""
        return 1.0 + (self.kappa_final - 1.0) * self._progress(step, self.kappa_ramp_steps)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        x = ops.convert_to_tensor(x)
        labels = ops.reshape(ops.cast(y, "int32"), (-1,))
        step = ops.convert_to_tensor(self.ibp_step)
        eps = ops.cast(self.eps_at(step), x.dtype)
        kappa = ops.cast(self.kappa_at(step), y_pred.dtype)
        lower, upper = interval_bounds(self, x, eps, bounds=self.bounds)
        worst = worst_case_logits(lower, upper, labels)
        self.verified_accuracy.update_state(labels, worst, sample_weight)
        clean = ops.sparse_categorical_crossentropy(labels, y_pred, from_logits=True)
        verified = ops.sparse_categorical_crossentropy(labels, worst, from_logits=True)
        losses = kappa * clean + (1.0 - kappa) * verified
        loss = self.add_model_losses(self.reduce_losses(losses, sample_weight))
        if training:
            self.ibp_step.assign_add(1)
        return loss

    def get_config(self):
        return {
            **super().get_config(),
            "eps": self.eps,
            "kappa_final": self.kappa_final,
            "warmup_steps": self.warmup_steps,
            "eps_ramp_steps": self.eps_ramp_steps,
            "kappa_ramp_steps": self.kappa_ramp_steps,
            "bounds": self.bounds,
        }
