"""Checks that gradients flowing through input gradients are right.

The weights gradient is read off `model.fit` itself (one SGD step with learning
rate 1 moves each weight by minus its gradient), so the check covers the
backend's `train_step` at its default `jit_compile`, and is compared against a
central finite difference of the loss along a random direction.
"""

import keras
import numpy as np
from keras import ops

from hdl_keras import backend


@keras.saving.register_keras_serializable(package="hdl_keras.testing")
class InputGradientPenaltyModel(keras.Model):
    """A functional model whose loss adds `penalty * mean_b sum_k ||G[b, k]||^2`.

    `G[b, k]` is the input gradient of the logit difference `z_k - z_{y_b}`
    (`hdl_keras.backend.logit_difference_grads`), the quantity the HDL robust
    loss penalises. Squared l2 keeps the loss smooth for finite differences.

    Args:
        penalty: weight of the input-gradient term, default 1.0.
        differentiable: passed to the backend core; `False` cuts the input
            gradient from the weights' graph, a wrong gradient the checks
            below must detect. Default True.
    """

    def __init__(self, *args, penalty=1.0, differentiable=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.penalty = penalty
        self.differentiable = differentiable

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        loss = super().compute_loss(x, y, y_pred, sample_weight, training=training)
        _, grads = backend.logit_difference_grads(
            lambda t: self(t, training=False), x, y, differentiable=self.differentiable
        )
        squared = ops.sum(ops.reshape(ops.square(grads), (ops.shape(grads)[0], -1)), axis=1)
        return loss + self.penalty * ops.mean(squared)

    def get_config(self):
        return {
            **super().get_config(),
            "penalty": self.penalty,
            "differentiable": self.differentiable,
        }


def penalty_model_like(model, penalty=1.0, differentiable=True):
    """Wraps a functional `model`'s graph into an `InputGradientPenaltyModel`.

    The result shares `model`'s layers and is compiled with `SGD(1.0)` and
    sparse categorical cross-entropy on logits, ready for `fit_gradient`.
    """
    wrapped = InputGradientPenaltyModel(model.input, model.output, penalty=penalty, differentiable=differentiable)
    wrapped.compile(
        optimizer=keras.optimizers.SGD(learning_rate=1.0),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    return wrapped


def fit_gradient(model, x, y):
    """Returns the weights gradient `model.fit` applies on the batch `(x, y)`.

    `model` must be compiled with `SGD(learning_rate=1.0)` (no momentum, no
    weight decay); its weights are restored afterwards.
    """
    before = [np.array(ops.convert_to_numpy(v)) for v in model.trainable_variables]
    model.fit(x, y, batch_size=len(x), epochs=1, shuffle=False, verbose=0)
    after = [ops.convert_to_numpy(v) for v in model.trainable_variables]
    for variable, value in zip(model.trainable_variables, before):
        variable.assign(value)
    return [b - a for b, a in zip(before, after)]


def loss_value(model, x, y):
    """The model's training loss on `(x, y)`, evaluated eagerly, as a float."""
    y_pred = model(x, training=True)
    return float(ops.convert_to_numpy(model.compute_loss(x, y, y_pred, training=True)))


def double_backprop_relative_error(model, x, y, step=1e-2, seed=0):
    """Relative error of `fit`'s weights gradient against finite differences.

    Compares `<g, d>` with `(L(w + h d) - L(w - h d)) / 2h` for a random unit
    direction `d` over all trainable weights.

    Returns:
        `|fd - <g, d>| / max(|fd|, |<g, d>|)`, a float.
    """
    gradient = fit_gradient(model, x, y)
    rng = np.random.default_rng(seed)
    direction = [rng.standard_normal(g.shape).astype("float32") for g in gradient]
    norm = np.sqrt(sum(float(np.sum(d * d)) for d in direction))
    direction = [d / norm for d in direction]
    analytic = sum(float(np.sum(g * d)) for g, d in zip(gradient, direction))

    original = [np.array(ops.convert_to_numpy(v)) for v in model.trainable_variables]

    def shifted_loss(sign):
        for variable, value, d in zip(model.trainable_variables, original, direction):
            variable.assign(value + sign * step * d)
        return loss_value(model, x, y)

    numeric = (shifted_loss(1.0) - shifted_loss(-1.0)) / (2 * step)
    for variable, value in zip(model.trainable_variables, original):
        variable.assign(value)
    return abs(numeric - analytic) / max(abs(numeric), abs(analytic))
