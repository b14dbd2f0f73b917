"""Training recipes: the papers' 200-epoch schedule and fast adversarial training.

`train_recipe` trains a model of the zoo with an adversarial objective on a
named recipe; the recipes (`Recipe`, `RECIPES`, `PAPER_THREAT_MODEL`) are
defined in `hdl_keras.recipes.recipe_catalogue` and the files a run writes in
`hdl_keras.recipes.run_outputs`, both re-exported here.
"""

import dataclasses
import os
import time

import keras
import numpy as np

from hdl_keras import data
from hdl_keras import models
from hdl_keras import quantizers
from hdl_keras.callbacks import BinaryRelax
from hdl_keras.callbacks import EpochSeeds
from hdl_keras.callbacks import ResumableBackup
from hdl_keras.layers import to_quantized
from hdl_keras.objectives import TRADES
from hdl_keras.objectives import PGDAdversarialTraining
from hdl_keras.objectives import TradeOff
from hdl_keras.preprocessing.augmentation import AugmentedBatches
from hdl_keras.preprocessing.augmentation import augmentation
from hdl_keras.recipes.recipe_catalogue import DEPRECATED_RECIPE_NAMES
from hdl_keras.recipes.recipe_catalogue import PAPER_THREAT_MODEL
from hdl_keras.recipes.recipe_catalogue import RECIPES
from hdl_keras.recipes.recipe_catalogue import SEED_THREAT_MODEL
from hdl_keras.recipes.recipe_catalogue import Recipe
from hdl_keras.recipes.recipe_catalogue import available_recipes
from hdl_keras.recipes.recipe_catalogue import resolve_recipe_name
from hdl_keras.recipes.run_outputs import PACKED_FILE
from hdl_keras.recipes.run_outputs import EpochLog
from hdl_keras.recipes.run_outputs import write_outputs
from hdl_keras.recipes.schedules import OneCycle
from hdl_keras.recipes.schedules import paper_schedule
from hdl_keras.recipes.training import train

OBJECTIVES = {"pgd": PGDAdversarialTraining, "trades": TRADES, "tradeoff": TradeOff}

# Weight quantization schemes of Li, Wang and Xin (2020) (sec. III): BinaryConnect quantizes every forward
# pass; BinaryRelax relaxes the quantization, lambda growing by rho per epoch, then switches
# to BinaryConnect (Algorithm 1).
SCHEMES = ("binaryconnect", "binaryrelax")
# Li et al. (2020) give neither their growth rate nor their cut-off epoch M. Default rho: lambda doubles
# each epoch (1, 2, 4, ...); default M: the last epoch, the one with the smallest learning
# rate on both schedules (BinaryRelax's exact-quantization phase runs at a small learning rate).
DEFAULT_RELAX_RHO = 2.0

# Datasets whose images must not be flipped (digits, garments drawn in one orientation).
NO_FLIP = ("mnist", "fashion_mnist")


def add_weight_decay(model, weight_decay):
    """Adds the L2 penalty `(weight_decay / 2) * ||w||^2` of every trainable variable to the loss.

    The papers train with PyTorch's `SGD(weight_decay=5e-4)`, which adds
    `weight_decay * w` to the gradient before the momentum: coupled L2
    weight decay, the gradient of `(weight_decay / 2) * ||w||^2`. Keras'
    `SGD(weight_decay=...)` is decoupled (`w -= lr * weight_decay * w` after
    the momentum update), which decays about `1 / (1 - momentum)` = 10 times
    less at momentum 0.9. This attaches `keras.regularizers.L2(weight_decay /
    2)` to each trainable variable (kernels, biases, batch-norm scales, as
    PyTorch does), so `model.losses` holds the penalty and every objective of
    `hdl_keras.objectives` adds it to its loss. The regularizers are not
    part of the saved configuration.

    Args:
        model: a built `keras.Model`.
        weight_decay: coefficient `>= 0`; 0 removes nothing and adds nothing.

    Returns:
        `model`.
    """
    if weight_decay < 0:
        raise ValueError(f"weight_decay must be >= 0. Received: weight_decay={weight_decay}")
    if weight_decay:
        for variable in model.trainable_variables:
            variable.regularizer = keras.regularizers.L2(weight_decay / 2)
    return model


