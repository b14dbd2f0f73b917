"""Training recipes of the zoo entries: `ENTRY_RECIPES` and `train_entry`.

The producer of the zoo's `.keras` entries (the zoo package itself only
reads them). Every entry is trained by one recipe with `hdl_keras.recipes.train`
(plain `model.fit`; rounds for the sparse HDL objectives), on the data the HDL
protocol uses (`hdl_keras.data.prepare_data`: tables min-max scaled to
[0, 1] on the train+validation pool, whose fixed 20 % test split stays out;
images in [0, 1]). `train_entry` writes `zoo/<name>/model.keras` and its card;
the card's `metrics` stay null until `hdl-zoo eval NAME --update-card`
(`hdl_keras.recipes.zoo_cards.update_card`) measures them.

Recipes:

- tables (`iris`, `wine`, `breast_cancer`, `digits`) x {DL, HDL}: the MLP
  2 x 128 of Bertsimas et al. (2023, sec. 4) with the configuration our
  reduced protocol runs (`docs/results/<dataset>`): Adam 1e-2, batch 32,
  30 epochs, HDL with rho 0.1, lambda 1e-6, beta_bar 200, alpha 0.7 and
  3 rounds: 2 annealing rounds and the fixed-mask round of
  `hdl_keras.objectives.fit_sparse_rounds` (the paper: 150 epochs, 5 rounds,
  a searched grid);
- `mnist`, `fashion_mnist` x {DL, Robust, HDL}: the small CNN
  (`hdl_keras.models.small_cnn`) on all training images less a stratified
  validation split of 6,000, batch 128; DL and Robust 12 epochs of Adam on a
  one-cycle rate (peak 3e-3), HDL 2 rounds of 6 (1 annealing, 1 at the fixed
  mask) of Adam 1e-3; the epoch of best
  validation accuracy is kept (HDL: within its fixed-mask round). Robust and
  HDL penalise the 2 most competing classes (`robust_top_k=2`). The radius is
  the paper's: rho 0.1 on MNIST (Table 3), 0.01 on Fashion-MNIST (Table 2).
  Each card's `training.reduced` says how the recipe departs from the paper;
- PGD-AT on all 60,000 training images by fast adversarial training (Wong,
  Rice, Kolter 2020): `PGDAdversarialTraining` with FGSM from a random start
  (`fast_at_settings`: one step of 1.25 eps), Adam on a one-cycle learning
  rate, batch 100; a stratified validation split of 6,000 images
  (`stratified_subset(y, 6000, TRAINING_SEED)`) is held out, and
  `RobustValidation` keeps the epoch of best PGD-10 accuracy on its first
  1,000 images and stops on catastrophic overfitting (Rice et al. 2020).
  MNIST at l_inf 16/255 (the training-techniques report's radius), Fashion-MNIST
  at 8/255 (Li, Wang and Xin's). The run is resumable: `BackupAndRestore` keeps
  the last finished epoch under `runs/zoo/<name>` (relative to the working
  directory, or `$HDL_KERAS_RUNS/zoo/<name>`), so `hdl-zoo train NAME` run
  again after an interruption continues, and the card's wall time sums the
  sessions.

The tables' threat model is l_inf with eps = 0.1 (HDL's evaluation radius on
tables). Threat models and the papers' values come from `hdl_keras.presets`. Every entry's radius is in the `minmax` units of
`hdl_keras.experiments.prepare_data` (inputs in [0, 1], attacks clipped to
[0, 1]), not the paper's `paper` units (`threat_model.scaling` in the card).
Sparse (HDL) models are hard-pruned before saving
(`harden_gates`, then `hdl_keras.layers.export_pruned`), so every zoo file is
a plain network of Keras layers that predicts logits.

Examples:

    ```python
    from hdl_keras.recipes.zoo_entries import ENTRY_RECIPES, train_entry

    print(sorted(ENTRY_RECIPES))
    card = train_entry("iris-mlp-dl")          # the full recipe (seconds on tables)
    card = train_entry("mnist-small_cnn-hdl", epochs=1, train_examples=256, zoo_dir="runs/zoo")
    ```
"""

