"""EoT: Expectation over Transformation, gradients of randomized models averaged."""

import copy
import functools


from hdl_keras.attacks.base import Attack


def EoT(attack, n=10):
    """Expectation over Transformation for randomized models (Athalye et al. 2018).

    A randomized model (e.g. a noise-injected ResNet whose noise stays on at
    inference) has a random input gradient; one draw is a poor ascent
    direction. EoT ascends the expected loss instead, estimating
    `grad_x E[L(f(x), y)] = E[grad_x L(f(x), y)]` by the mean of `n` draws,
    each a forward and backward pass of the model with fresh noise.

    Returns a copy of `attack` whose `loss_and_grad` (the method the attacks
    of the suite take input gradients with) averages `n` draws; the rest of
    the attack (steps, projection, restarts) is unchanged, so EoT works with
    every attack that takes its gradients through `loss_and_grad`, and the
    first call raises a ValueError for an attack that does not. The copy is
    an instance of a subclass of the attack's class (`EoTPGD` for `PGD`),
    has its own seed generator seeded with `attack.seed` and
    `eot_samples = n`; `attack` is left unchanged. The `n` draws are unrolled
    in the compiled graph: compilation time grows with `n * steps`.

    Args:
        attack: a gradient-based `Attack` (not `black_box`).
        n: number of gradient draws averaged per step, default 10.

    Returns:
        The EoT attack: called like `attack`, `(batch, *input_shape)` inputs
        and `(batch,)` labels to adversarial inputs of the input's shape.

    Examples:
        >>> attack = EoT(PGD(noisy_model, eps=8 / 255, steps=20), n=10)
        >>> x_adv = attack(x, y)

    Reference:
        Athalye, Carlini, Wagner, "Obfuscated Gradients Give a False Sense of
        Security: Circumventing Defenses to Adversarial Examples", ICML 2018,
        https://arxiv.org/abs/1802.00420 (section 4.3).
    """
    check_gradient_attack(attack, "EoT")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"EoT needs an int number of draws n >= 1. Received: n={n!r}")
    eot_attack = with_mixin(attack, _EoTMixin, "EoT")
    eot_attack.eot_samples = n
    return eot_attack


class _EoTMixin:
    """Averages `loss_and_grad` over `self.eot_samples` draws of the model."""

    _eot_used = False

    def __call__(self, x, y):
        x_adv = super().__call__(x, y)
        if not self._eot_used:
            raise ValueError(
                f"EoT had no effect on {type(self).__name__}: the attack takes no input "
                "gradient through `loss_and_grad`, the method EoT averages."
            )
        return x_adv

    def loss_and_grad(self, x, y, *args, **kwargs):
        self._eot_used = True  # a Python flag, set when the attack is traced or run
        total_loss, total_grad = super().loss_and_grad(x, y, *args, **kwargs)
        for _ in range(self.eot_samples - 1):
            loss, grad = super().loss_and_grad(x, y, *args, **kwargs)
            total_loss, total_grad = total_loss + loss, total_grad + grad
        scale = 1.0 / self.eot_samples
        return total_loss * scale, total_grad * scale


def check_gradient_attack(attack, wrapper):
    """Raises a ValueError unless `attack` is a gradient-based `Attack`."""
    if not isinstance(attack, Attack):
        raise ValueError(
            f"{wrapper} wraps an hdl_keras Attack. Received: attack of type "
            f"{type(attack).__name__}"
        )
    if getattr(attack, "black_box", False):
        raise ValueError(
            f"{wrapper} changes the input gradients of a gradient-based attack; "
            f"{type(attack).__name__} is a black-box attack (black_box=True)."
        )


def with_mixin(attack, mixin, prefix):
    """A shallow copy of `attack` whose class also derives from `mixin`.

    `copy.copy` gives it its own compilation cache and seed generator
    (`Attack.__copy__`).
    """
    clone = copy.copy(attack)
    clone.__class__ = _mixed_class(mixin, type(attack), prefix)
    return clone


@functools.cache
def _mixed_class(mixin, attack_class, prefix):
    name = prefix + attack_class.__name__
    return type(name, (mixin, attack_class), {"__qualname__": name, "__module__": mixin.__module__})
