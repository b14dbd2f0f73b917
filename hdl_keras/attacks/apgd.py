"""APGD (Auto-PGD): PGD with momentum and an adaptive step size, l_inf and l_2."""

from keras import ops

from hdl_keras import backend
from hdl_keras.attacks import losses
from hdl_keras.attacks.base import Attack
from hdl_keras.attacks.base import _expand_like
from hdl_keras.attacks.base import input_dtype
from hdl_keras.attacks.base import random_start


def checkpoints(steps):
    """The iterations `w_j` at which APGD may halve its step.

    The paper's schedule (Croce & Hein 2020, section 3.2): `p_0 = 0`,
    `p_1 = 0.22`, `p_{j+1} = p_j + max(p_j - p_{j-1} - 0.03, 0.06)`, as the
    authors' code computes it in whole iterations: windows of
    `max(int(0.22 N), 1)` iterations, each `max(int(0.03 N), 1)` shorter than
    the previous one and at least `max(int(0.06 N), 1)` long, kept while they
    end within the `N = steps` iterations.

    Args:
        steps: number of iterations, `>= 1`.

    Returns:
        The increasing list of `w_j`, `j >= 1` (for `steps=100`:
        `[22, 41, 57, 70, 80, 87, 93, 99]`).
    """
    window = max(int(0.22 * steps), 1)
    decrease = max(int(0.03 * steps), 1)
    shortest = max(int(0.06 * steps), 1)
    result = [window]
    while True:
        window = max(window - decrease, shortest)
        if result[-1] + window > steps:
            return result
        result.append(result[-1] + window)


