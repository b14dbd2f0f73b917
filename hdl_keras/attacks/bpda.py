"""BPDA: backward pass differentiable approximation of non-differentiable models."""

import warnings

from keras import ops

from hdl_keras.attacks.wrapped import ModelWrapper
from hdl_keras.attacks.wrapped import call_model
from hdl_keras.attacks.wrapped import check_callable
from hdl_keras.attacks.wrapped import check_gradient_attack
from hdl_keras.attacks.wrapped import with_model


class BPDA(ModelWrapper):
    """Backward pass differentiable approximation (Athalye et al. 2018).

    Models with non-differentiable parts (input quantization or thresholding,
    rounding, quantized activations without a straight-through estimator)
    have zero or useless input gradients, so gradient attacks stall on them.
    BPDA runs the real computation forward and a differentiable
    approximation of it backward. Two forms:

    - `BPDA(model, preprocess, approximation=None)`: the classifier `model`
      on a non-differentiable preprocessing `g = preprocess`. The wrapper
      returns `model(a(x) + stop_gradient(g(x) - a(x)))`, `a = approximation`
      (the identity by default, the paper's choice for `g(x) ~ x`): its value
      is `model(g(x))` and its input gradient is `model`'s at `g(x)` times
      `a`'s Jacobian.
    - `BPDA(model, substitute=network)`: the whole `model` is
      non-differentiable (e.g. a quantized network) and `network`
      approximates it (e.g. its float shadow weights). The wrapper returns
      `stop_gradient(model(x)) + network(x) - stop_gradient(network(x))`:
      the value of `model`, the input gradient of `network`.

    Every attack accepts the wrapper where it accepts a model, e.g.
    `PGD(BPDA(classifier, preprocess=quantize), eps=8 / 255)`; losses and
    success checks see the real model's logits. Each call runs both the
    real and the differentiable computation.

    Args:
        model: the logits model (after `preprocess`), a callable `x -> (B, K)`.
        preprocess: the non-differentiable preprocessing `x -> x'`, or None
            with `substitute`.
        approximation: differentiable `x -> x'` with `approximation(x) ~
            preprocess(x)`, default None (the identity).
        substitute: differentiable logits model approximating `model`, only
            without `preprocess`.

    Raises:
        ValueError: neither or both of `preprocess` and `substitute`, an
            `approximation` with `substitute`, or a part that is not callable.

    Examples:
        >>> quantize = lambda x: keras.ops.round(x * 4) / 4
        >>> x_adv = PGD(BPDA(classifier, preprocess=quantize), eps=8 / 255)(x, y)
        >>> x_adv = PGD(BPDA(quantized_model, substitute=float_model), eps=8 / 255)(x, y)

    `BPDA(attack, substitute)` (the attack-side call of earlier releases)
    still works with a DeprecationWarning: it returns a copy of `attack` on
    `BPDA(attack.model, substitute=substitute)`.

    Reference:
        Athalye, Carlini, Wagner, "Obfuscated Gradients Give a False Sense of
        Security: Circumventing Defenses to Adversarial Examples", ICML 2018,
        https://arxiv.org/abs/1802.00420 (section 4.1).
    """

    def __new__(cls, model, *args, **kwargs):
        from hdl_keras.attacks.base import Attack

        if isinstance(model, Attack):
            return _deprecated_bpda(model, *args, **kwargs)
        return super().__new__(cls)

    def __init__(self, model, preprocess=None, approximation=None, *, substitute=None):
        super().__init__(model)
        if (preprocess is None) == (substitute is None):
            raise ValueError(
                "BPDA needs either `preprocess` (the non-differentiable step before the "
                "model) or `substitute` (a differentiable model approximating the whole "
                f"model). Received: preprocess={preprocess!r}, substitute={substitute!r}"
            )
        if substitute is not None and approximation is not None:
            raise ValueError(
                "`approximation` replaces `preprocess` in the backward pass; with "
                "`substitute` there is no preprocessing to approximate. Received: "
                f"approximation={approximation!r}"
            )
        for name, part in (("preprocess", preprocess), ("approximation", approximation), ("substitute", substitute)):
            if part is not None:
                check_callable(part, "BPDA", name)
        self.preprocess = preprocess
        self.approximation = approximation
        self.substitute = substitute

    def parts(self):
        candidates = (self.model, self.preprocess, self.approximation, self.substitute)
        return tuple(part for part in candidates if part is not None)

    @property
    def inputs(self):
        if self.preprocess is not None:
            return getattr(self.preprocess, "inputs", None)
        return super().inputs

    def call(self, x, training=False):
        if self.substitute is not None:
            real = call_model(self.model, x, training)
            smooth = call_model(self.substitute, x, training)
            return ops.stop_gradient(real) + (smooth - ops.stop_gradient(smooth))
        processed = call_model(self.preprocess, x, training)
        approximate = x if self.approximation is None else call_model(self.approximation, x, training)
        straight_through = approximate + ops.stop_gradient(processed - approximate)
        return call_model(self.model, straight_through, training)


def _deprecated_bpda(attack, substitute):
    """`BPDA(attack, substitute)` of earlier releases: a copy of `attack` on the wrapped model."""
    warnings.warn(
        "BPDA(attack, substitute) is deprecated and will be removed in the next release: "
        f"wrap the model instead, e.g. {type(attack).__name__}(BPDA(model, "
        "substitute=substitute), ...).",
        DeprecationWarning,
        stacklevel=3,
    )
    check_gradient_attack(attack, "BPDA")
    return with_model(attack, BPDA(attack.model, substitute=substitute))
