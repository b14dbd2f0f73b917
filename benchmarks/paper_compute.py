"""What the papers' runs would cost on this machine: each zoo entry's paper run, measured.

Usage: python benchmarks/paper_compute.py [--steps N] [--update-cards]

For every zoo recipe with a `paper_run` (`hdl_keras.recipes.zoo_catalogue`: the network,
objective, epochs and batch size of the paper's row), the cost of the paper's run on this
machine (default backend, synthetic inputs of the dataset's shape: the cost of a step does
not depend on the pixels):

- images: the paper's network and objective (`HolisticModel` for Bertsimas et al. 2023's
  DL/Robust/HDL with the robust term over all 9 other classes, `PGDAdversarialTraining`
  with PGD-20 for the training-techniques report, `TradeOff` at IFGSM-10 examples for Li,
  Wang and Xin 2020's En2ResNet20; the 1-bit projection of the BR rows is not timed) is
  traced on 2 steps of `model.fit`, then `--steps` steps are timed one by one; seconds per
  epoch = the median step x ceil(examples / batch size), and the run's hours = epochs x
  seconds per epoch;
- tables: the protocol's measured training seconds per configuration and split at the
  paper's epochs and rounds (`docs/results/paper_scaling/<dataset>/runs.jsonl`, written by
  `bash docs/results/run.sh paper_scaling`), times the paper's configurations x 10 splits.

Writes docs/results/paper_compute/results.json; with --update-cards, each card's
`reference.paper_run` gains `seconds_per_epoch` (or `seconds_per_run`), `hours` and
`measured_by` (this command). Run it with nothing else on the cores.
Last line: one JSON object `{"entries": N, "max_hours": H, "min_hours": h}`.
"""

import argparse
import json
import math
import os
import pathlib
import statistics
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

REPOSITORY = pathlib.Path(__file__).resolve().parents[1]
OUT = REPOSITORY / "docs" / "results" / "paper_compute" / "results.json"
IMAGE_SHAPE = (28, 28, 1)
NUM_CLASSES = 10
WARMUP_STEPS = 2


def paper_model(recipe):
    """The compiled model of `recipe.paper_run`: the paper's network under the paper's objective."""
    from hdl_keras import models
    from hdl_keras.objectives import PGDAdversarialTraining
    from hdl_keras.objectives import TradeOff
    from hdl_keras.recipes.holistic import build_model

    run = recipe.paper_run
    if run["method"] in ("DL", "Robust", "HDL"):
        config = {key: value for key, value in recipe.hyperparameters.items() if key != "robust_top_k"}
        return build_model(run["method"], config, IMAGE_SHAPE, NUM_CLASSES, network=run["network"])
    base = models.get(run["network"], input_shape=IMAGE_SHAPE, num_classes=NUM_CLASSES)
    if run["method"] == "PGD-AT":  # the training-techniques report: PGD-20 of 2/255 at 16/255
        model = PGDAdversarialTraining.from_model(base, eps=16 / 255, step_size=2 / 255, steps=20, random_start=True)
    else:  # Li, Wang and Xin (2020): IFGSM-10 of 2/255 at 8/255 in the trade-off loss
        model = TradeOff.from_model(base, alpha=1.0, beta=8.0, eps=8 / 255, step_size=2 / 255, steps=10)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    return model


def seconds_per_step(recipe, steps):
    """Median wall seconds of one training step of the paper's run (after `WARMUP_STEPS` traced steps).

    Each step is timed alone (`on_train_batch_begin` to `_end`): `fit`'s fixed cost per call
    (seconds, here) is not a cost per step and would not grow with an epoch.
    """
    import numpy as np

    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    batch = recipe.paper_run["batch_size"]
    model = paper_model(recipe)
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(batch * steps, *IMAGE_SHAPE)).astype("float32")
    y = rng.integers(0, NUM_CLASSES, size=batch * steps)
    model.fit(x[: batch * WARMUP_STEPS], y[: batch * WARMUP_STEPS], batch_size=batch, epochs=1, verbose=0)
    timer = _StepTimer()
    model.fit(x, y, batch_size=batch, epochs=1, verbose=0, callbacks=[timer])
    return statistics.median(timer.seconds)


class _StepTimer(keras.callbacks.Callback):
    """Records the wall seconds of every training step."""

    def __init__(self):
        super().__init__()
        self.seconds = []

    def on_train_batch_begin(self, batch, logs=None):
        self.start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.seconds.append(time.perf_counter() - self.start)


def table_seconds_per_run(recipe):
    """Mean training seconds of one configuration and split at the paper's epochs (the protocol's log)."""
    log = REPOSITORY / "docs" / "results" / "paper_scaling" / recipe.dataset / "runs.jsonl"
    if not log.exists():
        return None
    records = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    seconds = [record["train_seconds"] for record in records if record["method"] == recipe.method]
    return statistics.mean(seconds) if seconds else None


def measure(recipes, steps):
    """One row per recipe with a paper run: the measured cost and the run's hours."""
    rows, cache = [], {}
    for recipe in recipes:
        run = recipe.paper_run
        if run["network"] == "mlp":
            seconds = table_seconds_per_run(recipe)
            if seconds is None:
                continue
            row = {"seconds_per_run": round(seconds, 2), "hours": round(run["runs"] * seconds / 3600, 2)}
            row["measured"] = f"docs/results/paper_scaling/{recipe.dataset}/runs.jsonl ({recipe.method} runs)"
        else:
            key = (run["network"], run["method"], run["batch_size"], recipe.hyperparameters.get("rho"))
            if key not in cache:
                cache[key] = seconds_per_step(recipe, steps)
                print(json.dumps({"network": key[0], "method": key[1], "seconds_per_step": cache[key]}), flush=True)
            per_epoch = cache[key] * math.ceil(run["examples"] / run["batch_size"])
            row = {"seconds_per_epoch": round(per_epoch, 1), "hours": round(run["epochs"] * per_epoch / 3600, 2)}
            row["measured"] = f"{steps} timed steps of batch {run['batch_size']}, synthetic {IMAGE_SHAPE} inputs"
        rows.append({"name": recipe.name, **row})
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5, help="timed training steps per paper run (default 5)")
    parser.add_argument("--update-cards", action="store_true", help="write the measurement into each card")
    args = parser.parse_args()
    if args.steps < 1:
        parser.error(f"--steps must be >= 1. Received: {args.steps}")

    from hdl_keras.recipes import zoo_cards
    from hdl_keras.recipes.zoo_catalogue import ENTRY_RECIPES
    from hdl_keras.recipes.zoo_entries import hardware

    command = "python benchmarks/paper_compute.py" + (f" --steps {args.steps}" if args.steps != 5 else "")
    recipes = [recipe for recipe in ENTRY_RECIPES.values() if recipe.paper_run is not None]
    rows = measure(recipes, args.steps)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    settings = {"command": command, "backend": keras.backend.backend(), "hardware": hardware()}
    OUT.write_text(json.dumps({**settings, "rows": rows}, indent=1) + "\n")
    for row in rows:
        print(json.dumps(row))
        if args.update_cards:
            measured = {key: value for key, value in row.items() if key not in ("name", "measured")}
            zoo_cards.set_paper_run_cost(row["name"], {**measured, "measured_by": f"{command}: {row['measured']}"})
    hours = [row["hours"] for row in rows]
    print(
        json.dumps({"entries": len(rows), "max_hours": max(hours, default=None), "min_hours": min(hours, default=None)})
    )


if __name__ == "__main__":
    main()
