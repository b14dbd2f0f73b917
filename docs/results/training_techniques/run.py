"""The training-techniques study: preprocessing configurations, Square evaluation, GMMs.

Reproduces the tables of Li, Narey, Gauher, Appachi Senthilkumar, "Investigating
the Effects of Training Techniques on Classification Robustness" (course report)
with this library. Every finished run writes one JSON record to `records/`; a
rerun skips the records that exist (resumable), `--redo` recomputes.

Protocol (the report's, departures recorded in each record's `settings`):

- split: the 60,000 official training images train; the 10,000 official test
  images are permuted by `numpy.random.default_rng(0).permutation(10000)`, the
  first 8,000 validate and the last 2,000 test;
- CNN: `hdl_keras.models.small_cnn` (3 x conv + ReLU + max-pool, 2 dense), SGD
  lr 0.1 momentum 0.9, coupled weight decay 5e-4 (`add_weight_decay`), batch
  128, 10 epochs, pocket criterion (best validation accuracy for standard
  training, best validation PGD-20 accuracy for adversarial training);
- adversarial training: PGD-20, eps 16/255, step 2/255 (`pgd20`), or FGSM with
  a random start, step 1.25 eps (`fgsm_rs`, Wong et al. 2020) for the sweep;
- evaluation: clean accuracy on the 2,000 test images, Square (l_inf 16/255,
  5,000 queries, 1 restart) on the first `--square-n` of them, confusion
  matrices clean and under Square;
- GMM: PCA to 50 dimensions and a 10-component full-covariance GMM
  (scikit-learn, `random_state=0`) on the 60,000 training images, clusters
  labelled by their mode training label, exported with
  `hdl_keras.models.from_sklearn`; adversarial training: Square on a random
  fifth of the training set, perturbed images appended, PCA and GMM refitted.

Usage, from the repository root (see `run.sh`):

    python docs/results/training_techniques/run.py gmm
    python docs/results/training_techniques/run.py cnn --dataset mnist --method standard
    python docs/results/training_techniques/run.py cnn --method pgd20 --codes FFF
    python docs/results/training_techniques/run.py cnn --method fgsm_rs
    python docs/results/training_techniques/run.py autoattack  # AutoAttack on the trained CNNs
    python docs/results/training_techniques/run.py measure     # seconds per epoch
    python docs/results/training_techniques/run.py zoo         # zoo entry from the gmm-at run
"""

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import keras
import numpy as np

from hdl_keras import models
from hdl_keras.attacks import APGD
from hdl_keras.attacks import PGD
from hdl_keras.attacks import Square
from hdl_keras.attacks import evaluate
from hdl_keras.attacks import most_confused_pairs
from hdl_keras.data import load
from hdl_keras.data import stratified_subset
from hdl_keras.objectives import PGDAdversarialTraining
from hdl_keras.preprocessing import NOISE_STDDEV
from hdl_keras.preprocessing import Preprocessing
from hdl_keras.preprocessing import all_codes
from hdl_keras.preprocessing import preprocessed_batches
from hdl_keras.recipes import add_weight_decay

logging.getLogger("tensorflow").setLevel(logging.ERROR)

HERE = Path(__file__).resolve().parent
RECORDS = HERE / "records"
MODELS = HERE.parents[2] / "runs" / "training_techniques"  # trained models, not committed
EPS = 16 / 255
SEED = 0
GMM_PCA_DIMS = 50  # the report's GMM: PCA to 50 dimensions
PCA_SWEEP = (10, 50, 100, 200)  # the clean-accuracy sweep over PCA dimensions
METHODS = {
    "standard": None,
    "pgd20": {"eps": EPS, "step_size": 2 / 255, "steps": 20, "random_start": True},
    "fgsm_rs": {"eps": EPS, "step_size": 1.25 * EPS, "steps": 1, "random_start": True},
}


def split(dataset):
    """`(x_train, y_train), (x_val, y_val), (x_test, y_test)`: 60,000 / 8,000 / 2,000."""
    (x_train, y_train), (x_rest, y_rest) = load(dataset)
    order = np.random.default_rng(SEED).permutation(len(x_rest))
    val, test = order[:8000], order[8000:10000]
    return (x_train, y_train), (x_rest[val], y_rest[val]), (x_rest[test], y_rest[test])


