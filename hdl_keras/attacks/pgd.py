"""PGD (iterative FGSM) with random start and restarts, l_inf and l_2."""

from keras import ops

from hdl_keras.attacks.base import Attack
from hdl_keras.attacks.base import random_start
from hdl_keras.utils import validation


class PGD(Attack):
    """Projected gradient descent on an attack loss (Madry et al. 2018).

    Repeats `x <- Proj(x + step_size * direction(grad_x L))` for `steps`
    iterations, from a random point of the ball when `random_start`; with
    `restarts > 1`, keeps per example the first successful run, else the one
    with the highest final loss. IFGSM^20 of Dinh et al. (2020) is
    `PGD(model, eps=8/255, step_size=2/255, steps=20, random_start=False)`.
    `L` is the cross-entropy by default; `PGD(model, loss="cw")` ascends the
    Carlini-Wagner margin instead: the C&W-l_inf attack of Dinh et al. (2020) and Li, Wang and Xin (2020)
    (`hdl_keras.attacks.cw.cw_linf` holds their settings).

    Args:
        model: a callable returning logits (see `Attack`).
        eps: radius of the threat model, default 8/255.
        step_size: step length, default 2/255.
        steps: number of iterations, default 10.
        random_start: start from a uniform point of the ball, default True.
        restarts: number of runs, default 1.
        **kwargs: `norm`, `targeted`, `seed`, `bounds`, `loss` of `Attack`.

    Examples:
        >>> attack = PGD(model, eps=8 / 255, step_size=2 / 255, steps=20)
        >>> x_adv = attack(x, y)

    Reference:
        Madry et al., "Towards Deep Learning Models Resistant to Adversarial
        Attacks", ICLR 2018.
    """

    def __init__(
        self,
        model,
        eps=8 / 255,
        step_size=2 / 255,
        steps=10,
        random_start=True,
        restarts=1,
        **kwargs,
    ):
        super().__init__(model, eps, **kwargs)
        if steps < 1 or restarts < 1:
            raise ValueError(f"steps and restarts must be >= 1. Received: steps={steps}, restarts={restarts}")
        self.step_size = validation.check_number(step_size, "step_size", low=0.0, low_inclusive=False)
        self.steps = int(steps)
        self.random_start = bool(random_start)
        self.restarts = int(restarts)

    def perturb(self, x, y):
        if self.restarts == 1:
            return self._single_run(x, y)
        best, best_loss, best_success = None, None, None
        for _ in range(self.restarts):
            candidate = self._single_run(x, y)
            logits = self.logits(candidate)
            loss = self.loss(logits, y)
            success = self.is_adversarial(logits, y)
            if best is None:
                best, best_loss, best_success = candidate, loss, success
                continue
            better = ops.logical_or(
                ops.logical_and(success, ops.logical_not(best_success)),
                ops.logical_and(ops.equal(success, best_success), loss > best_loss),
            )
            mask = ops.reshape(better, (-1,) + (1,) * (len(x.shape) - 1))
            best = ops.where(mask, candidate, best)
            best_loss = ops.where(better, loss, best_loss)
            best_success = ops.logical_or(best_success, success)
        return best

    def _single_run(self, x, y):
        x_adv = x
        if self.random_start:
            x_adv = self.project(random_start(x, self.eps, self.norm, self.seed_generator), x)
        for _ in range(self.steps):
            _, grad = self.loss_and_grad(x_adv, y)
            x_adv = self.project(x_adv + self.step_size * self.step_direction(grad), x)
        return x_adv