def train_recipe(
    name,
    model_name="en2_resnet20",
    dataset="cifar10",
    objective="pgd",
    epochs=None,
    train_subset=None,
    batch_size=None,
    output_dir=None,
    eps=None,
    attack_steps=None,
    step_size=None,
    weight_decay=None,
    learning_rate=None,
    augment=True,
    seed=0,
    train_data=None,
    callbacks=None,
    objective_kwargs=None,
    model_kwargs=None,
    kernel_quantizer=None,
    scheme="binaryconnect",
    relax_rho=None,
    relax_switch_epoch=None,
    skip_first_last=False,
    command=None,
    verbose=1,
):
    """Trains `model_name` on `dataset` with the recipe `name` and an adversarial objective.

    The model (`hdl_keras.models.get(model_name)`, e.g. En2ResNet20, Dinh et al.
    2020, sec. 2) is wrapped in the objective (`"pgd"`: Madry et al.; Dinh et al.
    2020, eq. 7-8; `"trades"`; `"tradeoff"`: Li et al.'s (2020)
    `alpha * L_nat + beta * L_rob`, `alpha = 1, beta = 8` by default, the
    setting of its Table VIII), trained by SGD with momentum on the recipe's
    schedule with coupled L2 weight decay (`add_weight_decay`), on batches
    augmented in the data pipeline (`AugmentedBatches`: random crop of the
    4-pixel zero-padded image; horizontal flip except on MNIST and
    Fashion-MNIST). Each batch is attacked inside the train step.

    With `kernel_quantizer`, the model is converted by
    `hdl_keras.layers.to_quantized` (its Dense/Conv2D layers become
    `QuantDense`/`QuantConv2D` computing with `q(w)`, the float weights `w`
    updated straight through) and trained by Li et al.'s (2020) scheme (sec. III,
    Algorithm 1): `"binaryconnect"` (quantized forward pass from the first
    step) or `"binaryrelax"` (the `hdl_keras.callbacks.BinaryRelax`
    callback: `u = (lambda * q(w) + w) / (lambda + 1)` with `lambda = 1,
    rho, rho^2, ...` per epoch, BinaryConnect from epoch
    `relax_switch_epoch` on). The objective's attack runs on the model the
    optimizer trains (relaxed, then quantized), as in the paper; the weight
    decay applies to the float weights `w`.

    With `output_dir`, the run is resumable and fault tolerant
    (`hdl_keras.callbacks.resume`): `ResumableBackup` keeps the last finished
    epoch in `output_dir/backup`, written atomically (deleted when the run
    ends), and every epoch's randomness (example order, augmentation, the
    training attack's random starts) depends on `(seed, epoch)` only, so
    calling `train_recipe` again with the same arguments after an
    interruption, even a SIGKILL, continues from that epoch and ends with the
    weights of an uninterrupted run. At the
    end it writes `model.keras` and `model.weights.h5` (the logits network,
    without the objective), `log.json` (settings, per-epoch logs of all
    sessions, time, backend and command) and `command.txt`; `history.jsonl`
    gets one line per finished epoch as the run goes. A quantized model is
    also written bit-packed to `model.hdlpack`
    (`hdl_keras.saving.export_packed`; `load_packed` rebuilds it), and
    `log.json` records its `"quantization"` settings and packed size.

    Args:
        name: a recipe of `available_recipes()`: `"paper"` (200 epochs, lr
            0.1 decayed x0.1 at epochs 80/120/160) or `"fast"` (15 epochs,
            one-cycle lr, FGSM with random start); `"seed"` is a deprecated
            alias of `"paper"`.
        model_name: a name of `hdl_keras.models.available_models()`, default
            `"en2_resnet20"`.
        dataset: `"cifar10"`, `"mnist"` or `"fashion_mnist"` (loaded by
            `hdl_keras.data.load`), default `"cifar10"`; ignored for loading
            when `train_data` is given (it still picks the flip).
        objective: `"pgd"`, `"trades"` or `"tradeoff"`, default `"pgd"`.
        epochs: default the recipe's. The paper schedule's decay epochs are
            scaled to the run (80/120/160 of 200 become 2/3/4 of 5).
        train_subset: train on the first N images of a seeded permutation of
            the training set, default None (all).
        batch_size: default the recipe's (128).
        output_dir: folder of the backup and the outputs, default None
            (nothing written, not resumable).
        eps: override the training attack's radius (`PAPER_THREAT_MODEL`
            or the fast recipe's FGSM).
        attack_steps: override the training attack's number of steps.
        step_size: override the training attack's step size.
        weight_decay: override the recipe's (5e-4).
        learning_rate: override the recipe's initial (paper) or peak
            (one-cycle) learning rate, e.g. for a network without batch
            normalization, which lr 0.1 can make diverge.
        augment: augment the training batches, default True.
        seed: int seed of the subset, shuffling, augmentation, model noise and
            attack starts, default 0; also passed to
            `keras.utils.set_random_seed` before the model is built.
        train_data: `(x, y)` arrays to train on instead of loading `dataset`:
            images `(N, H, W, C)` in [0, 1] and int labels `(N,)`.
        callbacks: extra Keras callbacks, default None.
        objective_kwargs: extra arguments of the objective (e.g.
            `{"beta": 6.0}`), default None.
        model_kwargs: extra arguments of the model builder (e.g.
            `{"noise_stddev": 0.2}`), default None.
        kernel_quantizer: quantize the weights: `"binary"` (`mean|w| *
            sign(w)`, Li et al. 2020), `"ternary"`, `"4bit"` or anything
            `hdl_keras.quantizers.get` resolves; default None (float).
        scheme: `"binaryconnect"` (default) or `"binaryrelax"`; needs
            `kernel_quantizer`.
        relax_rho: BinaryRelax's growth factor of `lambda` per epoch, `>= 1`;
            default `DEFAULT_RELAX_RHO` (2; Li et al. (2020) give no value).
        relax_switch_epoch: BinaryRelax's cut-off `M`, the first (1-based)
            BinaryConnect epoch, in `1..epochs`, so that the run ends with
            quantized weights; default `epochs` (the last epoch, at the
            schedule's smallest learning rate).
        skip_first_last: keep the first and last Dense/Conv2D layers float
            (`to_quantized`), default False: Li et al. (2020) do not say they keep
            any layer float, so every layer is quantized.
        command: the command line to record, default None (a Python call).
        verbose: verbosity of `fit`, default 1.

    Returns:
        The trained logits network, a functional `keras.Model`; its
        `history` attribute is the `fit` history of this call.

    Examples:
        >>> model = train_recipe("fast", "en1_resnet20", "cifar10", epochs=1,
        ...                      train_subset=512, output_dir="runs/fast")  # doctest: +SKIP
        >>> binary = train_recipe("paper", "small_cnn", "mnist", epochs=3, train_subset=512,
        ...                       kernel_quantizer="binary", scheme="binaryrelax",
        ...                       output_dir="runs/binary")  # doctest: +SKIP
    """
    name = resolve_recipe_name(name)
    if name not in RECIPES:
        raise ValueError(f"Unknown recipe. Expected one of {available_recipes()}. Received: name={name!r}")
    if objective not in OBJECTIVES:
        raise ValueError(f"Unknown objective. Expected one of {list(OBJECTIVES)}. Received: objective={objective!r}")
    if model_name not in models.available_models():
        raise ValueError(
            f"Unknown model name. Expected one of {models.available_models()}. Received: model_name={model_name!r}"
        )
    recipe = RECIPES[name]
    if learning_rate is not None:
        if isinstance(learning_rate, bool) or not isinstance(learning_rate, (int, float)) or not learning_rate > 0:
            raise ValueError(f"learning_rate must be a number > 0. Received: learning_rate={learning_rate!r}")
        recipe = dataclasses.replace(recipe, learning_rate=float(learning_rate))
    epochs = recipe.epochs if epochs is None else int(epochs)
    batch_size = recipe.batch_size if batch_size is None else int(batch_size)
    weight_decay = recipe.weight_decay if weight_decay is None else float(weight_decay)
    if epochs < 1 or batch_size < 1:
        raise ValueError(f"epochs and batch_size must be >= 1. Received: epochs={epochs}, batch_size={batch_size}")
    quantization = _quantization_settings(
        kernel_quantizer, scheme, relax_rho, relax_switch_epoch, skip_first_last, epochs
    )

    if train_data is None:
        (x_train, y_train), _ = data.load(dataset)
    else:
        x_train, y_train = (np.asarray(a) for a in train_data)
    if train_subset is not None:
        rows = np.random.default_rng(seed).permutation(len(x_train))[: int(train_subset)]
        x_train, y_train = x_train[rows], y_train[rows]
    x_train = np.asarray(x_train, dtype="float32")
    y_train = np.asarray(y_train).astype("int64")
    input_shape = tuple(x_train.shape[1:])
    num_classes = int(max(10, y_train.max() + 1))  # the papers' datasets have 10 classes; a subset may miss some

    keras.utils.set_random_seed(seed)
    builder_kwargs = {"input_shape": input_shape, "num_classes": num_classes}
    if model_name.startswith("en"):
        builder_kwargs["seed"] = seed
    builder_kwargs.update(model_kwargs or {})
    base = models.get(model_name, **builder_kwargs)
    all_callbacks = list(callbacks or [])
    if quantization is not None:
        base = to_quantized(base, quantization["kernel_quantizer"], skip_first_last=skip_first_last)
        if quantization["relax"] is not None:
            all_callbacks.append(BinaryRelax(**quantization["relax"]))
    attack = recipe.attack_settings(eps=eps, steps=attack_steps, step_size=step_size)
    model = OBJECTIVES[objective].from_model(base, seed=seed, **attack, **(objective_kwargs or {}))
    add_weight_decay(base, weight_decay)

    backup_dir = os.path.join(output_dir, "backup") if output_dir is not None else None
    augmenter = augmentation(input_shape, flip=dataset not in NO_FLIP, seed=seed) if augment else None
    batches = AugmentedBatches(
        x_train,
        y_train,
        batch_size,
        augment=augmenter,
        seed=seed,
        initial_epoch=ResumableBackup.saved_epoch(backup_dir) if backup_dir else 0,
    )
    steps_per_epoch = len(batches)
    schedule, schedule_config = _schedule(recipe, epochs, steps_per_epoch)
    model.compile(
        optimizer=keras.optimizers.SGD(schedule, momentum=recipe.momentum),
        metrics=["accuracy"],
    )

    if output_dir is not None:
        os.makedirs(output_dir, exist_ok=True)
        all_callbacks = [
            # The epoch's log line first, then its checkpoint: a kill in between
            # re-runs the epoch (its line appears twice, the last one counts).
            EpochLog(os.path.join(output_dir, "history.jsonl")),
            ResumableBackup(backup_dir),
            EpochSeeds(seed, extra=[augmenter]),
            *all_callbacks,
        ]
    start = time.perf_counter()
    # The batches shuffle themselves from (seed, epoch); Keras' own shuffle of the
    # batch order would draw from the global NumPy generator, which a resumed run
    # does not share with an uninterrupted one.
    history = train(model, batches, epochs=epochs, callbacks=all_callbacks, verbose=verbose, shuffle=False)[-1]
    seconds = time.perf_counter() - start
    base.history = history

    if output_dir is not None:
        settings = {
            "recipe": dataclasses.asdict(recipe),
            "model": model_name,
            "dataset": dataset,
            "objective": objective,
            "objective_kwargs": objective_kwargs or {},
            "model_kwargs": model_kwargs or {},
            "epochs": epochs,
            "batch_size": batch_size,
            "train_examples": int(len(x_train)),
            "steps_per_epoch": steps_per_epoch,
            "schedule": schedule_config,
            "momentum": recipe.momentum,
            "weight_decay": weight_decay,
            "weight_decay_mode": "coupled L2 (gradient of (wd / 2) * ||w||^2), as PyTorch SGD",
            "attack": attack,
            "augment": bool(augment),
            "flip": bool(augment and dataset not in NO_FLIP),
            "seed": seed,
            "quantization": quantization,
        }
        if command is None:
            quantized = ""
            if quantization is not None:
                quantized = f", kernel_quantizer={kernel_quantizer!r}, scheme={scheme!r}"
            command = (
                f"train_recipe({name!r}, model_name={model_name!r}, dataset={dataset!r}, "
                f"objective={objective!r}, epochs={epochs}, train_subset={train_subset}{quantized}, "
                f"seed={seed})"
            )
        write_outputs(output_dir, base, settings, seconds, command)
    return base


