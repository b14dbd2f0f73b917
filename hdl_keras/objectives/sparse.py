"""The HDL sparsity term: sigmoid-gated L0 penalty, beta annealing and rounds.

Bertsimas et al. (2023) sec. 3.3, after Savarese et al. (2020): the penalty
`lambda * sum_j c * sigmoid(beta * s_j)` over the masked layers' gates, `beta`
raised from 1 to `beta_bar` within a round, and between rounds `beta` back to
1 (the paper's text also re-initialises the gates to
`s0' = min(beta_bar * s_T, s0)`: `gate_reset="beta_bar"`; `fit_sparse_rounds`
keeps them, `gate_reset="keep"`, since the reset prunes about half of the
undecided gates again each round). As in the authors' code,
`fit_sparse_rounds` ends with a round at the fixed hard mask from rewound
weights (docs/holistic.md lists the choices and the measurements behind them).
"""

import math

import keras
from keras import ops

from hdl_keras.callbacks.beta_annealing import BetaAnnealing
from hdl_keras.callbacks.beta_annealing import masked_layers


def sparsity_penalty(model):
    """`sum_j c * sigmoid(beta * s_j)` over every masked layer of `model` (scalar; `c` = `gate_scale`)."""
    layers = masked_layers(model)
    if not layers:
        raise ValueError(
            f"The sparse objective needs masked layers (hdl_keras.layers.MaskedDense, "
            f"MaskedConv2D); model {model.name!r} has none. Build it with masked layers."
        )
    return ops.sum(ops.stack([layer.sparsity_penalty() for layer in layers]))


# Gate re-initialisations between rounds: s_T -> s0'.
GATE_RESETS = ("beta_bar", "clip", "keep")

# |s| given to the gates of the fixed-mask round: beta * s saturates the sigmoid exactly.
_HARD_LOGIT = 1e4


def start_new_round(model, beta_bar, gate_reset="beta_bar"):
    """Re-initialises the gates for the next round and sets `beta <- 1`.

    Args:
        model: a model with masked layers.
        beta_bar: the final temperature of the round that ended.
        gate_reset: `"beta_bar"` (default): `s <- min(beta_bar * s, s0)`,
            sec. 3.3 of Bertsimas et al. (2023) and Savarese et al. (2020);
            `"clip"`: `s <- min(s, s0)`, the authors' code; `"keep"`: `s`
            unchanged.
    """
    if gate_reset not in GATE_RESETS:
        raise ValueError(f"gate_reset must be one of {GATE_RESETS}. Received: gate_reset={gate_reset!r}")
    for layer in masked_layers(model):
        s = layer.mask_logits
        s0 = ops.full(s.shape, layer.mask_init, s.dtype)
        if gate_reset == "beta_bar":
            s.assign(ops.minimum(beta_bar * s, s0))
        elif gate_reset == "clip":
            s.assign(ops.minimum(s, s0))
        layer.beta.assign(1.0)


class _RewindPoint(keras.callbacks.Callback):
    """Stores the network's effective weights at the start of epoch `epoch` (rewinding)."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch
        self.weights = None

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            self.weights = effective_weights(self.model)

    def on_train_end(self, logs=None):
        if self.weights is None:
            self.weights = effective_weights(self.model)


class _CosineDecay(keras.callbacks.LearningRateScheduler):
    """The compiled constant rate times `(1 + cos(pi e / epochs)) / 2` at epoch `e`; the rate is back at the end."""

    def __init__(self, initial, epochs):
        super().__init__(lambda epoch: initial * (1 + math.cos(math.pi * epoch / epochs)) / 2)
        self.initial = initial

    def on_train_end(self, logs=None):
        self.model.optimizer.learning_rate = self.initial


def _constant_rate(model):
    """The compiled optimizer's constant learning rate; a ValueError if it is a schedule."""
    rate = model.optimizer.get_config()["learning_rate"]
    if not isinstance(rate, float):
        raise ValueError(
            "fixed_mask_decay=True decays a constant learning rate; the model's optimizer has the schedule "
            f"{rate}. Compile with a float learning rate, or pass fixed_mask_decay=False."
        )
    return rate


def effective_weights(model):
    """The weights the network computes with, by variable path (numpy arrays).

    A masked layer's kernel is stored gated (`W * gate_scale * sigmoid(beta s)`),
    divided by `gate_scale`, so that `rewind_weights` under a hard gate of
    value `gate_scale` gives back the gated kernel; the gates themselves are
    left out.
    """
    weights = {}
    gates = set()
    for layer in masked_layers(model):
        gates.update({layer.mask_logits.path, layer.beta.path})
        weights[layer.unmasked_kernel.path] = ops.convert_to_numpy(layer.kernel) / layer.gate_scale
    for variable in model.variables:
        if variable.path not in gates and variable.path not in weights:
            weights[variable.path] = ops.convert_to_numpy(variable)
    return weights


def rewind_weights(model, weights):
    """Assigns the weights of `effective_weights(model)` back, gates untouched."""
    for variable in model.variables:
        if variable.path in weights:
            variable.assign(weights[variable.path])


def fix_masks(model, trainable=False):
    """Turns every gate into its hard mask (`s <- +-1e4`) and freezes it (or thaws it).

    Recompiles `model` with its compile config, so the next `fit` uses a
    fresh optimizer over the new set of trainable variables.
    """
    for layer in masked_layers(model):
        s = layer.mask_logits
        if not trainable:
            s.assign(ops.where(ops.greater(s, 0.0), _HARD_LOGIT, -_HARD_LOGIT))
        s.trainable = trainable
    model.compile_from_config(model.get_compile_config())


