"""FAB: the fast adaptive boundary attack, minimal l_inf / l_2 adversarial perturbations."""

import keras
import numpy as np
from keras import ops

from hdl_keras import backend
from hdl_keras.attacks.apgd import top_other_classes
from hdl_keras.attacks.base import Attack
from hdl_keras.attacks.base import _expand_like
from hdl_keras.attacks.fab_projections import projection_l2
from hdl_keras.attacks.fab_projections import projection_linf

# "Not found yet" norm of the best adversarial example (the reference code's 1e10).
_NOT_FOUND = 1e10


class FAB(Attack):
    """Fast Adaptive Boundary attack of Croce & Hein (2020), untargeted or FAB-T.

    FAB looks for the adversarial example of smallest norm. At the iterate
    `x(i)` it linearizes the logit differences `f_k = z_k - z_y`, takes the
    class `s` whose linearized boundary is closest,
    `s = argmin_k |f_k(x(i))| / ||grad f_k(x(i))||_q` (`q` the dual norm), and
    projects both `x(i)` and the original point `x_orig` onto that hyperplane
    intersected with the box (`fab_projections`, eq. 4-5 of the paper), giving
    steps `d(i)` and `d_orig`. The next iterate is the biased combination
    (eq. 8)

        x(i+1) = clip((x(i) + eta d(i)) (1 - a) + (x_orig + eta d_orig) a)
        a = min(||d(i)|| / (||d(i)|| + ||d_orig||), alpha_max)

    and whenever `x(i+1)` is misclassified it is recorded (if its distance to
    `x_orig` is the smallest so far) and pulled back towards the original,
    `x(i+1) <- x_orig + beta (x(i+1) - x_orig)`. The first run starts at
    `x_orig`; restarts start at a random point at distance `eps / 2`.

    FAB-T (`n_target_classes=n`, as in AutoAttack's "standard" version) runs
    once per target class, the `n` classes of highest clean logit other than
    `y`, each with the single boundary `z_t - z_y` (one gradient per step
    instead of one per class). Success is any misclassification.

    The attack minimizes the norm regardless of `eps`; as in the reference
    code, it returns the smallest adversarial example found when its norm is
    at most `eps`, and `x` unchanged otherwise. `self.norms` (numpy float
    `(batch,)`) holds, after each call, the norm of the smallest adversarial
    example found (`inf` where none; 0 for inputs misclassified already).

    Each iteration is compiled on its own (`hdl_keras.backend.jit`) and
    `__call__` loops over them in Python; `perturb` is the same loop, unrolled.

    Args:
        model: a callable returning logits (see `Attack`).
        eps: radius of the threat model (and scale of the random restarts),
            default 8/255.
        norm: `"linf"` (default) or `"l2"`.
        steps: iterations per run, default 100.
        restarts: runs per target (the first without random start), default 1.
        alpha_max: largest weight of the step from the original point, default
            0.1 (the paper's value).
        eta: overshoot of the projection steps, default 1.05.
        beta: backward step towards the original point after a success,
            default 0.9.
        n_target_classes: None (untargeted FAB, default) or the number of
            target classes of FAB-T (9 in AutoAttack).
        **kwargs: `seed`, `bounds` of `Attack`.

    Call arguments:
        x: float array `(batch, *input_shape)` with values in `bounds`.
        y: int array `(batch,)` of true labels.

    Returns:
        Adversarial inputs, same shape as `x`, in `bounds` and in the ball.

    Examples:
        >>> fab_t = FAB(model, eps=0.3, n_target_classes=9, seed=0)
        >>> x_adv = fab_t(x, y)
        >>> fab_t.norms  # minimal perturbation norms found

    Reference:
        Croce & Hein, "Minimally distorted adversarial examples with a fast
        adaptive boundary attack", ICML 2020, https://arxiv.org/abs/1907.02044
    """

    def __init__(
        self,
        model,
        eps=8 / 255,
        norm="linf",
        steps=100,
        restarts=1,
        alpha_max=0.1,
        eta=1.05,
        beta=0.9,
        n_target_classes=None,
        **kwargs,
    ):
        if kwargs.get("targeted"):
            raise ValueError(
                "FAB takes true labels; its targeted version FAB-T is chosen with "
                "n_target_classes=n. Received: targeted=True"
            )
        super().__init__(model, eps, norm=norm, **kwargs)
        if steps < 1 or restarts < 1:
            raise ValueError(f"steps and restarts must be >= 1. Received: steps={steps}, restarts={restarts}")
        if not 0 <= alpha_max <= 1 or eta <= 0 or not 0 < beta <= 1:
            raise ValueError(
                "FAB needs alpha_max in [0, 1], eta > 0 and beta in (0, 1]. Received: "
                f"alpha_max={alpha_max}, eta={eta}, beta={beta}"
            )
        if n_target_classes is not None and n_target_classes < 1:
            raise ValueError(f"n_target_classes must be >= 1. Received: n_target_classes={n_target_classes}")
        self.steps = int(steps)
        self.restarts = int(restarts)
        self.alpha_max = float(alpha_max)
        self.eta = float(eta)
        self.beta = float(beta)
        self.n_target_classes = n_target_classes
        self.norms = None

    def __call__(self, x, y):
        x, y = self._check_inputs(x, y)
        x_adv, norms = self._attack(x, y, self.compile)
        self.norms = np.where(ops.convert_to_numpy(norms) >= _NOT_FOUND, np.inf, ops.convert_to_numpy(norms))
        return x_adv

    def perturb(self, x, y):
        return self._attack(x, y, lambda fn: fn)[0]

    def _attack(self, x, y, compile_fn):
        """All runs (targets x restarts); per example the smallest adversarial norm wins."""
        start = compile_fn(self._start)
        iterate = compile_fn(self._iterate)
        if self.n_target_classes is not None:
            ranked = compile_fn(self._target_classes)(x, y)
            targets = [ranked[:, j] for j in range(self.n_target_classes)]
        else:
            targets = [y]
        best, best_norm = x, None
        for target in targets:
            for restart in range(self.restarts):
                state = start(x, y, ops.convert_to_tensor(restart > 0))
                for _ in range(self.steps):
                    state = iterate(x, y, target, state)
                _, adv, norm = state
                if best_norm is None:
                    best, best_norm = adv, norm
                else:
                    better = norm < best_norm
                    best = ops.where(_expand_like(better, x), adv, best)
                    best_norm = ops.minimum(norm, best_norm)
        within = best_norm <= self.eps
        return ops.where(_expand_like(within, x), best, x), best_norm

    def _start(self, x, y, random):
        """`(x1, adv, norm)` at the start of a run; `random` (bool scalar) picks a random start."""
        misclassified = ops.logical_not(ops.equal(self._predict(x), ops.cast(y, "int32")))
        if self.norm == "linf":
            noise = 2.0 * keras.random.uniform(ops.shape(x), seed=self.seed_generator) - 1.0
            scale = ops.max(ops.abs(ops.reshape(noise, (ops.shape(x)[0], -1))), axis=1)
        else:
            noise = keras.random.normal(ops.shape(x), seed=self.seed_generator)
            scale = ops.sqrt(ops.sum(ops.square(ops.reshape(noise, (ops.shape(x)[0], -1))), axis=1))
        shifted = x + 0.5 * self.eps * noise / _expand_like(ops.maximum(scale, 1e-12), x)
        x1 = ops.where(random, ops.clip(shifted, *self.bounds), x)
        norm = ops.where(misclassified, 0.0, _NOT_FOUND)
        return x1, x, norm

    def _iterate(self, x, y, target, state):
        """One FAB step (eq. 8) and the bookkeeping of the smallest adversarial example."""
        x1, adv, best_norm = state
        batch = ops.shape(x)[0]
        features = int(np.prod(x.shape[1:]))
        low, high = self.bounds
        scale = high - low
        df, dg = self._boundaries(x1, y, target)
        dg = ops.reshape(dg, (batch, df.shape[1], features))
        if self.norm == "linf":
            dual = ops.sum(ops.abs(dg), axis=-1)
        else:
            dual = ops.sqrt(ops.sum(ops.square(dg), axis=-1))
        closest = ops.argmin(ops.abs(df) / (1e-12 + dual), axis=1)
        w = ops.take_along_axis(dg, ops.reshape(closest, (-1, 1, 1)), axis=1)[:, 0]
        f = ops.take_along_axis(df, ops.reshape(closest, (-1, 1)), axis=1)[:, 0]
        # The box coordinates u = (x - low) / scale, so that the projections work in [0, 1]^D.
        u1 = (ops.reshape(x1, (batch, features)) - low) / scale
        u0 = (ops.reshape(x, (batch, features)) - low) / scale
        w_box = w * scale
        b = -f + ops.sum(w_box * u1, axis=1)
        project = projection_linf if self.norm == "linf" else projection_l2
        steps = project(
            ops.concatenate([u1, u0], axis=0),
            ops.concatenate([w_box, w_box], axis=0),
            ops.concatenate([b, b], axis=0),
        )
        lengths = ops.maximum(self._norm(steps), 1e-8)
        a1, a2 = lengths[:batch], lengths[batch:]
        alpha = ops.clip(a1 / (a1 + a2), 0.0, self.alpha_max)[:, None]
        u_new = (u1 + self.eta * steps[:batch]) * (1.0 - alpha) + (u0 + self.eta * steps[batch:]) * alpha
        x_new = ops.reshape(low + scale * ops.clip(u_new, 0.0, 1.0), ops.shape(x))

        adversarial = ops.logical_not(ops.equal(self._predict(x_new), ops.cast(y, "int32")))
        distance = self._norm(ops.reshape(x_new - x, (batch, features)))
        improved = ops.logical_and(adversarial, distance < best_norm)
        adv = ops.where(_expand_like(improved, x), x_new, adv)
        best_norm = ops.where(improved, distance, best_norm)
        x_new = ops.where(_expand_like(adversarial, x), x + (x_new - x) * self.beta, x_new)
        return x_new, adv, best_norm

    def _boundaries(self, x1, y, target):
        """`(f, G)`: logit differences `(B, M)` and their input gradients `(B, M, *input)`.

        Untargeted: `f_k = z_k - z_y` for every class (`f_y` set to 1e10 so
        that it is never the closest); FAB-T: the single `f = z_t - z_y`.
        """
        if self.n_target_classes is None:
            logits, grads = backend.logit_difference_grads(self.logits, x1, y, differentiable=False)
            num_classes = logits.shape[-1]
            label = ops.one_hot(ops.cast(y, "int32"), num_classes, dtype=logits.dtype)
            label_logit = ops.sum(logits * label, axis=1, keepdims=True)
            df = ops.where(label > 0, _NOT_FOUND, logits - label_logit)
            return df, grads

        def difference(inputs):
            logits = self.logits(inputs)
            num_classes = logits.shape[-1]
            to_target = ops.one_hot(ops.cast(target, "int32"), num_classes, dtype=logits.dtype)
            to_label = ops.one_hot(ops.cast(y, "int32"), num_classes, dtype=logits.dtype)
            return ops.sum(logits * (to_target - to_label), axis=1)

        df, grad = backend.value_and_input_grad(difference, x1, differentiable=False)
        return df[:, None], grad[:, None]

    def _norm(self, flat):
        if self.norm == "linf":
            return ops.max(ops.abs(flat), axis=1)
        return ops.sqrt(ops.sum(ops.square(flat), axis=1))

    def _predict(self, x):
        return ops.cast(ops.argmax(self.logits(x), axis=-1), "int32")

    def _target_classes(self, x, y):
        return top_other_classes(self.logits(x), y, self.n_target_classes)
