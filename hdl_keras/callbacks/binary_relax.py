"""The BinaryRelax schedule of the relaxation `lambda` (Li, Wang and Xin 2020, Algorithm 1).

The quantized layers compute with `u = (lambda * q(w) + w) / (lambda + 1)`
(`hdl_keras.quantizers.relax` explains the design); this callback sets
`lambda` at the start of each epoch.
"""

import math
import numbers
import warnings

import keras

from hdl_keras.quantizers.relax import check_lambda
from hdl_keras.quantizers.relax import relaxable_layers
from hdl_keras.quantizers.relax import set_relax_lambda


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
        self.lambda_0 = check_lambda(lambda_0, "lambda_0")
        if self.lambda_0 == 0 or math.isinf(self.lambda_0):
            raise ValueError(f"Expected `lambda_0` to be finite and > 0. Received: lambda_0={lambda_0!r}")
        self.rho = check_lambda(rho, "rho")
        if self.rho < 1 or math.isinf(self.rho):
            raise ValueError(f"Expected `rho` to be finite and >= 1. Received: rho={rho!r}")
        if isinstance(switch_epoch, bool) or not isinstance(switch_epoch, numbers.Integral) or switch_epoch < 1:
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
