"""Iterative magnitude pruning with matched fine-tuning; the compact-from-scratch baseline (Sehwag et al. 2019).

Sehwag et al. (2019, sec. 3-4) prunes a pre-trained network in steps:
each step raises the pruned fraction, applies the magnitude mask `M^j`
(`theta <- M^j * theta`), and fine-tunes the kept weights for a few epochs,
with the fine-tuning objective matched to the pre-training one (adversarial
fine-tuning for an adversarially trained network, verified for a verified
one); 40 steps of 5 epochs at learning rate 0.001 in the paper.
`train_from_scratch` is the baseline of its Table 6: the same compact network
trained from a fresh initialization with the same objective.
"""

import numbers

import keras

from hdl_keras.objectives import IBPTraining
from hdl_keras.objectives import PGDAdversarialTraining
from hdl_keras.pruning.magnitude import apply_masks
from hdl_keras.pruning.magnitude import magnitude_masks
from hdl_keras.pruning.magnitude import masks_from_zeros
from hdl_keras.objectives.training import train
from hdl_keras.utils.moved import moved_names

# The fine-tuning objectives of `prune_and_finetune` (not `hdl_keras.recipes.OBJECTIVES`, the
# objective classes of `hdl-train`).
FINETUNE_OBJECTIVES = ("adversarial", "natural", "verified", None)


def _check_objective(objective, objective_kwargs):
    if objective not in FINETUNE_OBJECTIVES:
        raise ValueError(f"Expected `objective` to be one of {FINETUNE_OBJECTIVES}. Received: objective={objective!r}")
    if objective in ("natural", None) and objective_kwargs:
        raise ValueError(
            f"objective={objective!r} takes no `objective_kwargs`. Received: objective_kwargs={objective_kwargs!r}"
        )


def _check_positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"Expected `{name}` to be a positive int. Received: {name}={value!r}")


def _training_model(model, objective, objective_kwargs, optimizer, metrics):
    """A compiled model on `model`'s layers that trains with `objective`."""
    kwargs = dict(objective_kwargs or {})
    if objective == "adversarial":
        trainer = PGDAdversarialTraining.from_model(model, **kwargs)
        loss = None
    elif objective == "verified":
        trainer = IBPTraining.from_model(model, **kwargs)
        loss = None
    else:
        trainer = keras.Model(model.input, model.output, name=f"{model.name}_natural")
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    trainer.compile(optimizer=optimizer, loss=loss, metrics=metrics)
    return trainer


def prune_and_finetune(
    model,
    target_sparsity,
    x=None,
    y=None,
    *,
    structured=False,
    steps=40,
    epochs_per_step=5,
    objective="adversarial",
    objective_kwargs=None,
    scope="layer",
    optimizer=None,
    metrics=("accuracy",),
    **fit_kwargs,
):
    """Prunes `model` in place to `target_sparsity`, fine-tuning between steps.

    Step `j = 1..steps` prunes the fraction `target_sparsity * j / steps`
    (linear schedule) with `magnitude_masks` (the smallest `|w|`, or with
    `structured=True` the filters of smallest l1 norm), applies the masks
    with `apply_masks` (pruned weights set to zero and kept there), and
    fine-tunes for `epochs_per_step` epochs with the objective:

    - `"adversarial"`: `PGDAdversarialTraining` (Madry et al.), for a network
      pre-trained with it (Sehwag et al. 2019, sec. 6.1; attack settings in
      `objective_kwargs`, e.g. `ATTACK_PRESETS["mnist"]`);
    - `"natural"`: the cross-entropy (Sehwag et al.'s (2019) "Nat" fine-tuning);
    - `"verified"`: `IBPTraining` (Sehwag et al. (2019, sec. 6.2) fine-tunes with MixTrain;
      IBP is the substitute, see `IBPTraining`; `objective_kwargs` e.g.
      `{"eps": 0.1}`);
    - `None`: prune only (Sehwag et al.'s (2019) "None"); since pruned entries are the
      smallest, this equals one-shot pruning at `target_sparsity`.

    One training model (and optimizer) serves all steps, so optimizer state
    and the IBP schedule continue across steps. After the call the pruned
    weights are exact zeros and stay zero in later training of `model` (see
    `apply_masks`); a saved model is plain Keras with the zeros in it.

    Args:
        model: a built functional or Sequential `keras.Model` returning logits
            (e.g. the pre-trained network; a wrapper like
            `PGDAdversarialTraining` works too).
        target_sparsity: final fraction pruned, in `[0, 1]`: of the weights
            (unstructured) or of the filters of each layer but the classifier
            (structured).
        x: training inputs (NumPy array, or a dataset yielding `(x, y)` with
            `y=None`); required unless `objective is None`.
        y: int labels.
        structured: filter pruning instead of weight pruning, default False.
        steps: number of pruning steps, default 40 (Sehwag et al. 2019).
        epochs_per_step: fine-tuning epochs after each step, default 5 (Sehwag et al. 2019).
        objective: `"adversarial"` (default), `"natural"`, `"verified"` or None.
        objective_kwargs: keyword arguments of the objective model
            (`PGDAdversarialTraining` or `IBPTraining`).
        scope: `"layer"` (default) or `"global"`, see `magnitude_masks`.
        optimizer: Keras optimizer (or its name); defaults to
            `SGD(learning_rate=0.001, momentum=0.9)` (Sehwag et al. 2019: learning rate
            0.001, the rest as in pre-training).
        metrics: compiled metrics of the fine-tuning, default `("accuracy",)`.
        **fit_kwargs: passed to `fit` (`batch_size`, `callbacks`,
            `validation_data`, `verbose`, ...).

    Returns:
        A list with one dict per step: `"step"`, `"sparsity"` (the fraction
        pruned at that step) and the step's last-epoch logs (`"loss"`, ...,
        `"adversarial_accuracy"` or `"verified_accuracy"`; none without
        fine-tuning).

    Examples:
        >>> history = prune_and_finetune(
        ...     model, 0.9, x_train, y_train, steps=40, epochs_per_step=5,
        ...     objective="adversarial", objective_kwargs=ATTACK_PRESETS["mnist"],
        ...     batch_size=128)  # doctest: +SKIP
    """
    _check_objective(objective, objective_kwargs)
    _check_positive_int("steps", steps)
    _check_positive_int("epochs_per_step", epochs_per_step)
    if objective is not None and x is None:
        raise ValueError(
            f"objective={objective!r} fine-tunes: pass the training data `x`, `y` (or objective=None to prune only)."
        )
    # Validates target_sparsity and scope before any training.
    magnitude_masks(model, target_sparsity, structured=structured, scope=scope)
    trainer = None
    if objective is not None:
        if optimizer is None:
            optimizer = keras.optimizers.SGD(learning_rate=0.001, momentum=0.9)
        trainer = _training_model(model, objective, objective_kwargs, optimizer, list(metrics))
    fit_kwargs.setdefault("verbose", 0)
    history = []
    for step in range(1, steps + 1):
        sparsity = target_sparsity * step / steps
        masks = magnitude_masks(model, sparsity, structured=structured, scope=scope)
        apply_masks(model, masks)
        record = {"step": step, "sparsity": sparsity}
        if trainer is not None:
            apply_masks(trainer, masks)
            fitted = train(trainer, x, y, epochs=epochs_per_step, **fit_kwargs)[-1]
            record.update({name: values[-1] for name, values in fitted.history.items()})
        history.append(record)
    return history


