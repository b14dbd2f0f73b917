"""Sparsity for robust nets: Dinh et al. (2020) and Sehwag et al. (2019) on Fashion-MNIST, reduced CPU runs.

Parts (each writes its numbers into `results.json` as soon as they exist; a rerun
skips what is there, so an interrupted run resumes where it stopped):

- A, Sehwag et al. (2019) (Tables 2, 3, 6): the PGD-adversarially-trained small CNN (the zoo's
  `fashion_mnist-small_cnn-pgd_at`, or the same recipe retrained when the zoo has no
  such entry) pruned by magnitude, 90 % of the weights (unstructured) and 50 % of
  the filters/neurons (structured), fine-tuned with no / natural / adversarial
  training (`prune_and_finetune`); the compact network trained adversarially from
  scratch (`train_from_scratch` on the physically smaller network).
- B, Sehwag et al. (2019) (Table 4) with IBP in place of MixTrain: an IBP-trained CNN pruned
  90 % (unstructured) and fine-tuned with no / natural / IBP training; verified
  robust accuracy by interval bound propagation (`verified_accuracy`).
- C, Dinh et al. (2020) (Table 4): PGD adversarial training with RVSM, ADMM (unstructured),
  RGSM and ADMM (channels), continued from the pre-trained network; natural, FGSM,
  PGD-20 accuracy, % zero weights and channels. ADMM is reported on `w` (what Dinh et al.
  2020 measure) and hard-pruned (`w <- u`).
- D: `shrink` of every structurally pruned model: parameters, multiply-adds,
  `.keras` size before and after, largest prediction difference.

Every departure from the papers is in `SETTINGS` and printed beside the numbers in
`results.md`. Usage, from the repository root (see `run.sh`):

    KERAS_BACKEND=tensorflow python docs/results/pruning/run.py            # all parts
    KERAS_BACKEND=tensorflow python docs/results/pruning/run.py --tiny     # smoke test
    python docs/results/pruning/run.py --parts C --tune                    # C's tuning runs
    python docs/results/pruning/run.py --report                            # results.md only
"""

import argparse
import hashlib
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import keras
import numpy as np

from hdl_keras import models
from hdl_keras.experiments import prepare_data
from hdl_keras.experiments.protocol import stratified_subset
from hdl_keras.objectives import IBPTraining
from hdl_keras.objectives import PGDAdversarialTraining
from hdl_keras.pruning import ADMMUpdate
from hdl_keras.pruning import ReplaceWithU
from hdl_keras.pruning import apply_admm
from hdl_keras.pruning import apply_rgsm
from hdl_keras.pruning import apply_rvsm
from hdl_keras.measure import count_flops
from hdl_keras.measure import count_parameters
from hdl_keras.measure import prunable_layers
from hdl_keras.pruning import prune_and_finetune
from hdl_keras.pruning import remove_splitting
from hdl_keras.pruning import shrink
from hdl_keras.measure import sparsity_report
from hdl_keras.pruning import train_from_scratch
from hdl_keras.callbacks.splitting import split_kernels
from hdl_keras.verification import verified_accuracy
from hdl_keras.zoo import ZooError
from hdl_keras.zoo import zoo_root
from hdl_keras.zoo.evaluation import evaluate_entry
from hdl_keras.recipes.zoo_entries import TRAINING_SEED
from hdl_keras.recipes.zoo_entries import get_recipe
from hdl_keras.recipes.zoo_entries import train_entry

# TensorFlow's retracing notices (one per evaluated model) drown the progress lines.
logging.getLogger("tensorflow").setLevel(logging.ERROR)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
PRETRAINED = "fashion_mnist-small_cnn-pgd_at"
DATASET = "fashion_mnist"
EPS = 0.1

SETTINGS = {
    "full": {
        "out": "docs/results/pruning",
        "work": "runs/pruning",
        # Fine-tuning and splitting data: the first images of the pre-training subset.
        "finetune_examples": 8192,
        "splitting_examples": 4096,
        "prune_steps": 5,
        "epochs_per_step": 1,
        "batch_size": 64,
        "lr": 1e-3,
        "train_attack_steps": 10,
        "eval_examples": 1000,
        "unstructured": 0.9,
        "structured": 0.5,
        "ibp_examples": 8192,
        "ibp_epochs": 6,
        "ibp_filters": [16, 32],
        "ibp_dense": 64,
        "splitting_epochs": 2,
        "splitting_lr": 1e-2,
        "splitting_momentum": 0.9,
        "rvsm": {"beta": 1.0, "lam": 1.25e-3},
        "rgsm": {"beta": 1.0, "lam1": 0.5, "lam2": 1e-3},
        "admm_rho": 1e-2,
        "tune": {
            "rvsm": [{"beta": 1.0, "lam": 4.5e-4}, {"beta": 1.0, "lam": 1.25e-3}],
            "rgsm": [{"beta": 1.0, "lam1": 0.405, "lam2": 1e-3}, {"beta": 1.0, "lam1": 0.5, "lam2": 1e-3},
                     {"beta": 1.0, "lam1": 0.45, "lam2": 1e-3}],
        },
    },
    "tiny": {
        "out": "runs/pruning_tiny",
        "work": "runs/pruning_tiny/work",
        "pretrain_examples": 256,
        "pretrain_epochs": 1,
        "finetune_examples": 128,
        "splitting_examples": 128,
        "prune_steps": 2,
        "epochs_per_step": 1,
        "batch_size": 64,
        "lr": 1e-3,
        "train_attack_steps": 2,
        "eval_examples": 64,
        "unstructured": 0.9,
        "structured": 0.5,
        "ibp_examples": 256,
        "ibp_epochs": 2,
        "ibp_filters": [8, 16],
        "ibp_dense": 16,
        "splitting_epochs": 1,
        "splitting_lr": 1e-2,
        "splitting_momentum": 0.9,
        "rvsm": {"beta": 1.0, "lam": 4.5e-4},
        "rgsm": {"beta": 1.0, "lam1": 0.5, "lam2": 1e-3},
        "admm_rho": 1e-2,
        "tune": {"rvsm": [{"beta": 1.0, "lam": 1e-4}], "rgsm": [{"beta": 1.0, "lam1": 0.4, "lam2": 1e-3}]},
    },
}


