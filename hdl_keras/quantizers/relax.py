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
`inf`, and the `BinaryRelax` callback assigns it between epochs.

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
import warnings

import keras
import numpy as np
from keras import ops


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
    return [
        layer
        for layer in model._flatten_layers()
        if getattr(layer, "relax_lambda", None) is not None
    ]


def forward_bits(layer):
    """Bits per kernel entry of `layer`'s forward pass.

    The `bits` of its `kernel_quantizer` when the forward pass uses the
    quantized kernel (no `relax_lambda`, or `lambda = inf`: BinaryConnect);
    the float width of the kernel otherwise (a relaxed layer, finite
    `lambda`, or no quantizer): an unfinished BinaryRelax run is float.
    """
    float_bits = 8 * np.dtype(keras.backend.standardize_dtype(layer.kernel.dtype)).itemsize
    quantizer = getattr(layer, "kernel_quantizer", None)
    if quantizer is None or getattr(quantizer, "bits", None) is None:
        return float_bits
    relax_lambda = getattr(layer, "relax_lambda", None)
    if relax_lambda is not None and math.isfinite(float(ops.convert_to_numpy(relax_lambda))):
        return float_bits
    return quantizer.bits


def _check_lambda(value, name):
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or math.isnan(value)
        or value < 0
    ):
        raise ValueError(
            f"Expected `{name}` to be a number >= 0 (or inf). Received: {name}={value!r}"
        )
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
    value = math.inf if value is None else _check_lambda(value, "value")
    layers = relaxable_layers(model)
    if not layers:
        raise ValueError(
            f"Model {model.name!r} has no quantized layers (hdl_keras.layers.QuantDense, "
            "QuantConv2D); convert it with hdl_keras.layers.to_quantized first."
        )
    for layer in layers:
        layer.relax_lambda.assign(value)


@keras.saving.register_keras_serializable(package="hdl_keras")
class BinaryRelax(keras.callbacks.Callback):
    """BinaryRelax's schedule (Li et al. 2020, Algorithm 1): relaxed epochs, then BinaryConnect.

    At the start of each epoch sets every quantized layer's `relax_lambda` to

        lambda_t = lambda_0 * rho ** (t - 1)   for t < switch_epoch,
        lambda_t = inf (BinaryConnect)         for t >= switch_epoch,

    where `t = epoch + 1` is the 1-based epoch number Keras displays ("Epoch
    t/N") and the paper's `t`; `switch_epoch` is the paper's cut-off `M`. So
    the first epoch runs at `lambda_0`, `lambda` grows by `rho` per epoch,
    and from epoch `M` on the forward pass uses the quantized weights
    exactly. Train for at least `switch_epoch` epochs to end with a quantized
    model (or call `set_relax_lambda(model, None)`). Without this callback
    the quantized layers train with BinaryConnect.

    Args:
        lambda_0: `lambda` of the first epoch, `> 0`. Defaults to `1.0`
            (Algorithm 1).
        rho: growth factor per epoch, `>= 1` (the paper requires `rho > 1`;
            `1` keeps `lambda` constant).
        switch_epoch: `M`, the first (1-based) BinaryConnect epoch, an int
            `>= 1` (`1`: BinaryConnect throughout).

    Examples:
        >>> relax = BinaryRelax(lambda_0=1.0, rho=1.5, switch_epoch=3)
        >>> [relax.lambda_at(epoch) for epoch in range(4)]  # 0-based epochs
        [1.0, 1.5, inf, inf]
    """

    def __init__(self, lambda_0=1.0, *, rho, switch_epoch):
        super().__init__()
        self.lambda_0 = _check_lambda(lambda_0, "lambda_0")
        if self.lambda_0 == 0 or math.isinf(self.lambda_0):
            raise ValueError(
                f"Expected `lambda_0` to be finite and > 0. Received: lambda_0={lambda_0!r}"
            )
        self.rho = _check_lambda(rho, "rho")
        if self.rho < 1 or math.isinf(self.rho):
            raise ValueError(f"Expected `rho` to be finite and >= 1. Received: rho={rho!r}")
        if (
            isinstance(switch_epoch, bool)
            or not isinstance(switch_epoch, numbers.Integral)
            or switch_epoch < 1
        ):
            raise ValueError(
                "Expected `switch_epoch` to be an int >= 1 (the first BinaryConnect "
                f"epoch, 1-based). Received: switch_epoch={switch_epoch!r}"
            )
        self.switch_epoch = int(switch_epoch)

    def lambda_at(self, epoch):
        """The `lambda` of the 0-based Keras epoch index `epoch` (float; `inf`: BinaryConnect)."""
        if epoch + 1 >= self.switch_epoch:
            return math.inf
        try:
            return self.lambda_0 * self.rho**epoch
        except OverflowError:
            return math.inf

    def on_train_begin(self, logs=None):
        if not relaxable_layers(self.model):
            raise ValueError(
                f"BinaryRelax needs quantized layers; model {self.model.name!r} has none. "
                "Build it with hdl_keras.layers.QuantDense/QuantConv2D or to_quantized."
            )
        epochs = (self.params or {}).get("epochs")
        if epochs is not None and self.switch_epoch > epochs:
            warnings.warn(
                f"BinaryRelax(switch_epoch={self.switch_epoch}) switches to BinaryConnect after "
                f"the last epoch of this fit (epochs={epochs}): the model will end with relaxed "
                f"float weights, not quantized ones (its statistics count float bits). Pass "
                f"switch_epoch <= {epochs}, or continue with fit(initial_epoch={epochs}, ...).",
                stacklevel=2,
            )

    def on_epoch_begin(self, epoch, logs=None):
        set_relax_lambda(self.model, self.lambda_at(epoch))

    def get_config(self):
        return {"lambda_0": self.lambda_0, "rho": self.rho, "switch_epoch": self.switch_epoch}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