def train_from_scratch(
    pruned_model,
    x,
    y=None,
    *,
    epochs,
    objective="adversarial",
    objective_kwargs=None,
    structured=False,
    optimizer=None,
    metrics=("accuracy",),
    **fit_kwargs,
):
    """Trains the compact network of `pruned_model` from a fresh initialization.

    Sehwag et al.'s (2019) Table 6 baseline: a copy of `pruned_model`'s architecture
    (`keras.models.clone_model`, so every weight is re-drawn from its
    initializer), pruned with the same mask (read from `pruned_model`'s exact
    zeros with `masks_from_zeros`, and kept at zero by `apply_masks`), and
    trained for `epochs` with the objective of `prune_and_finetune`. The
    paper's baseline removes random filters in each layer instead of the
    pruned ones; with structured pruning the two give the same compact
    architecture and, since filters are exchangeable at initialization, the
    same distribution of initial networks.

    Args:
        pruned_model: the pruned network (e.g. after `prune_and_finetune`).
        x: training inputs (or a dataset of `(x, y)` with `y=None`).
        y: int labels.
        epochs: training epochs, a positive int (e.g. the pre-training
            epochs, or those of pre-training plus fine-tuning).
        objective: `"adversarial"` (default), `"natural"` or `"verified"`.
        objective_kwargs: keyword arguments of the objective model; for
            `"verified"` from scratch, give ramps (`warmup_steps`,
            `eps_ramp_steps`, `kappa_ramp_steps`).
        structured: whether `pruned_model` was filter-pruned (then pruned
            filters' biases are kept at zero too), default False.
        optimizer: Keras optimizer; defaults to `SGD(learning_rate=0.1,
            momentum=0.9)` (Sehwag et al.'s (2019) pre-training learning rate).
        metrics: compiled metrics, default `("accuracy",)`.
        **fit_kwargs: passed to `fit`.

    Returns:
        The trained compact model (plain Keras layers, uncompiled, pruned
        weights at zero and kept there in later training).
    """
    if objective is None:
        raise ValueError(
            "train_from_scratch trains: expected `objective` to be 'adversarial', "
            "'natural' or 'verified'. Received: objective=None"
        )
    _check_objective(objective, objective_kwargs)
    _check_positive_int("epochs", epochs)
    masks = masks_from_zeros(pruned_model, structured=structured)
    scratch = keras.models.clone_model(pruned_model)
    paths = {old.path: new.path for old, new in zip(pruned_model.weights, scratch.weights)}
    masks = {paths[path]: mask for path, mask in masks.items()}
    apply_masks(scratch, masks)
    if optimizer is None:
        optimizer = keras.optimizers.SGD(learning_rate=0.1, momentum=0.9)
    trainer = _training_model(scratch, objective, objective_kwargs, optimizer, list(metrics))
    apply_masks(trainer, masks)
    fit_kwargs.setdefault("verbose", 0)
    train(trainer, x, y, epochs=epochs, **fit_kwargs)
    return scratch


# `OBJECTIVES`, renamed `FINETUNE_OBJECTIVES`, kept for one release.
__getattr__ = moved_names(
    "hdl_keras.pruning.schedule", "hdl_keras.pruning.schedule", renamed={"OBJECTIVES": "FINETUNE_OBJECTIVES"}
)
