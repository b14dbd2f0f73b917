"""BinaryConnect and BinaryRelax (Li, Wang and Xin 2020, Algorithm 1) as training schemes inside `model.fit`.

Both schemes keep float weights `w` (the variables the optimizer updates) and
run the forward pass with

    u = (lambda * proj_Q(w) + w) / (lambda + 1),

BinaryRelax's relaxed weights (Yin et al. 2018, the closed-form minimizer of
`||w - u||^2 / 2 + lambda / 2 * dist(u, Q)^2`), where `proj_Q` is a weight
quantizer (`hdl_keras.quantizers`). `lambda = inf` gives `u = proj_Q(w)`:
BinaryConnect. BinaryRelax starts at `lambda_0` (1 in the paper), multiplies
`lambda` by `rho > 1` each epoch and switches to BinaryConnect from epoch `M`
on. The gradient of the loss with respect to `u` updates `w` directly
(`w <- w - gamma * grad L(u)`, lines 6 and 11 of Algorithm 1): the
quantizers' straight-through estimator, for which `du/dw = 1`.

Design: `lambda` is a *non-trainable weight* `relax_lambda` (a scalar) of each
quantized layer (`hdl_keras.layers.QuantDense`, `QuantConv2D`), initialised to
`inf`, and the `hdl_keras.callbacks.BinaryRelax` callback assigns it between epochs.

* BinaryConnect is the layers with no callback: nothing to configure.
* The forward pass reads a variable, so a compiled train step (`jit_compile`
  on jax, tensorflow and torch) sees each new `lambda` without retracing,
  and the scheme composes with any `train_step`/`compute_loss` (plain models,
  `PGDAdversarialTraining`, `TRADES`, `TradeOff`: their PGD attacks the
  relaxed model the optimizer trains, as in the paper).
* The value is saved with the model (`.keras`), so a resumed or reloaded
  model computes what it computed when saved; the callback itself holds only
  its schedule (`get_config`), and recomputes `lambda` from the epoch index,
  so `initial_epoch` and `BackupAndRestore` resume the schedule.
* An optimizer wrapper would have to know the layers' projection and keep a
  second copy of the weights; a train-step override would not compose with
  the adversarial objectives' own `compute_loss`.

`u` is computed as `t * proj_Q(w) + (1 - t) * w` with `t = 1 / (1 + 1/lambda)
= lambda / (lambda + 1)`: at `lambda = inf`, `t = 1` exactly and `u` equals
`proj_Q(w)` bit for bit (no `inf / inf`); at `lambda = 0`, `u = w`.
"""

import math
import numbers

from keras import ops

from hdl_keras.utils.graph import flatten_layers


def relaxed_kernel(kernel, quantizer, relax_lambda):
    """Returns `u = (lambda * q(w) + w) / (lambda + 1)` with a straight-through gradient.

    Args:
        kernel: the float weights `w` (a tensor or variable).
        quantizer: a weight quantizer `q` (`hdl_keras.quantizers.get(...)`).
        relax_lambda: `lambda >= 0`, a scalar (tensor, variable or float);
            `inf` gives BinaryConnect, `q(w)` exactly.

    Returns:
        A tensor of `w`'s shape; its gradient with respect to `w` is the
        identity.
    """
    kernel = ops.convert_to_tensor(kernel)
    relax_lambda = ops.cast(relax_lambda, kernel.dtype)
    weight = ops.reciprocal(ops.add(1.0, ops.reciprocal(relax_lambda)))
    return ops.add(
        ops.multiply(weight, quantizer(kernel)),
        ops.multiply(ops.subtract(1.0, weight), kernel),
    )


def relaxable_layers(model):
    """The layers of `model` (searched recursively) that carry a `relax_lambda` weight."""
    return [layer for layer in flatten_layers(model) if getattr(layer, "relax_lambda", None) is not None]


def check_lambda(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value) or value < 0:
        raise ValueError(f"Expected `{name}` to be a number >= 0 (or inf). Received: {name}={value!r}")
    return float(value)


def set_relax_lambda(model, value):
    """Sets the relaxation `lambda` of every quantized layer of `model`.

    Args:
        model: a built Keras model (or layer) with quantized layers.
        value: `lambda >= 0`; `None` or `inf` means BinaryConnect (the
            forward pass uses `q(w)` exactly).

    Raises:
        ValueError: if `model` has no quantized layer.
    """
    value = math.inf if value is None else check_lambda(value, "value")
    layers = relaxable_layers(model)
    if not layers:
        raise ValueError(
            f"Model {model.name!r} has no quantized layers (hdl_keras.layers.QuantDense, "
            "QuantConv2D); convert it with hdl_keras.layers.to_quantized first."
        )
    for layer in layers:
        layer.relax_lambda.assign(value)