def command_of(args):
    """The command line of this call (`args.argv`), without a scratch `--records` folder."""
    arguments = list(args.argv)
    if "--records" in arguments:
        where = arguments.index("--records")
        arguments = arguments[:where] + arguments[where + 2 :]
    return " ".join(["python docs/results/training_techniques/run.py", *arguments])


def save_record(key, record, args):
    """Writes records/<key>.json with the command that produced it."""
    record = {**record, "command": command_of(args)}
    RECORDS.mkdir(parents=True, exist_ok=True)
    path = RECORDS / f"{key}.json"
    path.write_text(json.dumps(record, indent=1) + "\n")
    print(f"wrote {path}", flush=True)


def have(key, redo):
    if (RECORDS / f"{key}.json").exists() and not redo:
        print(f"skip {key} (record exists; --redo to recompute)", flush=True)
        return True
    return False


def square_evaluation(model, x, y, n_queries, extra_attacks=None, batch_size=500):
    """Clean and Square (+ extra attacks) accuracy with confusion matrices, as a dict."""
    attacks = {"square": Square(model, eps=EPS, n_queries=n_queries, seed=SEED)}
    attacks.update(extra_attacks or {})
    report = evaluate(model, x, y, attacks=attacks, batch_size=batch_size, verbose=0)
    result = {
        "n": report.num_examples,
        "clean": report.clean_accuracy,
        "confusion_clean": report.confusion_matrix().tolist(),
        "flags": [flag["code"] for flag in report.flags],
    }
    for name, attack in report.attacks.items():
        matrix = report.confusion_matrix(name)
        result[name] = attack.accuracy
        result[f"{name}_seconds"] = attack.seconds
        result[f"confusion_{name}"] = matrix.tolist()
        result[f"most_confused_{name}"] = most_confused_pairs(matrix, top=5)
    return result


# ---------------------------------------------------------------------------- GMM


def fit_gmm(x, y, dims, components=10):
    from sklearn.decomposition import PCA
    from sklearn.mixture import GaussianMixture

    flat = x.reshape(len(x), -1).astype("float64")
    pca = PCA(dims, random_state=SEED).fit(flat)
    projected = pca.transform(flat)
    gmm = GaussianMixture(components, covariance_type="full", random_state=SEED).fit(projected)
    labels = models.cluster_mode_labels(gmm.predict(projected), y, components)
    return pca, gmm, labels


def sklearn_predict(pca, gmm, labels, x):
    return np.asarray(labels)[gmm.predict(pca.transform(x.reshape(len(x), -1).astype("float64")))]


