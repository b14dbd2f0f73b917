"""Adversarial training's cost: one PGD-k (and TRADES) training step over k + 1 nominal steps.

Usage: python benchmarks/adv_training_cost.py [--quick] [--steps K]

A PGD-k training step runs k forward and input-backward passes of the attack, then a
training step on the attacked batch, so its natural unit is k + 1 nominal steps (forward,
weights backward, update). Times `train_on_batch` on the same model (medians of runs
alternating between the objectives, after a warm-up that traces each step) for:
- `hdl_keras.models.small_cnn` on 28x28x1, batch 64 (the top-level ratios);
- without --quick also `resnet20` on 32x32x3, batch 64 (batch norm), under `resnet20_*` keys.
The objectives: nominal training (plain cross-entropy), `PGDAdversarialTraining` and
`TRADES` with k = 10 steps (`--steps`). Synthetic inputs (timings do not depend on the
values). Runs on `KERAS_BACKEND` (default tensorflow). Last line: one JSON object with
`pgd_step_over_k_plus_1_nominal` and `trades_step_over_k_plus_1_nominal` (target: the
PGD ratio at most 1.15).
"""

import argparse
import json
import os
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import interleaved_medians  # noqa: E402

OBJECTIVES = ("nominal", "pgd", "trades")


def build(kind, objective, steps):
    import keras

    from hdl_keras.models import resnet20
    from hdl_keras.models import small_cnn
    from hdl_keras.objectives import TRADES
    from hdl_keras.objectives import PGDAdversarialTraining

    keras.utils.set_random_seed(0)
    base = small_cnn((28, 28, 1)) if kind == "small_cnn" else resnet20(input_shape=(32, 32, 3))
    optimizer = keras.optimizers.SGD(0.01, momentum=0.9)
    if objective == "nominal":
        base.compile(optimizer, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        return base
    cls = PGDAdversarialTraining if objective == "pgd" else TRADES
    model = cls.from_model(base, eps=8 / 255, step_size=2 / 255, steps=steps, seed=0)
    model.compile(optimizer)
    return model


def step_seconds(kind, steps, batch, batches, repeats):
    """Seconds per `train_on_batch` of each objective on `kind`, timed in alternation."""
    import numpy as np

    shape = (28, 28, 1) if kind == "small_cnn" else (32, 32, 3)
    rng = np.random.default_rng(0)
    x = rng.random((batch * batches,) + shape, dtype=np.float32)
    y = rng.integers(0, 10, batch * batches)
    runs = []
    for objective in OBJECTIVES:
        model = build(kind, objective, steps)

        def run(model=model):
            for index in range(batches):
                rows = slice(index * batch, (index + 1) * batch)
                model.train_on_batch(x[rows], y[rows])

        run()  # traces the train step
        runs.append(run)
    seconds = interleaved_medians(runs, repeats)
    return {objective: t / batches for objective, t in zip(OBJECTIVES, seconds)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small CNN only (under 2 minutes)")
    parser.add_argument("--steps", type=int, default=10, help="PGD steps k, default 10")
    args = parser.parse_args()
    start = time.perf_counter()
    k = args.steps
    kinds = [("small_cnn", 4 if args.quick else 8, 5 if args.quick else 7)]
    if not args.quick:
        kinds.append(("resnet20", 2, 5))
    result = {}
    for kind, batches, repeats in kinds:
        seconds = step_seconds(kind, k, 64, batches, repeats)
        for objective, value in seconds.items():
            print(f"{kind} {objective}: {1000 * value:.1f} ms/step", flush=True)
        prefix = "" if kind == "small_cnn" else f"{kind}_"
        unit = (k + 1) * seconds["nominal"]
        result[f"{prefix}pgd_step_over_k_plus_1_nominal"] = round(seconds["pgd"] / unit, 3)
        result[f"{prefix}trades_step_over_k_plus_1_nominal"] = round(seconds["trades"] / unit, 3)
        result[f"{prefix}nominal_ms"] = round(1000 * seconds["nominal"], 2)
    import keras

    result.update(
        steps=k,
        backend=keras.backend.backend(),
        seconds=round(time.perf_counter() - start, 1),
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
