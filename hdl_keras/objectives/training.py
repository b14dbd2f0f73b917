"""`train`: the one training function of hdl_keras, `model.fit` of an objective model.

Every objective of `hdl_keras.objectives` puts its loss in the model
(`compute_loss` / `train_step`), so training any of them is `model.fit`.
`train` adds the two things the callers need beyond one `fit`: the rounds of
the sparse HDL objectives (`fit_sparse_rounds`: gate search by annealing
`beta` from 1 to `beta_bar`, then the fixed-mask round; Bertsimas et al.
2023, sec. 3.3) and keeping the epoch of best validation score
(`restore_best`). The callers: the zoo's producers
(`hdl_keras.recipes.zoo_entries`), `hdl-train` (`train_recipe`), the HDL
protocol (`hdl_keras.experiments.train`) and the pruning schedules
(`hdl_keras.pruning.prune_and_finetune`, `train_from_scratch`).
"""

import numbers

import keras

from hdl_keras.objectives import fit_sparse_rounds


def train(
    model,
    x,
    y=None,
    *,
    epochs,
    batch_size=None,
    rounds=1,
    beta_bar=None,
    restore_best=None,
    callbacks=(),
    fixed_mask_decay=False,
    **fit_kwargs,
):
    """Trains the compiled objective model `model` on `(x, y)`; returns the `History` of each `fit`.

    A `HolisticModel` with the sparse component trains `rounds` rounds of
    `epochs` epochs (`hdl_keras.objectives.fit_sparse_rounds` with
    `beta_bar`); any other model one `model.fit(x, y, epochs=epochs, ...)`.

    Args:
        model: a compiled `keras.Model` whose loss is its objective (e.g.
            `HolisticModel`, `PGDAdversarialTraining`, `TradeOff`, or a plain
            model compiled with a loss).
        x: inputs `(N, *input_shape)`, or a dataset / `keras.utils.PyDataset`
            yielding `(x, y)` batches (then `y=None`).
        y: int labels `(N,)`, or None.
        epochs: epochs (per round for the sparse objectives), an int >= 1.
        batch_size: minibatch size; None for a dataset (or Keras' default).
        rounds: rounds of the sparse objectives, ignored by the others.
        beta_bar: final gate temperature of each annealing round; required
            by the sparse objectives.
        restore_best: None, or a logged metric to maximise (e.g.
            `"val_sparse_categorical_accuracy"`, with `validation_data` in
            `fit_kwargs`): training ends with the weights of the epoch where
            it was highest (sparse objectives: within the last round).
        callbacks: Keras callbacks of every `fit` (None: none).
        fixed_mask_decay: sparse objectives: whether the fixed-mask round's
            rate falls by a cosine (see `fit_sparse_rounds`); ignored by the
            others.
        **fit_kwargs: passed to `model.fit` (`verbose`, `validation_data`,
            `shuffle`, ...).

    Returns:
        A list of `keras.callbacks.History`, one per `model.fit` (round).

    Examples:

        ```python
        model = PGDAdversarialTraining.from_model(models.small_cnn(), **fast_at_settings(16 / 255))
        model.compile(optimizer="adam", metrics=["sparse_categorical_accuracy"])
        history = train(model, x_train, y_train, epochs=5, batch_size=128)[-1]
        ```
    """
    if isinstance(epochs, bool) or not isinstance(epochs, numbers.Integral) or epochs < 1:
        raise ValueError(f"Expected epochs to be an int >= 1. Received: epochs={epochs!r}")
    if "sparse" in getattr(model, "components", ()):
        if beta_bar is None:
            raise ValueError(
                f"{type(model).__name__} with a sparse component trains in rounds of gate annealing: pass "
                "beta_bar, the final gate temperature (e.g. 200.0). Received: beta_bar=None"
            )
        return fit_sparse_rounds(
            model,
            x,
            y,
            rounds=rounds,
            epochs=epochs,
            beta_bar=beta_bar,
            batch_size=batch_size,
            restore_best=restore_best,
            callbacks=list(callbacks or ()),
            fixed_mask_decay=fixed_mask_decay,
            **fit_kwargs,
        )
    callbacks = list(callbacks or ())
    if restore_best is not None:
        callbacks.append(
            keras.callbacks.EarlyStopping(monitor=restore_best, mode="max", patience=epochs, restore_best_weights=True)
        )
    return [model.fit(x, y, epochs=epochs, batch_size=batch_size, callbacks=callbacks, **fit_kwargs)]