import dataclasses
import difflib
import json
import os
import platform
import time
from pathlib import Path

import keras
import numpy as np

from hdl_keras import layers
from hdl_keras import models
from hdl_keras import presets
from hdl_keras.data import prepare_data
from hdl_keras.data import stratified_subset
from hdl_keras.objectives import METHODS
from hdl_keras.objectives import PGDAdversarialTraining
from hdl_keras.objectives import RobustValidation
from hdl_keras.objectives import fast_at_settings
from hdl_keras.recipes.holistic import build_model
from hdl_keras.recipes.holistic import harden_gates
from hdl_keras.recipes.schedules import OneCycle
from hdl_keras.recipes.training import train
from hdl_keras.utils.files import atomic_path
from hdl_keras.utils.files import atomic_write_text
from hdl_keras.utils.moved import moved_names
from hdl_keras.utils.validation import check_number
from hdl_keras.zoo.download import sha256_file
from hdl_keras.zoo.errors import UnknownEntryError
from hdl_keras.zoo.registry import validate_card
from hdl_keras.zoo.registry import zoo_root

THREAT_MODEL = presets.threat_model("bertsimas2023-tables")
# Seed of data subsets, initialisation, shuffling and the training attack's starts.
TRAINING_SEED = 0
MODEL_FILE = "model.keras"
CARD_FILE = "card.json"

_OBJECTIVE_DESCRIPTIONS = {
    "DL": "cross-entropy",
    "Robust": "robust (HDL eq. 7: linearized worst case over the l_inf ball)",
    "HDL": "robust+stable+sparse (HDL eq. 4)",
    "PGD-AT": "adversarial: cross-entropy at FGSM examples from a random start, step 1.25 eps "
    "(fast adversarial training, Wong et al. 2020, of Madry et al. 2018's objective)",
}
_SLUGS = {"DL": "dl", "Robust": "robust", "HDL": "hdl", "PGD-AT": "pgd_at"}

_HDL_PAPER = presets.citation("bertsimas2023")
_TECHNIQUES_REPORT = presets.citation("techniques_report")
# The table of Bertsimas et al. (2023) per image dataset (`hdl_keras.presets.paper_values`).
_IMAGE_TABLES = {"mnist": "table_3", "fashion_mnist": "table_2"}

# DL, Robust and HDL on images: all training images less the validation split, batch 128,
# Adam 1e-3, the epoch of best validation accuracy kept (HDL: of its fixed-mask round).
_IMAGE_EPOCHS = {"DL": 12, "Robust": 12, "HDL": 6}  # HDL: per round, 2 rounds
# HDL on images: one annealing round, then the fixed-mask round. With a second annealing round
# (gates reset by s <- min(beta_bar s, 0)) the surviving gates restart at s = 0 and end hovering
# around it, so the hard mask 1[s > 0] is a coin flip; on MNIST (all images, 3 rounds of 5 epochs)
# it kept 12-28 % of each layer and the fixed-mask round started dead (accuracy 10 %) and stayed so.
_IMAGE_HDL_ROUNDS = 2
_IMAGE_BATCH = 128
_IMAGE_PEAK_LR = 3e-3  # DL and Robust: Adam on a one-cycle rate 0 -> 3e-3 (at 40 %) -> 0
# HDL's radius per dataset: Table 3 (MNIST) rho 0.1, Table 2 (Fashion-MNIST) rho 0.01.
_IMAGE_RHO = {
    dataset: presets.threat_model(f"bertsimas2023-{dataset}")["eps"] for dataset in ("mnist", "fashion_mnist")
}
# The robust term over the 2 most competing classes (`robust_top_k`): 3.4x cheaper per step
# than the 9 vector-Jacobian products of the exact term on this CNN (benchmarks/hdl_cost.py).
_IMAGE_ROBUST_TOP_K = 2

