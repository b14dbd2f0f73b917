"""The HDL sparsity term: sigmoid-gated L0 penalty, beta annealing and rounds.

Bertsimas et al. (2023) sec. 3.3, after Savarese et al. (2020): the penalty
`lambda * sum_j sigmoid(beta * s_j)` over the masked layers' gates, `beta`
raised from 1 to `beta_bar` within a round, and between rounds the gates
re-initialised to `s0' = min(beta_bar * s_T, s0)` with `beta` back to 1.
"""

import keras
from keras import ops

from hdl_keras.layers import MaskedKernelMixin


def masked_layers(model):
    """The masked layers of `model` (searched recursively), in order."""
    return [layer for layer in model._flatten_layers() if isinstance(layer, MaskedKernelMixin)]


def sparsity_penalty(model):
    """`sum_j sigmoid(beta * s_j)` over every masked layer of `model` (scalar)."""
    layers = masked_layers(model)
    if not layers:
        raise ValueError(
            f"The sparse objective needs masked layers (hdl_keras.layers.MaskedDense, "
            f"MaskedConv2D); model {model.name!r} has none. Build it with masked layers."
        )
    return ops.sum(ops.stack([layer.sparsity_penalty() for layer in layers]))


def start_new_round(model, beta_bar):
    """Re-initialises the gates for the next round: `s <- min(beta_bar * s, s0)`, `beta <- 1`."""
    for layer in masked_layers(model):
        s = layer.mask_logits
        s.assign(ops.minimum(beta_bar * s, ops.full(s.shape, layer.mask_init, s.dtype)))
        layer.beta.assign(1.0)


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
            raise ValueError(
                f"beta_bar must be >= 1 and epochs >= 1. Received: beta_bar={beta_bar}, epochs={epochs}"
            )
        self.beta_bar = float(beta_bar)
        self.epochs = int(epochs)

    def beta_at(self, epoch):
        return self.beta_bar ** (min(epoch, self.epochs - 1) / max(self.epochs - 1, 1))

    def get_config(self):
        return {"beta_bar": self.beta_bar, "epochs": self.epochs}

    def on_epoch_begin(self, epoch, logs=None):
        for layer in masked_layers(self.model):
            layer.beta.assign(self.beta_at(epoch))


def fit_sparse_rounds(model, x, y=None, rounds=5, epochs=1, beta_bar=200.0, callbacks=(), **fit_kwargs):
    """Trains `rounds` rounds of `model.fit`, annealing `beta` and re-initialising gates.

    The paper trains 5 rounds; each round anneals `beta` from 1 to `beta_bar`
    (`BetaAnnealing`), then `start_new_round` resets the gates before the next.
    The last round keeps its gates (its hard mask is the final sparsity).

    Returns:
        The list of `History` objects, one per round.
    """
    histories = []
    for round_index in range(rounds):
        annealing = BetaAnnealing(beta_bar, epochs)
        histories.append(
            model.fit(x, y, epochs=epochs, callbacks=[annealing, *callbacks], **fit_kwargs)
        )
        if round_index < rounds - 1:
            start_new_round(model, beta_bar)
    return histories
