"""Learning-rate schedules of the training recipes: the paper's step decay and one-cycle."""

import warnings

import keras
from keras import ops


def paper_schedule(
    steps_per_epoch,
    initial_learning_rate=0.1,
    decay_epochs=(80, 120, 160),
    factor=0.1,
):
    """The step decay of Dinh et al. (2020) and Li, Wang and Xin (2020): lr 0.1, times 0.1 at epochs 80, 120 and 160.

    "The initial learning rate of 0.1 decays by a factor of 10 at the 80th,
    120th, and 160th epochs" (Dinh et al. 2020, sec. 5; 200 epochs). Keras schedules
    count optimizer steps, so the epoch boundaries become step boundaries
    `epoch * steps_per_epoch`: the learning rate of step `t` (0-based) is
    `initial_learning_rate * factor^j`, `j` the number of boundaries `<= t`
    (epoch `e` (0-based) trains at `0.1 * 0.1^{#{b in decay_epochs: b <= e}}`).

    Args:
        steps_per_epoch: optimizer steps per epoch, `>= 1`.
        initial_learning_rate: learning rate of the first epochs, default 0.1.
        decay_epochs: increasing epochs at which the rate is multiplied by
            `factor`, default `(80, 120, 160)`.
        factor: decay factor, default 0.1.

    Returns:
        A `keras.optimizers.schedules.PiecewiseConstantDecay`.

    Examples:
        >>> schedule = paper_schedule(steps_per_epoch=352)
        >>> float(schedule(80 * 352))
        0.01
    """
    if isinstance(steps_per_epoch, bool) or not isinstance(steps_per_epoch, int) or steps_per_epoch < 1:
        raise ValueError(f"steps_per_epoch must be an int >= 1. Received: steps_per_epoch={steps_per_epoch!r}")
    decay_epochs = [int(epoch) for epoch in decay_epochs]
    if any(b <= a for a, b in zip(decay_epochs, decay_epochs[1:])) or any(e < 1 for e in decay_epochs):
        raise ValueError(f"decay_epochs must be increasing epochs >= 1. Received: decay_epochs={decay_epochs}")
    # PiecewiseConstantDecay switches after a boundary (step > b), so boundary b - 1
    # makes step `epoch * steps_per_epoch`, the first of epoch `epoch`, use the new rate.
    boundaries = [epoch * steps_per_epoch - 1 for epoch in decay_epochs]
    values = [initial_learning_rate * factor**i for i in range(len(decay_epochs) + 1)]
    return keras.optimizers.schedules.PiecewiseConstantDecay(boundaries, values)


def seed_schedule(*args, **kwargs):
    """Deprecated alias of `paper_schedule`, kept for one release."""
    warnings.warn("seed_schedule is deprecated; use paper_schedule.", DeprecationWarning, stacklevel=2)
    return paper_schedule(*args, **kwargs)


@keras.saving.register_keras_serializable(package="hdl_keras")
class OneCycle(keras.optimizers.schedules.LearningRateSchedule):
    """Triangular one-cycle learning rate (Smith 2018; fast adversarial training).

    Rises linearly from `initial_learning_rate` at step 0 to
    `max_learning_rate` at step `warmup_fraction * total_steps`, then falls
    linearly back to `final_learning_rate` at `total_steps`, and stays there.
    Wong, Rice and Kolter (2020) train FGSM with random start on CIFAR-10 for
    15 epochs with this cycle: 0 -> 0.2 at 2/5 of the run -> 0.

    Args:
        max_learning_rate: peak learning rate, `> 0`, default 0.2.
        total_steps: length of the cycle in optimizer steps, `>= 2`.
        warmup_fraction: fraction of the steps spent rising, in (0, 1),
            default 0.4.
        initial_learning_rate: learning rate at step 0, `>= 0`, default 0.0.
        final_learning_rate: learning rate from `total_steps` on, `>= 0`,
            default 0.0.

    Examples:
        >>> schedule = OneCycle(0.2, total_steps=100)
        >>> [round(float(schedule(t)), 3) for t in (0, 20, 40, 70, 100)]
        [0.0, 0.1, 0.2, 0.1, 0.0]

    Reference:
        Wong, Rice, Kolter, "Fast is better than free: Revisiting adversarial
        training", ICLR 2020, https://arxiv.org/abs/2001.03994.
    """

    def __init__(
        self,
        max_learning_rate=0.2,
        total_steps=1000,
        warmup_fraction=0.4,
        initial_learning_rate=0.0,
        final_learning_rate=0.0,
    ):
        if not max_learning_rate > 0:
            raise ValueError(f"max_learning_rate must be > 0. Received: max_learning_rate={max_learning_rate}")
        if isinstance(total_steps, bool) or not isinstance(total_steps, int) or total_steps < 2:
            raise ValueError(f"total_steps must be an int >= 2. Received: total_steps={total_steps!r}")
        if not 0 < warmup_fraction < 1:
            raise ValueError(f"warmup_fraction must be in (0, 1). Received: warmup_fraction={warmup_fraction}")
        if initial_learning_rate < 0 or final_learning_rate < 0:
            raise ValueError(
                "initial_learning_rate and final_learning_rate must be >= 0. Received: "
                f"initial_learning_rate={initial_learning_rate}, final_learning_rate={final_learning_rate}"
            )
        self.max_learning_rate = float(max_learning_rate)
        self.total_steps = int(total_steps)
        self.warmup_fraction = float(warmup_fraction)
        self.initial_learning_rate = float(initial_learning_rate)
        self.final_learning_rate = float(final_learning_rate)

    def __call__(self, step):
        step = ops.cast(step, "float32")
        peak = self.warmup_fraction * self.total_steps
        rising = self.initial_learning_rate + (self.max_learning_rate - self.initial_learning_rate) * (step / peak)
        progress = ops.minimum((step - peak) / (self.total_steps - peak), 1.0)
        falling = self.max_learning_rate + (self.final_learning_rate - self.max_learning_rate) * progress
        return ops.where(step < peak, rising, falling)

    def get_config(self):
        return {
            "max_learning_rate": self.max_learning_rate,
            "total_steps": self.total_steps,
            "warmup_fraction": self.warmup_fraction,
            "initial_learning_rate": self.initial_learning_rate,
            "final_learning_rate": self.final_learning_rate,
        }
