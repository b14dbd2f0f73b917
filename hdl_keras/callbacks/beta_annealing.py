"""Beta annealing of the sparsity gates (Bertsimas et al. 2023, sec. 3.3; Savarese et al. 2020).

The masked layers (`hdl_keras.layers.MaskedDense`, `MaskedConv2D`) gate their
kernel with `sigmoid(beta * s)`; within a round of the HDL sparsity term,
`beta` rises from 1 to `beta_bar` (`hdl_keras.objectives.fit_sparse_rounds`
runs the rounds).
"""

import keras

from hdl_keras.layers import MaskedKernelMixin
from hdl_keras.utils.graph import flatten_layers


def masked_layers(model):
    """The masked layers of `model` (searched recursively), in order."""
    return [layer for layer in flatten_layers(model) if isinstance(layer, MaskedKernelMixin)]


@keras.saving.register_keras_serializable(package="hdl_keras")
class BetaAnnealing(keras.callbacks.Callback):
    """Raises the gates' `beta` geometrically from 1 to `beta_bar` over a round.

    At the start of epoch `e` of `epochs`, `beta = beta_bar ** (e / (epochs - 1))`
    (Savarese et al. 2020's exponential schedule), so the last epoch trains at
    `beta_bar`.

    Args:
        beta_bar: final temperature, >= 1 (the paper's grid: 200, 1000).
        epochs: epochs in the round.
    """

    def __init__(self, beta_bar, epochs):
        super().__init__()
        if beta_bar < 1 or epochs < 1:
            raise ValueError(f"beta_bar must be >= 1 and epochs >= 1. Received: beta_bar={beta_bar}, epochs={epochs}")
        self.beta_bar = float(beta_bar)
        self.epochs = int(epochs)

    def beta_at(self, epoch):
        return self.beta_bar ** (min(epoch, self.epochs - 1) / max(self.epochs - 1, 1))

    def get_config(self):
        return {"beta_bar": self.beta_bar, "epochs": self.epochs}

    def on_epoch_begin(self, epoch, logs=None):
        for layer in masked_layers(self.model):
            layer.beta.assign(self.beta_at(epoch))