class Run:
    """Settings, data, the results file and progress printing of one invocation."""

    def __init__(self, settings, tiny):
        self.s = settings
        self.tiny = tiny
        self.out = ROOT / settings["out"]
        self.work = ROOT / settings["work"]
        self.out.mkdir(parents=True, exist_ok=True)
        (self.work / "models").mkdir(parents=True, exist_ok=True)
        self.results_path = self.out / "results.json"
        self.results = json.loads(self.results_path.read_text()) if self.results_path.exists() else {}
        self.start = time.perf_counter()
        self._data = None

    def log(self, message):
        elapsed = time.perf_counter() - self.start
        print(f"[{int(elapsed // 60):3d}:{int(elapsed % 60):02d}] {message}", flush=True)

    def get(self, key):
        node = self.results
        for part in key.split("/"):
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        return node

    def put(self, key, value):
        node = self.results
        parts = key.split("/")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
        handle, tmp = tempfile.mkstemp(dir=self.out, suffix=".json")
        with os.fdopen(handle, "w") as file:
            json.dump(self.results, file, indent=2)
            file.write("\n")
        os.replace(tmp, self.results_path)

    def forget(self, key):
        """Drops the results under `key` and the saved models of its tasks."""
        parts = key.strip("/").split("/")
        node = self.results
        for part in parts[:-1]:
            node = node.get(part, {})
        node.pop(parts[-1], None)
        for path in (self.work / "models").glob(key.strip("/").replace("/", "__") + "*.keras"):
            path.unlink()

    def model_path(self, key):
        return self.work / "models" / (key.replace("/", "__") + ".keras")

    def done(self, key, with_model=False):
        """Whether `key` has results (and, if asked, its saved model)."""
        return self.get(key) is not None and (not with_model or self.model_path(key).exists())

    def task(self, key, fn, saves_model=False):
        """Runs `fn()` (returning a result dict, or `(result, model)`) unless already done."""
        if self.done(key, with_model=saves_model):
            self.log(f"{key}: done before, skipped")
            return self.get(key)
        self.log(f"{key}: running")
        keras.utils.set_random_seed(TRAINING_SEED)
        start = time.perf_counter()
        output = fn()
        result, model = output if saves_model else (output, None)
        if model is not None:
            model.save(self.model_path(key))
        result["seconds"] = round(time.perf_counter() - start, 1)
        self.put(key, result)
        self.log(f"{key}: {summary_line(result)}")
        return result

    def load(self, key):
        return keras.models.load_model(self.model_path(key), compile=False)

    @property
    def data(self):
        """`(x_pre, y_pre)` (pre-training subset), `(x_ft, y_ft)`, `(x_eval, y_eval)`."""
        if self._data is None:
            (x, y), (x_test, y_test) = prepare_data(DATASET)
            rows = stratified_subset(y, self.pretrain_examples, TRAINING_SEED)
            x_pre, y_pre = x[rows], y[rows]
            n = self.s["finetune_examples"]
            n_eval = self.s["eval_examples"]
            self._data = ((x_pre, y_pre), (x_pre[:n], y_pre[:n]), (x_test[:n_eval], y_test[:n_eval]))
        return self._data

    @property
    def pretrain_examples(self):
        return self.s.get("pretrain_examples", get_recipe(PRETRAINED).train_examples)

    @property
    def pretrain_epochs(self):
        return self.s.get("pretrain_epochs", get_recipe(PRETRAINED).epochs)

    def attack_kwargs(self):
        steps = self.s["train_attack_steps"]
        return {"eps": EPS, "step_size": EPS / 4, "steps": steps, "random_start": True,
                "seed": TRAINING_SEED}

    def fit_kwargs(self):
        return {"batch_size": self.s["batch_size"], "verbose": 0, "callbacks": [Progress(self)]}


class Progress(keras.callbacks.Callback):
    """Prints each epoch's logs on one line."""

    def __init__(self, run):
        super().__init__()
        self.run = run
        self.epochs = 0

    def on_epoch_end(self, epoch, logs=None):
        self.epochs += 1
        shown = ", ".join(f"{name} {value:.4f}" for name, value in sorted((logs or {}).items()))
        self.run.log(f"    epoch {self.epochs}: {shown}")


def summary_line(result):
    def numbers(metrics):
        keys = ("clean_accuracy", "pgd20", "fgsm", "vra", "zero_weights", "zero_channels", "max_pred_diff")
        return ", ".join(f"{key} {metrics[key]:.4f}" for key in keys if isinstance(metrics.get(key), float))

    if "hard_pruned" in result:
        shown = f"on w: {numbers(result['on_w'])}; hard-pruned: {numbers(result['hard_pruned'])}"
    else:
        shown = numbers(result)
    return f"{shown} ({result.get('seconds', 0):.0f} s)"


def copy_model(model):
    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    return clone


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def robustness(run, model):
    """Benign, FGSM, PGD-20 (era) and worst-case accuracy on the evaluation images, sparsity."""
    metrics = evaluate_entry(model, n=run.s["eval_examples"], verbose=0, dataset=DATASET, eps=EPS)
    return {
        "clean_accuracy": metrics["clean_accuracy"],
        "fgsm": metrics["attacks"]["fgsm"],
        "pgd20": metrics["attacks"]["pgd20"],
        "worst_case_accuracy": metrics["worst_case_accuracy"],
        "zero_weights": metrics["zero_weights"],
        "zero_channels": metrics["zero_channels"],
        "gradient_masking_flags": metrics["gradient_masking_flags"],
    }


