"""Is fast adversarial training sound? FGSM with random start against PGD-10 training, MNIST 16/255.

Trains the small CNN twice with the same data, schedule and model selection,
differing only in the training attack:

- fast AT (Wong, Rice, Kolter 2020): FGSM from a uniform random start, one
  step of 1.25 eps (`fast_at_settings`);
- PGD-10 AT (Madry et al. 2018): 10 steps of eps/4 from a random start;

both `PGDAdversarialTraining`, Adam on a one-cycle learning rate (peak 5e-3,
batch 100) for `EPOCHS` epochs on a stratified subset of `TRAIN_EXAMPLES`
images of the zoo's training split (the 54,000 images left by its 6,000-image
validation split), `RobustValidation` (PGD-10 on 1,000 validation images)
restoring the best epoch and watching for catastrophic overfitting. Both are
evaluated on the first 1,000 MNIST test images with FGSM, PGD-20 (step
eps/4, random start) and APGD-CE (100 steps), the numbers the zoo's
evaluation uses, with Wilson 95 % intervals; the shipped zoo entry
`mnist-small_cnn-pgd_at` (fast AT, all 54,000 images, 15 epochs) is
evaluated the same way when it is at 16/255.

A reduced run (labelled in results.md): PGD-10 training costs about 5 times
fast AT per epoch, so both train on a subset for a few epochs on a 2-core CPU.
Resumable: the trained runs are kept in `results.json` and a rerun with the
same settings skips them (`--fresh` retrains), so it only re-evaluates the zoo
entry, e.g. after `hdl-zoo train mnist-small_cnn-pgd_at`.

Usage, from the repository root (see `run.sh`):

    KERAS_BACKEND=tensorflow python docs/results/fast_at/run.py          # train, evaluate, write
    KERAS_BACKEND=tensorflow python docs/results/fast_at/run.py --tiny   # smoke test (nothing written)
"""

import argparse
import json
import math
import platform
import sys
import time
from pathlib import Path

import keras

from hdl_keras import attacks
from hdl_keras import models
from hdl_keras import zoo
from hdl_keras.experiments import prepare_data
from hdl_keras.experiments.protocol import stratified_subset
from hdl_keras.objectives import PGDAdversarialTraining
from hdl_keras.objectives import RobustValidation
from hdl_keras.objectives import fast_at_settings
from hdl_keras.recipes import OneCycle
from hdl_keras.recipes.zoo_entries import hardware
from hdl_keras.recipes.zoo_entries import validation_split

HERE = Path(__file__).resolve().parent
EPS = 16 / 255
EPOCHS = 4
TRAIN_EXAMPLES = 18000
VALIDATION_EXAMPLES = 6000
SELECTION_EXAMPLES = 1000
TEST_EXAMPLES = 1000
BATCH_SIZE = 100
PEAK_LR = 5e-3
SEED = 0
ENTRY = "mnist-small_cnn-pgd_at"
TRAINING_ATTACKS = {
    "fast_at": fast_at_settings(EPS),
    "pgd10_at": {"eps": EPS, "step_size": EPS / 4, "steps": 10, "random_start": True},
}


