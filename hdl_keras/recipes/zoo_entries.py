"""Training of the zoo entries: `train_entry` (the recipes: `hdl_keras.recipes.zoo_catalogue`).

The producer of the zoo's `.keras` entries (the zoo package itself only
reads them). Every entry is trained by its recipe of `ENTRY_RECIPES`
(`hdl_keras.recipes.zoo_catalogue`, re-exported here: `ZooRecipe`,
`ENTRY_RECIPES`, `get_recipe`, `THREAT_MODEL`) with `hdl_keras.recipes.train`
(plain `model.fit`; rounds for the sparse HDL objectives), on the data the HDL
protocol uses (`hdl_keras.data.prepare_data`: tables scaled on the
train+validation pool in the recipe's `threat_model["scaling"]`, whose fixed
20 % test split stays out; images in [0, 1]). `train_entry` writes `zoo/<name>/model.keras` and its card;
the card's `metrics` stay null until `hdl-zoo eval NAME --update-card`
(`hdl_keras.recipes.zoo_cards.update_card`) measures them.

A run keeps the epoch of best validation accuracy where its recipe holds out
a validation split (`validation_split`; the `FAST_AT_METHODS`: best PGD-10
accuracy, `RobustValidation`). DL, Robust and the fast-AT runs are resumable:
`BackupAndRestore` keeps the last finished epoch under `runs/zoo/<name>`
(`run_dir`: relative to the working directory, or
`$HDL_KERAS_RUNS/zoo/<name>`), so `hdl-zoo train NAME` run again after an
interruption continues, and the card's wall time sums the sessions. Sparse
(HDL) models are hard-pruned before saving (`harden_gates`, then
`hdl_keras.layers.export_pruned`), so every zoo file is a plain network of
Keras layers that predicts logits; 1-bit entries are saved packed
(`model.hdlpack`, `hdl_keras.saving.export_packed`: 1 bit per weight).

Examples:

    ```python
    from hdl_keras.recipes.zoo_entries import ENTRY_RECIPES, train_entry

    print(sorted(ENTRY_RECIPES))
    card = train_entry("iris-mlp-dl")          # the full recipe (seconds on tables)
    card = train_entry("mnist-small_cnn-hdl", epochs=1, train_examples=256, zoo_dir="runs/zoo")
    ```
"""

import json
import os
import platform
import time
from pathlib import Path

import keras
import numpy as np

from hdl_keras import layers
from hdl_keras import models
from hdl_keras.callbacks import BinaryRelax
from hdl_keras.data import prepare_data
from hdl_keras.data import stratified_subset
from hdl_keras.objectives import METHODS
from hdl_keras.objectives import PGDAdversarialTraining
from hdl_keras.objectives import RobustValidation
from hdl_keras.objectives import TradeOff
from hdl_keras.preprocessing.augmentation import AugmentedBatches
from hdl_keras.preprocessing.augmentation import augmentation
from hdl_keras.pruning import remove_splitting
from hdl_keras.pruning import shrink
from hdl_keras.recipes.deployable import admm_channel_pruning
from hdl_keras.recipes.holistic import build_model
from hdl_keras.recipes.holistic import harden_gates
from hdl_keras.recipes.schedules import OneCycle
from hdl_keras.recipes.training import train
from hdl_keras.recipes.zoo_catalogue import ENTRY_RECIPES
from hdl_keras.recipes.zoo_catalogue import FAST_AT_METHODS
from hdl_keras.recipes.zoo_catalogue import THREAT_MODEL
from hdl_keras.recipes.zoo_catalogue import ZooRecipe
from hdl_keras.recipes.zoo_catalogue import _SELECTION_STEPS
from hdl_keras.recipes.zoo_catalogue import get_recipe
from hdl_keras.saving import export_packed
from hdl_keras.utils.files import atomic_path
from hdl_keras.utils.files import atomic_write_text
from hdl_keras.utils.moved import moved_names
from hdl_keras.zoo.download import sha256_file
from hdl_keras.zoo.registry import validate_card
from hdl_keras.zoo.registry import zoo_root

# Seed of data subsets, initialisation, shuffling and the training attack's starts.
TRAINING_SEED = 0
MODEL_FILE = "model.keras"
PACKED_MODEL_FILE = "model.hdlpack"  # quantized entries: 1 bit per binary weight
CARD_FILE = "card.json"