# Fast adversarial training of the PGD-AT entries (all training images).
# MNIST at the training-techniques report's radius (16/255), Fashion-MNIST at Li, Wang and Xin's (8/255).
_FAST_AT_EPS = {
    "mnist": presets.threat_model("techniques_report-mnist-pgd20")["eps"],
    "fashion_mnist": presets.threat_model("li2020binaryrelax-ifgsm20")["eps"],
}
# MNIST: 15 epochs; Fashion-MNIST: 10, what fits beside it in the time budget on a shared 2-core CPU.
_FAST_AT_EPOCHS = {"mnist": 15, "fashion_mnist": 10}
_FAST_AT_BATCH = 100
_FAST_AT_PEAK_LR = 5e-3  # Wong et al. 2020's MNIST setting: Adam, one-cycle up to 5e-3
_VALIDATION_EXAMPLES = 6000
_SELECTION_EXAMPLES = 1000
_SELECTION_STEPS = 10
_SELECTION_PATIENCE = 5


@dataclasses.dataclass(frozen=True)
class ZooRecipe:
    """How one zoo entry is trained, and what it is compared with.

    Attributes:
        name: the entry name, `<dataset>-<architecture>-<method>`.
        dataset: a name of `hdl_keras.data`.
        architecture: a name of `hdl_keras.models` (`"mlp"`, `"small_cnn"`).
        method: `"DL"`, `"Robust"`, `"HDL"` (objectives of `HolisticModel`)
            or `"PGD-AT"` (`PGDAdversarialTraining`).
        hyperparameters: `lr` (Adam) and the method's own: `rho`,
            `sparsity_lambda`, `beta_bar`, `stability_alpha`, `rounds`
            (HDL objectives; `epochs` is per round), `eps`, `step_size`,
            `steps`, `random_start` (PGD-AT's training attack: FGSM with
            random start), `schedule`, `validation_examples`,
            `selection_examples`, `selection_attack`, `patience` (its model
            selection, `RobustValidation`).
        epochs: training epochs (per round for HDL).
        batch_size: minibatch size.
        train_examples: size of the stratified training subset, None for
            the whole train+validation pool (PGD-AT: the pool less its
            validation split).
        threat_model: `{"norm": "linf", "eps": ...}`: 0.1, or 16/255 (MNIST)
            and 8/255 (Fashion-MNIST) for PGD-AT.
        reference: `{"paper", "table", "figure", "values"}`: the paper's
            numbers for this setting (fractions; `eps` is the radius of the
            paper's adversarial value), or None entries and `{}`.
        reduced: how the recipe departs from the paper's setting, or None.
    """

    name: str
    dataset: str
    architecture: str
    method: str
    hyperparameters: dict
    epochs: int
    batch_size: int
    train_examples: int | None
    threat_model: dict
    reference: dict
    reduced: str | None

    def __post_init__(self):
        if self.method not in _OBJECTIVE_DESCRIPTIONS:
            raise ValueError(
                f"Unknown method of zoo recipe {self.name!r}. Expected one of {list(_OBJECTIVE_DESCRIPTIONS)}. "
                f"Received: method={self.method!r}"
            )
        needed = _required_hyperparameters(self.method)
        missing = [key for key in needed if key not in self.hyperparameters]
        if missing:
            raise ValueError(
                f"Zoo recipe {self.name!r} ({self.method}) lacks the hyperparameters {missing}; "
                f"it needs {list(needed)}. Received: hyperparameters={self.hyperparameters!r}. "
                "Add them to the recipe."
            )
        for key, value in self.hyperparameters.items():
            if key in needed:
                check_number(value, f"hyperparameters[{key!r}]", low=0.0)

    @property
    def objective(self):
        """A short description of the training objective."""
        return _OBJECTIVE_DESCRIPTIONS[self.method]


