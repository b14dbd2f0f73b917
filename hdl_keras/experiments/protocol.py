"""`run_protocol`: the experimental protocol of Holistic Deep Learning (sec. 4).

Bertsimas et al. (2023): a fixed test set; the rest split 10 times into
80/20 train/validation (the same splits for every method); every method
trains every configuration of its grid on every split; the four metrics
(natural and PGD accuracy, stability, sparsity) are measured on the
validation and test sets; selection (`hdl_keras.experiments.selection`) uses
validation values only. The run's records (`ProtocolResult`, the resumable
`runs.jsonl` log) are defined in `hdl_keras.experiments.protocol_records`.
"""

import time

import keras
import numpy as np
from keras import ops

import hdl_keras
from hdl_keras import data
from hdl_keras import presets
from hdl_keras.attacks import PGD
from hdl_keras.data.prepared import SCALINGS
from hdl_keras.data.prepared import input_bounds
from hdl_keras.data.prepared import prepare_data
from hdl_keras.data.splits import stratified_subset as stratified_subset  # moved to hdl_keras.data
from hdl_keras.experiments.grids import PAPER_GRIDS
from hdl_keras.experiments.grids import config_id
from hdl_keras.experiments.grids import get_grid
from hdl_keras.experiments.grids import grid_differences
from hdl_keras.experiments.grids import method_configs
from hdl_keras.experiments.grids import reduced_grid
from hdl_keras.experiments.protocol_records import RESUME_KEYS as RESUME_KEYS  # re-exported
from hdl_keras.experiments.protocol_records import ProtocolResult
from hdl_keras.experiments.protocol_records import RunLog
from hdl_keras.experiments.training import build_model
from hdl_keras.experiments.training import harden_gates
from hdl_keras.experiments.training import network_for
from hdl_keras.experiments.training import train
from hdl_keras.measure import count_zero_weights
from hdl_keras.objectives import METHODS

PAPER_SPLITS = 10
VAL_FRACTION = 0.2
# The paper's PGD radius per image dataset; every tabular (UCI) set uses 0.1.
PAPER_ATTACK_EPS = {
    dataset: presets.threat_model(f"bertsimas2023-{dataset}")["eps"]
    for dataset in ("mnist", "fashion_mnist", "cifar10")
}
TABULAR_ATTACK_EPS = presets.threat_model("bertsimas2023-tables")["eps"]
# Deprecated aliases of `PAPER_SPLITS` and `PAPER_ATTACK_EPS`, kept for one release.
SEED_SPLITS = PAPER_SPLITS
SEED_ATTACK_EPS = PAPER_ATTACK_EPS
# Input scalings (`hdl_keras.data.SCALINGS`, see `prepare_data`) and the threat model of each:
# "minmax" (default): PGD clipped to [0, 1]; "paper": the authors' code (github.com/kimvc7/HDL,
# src/pgd_attack.py): PGD of 40 steps of 0.01 from a random start, unclipped on tables,
# clipped to [0, 1] on images.
PAPER_ATTACK_STEPS = 40
PAPER_ATTACK_STEP_SIZE = 0.01
# Rows per model call and attack call in evaluation.
EVAL_BATCH = 512


def grid_kind(dataset):
    """The paper grid of `dataset`: `"image"` for MNIST, Fashion-MNIST, CIFAR-10, else `"uci"`."""
    return "image" if dataset in PAPER_ATTACK_EPS else "uci"


def threat_model(dataset, scaling="minmax", attack_eps=None, attack_steps=None):
    """The PGD evaluation attack of the protocol for `dataset` under `scaling`.

    Args:
        dataset: a dataset name.
        scaling: `"minmax"` or `"paper"` (see `prepare_data`).
        attack_eps: radius; default the paper's (`PAPER_ATTACK_EPS`, 0.1 on tables).
        attack_steps: steps; default 10 (`"minmax"`) or 40 (`"paper"`).

    Returns:
        A dict: `eps`, `steps`, `step_size` (`2.5 * eps / steps` for
        `"minmax"`, 0.01 for `"paper"`), `bounds` (`(0, 1)`, or unbounded
        for tables under `"paper"`) and `description` (one line for reports).
    """
    if scaling not in SCALINGS:
        raise ValueError(f"Expected scaling in {SCALINGS}. Received: scaling={scaling!r}")
    eps = PAPER_ATTACK_EPS.get(dataset, TABULAR_ATTACK_EPS) if attack_eps is None else float(attack_eps)
    if scaling == "paper":
        steps = PAPER_ATTACK_STEPS if attack_steps is None else attack_steps
        step_size = PAPER_ATTACK_STEP_SIZE
    else:
        steps = 10 if attack_steps is None else attack_steps
        step_size = 2.5 * eps / steps
    bounds = input_bounds(dataset, scaling)
    clipped = bounds == (0.0, 1.0)
    description = (
        f"PGD linf eps {eps:g}, {steps} steps of {step_size:g}, random start, "
        + ("clipped to [0, 1]" if clipped else "unclipped")
        + (" (the authors' code)" if scaling == "paper" else "")
    )
    return {"eps": eps, "steps": steps, "step_size": step_size, "bounds": bounds, "description": description}