def run_gmm(args):
    (x_train, y_train), _, (x_test, y_test) = split("mnist")
    if args.train_subset:
        x_train, y_train = x_train[: args.train_subset], y_train[: args.train_subset]
    x_sq, y_sq = x_test[: args.square_n], y_test[: args.square_n]
    fits = {}

    def fitted(dims):  # the fit on the 60,000 training images, computed once per process
        if dims not in fits:
            start = time.perf_counter()
            fits[dims] = (*fit_gmm(x_train, y_train, dims), time.perf_counter() - start)
        return fits[dims]

    if not have("gmm-baseline", args.redo):
        pca, gmm, labels, fit_seconds = fitted(GMM_PCA_DIMS)
        model = models.from_sklearn(pca, gmm, labels)
        record = gmm_record(model, pca, gmm, labels, x_test, y_test, x_sq, y_sq, args)
        record.update(kind="gmm", adversarial=False, fit_seconds=fit_seconds)
        save_model(model, "gmm-baseline")
        save_record("gmm-baseline", record, args)
    if not have("gmm-at", args.redo):
        start = time.perf_counter()
        pca, gmm, labels, _ = fitted(GMM_PCA_DIMS)
        model = models.from_sklearn(pca, gmm, labels)
        rows = np.random.default_rng(SEED).choice(len(x_train), len(x_train) // 5, replace=False)
        attack = Square(model, eps=EPS, n_queries=args.train_queries, seed=SEED)
        perturbed = np.concatenate([
            keras.ops.convert_to_numpy(attack(x_train[part], y_train[part]))
            for part in np.array_split(rows, max(1, len(rows) // 2000))
        ])
        attack_seconds = time.perf_counter() - start
        x_aug = np.concatenate([x_train, perturbed])
        y_aug = np.concatenate([y_train, y_train[rows]])
        pca, gmm, labels = fit_gmm(x_aug, y_aug, GMM_PCA_DIMS)
        model = models.from_sklearn(pca, gmm, labels)
        record = gmm_record(model, pca, gmm, labels, x_test, y_test, x_sq, y_sq, args)
        record.update(
            kind="gmm", adversarial=True, perturbed_examples=len(rows),
            train_queries=args.train_queries, attack_seconds=attack_seconds,
            fit_seconds=time.perf_counter() - start - attack_seconds,
        )
        save_model(model, "gmm-at")
        save_record("gmm-at", record, args)
    for dims in PCA_SWEEP:
        key = f"gmm-pca{dims}"
        if have(key, args.redo):
            continue
        pca, gmm, labels, seconds = fitted(dims)
        accuracy = float(np.mean(sklearn_predict(pca, gmm, labels, x_test) == y_test))
        save_record(key, {
            "kind": "gmm_pca", "dims": dims, "clean": accuracy, "n": len(y_test),
            "cluster_labels": labels, "seconds": seconds, "train_subset": args.train_subset,
        }, args)


def gmm_record(model, pca, gmm, labels, x_test, y_test, x_sq, y_sq, args):
    keras_pred = np.argmax(keras.ops.convert_to_numpy(model.predict(x_test, verbose=0)), -1)
    sk_pred = sklearn_predict(pca, gmm, labels, x_test)
    white_box = {
        "apgd_ce": APGD(model, eps=EPS, steps=100, loss="ce", seed=SEED),
        "apgd_dlr": APGD(model, eps=EPS, steps=100, loss="dlr", seed=SEED),
    }
    evaluation = square_evaluation(model, x_sq, y_sq, args.square_queries, white_box)
    return {
        "cluster_labels": labels,
        "train_subset": args.train_subset,
        "sklearn_agreement": float(np.mean(keras_pred == sk_pred)),
        "clean_all": float(np.mean(sk_pred == y_test)),
        "n_all": len(y_test),
        "square_queries": args.square_queries,
        **evaluation,
    }


def save_model(model, key):
    MODELS.mkdir(parents=True, exist_ok=True)
    model.save(MODELS / f"{key}.keras")


# ---------------------------------------------------------------------------- CNN


class Pocket(keras.callbacks.Callback):
    """Keeps the weights of the epoch with the best validation (PGD-20) accuracy."""

    def __init__(self, base, x_val, y_val, adversarial):
        super().__init__()
        self.base, self.x_val, self.y_val = base, x_val, y_val
        self.attack = PGD(base, **METHODS["pgd20"], seed=SEED) if adversarial else None
        self.best, self.best_epoch, self.best_weights, self.history = -1.0, None, None, []

    def on_epoch_end(self, epoch, logs=None):
        x = self.x_val
        if self.attack is not None:
            x = np.concatenate([
                keras.ops.convert_to_numpy(self.attack(x[i : i + 500], self.y_val[i : i + 500]))
                for i in range(0, len(x), 500)
            ])
        logits = self.base.predict(x, batch_size=500, verbose=0)
        accuracy = float(np.mean(np.argmax(logits, -1) == self.y_val))
        self.history.append({"epoch": epoch + 1, "val": accuracy, **(logs or {})})
        print(f"  epoch {epoch + 1}: pocket metric {accuracy:.4f}", flush=True)
        if accuracy > self.best:
            self.best, self.best_epoch = accuracy, epoch + 1
            self.best_weights = self.base.get_weights()


def train_cnn(dataset, method, code, args, noise_stddev=NOISE_STDDEV):
    (x_train, y_train), (x_val, y_val), _ = split(dataset)
    if args.train_subset:
        rows = stratified_subset(y_train, args.train_subset, seed=SEED)
        x_train, y_train = x_train[rows], y_train[rows]
    keras.utils.set_random_seed(SEED)
    base = models.small_cnn(input_shape=x_train.shape[1:])
    model = base if method == "standard" else PGDAdversarialTraining.from_model(
        base, **METHODS[method], seed=SEED
    )
    add_weight_decay(model, 5e-4)
    model.compile(
        optimizer=keras.optimizers.SGD(args.lr, momentum=0.9),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        if method == "standard" else None,
        metrics=["accuracy"],
    )
    batches = preprocessed_batches(
        code, x_train, y_train, batch_size=128, flip=False, noise_stddev=noise_stddev, seed=SEED
    )
    x_pocket, y_pocket = x_val[: args.val_n], y_val[: args.val_n]
    pocket = Pocket(base, x_pocket, y_pocket, adversarial=method != "standard")
    start = time.perf_counter()
    model.fit(batches, epochs=args.epochs, callbacks=[pocket], verbose=0)
    seconds = time.perf_counter() - start
    base.set_weights(pocket.best_weights)
    return base, {
        "train_examples": len(batches.x), "epochs": args.epochs, "lr": args.lr,
        "val_n": len(y_pocket), "best_epoch": pocket.best_epoch, "best_val": pocket.best,
        "history": _plain(pocket.history), "train_seconds": seconds,
        "seconds_per_epoch": seconds / args.epochs, "noise_stddev": noise_stddev,
    }


def run_cnn(args):
    (_, y_train), _, (x_test, y_test) = split(args.dataset)
    if args.train_subset:
        y_train = y_train[stratified_subset(y_train, args.train_subset, seed=SEED)]
    already_balanced = len(set(np.bincount(y_train))) == 1
    for code in args.codes:
        for noise_stddev in args.noise:
            if noise_stddev != NOISE_STDDEV and not Preprocessing.from_code(code).noise:
                print(f"skip {code} at noise {noise_stddev:g}: the code adds no noise", flush=True)
                continue
            suffix = "" if noise_stddev == NOISE_STDDEV else f"-sigma{noise_stddev:g}"
            key = f"cnn-{args.dataset}-{args.method}-{code}{suffix}"
            if have(key, args.redo):
                continue
            unbalanced_key = key.replace(f"-{code}", f"-F{code[1:]}", 1)
            if code[0] == "T" and already_balanced and (RECORDS / f"{unbalanced_key}.json").exists():
                # Balancing adds no copy (every class has the same count): the run is the F run.
                record = json.loads((RECORDS / f"{unbalanced_key}.json").read_text())
                save_record(key, {**record, "code": code, "same_as": unbalanced_key}, args)
                continue
            print(f"{key}: training", flush=True)
            model, training = train_cnn(args.dataset, args.method, code, args, noise_stddev)
            print(f"{key}: evaluating", flush=True)
            evaluation = square_evaluation(
                model, x_test[: args.square_n], y_test[: args.square_n], args.square_queries
            )
            clean = float(np.mean(
                np.argmax(model.predict(x_test, batch_size=500, verbose=0), -1) == y_test
            ))
            save_model(model, key)
            save_record(key, {
                "kind": "cnn", "dataset": args.dataset, "method": args.method, "code": code,
                "clean_all": clean, "n_all": len(y_test), "square_queries": args.square_queries,
                "train_subset": args.train_subset, **training, **evaluation,
            }, args)


def run_autoattack(args):
    """Adds the standard AutoAttack accuracy to each CNN record whose trained model is in MODELS.

    AutoAttack (Croce and Hein 2020) at eps 16/255 runs on the first `n` test
    images (`--autoattack-n`, default the images Square attacked), and Square
    with the grid's queries runs again on the same images so that the two are
    paired. The record gains `autoattack`, `autoattack_n`,
    `autoattack_seconds`, `autoattack_by_attack` (accuracy after each attack
    of the ensemble, cumulative) and `autoattack_square` (the paired Square
    accuracy). Records of balancing runs that reuse another run (`same_as`)
    take that run's numbers.
    """
    _, _, (x_test, y_test) = split(args.dataset)
    prefix = f"cnn-{args.dataset}-"
    for path in sorted(RECORDS.glob(f"{prefix}*.json")):
        record = json.loads(path.read_text())
        if "autoattack" in record and not args.redo:
            continue
        source = record.get("same_as", path.stem)
        if source != path.stem:
            base = json.loads((RECORDS / f"{source}.json").read_text())
            if "autoattack" not in base:
                continue  # the run it reuses comes later in the sorted order, or has no model
            record.update({k: v for k, v in base.items() if k.startswith("autoattack")})
        else:
            model_path = MODELS / f"{source}.keras"
            if not model_path.exists():
                print(f"skip {source}: no trained model at {model_path}", flush=True)
                continue
            model = keras.saving.load_model(model_path)
            n = args.autoattack_n or record["n"]
            x, y = x_test[:n], y_test[:n]
            start = time.perf_counter()
            report = evaluate(model, x, y, attacks="autoattack", eps=EPS, seed=SEED, batch_size=n,
                              verbose=0)
            seconds = time.perf_counter() - start
            paired = square_evaluation(model, x, y, record["square_queries"])
            record.update(autoattack=report.worst_case_accuracy, autoattack_n=n,
                          autoattack_seconds=seconds,
                          autoattack_by_attack={name: attack.accuracy
                                                for name, attack in report.attacks.items()},
                          autoattack_square=paired["square"],
                          autoattack_command=command_of(args))
        path.write_text(json.dumps(_plain(record), indent=1) + "\n")
        print(f"{path.stem}: AutoAttack {record['autoattack']:.4f}, Square "
              f"{record['autoattack_square']:.4f} on {record['autoattack_n']} images", flush=True)


def run_measure(args):
    """Seconds per training step of each method (ratio to standard), 20 steps each."""
    (x_train, y_train), _, _ = split("mnist")
    x, y = x_train[:128 * 21], y_train[:128 * 21]
    result = {}
    for method in METHODS:
        keras.utils.set_random_seed(SEED)
        base = models.small_cnn()
        model = base if method == "standard" else PGDAdversarialTraining.from_model(
            base, **METHODS[method]
        )
        model.compile(
            optimizer=keras.optimizers.SGD(0.1, momentum=0.9),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)
            if method == "standard" else None,
        )
        model.fit(x[:128], y[:128], batch_size=128, epochs=1, verbose=0)  # compile
        start = time.perf_counter()
        model.fit(x[128:], y[128:], batch_size=128, epochs=1, verbose=0)
        result[method] = (time.perf_counter() - start) / 20
    model = models.small_cnn()
    square = Square(model, eps=EPS, n_queries=200, seed=SEED)
    start = time.perf_counter()
    square(x[:500], y[:500])
    result["square_500_images_per_query"] = (time.perf_counter() - start) / 200
    steps_per_epoch = 60000 / 128
    record = {
        "kind": "measure",
        **{f"{m}_seconds_per_epoch": s * steps_per_epoch for m, s in result.items()
           if m in METHODS},
        **{f"{m}_ratio": result[m] / result["standard"] for m in METHODS},
        "square_500_images_seconds_per_query": result["square_500_images_per_query"],
    }
    save_record("measure", record, args)
    print(json.dumps(record))


ZOO_NAME = "mnist-gaussian_mixture-square_at"


def gmm_tried():
    """The zoo card's `reference.tried`: the other GMM runs of `run.py gmm`, from their records."""
    def record(key):
        return json.loads((RECORDS / f"{key}.json").read_text())

    def percent(value):
        return f"{100 * value:.2f} %"

    chosen = record(f"gmm-pca{GMM_PCA_DIMS}")
    others = [dims for dims in PCA_SWEEP if dims != GMM_PCA_DIMS]
    clean = ", ".join(f"{percent(record(f'gmm-pca{dims}')['clean'])} at {dims}" for dims in others)
    baseline = record("gmm-baseline")
    return [
        f"PCA to {', '.join(map(str, others[:-1]))} or {others[-1]} dimensions instead of {GMM_PCA_DIMS}, "
        f"without adversarial training: clean {clean} on the {chosen['n']:,} test images "
        f"({GMM_PCA_DIMS}: {percent(chosen['clean'])})",
        f"no adversarial training: clean {percent(baseline['clean'])}, Square ({baseline['square_queries']:,} "
        f"queries) {percent(baseline['square'])} on the {baseline['n']:,} test images",
    ]


def run_zoo(args):
    """Writes zoo/<ZOO_NAME>/ (model.keras + card) from the `gmm-at` run; metrics by hdl-zoo eval."""
    import shutil

    from hdl_keras.zoo.download import sha256_file
    from hdl_keras.recipes.zoo_entries import hardware
    from hdl_keras.zoo.registry import validate_card
    from hdl_keras.zoo.registry import zoo_root

    record_path, model_path = RECORDS / "gmm-at.json", MODELS / "gmm-at.keras"
    if not record_path.exists() or not model_path.exists():
        raise SystemExit(f"the zoo entry needs the gmm-at run: run `{Path(__file__).name} gmm` first")
    record = json.loads(record_path.read_text())
    model = keras.saving.load_model(model_path)
    train_examples = record["train_subset"] or 60000
    reduced = None
    if record["train_subset"] or record["train_queries"] != 5000:
        reduced = (f"{train_examples} training images, {record['train_queries']} Square queries "
                   "on the perturbed fifth (the report: 60,000 images; queries not given)")
    card = {
        "name": ZOO_NAME,
        "dataset": "mnist",
        "architecture": "gaussian_mixture",
        "parameters": int(model.count_params()),
        "method": {
            "name": "Square-AT GMM",
            "objective": f"PCA ({GMM_PCA_DIMS}) + 10-component full-covariance Gaussian mixture (scikit-learn), "
                         "refitted on the training set plus Square-perturbed copies of a random "
                         "fifth of it (training-techniques report)",
            "hyperparameters": {"pca_dims": GMM_PCA_DIMS, "components": 10, "eps": EPS,
                                "perturbed_fraction": 0.2,
                                "train_queries": record["train_queries"]},
        },
        "threat_model": {"norm": "linf", "eps": EPS},
        "training": {
            "recipe": "docs/results/training_techniques/run.py gmm",
            "command": record["command"],
            "epochs": 0,
            "train_examples": train_examples + record["perturbed_examples"],
            "backend": keras.backend.backend(),
            "hardware": hardware(),
            "wall_time_seconds": round(record["attack_seconds"] + record["fit_seconds"], 1),
            "reduced": reduced,
        },
        "metrics": None,
        "gradient_masking_flags": [],
        "file": "model.keras",
        "file_size_bytes": model_path.stat().st_size,
        "sha256": sha256_file(model_path),
        "reference": {
            "paper": "Li, Narey, Gauher, Appachi Senthilkumar, Investigating the Effects of "
                     "Training Techniques on Classification Robustness (course report)",
            "table": "Adversarial Training GMM Results, No Augmentations",
            "figure": None,
            "values": {"clean_accuracy": 0.6361, "square": 0.579, "eps": EPS},
            "tried": gmm_tried(),
        },
        "evaluation": None,
    }
    validate_card(card, source=f"new card of {ZOO_NAME!r}")
    folder = zoo_root() / ZOO_NAME
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(model_path, folder / "model.keras")
    (folder / "card.json").write_text(json.dumps(card, indent=2) + "\n")
    print(f"wrote {folder}; now: hdl-zoo eval {ZOO_NAME} --attacks full --n 1000 --update-card")


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    return value


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("part", choices=["gmm", "cnn", "autoattack", "measure", "zoo"])
    parser.add_argument("--dataset", default="mnist", choices=["mnist", "fashion_mnist"])
    parser.add_argument("--method", default="standard", choices=list(METHODS))
    parser.add_argument("--codes", nargs="+", default=all_codes())
    parser.add_argument("--noise", nargs="+", type=float, default=[NOISE_STDDEV],
                        help="noise standard deviations (records other than the default "
                             "get a -sigma suffix)")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--train-subset", type=int, default=0,
                        help="train on this many images (0: all 60,000; CNN: a class-"
                             "stratified subset, `stratified_subset`; GMM: the first n)")
    parser.add_argument("--val-n", type=int, default=8000,
                        help="validation images of the pocket criterion")
    parser.add_argument("--square-n", type=int, default=2000,
                        help="test images attacked by Square (the first n of the 2,000)")
    parser.add_argument("--square-queries", type=int, default=5000)
    parser.add_argument("--autoattack-n", type=int, default=0,
                        help="test images AutoAttack attacks (the first n; 0: those Square attacked)")
    parser.add_argument("--train-queries", type=int, default=5000,
                        help="Square queries on the training fifth of the GMM's adversarial training")
    parser.add_argument("--redo", action="store_true", help="recompute existing records")
    parser.add_argument("--records", default=None,
                        help="folder of the run records (a scratch folder for smoke tests)")
    args = parser.parse_args(argv)
    args.argv = sys.argv[1:] if argv is None else list(argv)
    if args.records:
        global RECORDS
        RECORDS = Path(args.records)
    for code in args.codes:
        if code not in all_codes():
            parser.error(f"--codes takes codes among {all_codes()}; received {code!r}")
    parts = {"gmm": run_gmm, "cnn": run_cnn, "autoattack": run_autoattack,
             "measure": run_measure, "zoo": run_zoo}
    parts[args.part](args)


if __name__ == "__main__":
    sys.exit(main())