def _required_hyperparameters(method):
    """The hyperparameters `_fit` reads for `method`."""
    if method == "PGD-AT":
        return ("lr", "eps", "step_size", "steps")
    if "sparse" in METHODS.get(method, ()):
        return ("lr", "beta_bar")
    return ("lr",)


def _values(row, eps):
    """A card's `reference.values` (fractions) from a row of Bertsimas et al. (2023) (%)."""
    return {
        "clean_accuracy": row["natural"] / 100,
        "pgd": row["adversarial"] / 100,
        "eps": eps,
        "stability": row["stability"] / 100,
        "zero_weights": row["sparsity"] / 100,
    }


def _tabular_recipe(dataset, method):
    table = presets.paper_values("bertsimas2023", "tables_8_11")
    row = table["rows"][dataset]
    hyperparameters = {"lr": 1e-2}
    if method == "HDL":
        hyperparameters.update(rho=0.1, sparsity_lambda=1e-6, beta_bar=200.0, stability_alpha=0.7, rounds=3)
    reduced = "30 epochs" + (", 3 rounds (2 annealing + 1 at the fixed mask)" if method == "HDL" else "")
    paper_run = "150 epochs" + (", 5 rounds" if method == "HDL" else "")
    return ZooRecipe(
        name=f"{dataset}-mlp-{_SLUGS[method]}",
        dataset=dataset,
        architecture="mlp",
        method=method,
        hyperparameters=hyperparameters,
        epochs=30,
        batch_size=32,
        train_examples=None,
        threat_model=dict(THREAT_MODEL),
        reference={
            "paper": _HDL_PAPER,
            "table": f"{table['name']}, row {row['row']}",
            "figure": "Fig. 1",
            "values": _values(row[method], THREAT_MODEL["eps"]),
        },
        reduced=f"{reduced}, fixed configuration (paper: {paper_run}, configuration searched on 10 splits)",
    )


def _fast_at_recipe(dataset):
    eps = _FAST_AT_EPS[dataset]
    hyperparameters = {
        "lr": _FAST_AT_PEAK_LR,
        "schedule": "one_cycle",
        **fast_at_settings(eps),
        "validation_examples": _VALIDATION_EXAMPLES,
        "selection_examples": _SELECTION_EXAMPLES,
        "selection_attack": f"PGD-{_SELECTION_STEPS}, step eps/4, random start",
        "patience": _SELECTION_PATIENCE,
    }
    reference = {"paper": None, "table": None, "figure": None, "values": {}}
    if dataset == "mnist":
        table = presets.paper_values("techniques_report", "mnist_pgd_at")
        reference = {
            "paper": _TECHNIQUES_REPORT,
            "table": f"{table['name']}, configuration FFF",
            "figure": None,
            "values": table["rows"]["FFF"],
        }
    return ZooRecipe(
        name=f"{dataset}-small_cnn-pgd_at",
        dataset=dataset,
        architecture="small_cnn",
        method="PGD-AT",
        hyperparameters=hyperparameters,
        epochs=_FAST_AT_EPOCHS[dataset],
        batch_size=_FAST_AT_BATCH,
        train_examples=None,
        threat_model={"norm": "linf", "eps": eps, "scaling": "minmax"},
        reference=reference,
        reduced=None,
    )