def run_protocol(
    dataset,
    methods=None,
    grid=None,
    num_splits=PAPER_SPLITS,
    epochs=None,
    rounds=None,
    batch_size=None,
    train_subset=None,
    test_subset=None,
    attack_eps=None,
    attack_steps=None,
    seed=0,
    output_dir=None,
    verbose=1,
    command=None,
    network=None,
    scaling="minmax",
):
    """Runs the HDL protocol: every method x configuration x split, four metrics.

    For each method and each configuration of its grid (`method_configs`) one
    model is built (`build_model`: MLP 2 x 128 on tables, AlexNet on images,
    masked copies for the sparse methods) and compiled once; for each split
    its weights and optimizer state are reset to the saved initial ones, so
    every split starts from the same Glorot initialisation and the traced
    train step is reused. The model trains on the split's training part
    (`verbose=0`; sparse methods through `fit_sparse_rounds`), its gates are
    replaced by their hard mask `1[s > 0]` (`harden_gates`, the network whose
    sparsity is reported), and it is measured on the split's validation part
    and on the fixed test set: natural accuracy, accuracy under L_inf PGD
    (`threat_model(dataset, scaling)`: by default `attack_steps` steps of
    `2.5 * eps / steps` from a random start, clipped to [0, 1], fixed seed;
    an example counts as robust when it is classified correctly both clean
    and attacked), and sparsity (% of kernel entries that are zero,
    `count_zero_weights`). Data are prepared by `prepare_data` (by default
    tabular features min-max scaled to [0, 1] on the train+validation pool;
    `scaling="paper"` reproduces the authors' preprocessing and attack).

    With `output_dir`, every finished record is appended to
    `output_dir/runs.jsonl` at once, and records already there are skipped
    on restart (the settings in `RESUME_KEYS` must match those saved in
    `output_dir/settings.json`); at the end `results.json` and `results.md`
    are written. Seeds are set per configuration and per split, so a resumed
    run gives the records an uninterrupted one would.

    Args:
        dataset: a name of `hdl_keras.data.available_datasets()`.
        methods: names of `hdl_keras.objectives.METHODS`; default all 8
            (run in the order of `METHODS`).
        grid: `"uci"`, `"image"`, or a grid dict (see
            `hdl_keras.experiments.reduced_grid`); default `"uci"` for
            tables, `"image"` for images.
        num_splits: number of train/validation splits, default 10.
        epochs: epochs per round, overrides the grid's (150 UCI, 50 images).
        rounds: rounds of the sparse methods, overrides the grid's (5).
        batch_size: overrides the grid's (32 UCI, 64 images).
        train_subset: optional int, train on a stratified subset of that many
            rows of the train+validation pool (reduced image runs).
        test_subset: optional int, evaluate on a stratified subset of the
            test set (reduced image runs).
        attack_eps: PGD radius; default the paper's: 0.1 for tables and MNIST,
            0.01 for Fashion-MNIST and CIFAR-10.
        attack_steps: PGD iterations, default 10 (40 with `scaling="paper"`).
        seed: int seed of the splits, subsets, initialisation, shuffling and
            attack, default 0.
        output_dir: optional folder for `runs.jsonl`, `settings.json`,
            `results.json` and `results.md`.
        verbose: 0 silent, 1 (default) one line per finished record.
        command: the command line to record in the settings (the CLI
            passes it).
        network: `"mlp"`, `"alexnet"` or `"small_cnn"`; default the paper's
            (MLP 2 x 128 on tables, AlexNet on images). Another network is
            listed among the run's departures from the paper's protocol.
        scaling: `"minmax"` (default: tables in [0, 1], attacks clipped to
            [0, 1]) or `"paper"` (the authors' code: tables standardised then
            divided by 255, PGD of 40 steps of 0.01, unclipped on tables); see
            `prepare_data` and `threat_model`. Recorded in the settings and
            the report.

    Returns:
        A `ProtocolResult`.

    Examples:

        ```python
        result = run_protocol("iris", methods=["DL", "HDL"], grid=reduced_grid("uci", epochs=20),
                              num_splits=3, output_dir="runs/iris")
        print(result.to_markdown())
        ```
    """
    methods = _check_methods(methods)
    _check_positive_int("num_splits", num_splits)
    if attack_steps is not None:
        _check_positive_int("attack_steps", attack_steps)
    (x_pool, y_pool), (x_test, y_test) = prepare_data(dataset, train_subset, test_subset, seed, scaling)
    kind = grid_kind(dataset)
    grid_name = grid if isinstance(grid, str) else (kind if grid is None else "custom")
    overrides = {"epochs": epochs, "rounds": rounds, "batch_size": batch_size}
    grid = reduced_grid(
        get_grid(kind if grid is None else grid),
        **{key: value for key, value in overrides.items() if value is not None},
    )
    paper_eps = PAPER_ATTACK_EPS.get(dataset, TABULAR_ATTACK_EPS)
    if attack_eps is not None and attack_eps <= 0:
        raise ValueError(f"Expected attack_eps > 0. Received: attack_eps={attack_eps}")
    attack = threat_model(dataset, scaling, attack_eps, attack_steps)
    tabular_scaling = {
        "minmax": "min-max to [0, 1] on the train+validation pool",
        "paper": "standardised on the train+validation pool, then divided by 255 (the authors' code)",
    }[scaling]
    settings = {
        "dataset": dataset,
        "methods": methods,
        "grid_name": grid_name,
        "grid": {key: list(value) if isinstance(value, tuple) else value for key, value in grid.items()},
        "num_splits": num_splits,
        "val_fraction": VAL_FRACTION,
        "epochs": grid["epochs"],
        "rounds": grid["rounds"],
        "batch_size": grid["batch_size"],
        "train_subset": train_subset,
        "test_subset": test_subset,
        "n_train_pool": len(x_pool),
        "n_test": len(x_test),
        "input_shape": list(x_pool.shape[1:]),
        "num_classes": int(max(y_pool.max(), y_test.max()) + 1),
        "network": network or network_for(x_pool.shape[1:]),
        "scaling": scaling,
        "sparse_procedure": "fit_sparse_rounds: annealing rounds, then a fixed-mask round from rewound weights",
        "input_scaling": tabular_scaling if x_pool.ndim == 2 else "none ([0, 1])",
        "attack": attack["description"],
        "attack_eps": attack["eps"],
        "attack_steps": attack["steps"],
        "attack_step_size": attack["step_size"],
        "attack_bounds": None if attack["bounds"][0] == -float("inf") else list(attack["bounds"]),
        "seed": seed,
        "backend": keras.backend.backend(),
        "keras_version": keras.__version__,
        "hdl_keras_version": hdl_keras.__version__,
        "command": command,
    }
    settings["differences"] = _differences(settings, grid, kind, paper_eps)
    settings["reduced"] = bool(settings["differences"])

    splits = data.splits(x_pool, y_pool, n=num_splits, val_fraction=VAL_FRACTION, seed=seed)
    log = RunLog(output_dir, settings)
    configs = [(method, config) for method in methods for config in method_configs(method, grid)]
    if verbose:
        finished = sum(
            (method, config_id(config), index) in log.done for method, config in configs for index in range(num_splits)
        )
        print(
            f"{dataset}: {len(configs)} configurations x {num_splits} splits = "
            f"{len(configs) * num_splits} runs, {finished} already done",
            flush=True,
        )
    runs = []
    for method, config in configs:
        key = config_id(config)
        pending = [index for index in range(num_splits) if (method, key, index) not in log.done]
        if pending:
            for record in _run_config(method, config, pending, splits, (x_test, y_test), settings):
                log.append(record)
                if verbose:
                    _print_record(record)
        runs.extend(log.done[(method, key, index)] for index in range(num_splits))
    result = ProtocolResult(settings=settings, runs=runs)
    if output_dir is not None:
        result.save(output_dir)
    return result