class APGD(Attack):
    """Auto-PGD of Croce & Hein (2020), the gradient attack of AutoAttack.

    PGD without a step-size parameter. From a random point `x(0)` of the ball,
    `x(1) = P(x(0) + eta * d(x(0)))`, then for `k = 1 .. steps - 1`:

        z = P(x(k) + eta * d(x(k)))
        x(k+1) = P(x(k) + alpha * (z - x(k)) + (1 - alpha) * (x(k) - x(k-1)))

    with `P` the projection onto the ball and `bounds`, `d` the steepest
    ascent direction (`sign(g)` for l_inf, `g / ||g||_2` for l_2) and a step
    size `eta` per example, starting at `2 * eps`. At the checkpoints
    `w_j` (see `checkpoints`), `eta` is halved and the iterate reset to the
    best point so far, per example, when

    1. the loss increased in at most `rho * (w_j - w_{j-1})` of the steps
       since `w_{j-1}` (the authors' code; the paper writes "fewer than"), or
    2. `eta` was not halved at `w_{j-1}` and the best loss has not improved
       since.

    Per example, the attack returns the last iterate that fooled the model,
    else the iterate of highest loss; with `restarts > 1` (each from a new
    seeded random start), a successful run beats an unsuccessful one, then the
    higher loss wins.

    Targeting: with `targeted=True`, `y` holds target classes and the loss is
    the targeted one (`"ce"`: `-CE(z, t)`; `"dlr"`: the targeted DLR of the
    paper, with the highest other logit `max_{k != t} z_k` in place of the
    true-class logit, so that success means predicting `t`). With
    `n_target_classes=n` (and `targeted=False`) the attack is APGD-T: `y` are
    the true labels, and one run per restart targets each of the `n` classes
    with the highest clean logits other than `y`; success is any
    misclassification.

    Each iteration is compiled on its own and `__call__` loops over them in
    Python; `perturb` is the same loop, fully unrolled, for traced callers.

    Args:
        model: a callable returning logits (see `Attack`).
        eps: radius of the threat model, default 8/255.
        steps: number of iterations `N_iter`, default 100 (as in the paper).
        restarts: number of runs, default 1.
        loss: `"ce"` (default, APGD-CE) or `"dlr"` (APGD-DLR; `"dlr"` needs
            at least 3 classes, its targeted form at least 4), or any loss of
            `losses.get`.
        rho: threshold of condition 1, default 0.75.
        alpha: weight of the new step against the previous update
            (momentum `1 - alpha`), default 0.75.
        n_target_classes: `None` (default) or the number of target classes of
            APGD-T (the paper: 9 on CIFAR-10).
        **kwargs: `norm` (`"linf"` or `"l2"`), `targeted`, `seed`, `bounds`
            of `Attack`.

    Call arguments:
        x: float array `(batch, *input_shape)` with values in `bounds`.
        y: int array `(batch,)` of labels (targets when `targeted`).

    Returns:
        Adversarial inputs, same shape as `x`, in `bounds` and in the ball.

    Examples:
        >>> apgd_ce = APGD(model, eps=8 / 255, seed=0)
        >>> apgd_t = APGD(model, eps=8 / 255, loss="dlr", n_target_classes=9, seed=0)
        >>> x_adv = apgd_ce(x, y)

    Reference:
        Croce & Hein, "Reliable evaluation of adversarial robustness with an
        ensemble of diverse parameter-free attacks", ICML 2020,
        https://arxiv.org/abs/2003.01690
    """

    def __init__(
        self,
        model,
        eps=8 / 255,
        steps=100,
        restarts=1,
        loss="ce",
        rho=0.75,
        alpha=0.75,
        n_target_classes=None,
        **kwargs,
    ):
        super().__init__(model, eps, loss=loss, **kwargs)
        if steps < 1 or restarts < 1:
            raise ValueError(f"steps and restarts must be >= 1. Received: steps={steps}, restarts={restarts}")
        if not 0 < rho <= 1 or not 0 <= alpha <= 1:
            raise ValueError(f"rho must be in (0, 1] and alpha in [0, 1]. Received: rho={rho}, alpha={alpha}")
        if n_target_classes is not None:
            if n_target_classes < 1:
                raise ValueError(f"n_target_classes must be >= 1. Received: n_target_classes={n_target_classes}")
            if self.targeted:
                raise ValueError(
                    "n_target_classes runs APGD-T, which takes true labels: use it with "
                    "targeted=False. Received: targeted=True"
                )
        self.steps = int(steps)
        self.restarts = int(restarts)
        self.rho = float(rho)
        self.alpha = float(alpha)
        self.n_target_classes = n_target_classes
        self._targeted_loss = losses.get(loss, targeted=True)
        self._is_dlr = losses.get(loss) is losses.dlr
        windows = checkpoints(self.steps)
        self._thresholds = {w: self.rho * (w - w_previous) for w_previous, w in zip([0] + windows, windows)}

    def __call__(self, x, y):
        dtype = input_dtype(x)
        x, y = self._check_inputs(x, y)
        return ops.cast(self._attack(x, y, self.compile), dtype)

    def perturb(self, x, y):
        return self._attack(x, y, lambda fn: fn)

    def _attack(self, x, y, compile_fn):
        """All runs (restarts x targets), merged per example."""
        start = compile_fn(self._start)
        iterate = compile_fn(self._iterate)
        checkpoint = compile_fn(self._checkpoint)
        if self.n_target_classes is not None:
            ranked = compile_fn(self._target_classes)(x, y)
            runs = [ranked[:, j] for j in range(self.n_target_classes)]
        else:
            runs = [y]
        best = None
        for _ in range(self.restarts):
            for target in runs:
                state = start(x, y, target)
                for n in range(1, self.steps + 1):
                    state = iterate(state)
                    if n in self._thresholds:
                        threshold = ops.convert_to_tensor(self._thresholds[n], dtype="float32")
                        state = checkpoint(state, threshold)
                found = state["found"]
                candidate = (
                    ops.where(_expand_like(found, x), state["x_found"], state["x_best"]),
                    found,
                    state["loss_best"],
                )
                best = candidate if best is None else _merge(best, candidate)
        return best[0]

    def _start(self, x, y, target):
        """The state at `x(0)`, a random start; `target` serves APGD-T only.

        Its `alpha` is 1, so that the first step, to `x(1)`, has no momentum.
        """
        x0 = self.project(random_start(x, self.eps, self.norm, self.seed_generator), x)
        loss, grad, success = self._evaluate(x0, y, target)
        state = {
            "x": x,
            "y": y,
            "target": target,
            "x_adv": x0,
            "x_prev": x0,
            "loss": loss,
            "grad": grad,
            "step": ops.full(ops.shape(loss), 2.0 * self.eps, dtype=loss.dtype),
            "x_best": x0,
            "loss_best": loss,
            "grad_best": grad,
            "x_found": x0,
            "found": success,
            "increases": ops.zeros_like(loss),
            "loss_best_last": loss,
            "reduced_last": ops.zeros(ops.shape(loss), dtype="bool"),
            "alpha": ops.ones((), dtype=loss.dtype),
        }
        return state

    def _iterate(self, state):
        """One momentum step from `x(k)` to `x(k+1)`, with the bookkeeping."""
        x, x_adv, alpha = state["x"], state["x_adv"], state["alpha"]
        step = _expand_like(state["step"], x)
        z = self.project(x_adv + step * self.step_direction(state["grad"]), x)
        x_new = self.project(x_adv + alpha * (z - x_adv) + (1.0 - alpha) * (x_adv - state["x_prev"]), x)
        loss, grad, success = self._evaluate(x_new, state["y"], state["target"])
        better = loss > state["loss_best"]
        new = dict(state)
        new.update(
            x_prev=x_adv,
            x_adv=x_new,
            loss=loss,
            grad=grad,
            increases=state["increases"] + ops.cast(loss > state["loss"], loss.dtype),
            x_best=ops.where(_expand_like(better, x), x_new, state["x_best"]),
            loss_best=ops.where(better, loss, state["loss_best"]),
            grad_best=ops.where(_expand_like(better, x), grad, state["grad_best"]),
            x_found=ops.where(_expand_like(success, x), x_new, state["x_found"]),
            found=ops.logical_or(state["found"], success),
            alpha=ops.full((), self.alpha, dtype=loss.dtype),
        )
        return new

    def _checkpoint(self, state, threshold):
        """Halves `eta` and restarts from the best point where condition 1 or 2 holds."""
        x = state["x"]
        condition_1 = state["increases"] <= threshold
        condition_2 = ops.logical_and(
            ops.logical_not(state["reduced_last"]), state["loss_best"] <= state["loss_best_last"]
        )
        halve = ops.logical_or(condition_1, condition_2)
        reset = _expand_like(halve, x)
        new = dict(state)
        new.update(
            step=ops.where(halve, state["step"] / 2.0, state["step"]),
            x_adv=ops.where(reset, state["x_best"], state["x_adv"]),
            grad=ops.where(reset, state["grad_best"], state["grad"]),
            loss=ops.where(halve, state["loss_best"], state["loss"]),
            increases=ops.zeros_like(state["increases"]),
            reduced_last=halve,
            loss_best_last=state["loss_best"],
        )
        return new

    def loss_and_grad(self, x, y, target=None):
        """`(per-example loss, d loss / dx)` of the APGD objective at `x`.

        `target` holds the target classes of an APGD-T run, None otherwise.
        """
        return backend.value_and_input_grad(
            lambda inputs: self._objective(self.logits(inputs), y, target),
            x,
            differentiable=False,
        )

    def _evaluate(self, x_adv, y, target):
        """`(loss, grad, success)` at `x_adv`, per example."""
        loss, grad = self.loss_and_grad(x_adv, y, target)
        success = self.is_adversarial(self.logits(x_adv), y)
        return loss, grad, success

    def _objective(self, logits, y, target):
        """The loss to ascend: untargeted, targeted (`y` = targets) or APGD-T's."""
        if self.n_target_classes is not None:
            if self._is_dlr:
                return losses.targeted_dlr(logits, y, target)
            return self._targeted_loss(logits, target)
        if self.targeted and self._is_dlr:
            return losses.targeted_dlr(logits, _best_other_class(logits, y), y)
        return self.loss(logits, y)

    def _target_classes(self, x, y):
        return top_other_classes(self.logits(x), y, self.n_target_classes)


