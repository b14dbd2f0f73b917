"""BPDA: backward pass differentiable approximation of non-differentiable models."""

import keras
from keras import ops

from hdl_keras.attacks.eot import check_gradient_attack
from hdl_keras.attacks.eot import with_mixin


def BPDA(attack, substitute):
    """Backward pass differentiable approximation (Athalye et al. 2018).

    Models with non-differentiable parts (input quantization or thresholding,
    rounding, quantized activations without a straight-through estimator)
    have zero or useless input gradients, so gradient attacks stall on them.
    BPDA runs the real model forward and a differentiable `substitute`
    approximating it backward: the attack sees the logits

        substitute(x) - stop_gradient(substitute(x)) + model(x),

    whose value is exactly `model(x)` (losses and success checks use the real
    model) and whose input gradient is the substitute's. For a model
    `f(g(x))` with a preprocessing `g(x) ~ x` (e.g. rounding), the substitute
    `f` (the model without `g`) gives the identity backward pass of the paper.

    Returns a copy of `attack` whose `logits` are the logits above; every
    gradient the attack takes through `self.logits` (`loss_and_grad` and any
    attack-specific objective) goes through the substitute. The copy is an
    instance of a subclass of the attack's class (`BPDAPGD` for `PGD`), has
    its own seed generator seeded with `attack.seed` and keeps `substitute`;
    `attack` is left unchanged. Each call of `logits` runs both models.

    Args:
        attack: a gradient-based `Attack` on the real model (`attack.model`).
        substitute: a differentiable callable `x -> logits` approximating
            `attack.model` (a `keras.Model`, called with `training=False`, or
            a function), with the same input and output shapes.

    Returns:
        The BPDA attack: called like `attack`, `(batch, *input_shape)` inputs
        and `(batch,)` labels to adversarial inputs of the input's shape.

    Examples:
        >>> # model = keras.Sequential([InputQuantization(), body])
        >>> attack = BPDA(PGD(model, eps=8 / 255), substitute=body)
        >>> x_adv = attack(x, y)

    Reference:
        Athalye, Carlini, Wagner, "Obfuscated Gradients Give a False Sense of
        Security: Circumventing Defenses to Adversarial Examples", ICML 2018,
        https://arxiv.org/abs/1802.00420 (section 4.1).
    """
    check_gradient_attack(attack, "BPDA")
    if not callable(substitute):
        raise ValueError(
            "BPDA needs a callable substitute x -> logits (e.g. a keras.Model). "
            f"Received: substitute of type {type(substitute).__name__}"
        )
    bpda_attack = with_mixin(attack, _BPDAMixin, "BPDA")
    bpda_attack.substitute = substitute
    return bpda_attack


class _BPDAMixin:
    """Real-model values, substitute gradients; the substitute's weights compiled in."""

    def logits(self, x):
        real = super().logits(x)
        if isinstance(self.substitute, keras.Layer):
            smooth = self.substitute(x, training=False)
        else:
            smooth = self.substitute(x)
        return ops.stop_gradient(real) + (smooth - ops.stop_gradient(smooth))

    def variable_sources(self):
        return (self.model, self.substitute)