def clean_accuracy(model, x, y):
    logits = model.predict(x, batch_size=500, verbose=0)
    return float(np.mean(np.argmax(logits, axis=1) == y))


# ---------------------------------------------------------------- pre-trained network


def pretrained(run):
    """The PGD-trained small CNN: the zoo entry, else the same recipe trained into the work folder."""
    record = run.get("pretrained/source")
    local = run.work / "zoo" / PRETRAINED / "model.keras"
    zoo_file = None
    if not run.tiny:
        try:
            candidate = zoo_root() / PRETRAINED / "model.keras"
            zoo_file = candidate if candidate.exists() else None
        except ZooError:
            zoo_file = None
    if record is not None:
        path = Path(record["path_in_repo"])
        path = path if path.is_absolute() else ROOT / path
        if not path.exists() or sha256(path) != record["sha256"]:
            raise SystemExit(
                f"The pre-trained network of results.json ({record['path_in_repo']}, sha256 "
                f"{record['sha256'][:12]}...) is gone or changed: rerun with --fresh."
            )
        return keras.models.load_model(path, compile=False)
    if zoo_file is not None:
        path, kind = zoo_file, "zoo entry"
        card = json.loads((zoo_file.parent / "card.json").read_text())
        training = card["training"]
    else:
        if not local.exists():
            run.log(f"pretrained: no zoo entry {PRETRAINED}: training its recipe (takes minutes)")
            kwargs = {}
            if run.tiny:
                kwargs = {"epochs": run.pretrain_epochs, "train_examples": run.pretrain_examples}
            train_entry(PRETRAINED, zoo_dir=run.work / "zoo", verbose=2, **kwargs)
        path, kind = local, "zoo recipe retrained here"
        training = json.loads((local.parent / "card.json").read_text())["training"]
    try:
        shown = str(path.relative_to(ROOT))
    except ValueError:
        shown = str(path)
    run.put("pretrained/source", {
        "kind": kind, "path_in_repo": shown, "sha256": sha256(path), "training": training,
    })
    return keras.models.load_model(path, compile=False)


# ---------------------------------------------------------------- A: Sehwag et al. (2019), empirical robustness


def part_a(run):
    pre = pretrained(run)
    (x_pre, y_pre), (x_ft, y_ft), _ = run.data
    run.task("pretrained/metrics", lambda: robustness(run, pre))
    objectives = {"none": None, "natural": "natural", "robust": "adversarial"}
    for kind, amount, structured in (
        ("unstructured", run.s["unstructured"], False),
        ("structured", run.s["structured"], True),
    ):
        for name, objective in objectives.items():
            def finetune(objective=objective, amount=amount, structured=structured):
                model = copy_model(pre)
                kwargs = {} if objective is None else run.fit_kwargs()
                data = (None, None) if objective is None else (x_ft, y_ft)
                history = prune_and_finetune(
                    model, amount, *data, structured=structured,
                    steps=run.s["prune_steps"], epochs_per_step=run.s["epochs_per_step"],
                    objective=objective,
                    objective_kwargs=run.attack_kwargs() if objective == "adversarial" else None,
                    optimizer=keras.optimizers.Adam(run.s["lr"]), **kwargs,
                )
                result = robustness(run, model)
                result["last_step"] = {k: float(v) for k, v in history[-1].items()}
                return result, model

            run.task(f"A/{kind}/{name}", finetune, saves_model=True)

    def scratch():
        compact = shrink(run.load("A/structured/robust"))
        ft_passes = run.s["prune_steps"] * run.s["epochs_per_step"] * len(y_ft)
        epochs = run.pretrain_epochs + int(np.ceil(ft_passes / len(y_pre)))
        model = train_from_scratch(
            compact, x_pre, y_pre, epochs=epochs, objective="adversarial",
            objective_kwargs=run.attack_kwargs(), optimizer=keras.optimizers.Adam(run.s["lr"]),
            **run.fit_kwargs(),
        )
        result = robustness(run, model)
        result.update(epochs=epochs, train_examples=len(y_pre), parameters=count_parameters(model))
        return result, model

    run.task("A/scratch", scratch, saves_model=True)


# ---------------------------------------------------------------- B: Sehwag et al. (2019), verified robustness


def verified_metrics(run, model):
    _, _, (x_eval, y_eval) = run.data
    report = sparsity_report(model)
    return {
        "clean_accuracy": clean_accuracy(model, x_eval, y_eval),
        "vra": verified_accuracy(model, x_eval, y_eval, EPS, batch_size=250),
        "zero_weights": sum(row["zero_weights"] for row in report) / sum(row["weights"] for row in report),
    }