def train_entry(name, zoo_dir=None, epochs=None, train_examples=None, verbose=1):
    """Trains the zoo entry `name` by its recipe and writes its model file and card.

    Seeds everything with `TRAINING_SEED`, trains, hard-prunes sparse models,
    and saves `<zoo_dir>/<name>/model.keras` and `card.json` (training section
    with the exact `hdl-zoo train` command, backend, hardware, wall time;
    file size and sha256; `metrics` and `evaluation` null, as a new model
    invalidates any earlier evaluation). Both files are first written under
    temporary names in the entry folder and then renamed over the old ones,
    so a failed run leaves an existing entry as it was.

    Args:
        name: a name of `ENTRY_RECIPES`.
        zoo_dir: the folder holding the entries; default `hdl_keras.zoo.zoo_root()`.
        epochs: overrides the recipe's epochs (per round for HDL).
        train_examples: overrides the recipe's training subset size (at most
            the pool size; larger values use the whole pool).
        verbose: verbosity of `model.fit` (0, 1 or 2), default 1.

    Returns:
        The card (dict) written to `card.json`.

    Examples:

        ```python
        card = train_entry("iris-mlp-hdl", zoo_dir="runs/zoo", epochs=2)
        print(card["sha256"])
        ```
    """
    recipe = get_recipe(name)
    epochs = recipe.epochs if epochs is None else _check_positive("epochs", epochs)
    train_examples = (
        recipe.train_examples if train_examples is None else _check_positive("train_examples", train_examples)
    )
    zoo_dir = zoo_root() if zoo_dir is None else Path(zoo_dir)

    keras.backend.clear_session()
    keras.utils.set_random_seed(TRAINING_SEED)
    (x_train, y_train), _ = prepare_data(recipe.dataset, scaling=recipe.threat_model.get("scaling", "minmax"))
    validation = None
    if "validation_examples" in recipe.hyperparameters:
        (x_train, y_train), validation = validation_split(
            x_train, y_train, recipe.hyperparameters["validation_examples"]
        )
    if train_examples is not None and train_examples < len(y_train):
        rows = stratified_subset(y_train, train_examples, TRAINING_SEED)
        x_train, y_train = x_train[rows], y_train[rows]
    num_classes = int(np.max(y_train)) + 1
    selection = None
    if recipe.method in FAST_AT_METHODS:
        model, selection, wall_time = _fit_fast_at(recipe, x_train, y_train, validation, num_classes, epochs, verbose)
    else:
        model, selection, wall_time = _fit(recipe, x_train, y_train, validation, num_classes, epochs, verbose)

    command = ["hdl-zoo", "train", name]
    if epochs != recipe.epochs:
        command += ["--epochs", str(epochs)]
    if train_examples != recipe.train_examples:
        command += ["--train-examples", str(train_examples)]
    overridden = len(command) > 3
    training = {
        "recipe": name,
        "command": " ".join(command),
        "epochs": epochs,
        "train_examples": len(y_train),
        "backend": keras.backend.backend(),
        "hardware": hardware(),
        "wall_time_seconds": round(wall_time, 1),
        "reduced": _reduced_label(recipe, epochs, len(y_train)) if overridden else recipe.reduced,
    }
    if selection is not None:
        channels = selection.pop("channels", None)
        if channels is not None:  # the composed recipe's output channels before and after shrinking
            training["channels"] = channels
        training["validation"] = selection
    return _write_entry(zoo_dir / name, recipe, model, training)


def hardware():
    """A short description of the machine, e.g. `"2-core CPU (x86_64)"`."""
    description = f"{os.cpu_count()}-core CPU ({platform.machine() or 'unknown'})"
    distribution = getattr(keras, "distribution", None)
    try:
        devices = distribution.list_devices() if distribution is not None else []
    except (AttributeError, RuntimeError, ValueError):
        devices = []  # the torch backend has no keras.distribution
    gpus = [device for device in devices if device.lower().startswith("gpu")]
    if gpus:
        description = f"{len(gpus)} GPU + {description}"
    return description


