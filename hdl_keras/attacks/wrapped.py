"""Model-side attack wrappers: a logits model whose input gradient is changed.

`EoT` and `BPDA` wrap a model, not an attack: the wrapper's forward pass
returns the wrapped model's logits and its input gradient is the one the
wrapper defines (averaged over draws, or through a differentiable
approximation), written with `stop_gradient` in `keras.ops` so that every
attack, which takes input gradients of `model(x)` through
`hdl_keras.backend`, attacks the wrapper as it attacks any model.
"""

import copy

import keras
from keras import ops


def call_model(fn, x, training=False):
    """`fn(x)`, with `training` passed when `fn` is a Keras layer or model."""
    if isinstance(fn, keras.Layer):
        return fn(x, training=training)
    return fn(x)


def check_callable(value, owner, name):
    """Raises a ValueError unless `value` is callable (a model, a layer or a function)."""
    if not callable(value):
        raise ValueError(
            f"{owner} expects `{name}` to be a callable x -> tensor (a keras.Model, a "
            f"layer or a function). Received: {name} of type {type(value).__name__}"
        )


class ModelWrapper:
    """Base of `EoT` and `BPDA`: looks like the wrapped model to the attacks.

    Called as `wrapper(x, training=False)` like a `keras.Model`; `inputs`,
    `outputs` and `name` are the wrapped model's (the attacks' input checks
    read them), and `trainable_variables` / `non_trainable_variables` gather
    those of every part (`parts()`), so a compiled attack reads their current
    values.

    Args:
        model: the wrapped logits model, a callable `x -> logits (B, K)`.
    """

    def __init__(self, model):
        check_callable(model, type(self).__name__, "model")
        self.model = model

    def __call__(self, x, training=False):
        return self.call(ops.convert_to_tensor(x), training=training)

    def call(self, x, training=False):
        """The logits `(B, K)` of `x`, with the wrapper's input gradient."""
        raise NotImplementedError

    def parts(self):
        """The callables the wrapper runs, whose variables an attack reads."""
        return (self.model,)

    @property
    def name(self):
        return f"{type(self).__name__.lower()}_{getattr(self.model, 'name', 'model')}"

    @property
    def inputs(self):
        return getattr(self.model, "inputs", None)

    @property
    def outputs(self):
        return getattr(self.model, "outputs", None)

    @property
    def trainable_variables(self):
        return _unique_variables(self.parts(), "trainable_variables")

    @property
    def non_trainable_variables(self):
        return _unique_variables(self.parts(), "non_trainable_variables")

    def __repr__(self):
        return f"<{type(self).__name__} of {getattr(self.model, 'name', self.model)!r}>"


def _unique_variables(parts, attribute):
    unique = {}
    for part in parts:
        for variable in getattr(part, attribute, []):
            unique.setdefault(id(variable), variable)
    return list(unique.values())


def innermost_samples(model):
    """The EoT draws per call of `model`: the product of the `samples` of its wrappers (1 if none)."""
    draws = 1
    while isinstance(model, ModelWrapper):
        draws *= getattr(model, "samples", 1)
        model = model.model
    return draws


def check_gradient_attack(attack, wrapper):
    """Raises a ValueError unless `attack` is a gradient-based `Attack`."""
    from hdl_keras.attacks.base import Attack

    if not isinstance(attack, Attack):
        raise ValueError(
            f"{wrapper} wraps a model, or (deprecated) an hdl_keras Attack. Received: "
            f"attack of type {type(attack).__name__}"
        )
    if getattr(attack, "black_box", False):
        raise ValueError(
            f"{wrapper} changes the input gradients of a gradient-based attack; "
            f"{type(attack).__name__} is a black-box attack (black_box=True)."
        )


def with_model(attack, model):
    """A copy of `attack` that attacks `model` (own compilation cache and seed generator)."""
    clone = copy.copy(attack)
    clone.model = model
    return clone