def _run_config(method, config, split_indices, splits, test, settings):
    """Yields the records of one configuration on the given splits (one model, reset per split)."""
    seed = settings["seed"]
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    model = build_model(method, config, settings["input_shape"], settings["num_classes"], settings["network"])
    model.optimizer.build(model.trainable_variables)
    initial_weights = model.get_weights()
    initial_optimizer = [ops.convert_to_numpy(variable) for variable in model.optimizer.variables]
    attack = PGD(
        model,
        eps=settings["attack_eps"],
        step_size=settings["attack_step_size"],
        steps=settings["attack_steps"],
        random_start=True,
        seed=seed,
        bounds=_attack_bounds(settings),
    )
    initial_attack_state = ops.convert_to_numpy(attack.seed_generator.state)
    x_test, y_test = test
    batch = min(EVAL_BATCH, max(len(x_test), len(splits[0][1][0])))
    for index in split_indices:
        (x_train, y_train), (x_val, y_val) = splits[index]
        model.set_weights(initial_weights)
        for variable, value in zip(model.optimizer.variables, initial_optimizer):
            variable.assign(value)
        attack.seed_generator.state.assign(initial_attack_state)
        keras.utils.set_random_seed(seed + 1 + index)
        start = time.perf_counter()
        train(
            model,
            config,
            x_train,
            y_train,
            epochs=settings["epochs"],
            batch_size=settings["batch_size"],
            rounds=settings["rounds"],
            verbose=0,
        )
        train_seconds = time.perf_counter() - start
        start = time.perf_counter()
        harden_gates(model)
        zeros, total = count_zero_weights(model)
        val_accuracy, val_adv_accuracy = _accuracies(model, attack, x_val, y_val, batch)
        test_accuracy, test_adv_accuracy = _accuracies(model, attack, x_test, y_test, batch)
        yield {
            "method": method,
            "config": config,
            "config_id": config_id(config),
            "split": index,
            "val_accuracy": val_accuracy,
            "val_adv_accuracy": val_adv_accuracy,
            "test_accuracy": test_accuracy,
            "test_adv_accuracy": test_adv_accuracy,
            "sparsity": 100.0 * zeros / total,
            "train_seconds": train_seconds,
            "eval_seconds": time.perf_counter() - start,
        }