def _fit(recipe, x, y, validation, num_classes, epochs, verbose):
    """Trains the recipe's `HolisticModel`; returns (plain logits network, selection, wall time).

    With a `validation` split `(x_val, y_val)` the epoch of best validation
    accuracy is kept (the HDL methods: of the fixed-mask round, as the authors
    report their best-validation checkpoint) and `selection` summarises it;
    without one, the last epoch (`selection` None). With an `augment`
    hyperparameter the training images are randomly shifted
    (`_training_data`). DL and Robust runs are resumable:
    `BackupAndRestore` keeps the last finished epoch in
    `run_dir(recipe.name)` and the wall time sums the sessions.
    """
    config = dict(recipe.hyperparameters)
    if recipe.method not in METHODS:
        raise ValueError(f"Unknown method of recipe {recipe.name!r}: {recipe.method!r}")
    model = build_model(recipe.method, config, x.shape[1:], num_classes, network=recipe.architecture)
    if config.get("schedule") == "one_cycle":
        steps = epochs * -(-len(y) // recipe.batch_size)
        model.compile(
            optimizer=keras.optimizers.Adam(OneCycle(config["lr"], total_steps=max(2, steps))),
            metrics=["sparse_categorical_accuracy"],
        )
    fit_kwargs = {"verbose": verbose}
    monitor = None
    if validation is not None:
        fit_kwargs["validation_data"] = validation
        monitor = "val_sparse_categorical_accuracy"
    folder = run_dir(recipe.name)
    folder.mkdir(parents=True, exist_ok=True)
    resumable = "sparse" not in METHODS[recipe.method]
    if not resumable:  # the rounds restart from scratch, so does their clock
        (folder / "wall_time.json").unlink(missing_ok=True)
    clock = _WallClock(folder / "wall_time.json")
    callbacks = [clock]
    if resumable:
        callbacks.append(keras.callbacks.BackupAndRestore(str(folder / "backup")))
    data = _training_data(x, y, recipe.batch_size, config.get("augment"), folder / "backup")
    histories = train(
        model,
        epochs=epochs,
        rounds=config.get("rounds", 1),
        beta_bar=config.get("beta_bar"),
        restore_best=monitor,
        callbacks=callbacks,
        fixed_mask_decay=config.get("fixed_mask_decay", False),
        **data,
        **fit_kwargs,
    )
    wall_time = clock.total()
    (folder / "wall_time.json").unlink(missing_ok=True)
    harden_gates(model)
    selection = None
    if monitor is not None:
        accuracy = histories[-1].history[monitor]
        selection = {
            "examples": int(len(validation[1])),
            "split": f"stratified_subset(y, {len(validation[1])}, seed {TRAINING_SEED}) of the training images",
            "selection": f"epoch of best validation accuracy{' of the fixed-mask round' if len(histories) > 1 else ''}",
            "epochs_run": len(accuracy),
            "best_epoch": int(np.argmax(accuracy)) + 1,
            "best_val_accuracy": round(float(np.max(accuracy)), 4),
            "val_accuracy_per_epoch": [round(float(value), 4) for value in accuracy],
        }
    # A functional keras.Model on the same graph drops the training objective, and
    # export_pruned turns masked layers into Dense/Conv2D with the hard-pruned kernels.
    network = layers.export_pruned(keras.Model(model.input, model.output, name=recipe.architecture))
    return network, selection, wall_time


def validation_split(x, y, validation_examples, seed=TRAINING_SEED):
    """Splits `(x, y)` into training and a stratified validation split of `validation_examples` rows.

    The validation rows are `stratified_subset(y, validation_examples, seed)`
    (per-class proportions kept, seeded); the training rows are the others,
    in their original order.

    Returns:
        `((x_train, y_train), (x_validation, y_validation))`.
    """
    rows = stratified_subset(y, validation_examples, seed)
    held_out = np.zeros(len(y), dtype=bool)
    held_out[rows] = True
    return (x[~held_out], y[~held_out]), (x[rows], y[rows])


def run_dir(name):
    """The folder of an entry's resumable training state: `$HDL_KERAS_RUNS/zoo/<name>` (default `runs/`)."""
    return Path(os.environ.get("HDL_KERAS_RUNS", "runs")) / "zoo" / name


def _fit_fast_at(recipe, x, y, validation, num_classes, epochs, verbose):
    """Fast adversarial training of a `FAST_AT_METHODS` entry, resumable; returns (network, selection, wall time).

    FGSM with random start (`recipe.hyperparameters`: eps, or train_eps where
    set, step 1.25 times it),
    Adam on `OneCycle(lr, epochs * steps)`, `RobustValidation` on the first
    `selection_examples` validation images (best epoch restored, stop on
    catastrophic overfitting or after `patience` epochs without
    improvement). PGD-AT trains `PGDAdversarialTraining`, TradeOff
    `TradeOff(alpha, beta)`; BinaryRelax trains `TradeOff(alpha, beta)` on
    the network with 1-bit kernels (`to_quantized`) under the `BinaryRelax`
    schedule, and selects among its BinaryConnect epochs only (from
    `switch_epoch`, at most `epochs`); RobustSparseBinary does the same on the
    network that `_sparsify_and_shrink` pruned and shrank first. With an
    `augment` hyperparameter the training images are randomly shifted
    (`_training_data`). `BackupAndRestore` and the selection state live in
    `run_dir(recipe.name)`; the wall time of earlier sessions is read from
    its `wall_time.json`, and the folder is removed when the run ends.
    """
    config = recipe.hyperparameters
    folder = run_dir(recipe.name)
    folder.mkdir(parents=True, exist_ok=True)
    clock = _WallClock(folder / "wall_time.json")
    base = models.get(recipe.architecture, input_shape=x.shape[1:], num_classes=num_classes)
    attack = {key: config[key] for key in ("eps", "step_size", "steps", "random_start")}
    attack["eps"] = config.get("train_eps", config["eps"])  # selection below stays at the threat model's eps
    callbacks = [keras.callbacks.BackupAndRestore(str(folder / "backup"))]
    first_candidate = 0
    channels = None
    if recipe.method == "RobustSparseBinary":
        sparsify_epochs = min(config["sparsify_epochs"], epochs)
        channels = {"before": _channel_counts(base)}
        base = _sparsify_and_shrink(recipe, base, x, y, sparsify_epochs, attack, folder, clock, verbose)
        channels["after"] = _channel_counts(base)
    if recipe.method in ("BinaryRelax", "RobustSparseBinary"):
        base = layers.to_quantized(base, config["kernel_quantizer"], float_layers=config.get("float_layers", ()))
        switch_epoch = min(config["switch_epoch"], epochs)
        callbacks.append(BinaryRelax(config["relax_lambda_0"], rho=config["relax_rho"], switch_epoch=switch_epoch))
        first_candidate = switch_epoch - 1
    if recipe.method == "PGD-AT":
        model = PGDAdversarialTraining.from_model(base, seed=TRAINING_SEED, **attack)
    else:
        model = TradeOff.from_model(base, alpha=config["alpha"], beta=config["beta"], seed=TRAINING_SEED, **attack)
    # RobustSparseBinary's quantized phase may peak lower than its float phase (`quantize_lr`).
    _compile_one_cycle(model, config.get("quantize_lr", config["lr"]), epochs, len(y), recipe.batch_size)
    x_val, y_val = validation
    selection = RobustValidation(
        (x_val[: config["selection_examples"]], y_val[: config["selection_examples"]]),
        eps=config["eps"],
        steps=_SELECTION_STEPS,
        patience=config["patience"],
        start_epoch=first_candidate,
        state_path=str(folder / "best.weights.h5"),
        seed=TRAINING_SEED,
        verbose=verbose,
    )
    callbacks += [selection, clock]
    data = _training_data(x, y, recipe.batch_size, config.get("augment"), folder / "backup")
    train(model, epochs=epochs, callbacks=callbacks, verbose=verbose, **data)
    wall_time = clock.total()
    summary = {
        "examples": int(len(y_val)),
        "split": f"stratified_subset(y, {len(y_val)}, seed {TRAINING_SEED}) of the 60000 training images",
        "selection_examples": int(min(len(y_val), config["selection_examples"])),
        "selection_attack": config["selection_attack"],
        "epochs_run": first_candidate + len(selection.history),
        "best_epoch": selection.best_epoch + 1,
        "best_val_pgd_accuracy": selection.best,
        "val_pgd_accuracy_per_epoch": [round(row["val_pgd_accuracy"], 4) for row in selection.history],
        "train_fgsm_accuracy_per_epoch": [
            None if row["adversarial_accuracy"] is None else round(row["adversarial_accuracy"], 4)
            for row in selection.history
        ],
        "catastrophic_overfitting_epoch": None if selection.collapse_epoch is None else selection.collapse_epoch + 1,
    }
    if first_candidate:
        summary["first_selected_epoch"] = first_candidate + 1
    if channels is not None:
        summary["channels"] = channels
    for path in ("best.weights.h5", "best.weights.h5.json", "wall_time.json", SHRUNK_FILE):
        (folder / path).unlink(missing_ok=True)
    network = keras.Model(model.input, model.output, name=recipe.architecture)
    return network, summary, wall_time


def _training_data(x, y, batch_size, augment, backup_dir):
    """The data arguments of `train`: shuffled batches of `(x, y)`, shifted when `augment` is set.

    `augment`: None (the arrays, shuffled by `model.fit`), or
    `{"padding": int, "flip": bool}` (`flip` optional, default False: a
    random horizontal flip too): each image shifted by up to `padding`
    pixels in the data pipeline (`AugmentedBatches`), so a training attack
    perturbs the shifted image. Then the order of an epoch depends on
    `(TRAINING_SEED, epoch)` only, and a run resumed by `BackupAndRestore`
    from `backup_dir` starts at its saved epoch.
    """
    if not augment:
        return {"x": x, "y": y, "batch_size": batch_size, "shuffle": True}
    augmenter = augmentation(
        x.shape[1:], padding=augment["padding"], flip=augment.get("flip", False), seed=TRAINING_SEED
    )
    batches = AugmentedBatches(
        x, y, batch_size, augment=augmenter, seed=TRAINING_SEED, initial_epoch=_backup_epoch(backup_dir)
    )
    return {"x": batches}


def _backup_epoch(backup_dir):
    """Epochs finished before an interruption, from `keras.callbacks.BackupAndRestore`'s metadata (0: none)."""
    metadata = Path(backup_dir) / "training_metadata.json"
    return json.loads(metadata.read_text()).get("epoch", 0) if metadata.exists() else 0


def _compile_one_cycle(model, peak_lr, epochs, examples, batch_size):
    """Compiles `model` with Adam on `OneCycle(peak_lr)` over `epochs` epochs of `examples` at `batch_size`."""
    steps_per_epoch = -(-examples // batch_size)
    schedule = OneCycle(peak_lr, total_steps=max(2, epochs * steps_per_epoch))
    model.compile(optimizer=keras.optimizers.Adam(schedule), metrics=["sparse_categorical_accuracy"])


SHRUNK_FILE = "shrunk.keras"  # the float network after the sparsify phase, so a resumed run skips it


def _channel_counts(model):
    """Output channels of each Dense / Conv2D layer, by name."""
    return {
        layer.name: int(layer.kernel.shape[-1])
        for layer in model.layers
        if isinstance(layer, (keras.layers.Dense, keras.layers.Conv2D))
    }


def _sparsify_and_shrink(recipe, base, x, y, epochs, attack, folder, clock, verbose):
    """Phase 1 of a RobustSparseBinary entry: robust float training with ADMM channel pruning, then `shrink`.

    The objective is the entry's `TradeOff` at FGSM-RS examples;
    `admm_channel_pruning` (ADMM, Dinh et al.'s (2020) baseline) prunes
    `channel_sparsity` of the output channels of every hidden Dense / Conv2D
    layer, hard-pruned when training ends, and `shrink` rebuilds the network
    without them.
    Adam on a one-cycle rate, `epochs` epochs, resumable (`BackupAndRestore`
    in `folder/sparsify_backup`; the shrunk network is kept as
    `folder/shrunk.keras` until the entry is written).

    Returns:
        The shrunk float `keras.Model` (fewer filters and units, same input and logits).
    """
    config = recipe.hyperparameters
    if (folder / SHRUNK_FILE).exists():
        return keras.saving.load_model(folder / SHRUNK_FILE, compile=False)
    pruning = admm_channel_pruning(base, config["channel_sparsity"], rho=config["admm_rho"])
    model = TradeOff.from_model(base, alpha=config["alpha"], beta=config["beta"], seed=TRAINING_SEED, **attack)
    _compile_one_cycle(model, config["lr"], epochs, len(y), recipe.batch_size)
    callbacks = [keras.callbacks.BackupAndRestore(str(folder / "sparsify_backup")), pruning, clock]
    train(model, x, y, epochs=epochs, batch_size=recipe.batch_size, shuffle=True, callbacks=callbacks, verbose=verbose)
    remove_splitting(base)
    shrunk = shrink(base)
    with atomic_path(folder / SHRUNK_FILE) as path:
        shrunk.save(path)
    return shrunk


class _WallClock(keras.callbacks.Callback):
    """Sums the training wall time over resumed sessions in a JSON file, updated every epoch."""

    def __init__(self, path):
        super().__init__()
        self.path = Path(path)
        self.earlier = json.loads(self.path.read_text())["seconds"] if self.path.exists() else 0.0
        self.start = time.perf_counter()

    def total(self):
        return self.earlier + time.perf_counter() - self.start

    def on_epoch_end(self, epoch, logs=None):
        self.path.write_text(json.dumps({"seconds": self.total()}))


def _reduced_label(recipe, epochs, train_examples):
    rounds = f" x {recipe.hyperparameters['rounds']} rounds" if "rounds" in recipe.hyperparameters else ""
    return (
        f"overridden run: {train_examples} training examples, {epochs} epochs{rounds}; "
        f"recipe: {recipe.reduced or 'the setting of the paper'}"
    )


def _write_entry(entry_dir, recipe, model, training):
    """Writes model file and card, each atomically (`hdl_keras.utils.files`); returns the card."""
    entry_dir.mkdir(parents=True, exist_ok=True)
    previous_reference = _previous_reference(entry_dir / CARD_FILE)
    packed = "kernel_quantizer" in recipe.hyperparameters
    model_file = PACKED_MODEL_FILE if packed else MODEL_FILE
    with atomic_path(entry_dir / model_file) as model_tmp:
        if packed:
            export_packed(model, model_tmp)
        else:
            model.save(model_tmp)
        card = {
            "name": recipe.name,
            "dataset": recipe.dataset,
            "architecture": recipe.architecture,
            "parameters": int(model.count_params()),
            "method": {
                "name": recipe.method,
                "objective": recipe.objective,
                "hyperparameters": dict(recipe.hyperparameters),
            },
            "threat_model": dict(recipe.threat_model),
            "training": training,
            "metrics": None,
            "gradient_masking_flags": [],
            "file": model_file,
            "file_size_bytes": model_tmp.stat().st_size,
            "sha256": sha256_file(model_tmp),
            "reference": card_reference(recipe, previous_reference),
            "evaluation": None,
        }
        validate_card(card)
    # The model file first: a run killed in between leaves the old card, whose
    # sha256 no longer matches (the entry is reported, never silently wrong).
    atomic_write_text(entry_dir / CARD_FILE, json.dumps(card, indent=2) + "\n")
    return card


def _previous_reference(card_path):
    """The `reference` of the card at `card_path`, or None where there is none or it does not parse."""
    try:
        return json.loads(card_path.read_text()).get("reference")
    except (OSError, ValueError, AttributeError):  # no card, or a damaged one: the new card replaces it
        return None


def card_reference(recipe, previous=None):
    """The card's `reference` of `recipe`: its paper row, the paper's run (`paper_run`) and what else was `tried`.

    `previous`, the entry's earlier card `reference` (or None), gives the
    measured cost of the paper's run (`set_paper_run_cost`) where that run
    is unchanged: retraining an entry does not change what the paper's run costs.
    """
    reference = json.loads(json.dumps(recipe.reference))
    reference["paper_run"] = None if recipe.paper_run is None else dict(recipe.paper_run)
    reference["tried"] = list(recipe.tried)
    old_run, new_run = (previous or {}).get("paper_run") or {}, reference["paper_run"]
    if new_run is not None and all(old_run.get(key) == value for key, value in new_run.items()):
        reference["paper_run"] = {**old_run, **new_run}
    return reference


def _check_positive(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"Expected an int >= 1 for {name}. Received: {name}={value!r}")
    return int(value)


__all__ = [
    "ENTRY_RECIPES",
    "THREAT_MODEL",
    "ZooRecipe",
    "card_reference",
    "get_recipe",
    "hardware",
    "run_dir",
    "train_entry",
    "validation_split",
]

# `RECIPES`, renamed `ENTRY_RECIPES` (`hdl_keras.recipes.RECIPES` are the `hdl-train` recipes), kept for one release.
__getattr__ = moved_names(
    "hdl_keras.recipes.zoo_entries", "hdl_keras.recipes.zoo_entries", renamed={"RECIPES": "ENTRY_RECIPES"}
)