def part_b(run):
    (x_pre, y_pre), (x_ft, y_ft), _ = run.data
    n_ibp = run.s["ibp_examples"]
    x_ibp, y_ibp = x_pre[:n_ibp], y_pre[:n_ibp]
    steps_per_epoch = int(np.ceil(n_ibp / run.s["batch_size"]))
    epochs = run.s["ibp_epochs"]
    # Gowal et al.'s schedule, shortened: 1 epoch at eps 0, ramps over half the rest.
    warmup = steps_per_epoch
    ramp = steps_per_epoch * max(1, (epochs - 1) // 2)
    schedule = {"eps": EPS, "kappa_final": 0.5, "warmup_steps": warmup, "eps_ramp_steps": ramp,
                "kappa_ramp_steps": ramp}

    def pretrain():
        base = models.get("small_cnn", input_shape=x_pre.shape[1:], num_classes=10,
                          filters=tuple(run.s["ibp_filters"]), dense_units=run.s["ibp_dense"])
        trainer = IBPTraining.from_model(base, **schedule)
        trainer.compile(optimizer=keras.optimizers.Adam(run.s["lr"]), metrics=["accuracy"])
        trainer.fit(x_ibp, y_ibp, epochs=epochs, **run.fit_kwargs())
        result = verified_metrics(run, base)
        result.update(schedule=schedule, epochs=epochs, train_examples=n_ibp,
                      parameters=count_parameters(base))
        return result, base

    run.task("B/pretrained", pretrain, saves_model=True)
    objectives = {"none": None, "natural": "natural", "verified": "verified"}
    for name, objective in objectives.items():
        def finetune(objective=objective):
            model = run.load("B/pretrained")
            kwargs = {} if objective is None else run.fit_kwargs()
            data = (None, None) if objective is None else (x_ft, y_ft)
            prune_and_finetune(
                model, run.s["unstructured"], *data,
                steps=run.s["prune_steps"], epochs_per_step=run.s["epochs_per_step"],
                objective=objective,
                objective_kwargs={"eps": EPS, "kappa_final": 0.5} if objective == "verified" else None,
                optimizer=keras.optimizers.Adam(run.s["lr"]), **kwargs,
            )
            return verified_metrics(run, model), model

        run.task(f"B/unstructured/{name}", finetune, saves_model=True)


# ---------------------------------------------------------------- C: Dinh et al. (2020), RVSM / RGSM vs ADMM


def layer_sparsity(model, channels):
    """Per pruned layer: its fraction of zero weights (or zero output channels)."""
    report = sparsity_report(model)
    key, total = ("zero_channels", "channels") if channels else ("zero_weights", "weights")
    return {row["name"]: row[key] / row[total] for row in report}


def splitting_fit(run, attach, epochs=None):
    """PGD adversarial training of a copy of the pre-trained network with a splitting method."""
    pre = pretrained(run)
    _, (x_ft, y_ft), _ = run.data
    n = run.s["splitting_examples"]
    x_ft, y_ft = x_ft[:n], y_ft[:n]
    base = copy_model(pre)
    targets = prunable_layers(base)[:-1]  # the classifier keeps its 10 outputs
    trainer = PGDAdversarialTraining.from_model(base, **run.attack_kwargs())
    callback = attach(trainer, [layer.name for layer in targets])
    optimizer = keras.optimizers.SGD(run.s["splitting_lr"], momentum=run.s["splitting_momentum"])
    trainer.compile(optimizer=optimizer, metrics=["accuracy"])
    kwargs = run.fit_kwargs()
    kwargs["callbacks"] = kwargs["callbacks"] + ([callback] if callback is not None else [])
    trainer.fit(x_ft, y_ft, epochs=epochs or run.s["splitting_epochs"], **kwargs)
    return trainer, base


def part_c(run, tune=False):
    s = run.s

    def control():
        _, base = splitting_fit(run, lambda trainer, layers: None)
        return robustness(run, base), base

    def rvsm(config):
        def fit():
            trainer, base = splitting_fit(run, lambda t, layers: apply_rvsm(t, layers=layers, **config))
            remove_splitting(trainer)
            result = robustness(run, base)
            result.update(config=config, layer_sparsity=layer_sparsity(base, channels=False))
            return result, base
        return fit

    def rgsm(config):
        def attach(trainer, layers):
            # lam1, lam2 relative to each layer's median channel norm m at the start
            # (lam1 * m^2, lam2 * m): the same relative threshold and shrinkage in every layer.
            scales = {}
            for name in layers:
                kernel = keras.ops.convert_to_numpy(trainer.get_layer(name).kernel)
                m = float(np.median(np.linalg.norm(kernel.reshape(-1, kernel.shape[-1]), axis=0)))
                scales[name] = m
                apply_rgsm(trainer, beta=config["beta"], lam1=config["lam1"] * m**2,
                           lam2=config["lam2"] * m, layers=[name])
            return ReplaceWithU()

        def fit():
            trainer, base = splitting_fit(run, attach)
            remove_splitting(trainer)
            result = robustness(run, base)
            result.update(config=config, layer_sparsity=layer_sparsity(base, channels=True))
            return result, base
        return fit

    def admm(structure, matched):
        """ADMM with each layer's projection at the sparsity the splitting method reached there."""
        targets = run.get(matched)["layer_sparsity"]

        def attach(trainer, layers):
            for name in layers:
                apply_admm(trainer, rho=s["admm_rho"], sparsity=float(targets[name]),
                           structure=structure, layers=[name])
            return ADMMUpdate(update_every=1, hard_prune=False)

        def fit():
            trainer, base = splitting_fit(run, attach)
            u = {variable.path: keras.ops.convert_to_numpy(regularizer.u)
                 for variable, regularizer in split_kernels(trainer, "admm")}
            remove_splitting(trainer)
            result = {"on_w": robustness(run, base)}
            for variable in base.trainable_variables:
                if variable.path in u:
                    variable.assign(u[variable.path])
            result["hard_pruned"] = robustness(run, base)
            result.update(rho=s["admm_rho"], sparsity_targets=targets, matched_to=matched)
            return result, base

        return fit

    if tune:
        for i, config in enumerate(s["tune"]["rvsm"]):
            run.task(f"C_tuning/rvsm_{i}", rvsm(config), saves_model=True)
        for i, config in enumerate(s["tune"]["rgsm"]):
            run.task(f"C_tuning/rgsm_{i}", rgsm(config), saves_model=True)
        return
    run.task("C/control", control, saves_model=True)
    run.task("C/rvsm", rvsm(s["rvsm"]), saves_model=True)
    run.task("C/admm_weight", admm("weight", "C/rvsm"), saves_model=True)
    run.task("C/rgsm", rgsm(s["rgsm"]), saves_model=True)
    run.task("C/admm_channel", admm("channel", "C/rgsm"), saves_model=True)


# ---------------------------------------------------------------- D: physically smaller models


def file_size(model):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.keras"
        model.save(path)
        return path.stat().st_size


def part_d(run):
    _, _, (x_eval, y_eval) = run.data
    for key in ("A/structured/none", "A/structured/natural", "A/structured/robust", "C/rgsm",
                "C/admm_channel"):
        if not run.model_path(key).exists():
            run.log(f"D/{key}: no saved model (run part {key[0]} first), skipped")
            continue

        def measure(key=key):
            model = run.load(key)
            small = shrink(model)
            before = model.predict(x_eval, batch_size=500, verbose=0)
            after = small.predict(x_eval, batch_size=500, verbose=0)
            return {
                "parameters": [count_parameters(model), count_parameters(small)],
                "flops": [count_flops(model), count_flops(small)],
                "keras_bytes": [file_size(model), file_size(small)],
                "max_pred_diff": float(np.max(np.abs(before - after))),
                "filters": {layer.name: layer.get_config().get("filters", layer.get_config().get("units"))
                            for layer in prunable_layers(small)},
            }

        run.task(f"D/{key.replace('/', '_')}", measure)


# ---------------------------------------------------------------- report


def pct(value):
    return "-" if value is None else f"{100 * value:.1f}"


def ratio(value, reference):
    return "-" if value is None or not reference else f"{value / reference:.2f}"


def verdict(holds):
    return "**holds**" if holds else "**does not hold**"


def write_report(run):
    r = run.results
    s = run.s
    tuning_seconds = sum(m.get("seconds", 0) for m in r.get("C_tuning", {}).values())
    lines = [
        "# Sparsity for robust nets: Dinh et al. (2020) and Sehwag et al. (2019) on Fashion-MNIST (REDUCED CPU run)",
        "",
        '!!! warning "REDUCED run, not a reproduction"',
        "    Small CNN on Fashion-MNIST, l_inf eps = 0.1, short schedules on a shared 2-core CPU",
        "    (every departure from the papers is listed beside the numbers). The papers train VGG16 /",
        "    WRN-28-5 / ResNet20 on CIFAR-10 for hundreds of epochs; the full runs need a GPU.",
        "",
        "Command (from the repository root, tensorflow backend): `bash docs/results/pruning/run.sh` "
        "(= `python docs/results/pruning/run.py --parts C --tune`, then `python "
        "docs/results/pruning/run.py`); "
        f"{r.get('wall_seconds', 0) / 60:.0f} min for parts A-D plus {tuning_seconds / 60:.0f} min of "
        "tuning runs, on a 2-core CPU shared with other jobs.",
        "Numbers: `results.json` beside this page. Accuracies in % on the first "
        f"{s['eval_examples']} test images (one binomial standard error is about 1.5 points at 60-75 %, "
        "so differences of a point or two are within noise); era = PGD-20 accuracy (step eps/4, "
        "random start), FGSM at eps 0.1; vra = fraction verified by interval bound propagation "
        "(`hdl_keras.verification.verified_accuracy`).",
        "",
    ]
    pre = r.get("pretrained", {})
    source = pre.get("source", {})
    m = pre.get("metrics", {})
    if source:
        t = source["training"]
        lines += [
            "## Pre-trained network",
            "",
            f"`{PRETRAINED}` ({source['kind']}: `{source['path_in_repo']}`, sha256 "
            f"`{source['sha256'][:16]}...`): small CNN (conv 32-64-128, dense 128), PGD-10 adversarial "
            f"training (eps 0.1, step eps/4, random start), Adam 1e-3, batch 64, {t['epochs']} epochs "
            f"on {t['train_examples']} images (Sehwag et al. 2019: SGD 0.1 with step decay, CIFAR-10, full "
            "training). Benign "
            f"{pct(m.get('clean_accuracy'))} %, FGSM {pct(m.get('fgsm'))} %, era {pct(m.get('pgd20'))} %.",
            "",
        ]
    lines += report_a(r, s) + report_b(r, s) + report_c(r, s) + report_d(r)
    (run.out / "results.md").write_text("\n".join(lines) + "\n")
    run.log(f"wrote {run.out / 'results.md'}")


def report_a(r, s):
    a = r.get("A")
    pre = r.get("pretrained", {}).get("metrics")
    if not a or not pre:
        return []
    lines = [
        "## A. Sehwag et al. (2019), adversarially trained network: magnitude pruning with matched fine-tuning",
        "",
        f"Iterative pruning (`prune_and_finetune`): {s['prune_steps']} steps x "
        f"{s['epochs_per_step']} epoch on {s['finetune_examples']} of the pre-training images "
        "(Sehwag et al. 2019: 40 steps x 5 epochs on all of CIFAR-10), Adam at 1e-3 (Sehwag et al. 2019: learning rate "
        "0.001, the rest as in pre-training; our pre-training uses Adam 1e-3), batch 64. "
        "*Robust* = PGD-10 adversarial training as in pre-training; *Natural* = cross-entropy; "
        "*None* = pruned only. Unstructured: smallest |w| per layer; structured: filters / neurons "
        "of smallest l1 norm per layer, the classifier kept.",
        "",
        "| pruning | fine-tuning | benign | FGSM | era | era / era* | benign / benign* | zero weights | "
        "zero channels |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        f"| none (pre-trained, *) | - | {pct(pre['clean_accuracy'])} | {pct(pre['fgsm'])} | "
        f"{pct(pre['pgd20'])} | 1.00 | 1.00 | {pct(pre['zero_weights'])} | {pct(pre['zero_channels'])} |",
    ]
    label = {"unstructured": f"unstructured {100 * s['unstructured']:.0f} %",
             "structured": f"structured {100 * s['structured']:.0f} %"}
    names = {"none": "None", "natural": "Natural", "robust": "Robust"}
    for kind in ("unstructured", "structured"):
        for name in ("none", "natural", "robust"):
            row = a.get(kind, {}).get(name)
            if row is None:
                continue
            lines.append(
                f"| {label[kind]} | {names[name]} | {pct(row['clean_accuracy'])} | {pct(row['fgsm'])} | "
                f"{pct(row['pgd20'])} | {ratio(row['pgd20'], pre['pgd20'])} | "
                f"{ratio(row['clean_accuracy'], pre['clean_accuracy'])} | {pct(row['zero_weights'])} | "
                f"{pct(row['zero_channels'])} |"
            )
    lines.append("")
    robust = [a.get(kind, {}).get("robust") for kind in ("unstructured", "structured")]
    if any(row is not None and row["pgd20"] > pre["pgd20"] for row in robust):
        lines += [
            "Ratios above 1: the pre-trained network had only "
            f"{r['pretrained']['source']['training']['epochs']} epochs of PGD training and Robust "
            f"fine-tuning adds {s['prune_steps'] * s['epochs_per_step']} "
            "more of the same objective, so pruning costs less than the extra training gains; the "
            "scratch baseline below, trained as many epochs, is the like-for-like comparison.",
            "",
        ]
    claims = []
    un = a.get("unstructured", {})
    if all(k in un for k in ("none", "natural", "robust")):
        keep = un["robust"]["pgd20"] / pre["pgd20"]
        beats = un["robust"]["pgd20"] > max(un["none"]["pgd20"], un["natural"]["pgd20"])
        claims.append(f"- 90 % unstructured, Robust fine-tuning keeps >= 92 % of era*: {keep:.1%}, "
                      f"{verdict(keep >= 0.92)}; beats Natural and None on era: {verdict(beats)}.")
    st = a.get("structured", {})
    if "robust" in st:
        keep = st["robust"]["pgd20"] / pre["pgd20"]
        claims.append(f"- 50 % structured, Robust fine-tuning keeps >= 100 % of era*: {keep:.1%}, "
                      f"{verdict(keep >= 1.0)}.")
    scratch = a.get("scratch")
    if scratch and "robust" in st:
        ft = st["robust"]
        lines += [
            "### Table 6 pattern: fine-tuned vs trained from scratch (structured 50 %)",
            "",
            f"Scratch: the compact network (`shrink` of the pruned one: {scratch['parameters']} "
            f"parameters, a fresh initialization via `train_from_scratch`) trained with PGD-10 for "
            f"{scratch['epochs']} epochs on the {scratch['train_examples']} pre-training images, as "
            "many epochs as pre-training plus fine-tuning (Sehwag et al. 2019: removes random filters and "
            "trains the compact network from scratch).",
            "",
            "| compact model | benign | FGSM | era |",
            "| --- | --- | --- | --- |",
            f"| scratch | {pct(scratch['clean_accuracy'])} | {pct(scratch['fgsm'])} | "
            f"{pct(scratch['pgd20'])} |",
            f"| fine-tuned (Robust) | {pct(ft['clean_accuracy'])} | {pct(ft['fgsm'])} | "
            f"{pct(ft['pgd20'])} |",
            "",
        ]
        beats = ft["pgd20"] > scratch["pgd20"] and ft["clean_accuracy"] > scratch["clean_accuracy"]
        margin = 100 * min(abs(ft["pgd20"] - scratch["pgd20"]),
                           abs(ft["clean_accuracy"] - scratch["clean_accuracy"]))
        noise = "; a margin within noise on 1000 images" if margin < 3 else ""
        claims.append(f"- fine-tuned beats scratch on benign accuracy and era: {verdict(beats)} "
                      f"(benign {pct(ft['clean_accuracy'])} vs {pct(scratch['clean_accuracy'])}, "
                      f"era {pct(ft['pgd20'])} vs {pct(scratch['pgd20'])}{noise}; Table 6 of Sehwag et al. (2019) at "
                      "50 %: 80.5 vs 78.3 benign, 45.3 vs 44.9 era).")
    return lines + ["Sehwag et al.'s (2019) claims, on this run:", ""] + claims + [""]


def report_b(r, s):
    b = r.get("B")
    if not b or "pretrained" not in b:
        return []
    pre = b["pretrained"]
    sch = pre["schedule"]
    lines = [
        "## B. Sehwag et al. (2019), verifiably trained network (IBP in place of MixTrain)",
        "",
        f"Pre-training: `IBPTraining` (Gowal et al.) of a smaller CNN (conv "
        f"{'-'.join(map(str, s['ibp_filters']))}, dense {s['ibp_dense']}: {pre['parameters']} "
        f"parameters) at eps 0.1 with kappa_final 0.5, {pre['epochs']} epochs on {pre['train_examples']} "
        f"images, Adam 1e-3, batch 64; {sch['warmup_steps']} steps at eps 0, then eps and kappa ramps "
        f"over {sch['eps_ramp_steps']} steps (Sehwag et al. 2019: MixTrain, k = 10, alpha 0.7, eps 2/255, "
        "CIFAR-10). Pruning: 90 % unstructured, the schedule of part A; *Verified* fine-tuning = "
        "IBP at eps 0.1 (no ramp).",
        "",
        "| pruning | fine-tuning | benign | vra | vra / vra* | benign / benign* | zero weights |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        f"| none (pre-trained, *) | - | {pct(pre['clean_accuracy'])} | {pct(pre['vra'])} | 1.00 | 1.00 | "
        f"{pct(pre['zero_weights'])} |",
    ]
    names = {"none": "None", "natural": "Natural", "verified": "Verified (IBP)"}
    un = b.get("unstructured", {})
    for name in ("none", "natural", "verified"):
        row = un.get(name)
        if row is None:
            continue
        lines.append(
            f"| unstructured {100 * s['unstructured']:.0f} % | {names[name]} | "
            f"{pct(row['clean_accuracy'])} | {pct(row['vra'])} | {ratio(row['vra'], pre['vra'])} | "
            f"{ratio(row['clean_accuracy'], pre['clean_accuracy'])} | {pct(row['zero_weights'])} |"
        )
    lines.append("")
    if "verified" in un and un["verified"]["vra"] > pre["vra"]:
        lines += [
            f"vra above vra*: IBP pre-training had {pre['epochs']} epochs (half of them ramping eps), and "
            f"IBP fine-tuning adds {s['prune_steps'] * s['epochs_per_step']} epochs at the full eps.",
            "",
        ]
    if all(k in un for k in ("none", "natural", "verified")):
        best = un["verified"]["vra"] > max(un["none"]["vra"], un["natural"]["vra"])
        keep = un["verified"]["vra"] / pre["vra"] if pre["vra"] else 0.0
        lines += [
            f"Verified accuracy survives pruning with IBP fine-tuning: {keep:.1%} of vra* kept; "
            f"IBP fine-tuning beats None and Natural on vra: {verdict(best)} (Sehwag et al. 2019, Table 4: "
            "CIFAR-large keeps 45.5 / 51.0 = 89 % at 90 %).",
            "",
        ]
    return lines


def report_c(r, s):
    c = r.get("C")
    pre = r.get("pretrained", {}).get("metrics")
    if not c or not pre:
        return []
    lines = [
        "## C. Dinh et al. (2020), Table 4 pattern: RVSM / RGSM vs ADMM inside PGD adversarial training",
        "",
        f"Each method continues PGD-10 adversarial training of the pre-trained network for "
        f"{s['splitting_epochs']} epochs on {s['splitting_examples']} images with SGD at "
        f"{s['splitting_lr']}, momentum {s['splitting_momentum']} (Dinh et al. 2020: 200 epochs from "
        "scratch, ResNet20 on CIFAR-10, SGD 0.1 with decays to 0.01 and below; here the coupling "
        "goes through the momentum), batch 64, on conv1-3 and fc1 (the classifier is not "
        "pruned). RVSM's threshold sqrt(2 lambda / beta) is one for all layers; RGSM's lambda1 "
        "and lambda2 are relative to each layer's median channel norm m at the start (lambda1 m^2, "
        "lambda2 m), since the channel norms differ by 5x between conv1 and fc1 (one absolute "
        "lambda1 removes all of conv1 or nothing elsewhere). *Control* = the same training "
        "without splitting. ADMM (eq. 2-3, u- and z-steps "
        f"every epoch, rho {s['admm_rho']}) projects each layer onto the sparsity that RVSM "
        "(unstructured) or RGSM (channels) reached there, as the paper's ADMM code does with its "
        "target sparsities; its row *on w* measures the trained w (as Dinh et al. 2020 do), *hard-pruned* "
        "sets w <- u without the masked retraining of Zhang et al.",
        "",
        "| method | setting | natural | FGSM | PGD-20 | zero weights | zero channels |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        f"| pre-trained (unpruned) | - | {pct(pre['clean_accuracy'])} | {pct(pre['fgsm'])} | "
        f"{pct(pre['pgd20'])} | {pct(pre['zero_weights'])} | {pct(pre['zero_channels'])} |",
    ]

    def row(name, setting, m):
        return (f"| {name} | {setting} | {pct(m['clean_accuracy'])} | {pct(m['fgsm'])} | "
                f"{pct(m['pgd20'])} | {pct(m['zero_weights'])} | {pct(m['zero_channels'])} |")

    if "control" in c:
        lines.append(row("control (no splitting)", "-", c["control"]))
    if "rvsm" in c:
        cfg = c["rvsm"]["config"]
        lines.append(row("RVSM", f"beta {cfg['beta']}, lambda {cfg['lam']}", c["rvsm"]))
    if "admm_weight" in c:
        lines.append(row("ADMM, unstructured, on w", "sparsity = RVSM's per layer",
                         c["admm_weight"]["on_w"]))
        lines.append(row("ADMM, unstructured, hard-pruned", "", c["admm_weight"]["hard_pruned"]))
    if "rgsm" in c:
        cfg = c["rgsm"]["config"]
        lines.append(row("RGSM", f"beta {cfg['beta']}, lambda1 {cfg['lam1']}, lambda2 {cfg['lam2']}",
                         c["rgsm"]))
    if "admm_channel" in c:
        lines.append(row("ADMM, channels, on w", "channel sparsity = RGSM's per layer",
                         c["admm_channel"]["on_w"]))
        lines.append(row("ADMM, channels, hard-pruned", "", c["admm_channel"]["hard_pruned"]))
    lines += ["", "Dinh et al.'s (2020) claims, on this run:", ""]
    reference = c.get("control", pre)

    def points(a, b, key):
        return f"{100 * (a[key] - b[key]):+.1f}"

    for name, method, admm, key in (("RVSM", "rvsm", "admm_weight", "zero_weights"),
                                    ("RGSM", "rgsm", "admm_channel", "zero_channels")):
        if method not in c or admm not in c:
            continue
        m, on_w, hard = c[method], c[admm]["on_w"], c[admm]["hard_pruned"]
        what = "weights" if key == "zero_weights" else "channels"
        as_good = m["clean_accuracy"] >= on_w["clean_accuracy"] and m["pgd20"] >= on_w["pgd20"]
        lines.append(
            f"- {name} sparser than ADMM measured on w (Dinh et al.'s (2020) measurement): {pct(m[key])} vs "
            f"{pct(on_w[key])} % zero {what}, {verdict(m[key] > on_w[key])}; at equal or better "
            f"accuracy (natural {points(m, on_w, 'clean_accuracy')}, PGD {points(m, on_w, 'pgd20')} "
            f"points vs ADMM): {verdict(as_good)}" + (
                " (Table 4 of Dinh et al. (2020) have the same sign for unstructured pruning: ADMM +1.3 natural, "
                "+0.5 IFGSM20 at 10.9 % vs 80.9 % sparsity)." if method == "rvsm" else ".")
        )
        better = m["clean_accuracy"] > hard["clean_accuracy"] and m["pgd20"] > hard["pgd20"]
        lines.append(
            f"- At equal sparsity (ADMM hard-pruned to {name}'s per-layer sparsity): {name} more "
            f"accurate (natural {pct(m['clean_accuracy'])} vs {pct(hard['clean_accuracy'])}, PGD "
            f"{pct(m['pgd20'])} vs {pct(hard['pgd20'])}): {verdict(better)}."
        )
    if "rgsm" in c:
        rg = c["rgsm"]
        loss = 100 * (reference["pgd20"] - rg["pgd20"])
        lines.append(
            f"- RGSM channel sparsity >= 40 % with <= 1 point PGD loss vs the unpruned network "
            f"trained as long (the control): {pct(rg['zero_channels'])} % channels, PGD "
            f"{pct(rg['pgd20'])} vs {pct(reference['pgd20'])} ({-loss:+.1f} points; "
            f"{points(rg, pre, 'pgd20')} vs the pre-trained network): "
            f"{verdict(rg['zero_channels'] >= 0.4 and loss <= 1.0)}."
        )
    tuning = r.get("C_tuning")
    if tuning:
        lines += [
            "",
            "### Tuning tried (`run.py --parts C --tune`, same schedule)",
            "",
            "RVSM's threshold is sqrt(2 lambda / beta); RGSM's group-l0 threshold is sqrt(2 lambda1 / "
            "beta) times each layer's median channel norm at the start, so 1.00 puts half of every "
            "layer's channels below it at the first step. Kept: RVSM lambda "
            f"{s['rvsm']['lam']} (sparsity near Dinh et al.'s (2020) 80.9 %), RGSM lambda1 {s['rgsm']['lam1']} (the "
            "only tried value reaching 40 % zero channels; the zero-channel fraction jumps between "
            "threshold factors 0.95 and 1.00 because this briefly trained network's channel norms "
            "are still close to their initial, nearly equal values).",
            "",
            "| run | setting | threshold | natural | PGD-20 | zero weights | zero channels |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        for name, m in tuning.items():
            cfg = m["config"]
            if "lam" in cfg:
                threshold = f"{(2 * cfg['lam'] / cfg['beta']) ** 0.5:.3f}"
            else:
                threshold = f"{(2 * cfg['lam1'] / cfg['beta']) ** 0.5:.2f} x median"
            shown = ", ".join(f"{k} {v}" for k, v in cfg.items())
            lines.append(f"| {name.split('_')[0].upper()} | {shown} | {threshold} | "
                         f"{pct(m['clean_accuracy'])} | {pct(m['pgd20'])} | {pct(m['zero_weights'])} | "
                         f"{pct(m['zero_channels'])} |")
    return lines + [""]


def report_d(r):
    d = r.get("D")
    if not d:
        return []
    lines = [
        "## D. Physically smaller models (`shrink`)",
        "",
        "Each structurally pruned model rebuilt without its zero channels; multiply-adds per image "
        "(`count_flops`), `.keras` file size, largest |logit difference| on the evaluation images.",
        "",
        "| model | parameters | multiply-adds | .keras bytes | max pred. diff | filters / units after |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, m in d.items():
        filters = ", ".join(f"{k} {v}" for k, v in m["filters"].items())
        lines.append(
            f"| {name} | {m['parameters'][0]} -> {m['parameters'][1]} | {m['flops'][0]} -> {m['flops'][1]} "
            f"({m['flops'][1] / m['flops'][0]:.2f}x) | {m['keras_bytes'][0]} -> {m['keras_bytes'][1]} | "
            f"{m['max_pred_diff']:.1e} | {filters} |"
        )
    return lines + [""]


# ---------------------------------------------------------------- main


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tiny", action="store_true", help="smoke-test sizes, into runs/pruning_tiny")
    parser.add_argument("--parts", nargs="+", default=["A", "B", "C", "D"], choices=["A", "B", "C", "D"])
    parser.add_argument("--tune", action="store_true", help="run part C's tuning configurations only")
    parser.add_argument("--fresh", action="store_true", help="forget earlier results and models")
    parser.add_argument("--redo", nargs="+", default=[], metavar="KEY",
                        help="forget these results (and their models), e.g. B or C/rgsm")
    parser.add_argument("--report", action="store_true", help="only rewrite results.md from results.json")
    args = parser.parse_args(argv)
    run = Run(SETTINGS["tiny" if args.tiny else "full"], args.tiny)
    if args.fresh:
        run.results = {}
        for path in (run.work / "models").glob("*.keras"):
            path.unlink()
    for key in args.redo:
        run.forget(key)
    if not args.report:
        run.put("settings", run.s)
        run.put("environment", {
            "backend": keras.backend.backend(),
            "keras": keras.__version__,
            "commit": subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                                     text=True).stdout.strip(),
            "command": " ".join(["python", "docs/results/pruning/run.py", *(argv or sys.argv[1:])]),
        })
        start = time.perf_counter()
        parts = {"A": part_a, "B": part_b, "C": lambda r: part_c(r, tune=args.tune), "D": part_d}
        for name in args.parts:
            if args.tune and name != "C":
                continue
            run.log(f"part {name}")
            parts[name](run)
        if not args.tune:
            elapsed = time.perf_counter() - start + run.results.get("wall_seconds", 0)
            run.put("wall_seconds", round(elapsed, 1))
    write_report(run)


if __name__ == "__main__":
    main()