def top_other_classes(logits, y, n):
    """`(B, n)` int32: per example, the `n` classes of highest logit other than `y`.

    The target classes of APGD-T and FAB-T (Croce & Hein 2020).
    """
    num_classes = logits.shape[-1]
    if num_classes is not None and n > num_classes - 1:
        raise ValueError(
            f"n_target_classes must be at most num_classes - 1 = {num_classes - 1}. Received: n_target_classes={n}"
        )
    ranked = ops.argsort(-_mask_class(logits, y), axis=-1)
    return ops.cast(ranked[:, :n], "int32")


def _mask_class(logits, y):
    """`logits` with the logit of class `y` set to -inf."""
    classes = ops.arange(ops.shape(logits)[-1], dtype="int32")
    is_label = ops.equal(classes[None, :], ops.cast(y, "int32")[:, None])
    return ops.where(is_label, float("-inf"), logits)


def _best_other_class(logits, y):
    """`argmax_{k != y} z_k`, per example."""
    return ops.cast(ops.argmax(_mask_class(logits, y), axis=-1), "int32")


def _merge(best, candidate):
    """Per example: a success beats a failure, then the higher loss wins."""
    best_x, best_success, best_loss = best
    x, success, loss = candidate
    better = ops.logical_or(
        ops.logical_and(success, ops.logical_not(best_success)),
        ops.logical_and(ops.equal(success, best_success), loss > best_loss),
    )
    return (
        ops.where(_expand_like(better, x), x, best_x),
        ops.logical_or(best_success, success),
        ops.where(better, loss, best_loss),
    )