def wilson(accuracy, n, z=1.96):
    """The Wilson 95 % interval `[low, high]` of a binomial proportion measured on `n` examples."""
    centre = (accuracy + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(accuracy * (1 - accuracy) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return [round(centre - half, 4), round(centre + half, 4)]


def train(method, x, y, validation, epochs):
    """Trains the small CNN with the training attack of `method`; returns (network, log)."""
    keras.utils.set_random_seed(SEED)
    base = models.small_cnn(input_shape=x.shape[1:])
    model = PGDAdversarialTraining.from_model(base, seed=SEED, **TRAINING_ATTACKS[method])
    steps = -(-len(y) // BATCH_SIZE) * epochs
    model.compile(optimizer=keras.optimizers.Adam(OneCycle(PEAK_LR, total_steps=max(2, steps))),
                  metrics=["sparse_categorical_accuracy"])
    selection = RobustValidation(validation, eps=EPS, steps=10, seed=SEED, verbose=1)
    start = time.perf_counter()
    model.fit(x, y, epochs=epochs, batch_size=BATCH_SIZE, callbacks=[selection], verbose=2)
    seconds = time.perf_counter() - start
    log = {
        "training_attack": TRAINING_ATTACKS[method],
        "epochs": epochs,
        "train_examples": int(len(y)),
        "train_seconds": round(seconds, 1),
        "best_epoch": selection.best_epoch + 1,
        "val_pgd_accuracy_per_epoch": [round(row["val_pgd_accuracy"], 4) for row in selection.history],
        "train_attack_accuracy_per_epoch": [round(row["adversarial_accuracy"], 4) for row in selection.history],
        "catastrophic_overfitting_epoch": None if selection.collapse_epoch is None else selection.collapse_epoch + 1,
    }
    return keras.Model(model.input, model.output), log


def evaluate(network, x, y):
    """Clean, FGSM, PGD-20 and APGD-CE accuracies (with Wilson intervals) on `(x, y)`."""
    suite = {
        "fgsm": attacks.FGSM(network, eps=EPS),
        "pgd20": attacks.PGD(network, eps=EPS, step_size=EPS / 4, steps=20, random_start=True, seed=SEED),
        "apgd": attacks.APGD(network, eps=EPS, steps=100, seed=SEED),
    }
    report = attacks.evaluate(network, x, y, attacks=suite, batch_size=250, verbose=0)
    accuracies = {"clean": report.clean_accuracy,
                  **{name: result.accuracy for name, result in report.attacks.items()},
                  "worst_case": report.worst_case_accuracy}
    return {name: {"accuracy": round(float(value), 4), "wilson95": wilson(float(value), len(y))}
            for name, value in accuracies.items()}


def markdown(results):
    """results.md: the table, the settings and the commands."""
    rows = [("fast AT (FGSM + random start, 1.25 eps)", results["runs"]["fast_at"]),
            ("PGD-10 AT (step eps/4)", results["runs"]["pgd10_at"])]
    if results.get("entry"):
        train_eps = results["entry"]["training"].get("train_eps", EPS)
        radius = "" if abs(train_eps - EPS) < 1e-9 else f" trained at eps {train_eps:g}"
        rows.append((f"zoo entry `{ENTRY}` (fast AT{radius}, all images)", results["entry"]))
    lines = [
        "# Fast adversarial training against PGD-10 training (MNIST, l_inf 16/255)",
        "",
        f"Generated by `bash docs/results/fast_at/run.sh` ({results['command']}); backend "
        f"{results['backend']}, {results['hardware']}.",
        "",
        f"**Reduced run**: fast AT and PGD-10 AT each train {results['settings']['epochs']} epochs on "
        f"{results['settings']['train_examples']} of the 54,000 training-split images (a PGD-10 training step "
        "runs 10 attack steps where fast AT runs 1; the zoo entry trains fast AT for 15 epochs on all "
        "54,000, at its recipe's training radius). Same small CNN, "
        "Adam with a one-cycle learning rate (peak 5e-3), batch 100, model selection by `RobustValidation` "
        "(PGD-10 on 1,000 held-out validation images).",
        "",
        f"Accuracy on the first {results['settings']['test_examples']} MNIST test images (Wilson 95 % interval):",
        "",
        "| model | clean | FGSM | PGD-20 | APGD-CE | worst case | train s | best epoch | collapse |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for label, run in rows:
        cells = [f"{run['test'][k]['accuracy']:.3f} [{run['test'][k]['wilson95'][0]:.3f}, "
                 f"{run['test'][k]['wilson95'][1]:.3f}]" for k in ("clean", "fgsm", "pgd20", "apgd", "worst_case")]
        log = run.get("training", {})
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {log.get('train_seconds', '-')} | "
                     f"{log.get('best_epoch', '-')} | {log.get('catastrophic_overfitting_epoch') or 'none'} |")
    fast, pgd = results["runs"]["fast_at"]["training"], results["runs"]["pgd10_at"]["training"]
    lines += [
        "",
        f"Training time ratio PGD-10 / fast AT (same process, same epochs): "
        f"{pgd['train_seconds'] / fast['train_seconds']:.2f}. The runs share a 2-core CPU with other jobs, "
        "whose load changes between them, so this ratio measures the machine as much as the methods; "
        "`benchmarks/adv_training_cost.py` times the steps in alternation.",
        "",
        "Per-epoch validation PGD-10 accuracy (catastrophic overfitting would show as a collapse while the "
        "training attack's accuracy rises):",
        "",
        f"- fast AT: val PGD {fast['val_pgd_accuracy_per_epoch']}, train FGSM "
        f"{fast['train_attack_accuracy_per_epoch']}",
        f"- PGD-10 AT: val PGD {pgd['val_pgd_accuracy_per_epoch']}, train PGD-10 "
        f"{pgd['train_attack_accuracy_per_epoch']}",
        "",
        f"Verdict: {results['verdict']}",
        "",
    ]
    return "\n".join(lines)


def verdict(runs):
    """Whether fast AT's PGD-20 and APGD accuracies are within the PGD-10 model's Wilson intervals or above."""
    fast, pgd = runs["fast_at"]["test"], runs["pgd10_at"]["test"]
    matched = all(fast[k]["accuracy"] >= pgd[k]["wilson95"][0] for k in ("pgd20", "apgd"))
    return (("fast AT matches PGD-10 AT: its PGD-20 and APGD-CE accuracies are at or above the lower end of "
             "the PGD-10 model's 95 % intervals") if matched else
            ("fast AT falls below PGD-10 AT: its PGD-20 or APGD-CE accuracy is under the PGD-10 model's "
             "95 % interval"))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="smoke test: 512 images, 1 epoch, nothing written")
    parser.add_argument("--fresh", action="store_true", help="retrain the runs kept in results.json")
    args = parser.parse_args(argv)
    train_examples, epochs, test_examples = (512, 1, 100) if args.tiny else (TRAIN_EXAMPLES, EPOCHS, TEST_EXAMPLES)

    (x_pool, y_pool), (x_test, y_test) = prepare_data("mnist")
    (x_train, y_train), (x_val, y_val) = validation_split(x_pool, y_pool, VALIDATION_EXAMPLES, SEED)
    rows = stratified_subset(y_train, train_examples, SEED)
    x_train, y_train = x_train[rows], y_train[rows]
    validation = (x_val[:SELECTION_EXAMPLES], y_val[:SELECTION_EXAMPLES])
    x_test, y_test = x_test[:test_examples], y_test[:test_examples]

    settings = {"eps": EPS, "epochs": epochs, "train_examples": train_examples,
                "test_examples": test_examples, "batch_size": BATCH_SIZE, "peak_lr": PEAK_LR,
                "validation_examples": VALIDATION_EXAMPLES, "selection_examples": SELECTION_EXAMPLES}
    runs = {}
    saved = HERE / "results.json"
    if saved.exists() and not (args.tiny or args.fresh):
        earlier = json.loads(saved.read_text())
        if earlier["settings"] == settings:
            runs = earlier["runs"]
    for method in TRAINING_ATTACKS:
        if method in runs:
            continue
        network, log = train(method, x_train, y_train, validation, epochs)
        runs[method] = {"training": log, "test": evaluate(network, x_test, y_test)}
        print(method, json.dumps(runs[method]["test"]), flush=True)
        if not args.tiny:
            saved.write_text(json.dumps({"settings": settings, "runs": runs}, indent=2) + "\n")
    entry = None
    card = zoo.card(ENTRY)
    if abs(card["threat_model"]["eps"] - EPS) < 1e-9:
        entry = {"training": {"train_seconds": card["training"]["wall_time_seconds"],
                              "train_eps": card["method"]["hyperparameters"].get("train_eps", EPS),
                              "best_epoch": (card["training"].get("validation") or {}).get("best_epoch"),
                              "catastrophic_overfitting_epoch": (card["training"].get("validation") or {}).get(
                                  "catastrophic_overfitting_epoch")},
                 "test": evaluate(zoo.load(ENTRY), x_test, y_test)}
    results = {
        "command": "python docs/results/fast_at/run.py" + (" --tiny" if args.tiny else ""),
        "backend": keras.backend.backend(),
        "hardware": f"{hardware()}, Python {platform.python_version()}",
        "settings": settings,
        "runs": runs,
        "entry": entry,
        "verdict": verdict(runs),
        "reduced": f"{train_examples} training images, {epochs} epochs per method",
    }
    if args.tiny:
        print(markdown(results))
        return 0
    (HERE / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (HERE / "results.md").write_text(markdown(results))
    print(json.dumps({"fast_at_pgd20": runs["fast_at"]["test"]["pgd20"]["accuracy"],
                      "pgd10_at_pgd20": runs["pgd10_at"]["test"]["pgd20"]["accuracy"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