def fit_sparse_rounds(
    model,
    x,
    y=None,
    rounds=5,
    epochs=1,
    beta_bar=200.0,
    callbacks=(),
    gate_reset="keep",
    fixed_mask_round=True,
    rewind_epoch="auto",
    restore_best=None,
    fixed_mask_decay=False,
    **fit_kwargs,
):
    """Trains `rounds` rounds of `model.fit`: gate search by annealing, then a fixed-mask round.

    Bertsimas et al. (2023) sec. 3.3 and their code (after Savarese et al.
    2020's ticket search): each of the first `rounds - 1` rounds anneals
    `beta` from 1 to `beta_bar` (`BetaAnnealing`) with the penalty on, and
    `start_new_round` sets `beta` back to 1 between them (and resets the
    gates as `gate_reset` says); the last round trains
    the weights under the hard mask `1[s > 0]` of the round before (gates
    frozen, `fix_masks`), starting from the weights the network had at the
    start of epoch `rewind_epoch` of the first round (weight rewinding).
    The fixed-mask round is what keeps the accuracy: the annealing rounds
    end with soft gates whose hard mask the weights were not trained for.
    `fixed_mask_round=False` gives the procedure of the paper's text (every
    round anneals; the last one's hard mask is the final sparsity).

    Args:
        model: a compiled model with masked layers.
        x: training inputs, as in `model.fit`.
        y: training labels, as in `model.fit`.
        rounds: number of rounds, the fixed-mask round included (with
            `rounds=1` the one round anneals).
        epochs: epochs per round.
        beta_bar: final temperature of each annealing round.
        callbacks: extra callbacks for every round.
        gate_reset: see `start_new_round`. Default `"keep"`: the gates
            carry over. The paper's `"beta_bar"` puts every surviving gate
            back at the threshold `s0 = 0` of the hard mask, so each further
            annealing round prunes about half of the gates the data do not
            hold up, whatever lambda is: on MNIST (small CNN, HDL, 4 annealing
            rounds) it ended at 96.5 % zero weights and 92.7 % clean accuracy,
            `"keep"` at 76.7 % and 93.6 % (benchmarks/hdl_collapse.py, arms
            `fixed` and `fixed_keep`, docs/holistic.md).
        fixed_mask_round: whether the last round trains at a fixed mask
            (default `True`).
        rewind_epoch: `"auto"` (default: `min(2, epochs - 1)`, the authors'
            2 epochs), an epoch index of the first round, or `None` (the
            fixed-mask round continues from the last weights).
        restore_best: `None`, or the name of a logged metric (e.g.
            `"val_sparse_categorical_accuracy"`, with `validation_data` in
            `fit_kwargs`): the last round ends on its best epoch for it, as
            the authors report their best-validation checkpoint.
        fixed_mask_decay: whether the fixed-mask round's learning rate
            falls from the compiled (constant) rate by a cosine over its
            epochs, `lr_e = lr * (1 + cos(pi e / epochs)) / 2` at epoch `e`
            (`keras.callbacks.LearningRateScheduler`); needs a fixed-mask
            round. Default `False`, the constant rate of every round.
        **fit_kwargs: passed to `model.fit`.

    Returns:
        The list of `History` objects, one per round.
    """
    if rounds < 1:
        raise ValueError(f"Expected rounds >= 1. Received: rounds={rounds}")
    fixed_mask_round = fixed_mask_round and rounds >= 2
    if rewind_epoch == "auto":
        rewind_epoch = min(2, epochs - 1) if fixed_mask_round else None
    if rewind_epoch is not None and not (fixed_mask_round and 0 <= rewind_epoch < epochs):
        raise ValueError(
            "rewind_epoch needs a fixed-mask round (rounds >= 2) and 0 <= rewind_epoch < epochs. Received: "
            f"rewind_epoch={rewind_epoch}, rounds={rounds}, fixed_mask_round={fixed_mask_round}, epochs={epochs}"
        )
    rewind = _RewindPoint(rewind_epoch) if rewind_epoch is not None else None
    if fixed_mask_decay and not fixed_mask_round:
        raise ValueError(
            "fixed_mask_decay=True decays the rate of the fixed-mask round, which needs rounds >= 2 and "
            f"fixed_mask_round=True. Received: rounds={rounds}, fixed_mask_round={fixed_mask_round}"
        )
    decay_from = _constant_rate(model) if fixed_mask_decay else None
    histories = []
    for round_index in range(rounds):
        last = round_index == rounds - 1
        round_callbacks = list(callbacks)
        if last and restore_best is not None:
            round_callbacks.append(
                keras.callbacks.EarlyStopping(monitor=restore_best, patience=epochs, restore_best_weights=True)
            )
        if last and fixed_mask_round:
            fix_masks(model)
            if rewind is not None:
                rewind_weights(model, rewind.weights)
            if decay_from is not None:
                round_callbacks.append(_CosineDecay(decay_from, epochs))
        else:
            round_callbacks.append(BetaAnnealing(beta_bar, epochs))
            if round_index == 0 and rewind is not None:
                round_callbacks.append(rewind)
        histories.append(model.fit(x, y, epochs=epochs, callbacks=round_callbacks, **fit_kwargs))
        if not last and not (fixed_mask_round and round_index == rounds - 2):
            start_new_round(model, beta_bar, gate_reset)
    if fixed_mask_round:
        fix_masks(model, trainable=True)
    return histories
