"""FGSM, the fast gradient sign method."""

from hdl_keras.attacks.base import Attack


class FGSM(Attack):
    """Fast gradient sign method: one step of size `eps` along the loss gradient.

    `x' = clip(x + eps * sign(grad_x L(x, y)))` for l_inf (Goodfellow et al.
    2015; Dinh et al. (2020), appendix), or `x + eps * g / ||g||_2` for l_2.

    Args:
        model: a callable returning logits (see `Attack`).
        eps: radius of the threat model, default 8/255.
        **kwargs: `norm`, `targeted`, `seed`, `bounds` of `Attack`.

    Examples:
        >>> attack = FGSM(model, eps=8 / 255)
        >>> x_adv = attack(x_test[:128], y_test[:128])

    Reference:
        Goodfellow, Shlens, Szegedy, "Explaining and Harnessing Adversarial
        Examples", ICLR 2015.
    """

    steps = 1  # one gradient evaluation: the query count of the report

    def __init__(self, model, eps=8 / 255, **kwargs):
        super().__init__(model, eps, **kwargs)

    def perturb(self, x, y):
        _, grad = self.loss_and_grad(x, y)
        return self.project(x + self.eps * self.step_direction(grad), x)