def _quantization_settings(kernel_quantizer, scheme, relax_rho, relax_switch_epoch, skip_first_last, epochs):
    """The validated quantization settings of a run (JSON-ready), or None for a float run."""
    if scheme not in SCHEMES:
        raise ValueError(f"Unknown scheme. Expected one of {list(SCHEMES)}. Received: scheme={scheme!r}")
    if scheme != "binaryrelax" and (relax_rho is not None or relax_switch_epoch is not None):
        raise ValueError(
            "relax_rho and relax_switch_epoch set BinaryRelax's schedule; pass scheme='binaryrelax'. "
            f"Received: scheme={scheme!r}, relax_rho={relax_rho!r}, relax_switch_epoch={relax_switch_epoch!r}"
        )
    if kernel_quantizer is None:
        if scheme != "binaryconnect" or skip_first_last:
            raise ValueError(
                "scheme='binaryrelax' and skip_first_last apply to quantized models; pass "
                "kernel_quantizer ('binary', 'ternary', '4bit'). Received: kernel_quantizer=None, "
                f"scheme={scheme!r}, skip_first_last={skip_first_last!r}"
            )
        return None
    quantizer = quantizers.get(kernel_quantizer)  # a ValueError naming the known quantizers
    relax = None
    if scheme == "binaryrelax":
        switch_epoch = epochs if relax_switch_epoch is None else relax_switch_epoch
        if isinstance(switch_epoch, bool) or not isinstance(switch_epoch, int) or not 1 <= switch_epoch <= epochs:
            raise ValueError(
                f"relax_switch_epoch must be an int in 1..epochs ({epochs}), so that the run ends with "
                f"quantized weights. Received: relax_switch_epoch={relax_switch_epoch!r}"
            )
        rho = DEFAULT_RELAX_RHO if relax_rho is None else relax_rho
        relax = BinaryRelax(lambda_0=1.0, rho=rho, switch_epoch=switch_epoch).get_config()
    return {
        "kernel_quantizer": quantizers.serialize(quantizer),
        "bits": int(quantizer.bits),
        "scheme": scheme,
        "relax": relax,
        "skip_first_last": bool(skip_first_last),
    }


def _schedule(recipe, epochs, steps_per_epoch):
    if recipe.schedule == "paper":
        decay_epochs = recipe.scaled_decay_epochs(epochs)
        schedule = recipe.learning_rate  # a run too short for any decay
        if decay_epochs:
            schedule = paper_schedule(steps_per_epoch, recipe.learning_rate, decay_epochs)
        return schedule, {
            "name": "paper",
            "initial_learning_rate": recipe.learning_rate,
            "decay_epochs": list(decay_epochs),
            "factor": 0.1,
        }
    total_steps = max(2, epochs * steps_per_epoch)
    schedule = OneCycle(recipe.learning_rate, total_steps)
    return schedule, {"name": "one_cycle", **schedule.get_config()}


__all__ = [
    "DEFAULT_RELAX_RHO",
    "DEPRECATED_RECIPE_NAMES",
    "NO_FLIP",
    "OBJECTIVES",
    "PACKED_FILE",
    "PAPER_THREAT_MODEL",
    "RECIPES",
    "Recipe",
    "SCHEMES",
    "SEED_THREAT_MODEL",
    "add_weight_decay",
    "available_recipes",
    "resolve_recipe_name",
    "train_recipe",
]