def _image_recipe(dataset, method):
    if method == "PGD-AT":
        return _fast_at_recipe(dataset)
    epochs = _IMAGE_EPOCHS[method]
    rho = _IMAGE_RHO[dataset]
    hyperparameters = {"lr": 1e-3, "validation_examples": _VALIDATION_EXAMPLES, "selection": "best validation accuracy"}
    if method != "HDL":  # HDL's rounds each restart the annealing: a constant rate
        hyperparameters.update(lr=_IMAGE_PEAK_LR, schedule="one_cycle")
    if method == "Robust":
        hyperparameters.update(rho=rho, robust_top_k=_IMAGE_ROBUST_TOP_K)
    elif method == "HDL":
        hyperparameters.update(
            rho=rho,
            robust_top_k=_IMAGE_ROBUST_TOP_K,
            sparsity_lambda=1e-6,
            beta_bar=200.0,
            stability_alpha=0.7,
            rounds=_IMAGE_HDL_ROUNDS,
        )
    paper_name = "Fashion-MNIST" if dataset == "fashion_mnist" else "MNIST"
    table = presets.paper_values("bertsimas2023", _IMAGE_TABLES[dataset])
    reference = {
        "paper": _HDL_PAPER,
        "table": f"{table['name']} ({paper_name})",
        "figure": None,
        "values": _values(table["rows"][method], table["rho"]),
    }
    departures = ["small CNN (paper: AlexNet)"]
    if method == "HDL":
        departures.append(f"2 rounds of {epochs} epochs, 1 annealing + 1 at the fixed mask (paper: 5 rounds of 50)")
    else:
        departures.append(f"{epochs} epochs (paper: 50)")
    if method != "DL":
        departures.append(f"robust term over the {_IMAGE_ROBUST_TOP_K} most competing classes (paper: all 9)")
    departures.append("one configuration (paper: searched on 10 splits)")
    return ZooRecipe(
        name=f"{dataset}-small_cnn-{_SLUGS[method]}",
        dataset=dataset,
        architecture="small_cnn",
        method=method,
        hyperparameters=hyperparameters,
        epochs=epochs,
        batch_size=_IMAGE_BATCH,
        train_examples=None,
        threat_model={"norm": "linf", "eps": rho, "scaling": "minmax"},
        reference=reference,
        reduced="; ".join(departures) + ": what trains in the 90-minute budget on a 2-core CPU",
    )


def _all_recipes():
    recipes = [
        _tabular_recipe(dataset, method)
        for dataset in ("iris", "wine", "breast_cancer", "digits")
        for method in ("DL", "HDL")
    ]
    recipes += [
        _image_recipe(dataset, method)
        for dataset in ("mnist", "fashion_mnist")
        for method in ("DL", "Robust", "HDL", "PGD-AT")
    ]
    return {recipe.name: recipe for recipe in recipes}


# The recipe of every zoo entry, by entry name.
ENTRY_RECIPES = _all_recipes()


