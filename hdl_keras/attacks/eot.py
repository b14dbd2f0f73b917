"""EoT: Expectation over Transformation, input gradients of randomized models averaged."""

import numbers
import warnings

from keras import ops

from hdl_keras.attacks.wrapped import ModelWrapper
from hdl_keras.attacks.wrapped import call_model
from hdl_keras.attacks.wrapped import check_gradient_attack
from hdl_keras.attacks.wrapped import with_model


class EoT(ModelWrapper):
    """Expectation over Transformation for randomized models (Athalye et al. 2018).

    A randomized model (e.g. a noise-injected ResNet whose noise stays on at
    inference) has a random input gradient; one draw is a poor ascent
    direction. `EoT(model, samples=n)` is the model with its input Jacobian
    averaged over `n` draws: calling it runs `model` `n` times and returns

        z = stop_gradient(z_1) + mean_i z_i - stop_gradient(mean_i z_i),

    whose value is the first draw `z_1 = model(x)` (losses and success
    checks see the model as it is) and whose input gradient, for a loss `L`,
    is `(1/n) sum_i J_i^T grad_z L(z_1)`, `J_i` the Jacobian of draw `i`: the
    expected Jacobian of the model, the EoT estimate of `grad_x E[L(f(x))]`
    with the loss gradient taken at one draw. On a deterministic model it is
    the plain gradient.

    Every attack accepts the wrapper where it accepts a model, e.g.
    `PGD(EoT(model, samples=10), eps=8 / 255)`, since the attacks take input
    gradients of `model(x)`. Each call costs `n` forward passes (and `n`
    backward passes under a gradient), so a prediction inside an attack (a
    success check) costs `n` forward passes too; the draws are unrolled in
    the compiled attack, so compilation time grows with `n`.

    Args:
        model: the randomized logits model, a callable `x -> logits (B, K)`
            (a `keras.Model` is called with `training` as given, False in
            attacks).
        samples: number of draws `n >= 1`, default 10.

    Raises:
        ValueError: a `model` that is not callable, or `samples` not an int `>= 1`.

    Examples:
        >>> x_adv = PGD(EoT(noisy_model, samples=10), eps=8 / 255, steps=20)(x, y)

    `EoT(attack, n)` (the attack-side call of earlier releases) still works
    with a DeprecationWarning: it returns a copy of `attack` on
    `EoT(attack.model, samples=n)`.

    Reference:
        Athalye, Carlini, Wagner, "Obfuscated Gradients Give a False Sense of
        Security: Circumventing Defenses to Adversarial Examples", ICML 2018,
        https://arxiv.org/abs/1802.00420 (section 4.3).
    """

    def __new__(cls, model, *args, **kwargs):
        if _is_attack(model):
            return _deprecated_eot(model, *args, **kwargs)
        return super().__new__(cls)

    def __init__(self, model, samples=10):
        super().__init__(model)
        if isinstance(samples, bool) or not isinstance(samples, numbers.Integral) or samples < 1:
            raise ValueError(f"EoT needs an int number of draws samples >= 1. Received: samples={samples!r}")
        self.samples = int(samples)

    def call(self, x, training=False):
        draws = [call_model(self.model, x, training) for _ in range(self.samples)]
        if self.samples == 1:
            return draws[0]
        mean = ops.mean(ops.stack(draws), axis=0)
        return ops.stop_gradient(draws[0]) + (mean - ops.stop_gradient(mean))


def _is_attack(value):
    from hdl_keras.attacks.base import Attack

    return isinstance(value, Attack)


def _deprecated_eot(attack, n=10):
    """`EoT(attack, n)` of earlier releases: a copy of `attack` on `EoT(attack.model, n)`."""
    warnings.warn(
        "EoT(attack, n) is deprecated and will be removed in the next release: wrap the "
        f"model instead, e.g. {type(attack).__name__}(EoT(model, samples={n!r}), ...).",
        DeprecationWarning,
        stacklevel=3,
    )
    check_gradient_attack(attack, "EoT")
    return with_model(attack, EoT(attack.model, samples=n))