def _attack_bounds(settings):
    """The PGD bounds of `settings` (`[0, 1]` in runs saved before the key existed)."""
    bounds = settings.get("attack_bounds", [0.0, 1.0])
    return (-float("inf"), float("inf")) if bounds is None else tuple(bounds)


def _accuracies(model, attack, x, y, batch):
    """Natural and PGD accuracy (%) of `model` on `(x, y)`.

    Every call sees `batch` rows (the last chunk wraps around to the first
    rows, whose outputs are dropped), so the attack is traced once.
    """
    correct = robust = 0
    for start in range(0, len(x), batch):
        rows = np.arange(start, start + batch) % len(x)
        count = min(batch, len(x) - start)
        x_batch, y_batch = x[rows], y[rows]
        clean = _predict(model, x_batch)[:count] == y_batch[:count]
        attacked = _predict(model, attack(x_batch, y_batch))[:count] == y_batch[:count]
        correct += int(clean.sum())
        robust += int((clean & attacked).sum())
    return 100.0 * correct / len(x), 100.0 * robust / len(x)


def _predict(model, x):
    return np.argmax(ops.convert_to_numpy(model(x, training=False)), axis=-1)


def _print_record(record):
    print(
        f"{record['method']} {record['config_id']} split {record['split']}: "
        f"val {record['val_accuracy']:.1f} test {record['test_accuracy']:.1f} "
        f"adv {record['test_adv_accuracy']:.1f} sparsity {record['sparsity']:.1f} "
        f"({record['train_seconds']:.1f} s)",
        flush=True,
    )


def _differences(settings, grid, kind, paper_eps):
    """How the run departs from the paper's protocol, as readable strings."""
    differences = grid_differences(grid, PAPER_GRIDS[kind])
    if len(settings["methods"]) != len(METHODS):
        differences.append(f"methods {', '.join(settings['methods'])} instead of all {len(METHODS)}")
    if settings["num_splits"] != PAPER_SPLITS:
        differences.append(f"{settings['num_splits']} splits instead of {PAPER_SPLITS}")
    if settings["train_subset"] is not None:
        differences.append(f"train+validation pool subsampled to {settings['train_subset']} rows")
    if settings["test_subset"] is not None:
        differences.append(f"test set subsampled to {settings['test_subset']} rows")
    paper_network = network_for(tuple(settings["input_shape"]))
    if settings["network"] != paper_network:
        differences.append(f"network {settings['network']} instead of {paper_network}")
    if settings["attack_eps"] != paper_eps:
        differences.append(f"attack radius {settings['attack_eps']:g} instead of {paper_eps:g}")
    return differences


def _check_methods(methods):
    if methods is None:
        return list(METHODS)
    methods = [methods] if isinstance(methods, str) else list(methods)
    unknown = [method for method in methods if method not in METHODS]
    if unknown or not methods or len(set(methods)) != len(methods):
        raise ValueError(f"Expected distinct method names from {list(METHODS)}. Received: methods={methods!r}")
    return [method for method in METHODS if method in methods]


def _check_positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"Expected an int >= 1 for {name}. Received: {name}={value!r}")