def get_recipe(name):
    """The `ZooRecipe` called `name`; `UnknownEntryError` (with close names) otherwise."""
    if name in ENTRY_RECIPES:
        return ENTRY_RECIPES[name]
    suggestions = difflib.get_close_matches(str(name), list(ENTRY_RECIPES), n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(suggestions)}?" if suggestions else f" Known: {', '.join(sorted(ENTRY_RECIPES))}."
    raise UnknownEntryError(f"Unknown zoo recipe {name!r}.{hint}", name=name, suggestions=suggestions)


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
    (x_train, y_train), _ = prepare_data(recipe.dataset)
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
    if recipe.method == "PGD-AT":
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
    without one, the last epoch (`selection` None). DL and Robust runs are
    resumable: `BackupAndRestore` keeps the last finished epoch in
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
    fit_kwargs = {"batch_size": recipe.batch_size, "verbose": verbose}
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
    histories = train(
        model,
        x,
        y,
        epochs=epochs,
        rounds=config.get("rounds", 1),
        beta_bar=config.get("beta_bar"),
        restore_best=monitor,
        callbacks=callbacks,
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
    """Fast adversarial training of a PGD-AT entry, resumable; returns (network, selection, wall time).

    FGSM with random start (`recipe.hyperparameters`: eps, step 1.25 eps),
    Adam on `OneCycle(lr, epochs * steps)`, `RobustValidation` on the first
    `selection_examples` validation images (best epoch restored, stop on
    catastrophic overfitting or after `patience` epochs without
    improvement). `BackupAndRestore` and the selection state live in
    `run_dir(recipe.name)`; the wall time of earlier sessions is read from
    its `wall_time.json`, and the folder is removed when the run ends.
    """
    config = recipe.hyperparameters
    folder = run_dir(recipe.name)
    folder.mkdir(parents=True, exist_ok=True)
    clock = _WallClock(folder / "wall_time.json")
    base = models.get(recipe.architecture, input_shape=x.shape[1:], num_classes=num_classes)
    model = PGDAdversarialTraining.from_model(
        base,
        eps=config["eps"],
        step_size=config["step_size"],
        steps=config["steps"],
        random_start=config["random_start"],
        seed=TRAINING_SEED,
    )
    steps_per_epoch = -(-len(y) // recipe.batch_size)
    schedule = OneCycle(config["lr"], total_steps=max(2, epochs * steps_per_epoch))
    model.compile(optimizer=keras.optimizers.Adam(schedule), metrics=["sparse_categorical_accuracy"])
    x_val, y_val = validation
    selection = RobustValidation(
        (x_val[: config["selection_examples"]], y_val[: config["selection_examples"]]),
        eps=config["eps"],
        steps=_SELECTION_STEPS,
        patience=config["patience"],
        state_path=str(folder / "best.weights.h5"),
        seed=TRAINING_SEED,
        verbose=verbose,
    )
    callbacks = [keras.callbacks.BackupAndRestore(str(folder / "backup")), selection, clock]
    train(model, x, y, epochs=epochs, batch_size=recipe.batch_size, shuffle=True, callbacks=callbacks, verbose=verbose)
    wall_time = clock.total()
    summary = {
        "examples": int(len(y_val)),
        "split": f"stratified_subset(y, {len(y_val)}, seed {TRAINING_SEED}) of the 60000 training images",
        "selection_examples": int(min(len(y_val), config["selection_examples"])),
        "selection_attack": config["selection_attack"],
        "epochs_run": len(selection.history),
        "best_epoch": selection.best_epoch + 1,
        "best_val_pgd_accuracy": selection.best,
        "val_pgd_accuracy_per_epoch": [round(row["val_pgd_accuracy"], 4) for row in selection.history],
        "train_fgsm_accuracy_per_epoch": [
            None if row["adversarial_accuracy"] is None else round(row["adversarial_accuracy"], 4)
            for row in selection.history
        ],
        "catastrophic_overfitting_epoch": None if selection.collapse_epoch is None else selection.collapse_epoch + 1,
    }
    for path in ("best.weights.h5", "best.weights.h5.json", "wall_time.json"):
        (folder / path).unlink(missing_ok=True)
    network = keras.Model(model.input, model.output, name=recipe.architecture)
    return network, summary, wall_time


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
    with atomic_path(entry_dir / MODEL_FILE) as model_tmp:
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
            "file": MODEL_FILE,
            "file_size_bytes": model_tmp.stat().st_size,
            "sha256": sha256_file(model_tmp),
            "reference": json.loads(json.dumps(recipe.reference)),
            "evaluation": None,
        }
        validate_card(card)
    # The model file first: a run killed in between leaves the old card, whose
    # sha256 no longer matches (the entry is reported, never silently wrong).
    atomic_write_text(entry_dir / CARD_FILE, json.dumps(card, indent=2) + "\n")
    return card


def _check_positive(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"Expected an int >= 1 for {name}. Received: {name}={value!r}")
    return int(value)


__all__ = ["ENTRY_RECIPES", "ZooRecipe", "get_recipe", "hardware", "run_dir", "train_entry", "validation_split"]

# `RECIPES`, renamed `ENTRY_RECIPES` (`hdl_keras.recipes.RECIPES` are the `hdl-train` recipes), kept for one release.
__getattr__ = moved_names(
    "hdl_keras.recipes.zoo_entries", "hdl_keras.recipes.zoo_entries", renamed={"RECIPES": "ENTRY_RECIPES"}
)
