"""Backend speed on this machine: why tensorflow is the CPU default.

Usage: python benchmarks/backend_speed.py [--images 10000] [--backends jax,tensorflow,torch]

For each backend (one subprocess each), on the small CNN with 28x28x1 inputs
(synthetic uniform images; timings do not depend on the pixel values), batch 128:
- `epoch_seconds`: one `model.fit` epoch on `--images` images (after a warm-up epoch);
- `input_grad_step_ratio`: a train step whose loss contains the input gradients
  of all 10 logit differences (`InputGradientPenaltyModel`, the HDL robust
  loss's cost) over a nominal train step;
- `pgd10_seconds_per_1000`: PGD-10 on 1000 images.
Last line: one JSON object {backend: {...}, "fastest_epoch": name}.
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import best_time  # noqa: E402
from _common import run_per_backend  # noqa: E402

BATCH = 128


def worker(num_images):
    import keras
    import numpy as np

    from hdl_keras.attacks import PGD
    from hdl_keras.models import small_cnn
    from hdl_keras.testing.gradcheck import InputGradientPenaltyModel

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.random((num_images, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 10, num_images)

    def compiled(model):
        model.compile(
            optimizer=keras.optimizers.SGD(0.01, momentum=0.9),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
        return model

    nominal = compiled(small_cnn())

    def fit(model, n):
        return model.fit(x[:n], y[:n], batch_size=BATCH, epochs=1, verbose=0)

    fit(nominal, num_images)
    epoch = best_time(lambda: fit(nominal, num_images), repeats=2)

    steps = 10
    sample = steps * BATCH
    penalty = compiled(InputGradientPenaltyModel(nominal.input, nominal.output, penalty=0.1))
    fit(penalty, sample)
    penalty_time = best_time(lambda: fit(penalty, sample), repeats=2)
    nominal_time = best_time(lambda: fit(nominal, sample), repeats=2)

    attack = PGD(nominal, eps=0.3, step_size=0.01, steps=10, seed=0)
    attack(x[:BATCH], y[:BATCH])
    pgd_time = best_time(lambda: [attack(x[i : i + 100], y[i : i + 100]) for i in range(0, 1000, 100)], repeats=1)
    return {
        "epoch_seconds": round(epoch, 3),
        "images": num_images,
        "input_grad_step_ratio": round(penalty_time / nominal_time, 2),
        "pgd10_seconds_per_1000": round(pgd_time, 3),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=10000)
    parser.add_argument("--backends", default="jax,tensorflow,torch")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.images)))
        return
    results = run_per_backend(__file__, args.backends.split(","), ["--images", str(args.images)])
    timed = {name: r for name, r in results.items() if "epoch_seconds" in r}
    for name, result in results.items():
        print(f"{name}: {result}")
    fastest = min(timed, key=lambda n: timed[n]["epoch_seconds"]) if timed else None
    print(json.dumps({**results, "fastest_epoch": fastest}))


if __name__ == "__main__":
    main()
