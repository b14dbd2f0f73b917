"""Builds and trains one configuration the way the HDL protocol does.

Bertsimas et al. (2023) sec. 4: an MLP with 2 hidden layers of 128 ReLU units
on tables, AlexNet on images, the same network (Glorot-uniform weights, gates
`s0 = 0`) for every method; Adam; the sparse methods train 5 rounds of the
full epochs with `beta` annealed from 1 to `beta_bar`. The builder lives in
`hdl_keras.recipes.holistic` and the training in `hdl_keras.recipes.train`;
`train` here is the protocol's call of it, by configuration.
"""

from hdl_keras.recipes.holistic import NETWORKS as NETWORKS
from hdl_keras.recipes.holistic import build_model as build_model
from hdl_keras.recipes.holistic import harden_gates as harden_gates
from hdl_keras.recipes.holistic import network_for as network_for
from hdl_keras.recipes.training import train as train_model


def train(model, config, x, y, epochs, batch_size, rounds, restore_best=None, **fit_kwargs):
    """Trains `model` (from `build_model`) on `(x, y)` as the protocol does.

    `hdl_keras.recipes.train` with the configuration's `beta_bar`: sparse
    methods train `rounds` rounds of `epochs` epochs through
    `fit_sparse_rounds`, other methods one `model.fit` of `epochs` epochs.

    Args:
        model: a compiled `HolisticModel`.
        config: the configuration it was built with.
        x: inputs `(N, *input_shape)`.
        y: int labels `(N,)`.
        epochs: epochs per round.
        batch_size: minibatch size.
        rounds: rounds of the sparse methods (ignored by the others).
        restore_best: `None`, or a logged metric (e.g.
            `"val_sparse_categorical_accuracy"`, with `validation_data` in
            `fit_kwargs`): training ends on the epoch where it was highest
            (sparse methods: within the last round).
        **fit_kwargs: passed to `model.fit` (e.g. `verbose=0`, `callbacks`).

    Returns:
        The list of `History` objects, one per `model.fit` (round).
    """
    return train_model(
        model,
        x,
        y,
        epochs=epochs,
        batch_size=batch_size,
        rounds=rounds,
        beta_bar=config.get("beta_bar"),
        restore_best=restore_best,
        **fit_kwargs,
    )
