"""Attack speed: PGD-10 against its own gradient passes and against torchattacks.

Usage: python benchmarks/attack_speed.py [--quick]

On the small CNN (`hdl_keras.models.small_cnn`, 28x28x1 inputs, trained one
epoch on 10k MNIST images so Square has something to search), batch 128:
- r1 `pgd10_over_10_fwd_bwd`: PGD-10 time / (10 x one forward + input-gradient
  pass), both compiled, on the default backend (target <= 1.05);
  timings are medians of alternating runs (`interleaved_medians`);
- r2 `speedup_vs_torchattacks_pgd10`: torchattacks PGD-10 (torch backend, same
  weights and inputs) / ours on the default backend (target >= 2.0);
- r3 `speedup_vs_torchattacks_same_backend`: the same with ours on torch (>= 1.0);
- t `square_1000q_seconds_per_100`: Square, 1000 queries, 100 images, eps 0.1.
Each backend runs in its own process; the last line is one JSON object.
"""

import argparse
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import best_time  # noqa: E402
from _common import interleaved_medians  # noqa: E402
from _common import run_per_backend  # noqa: E402

BATCH = 128
EPS, STEP = 0.3, 0.01
DEFAULT_BACKEND = "tensorflow"


def _batch():
    import numpy as np

    from hdl_keras import data

    (x_train, y_train), (x_test, y_test) = data.load("mnist")
    return (x_train[:10000], y_train[:10000]), (x_test[:BATCH], y_test[:BATCH].astype(np.int32))


def _model(weights_path):
    import keras

    from hdl_keras.models import small_cnn

    keras.utils.set_random_seed(0)
    model = small_cnn()
    if os.path.exists(weights_path):
        model.load_weights(weights_path)
    else:
        (x_train, y_train), _ = _batch()
        model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        model.fit(x_train, y_train, batch_size=128, epochs=1, verbose=0)
        model.save_weights(weights_path)
    return model


def _timed(fn, *args):
    """`fn(*args)` made synchronous (jax dispatches asynchronously)."""
    import keras

    return lambda: keras.ops.convert_to_numpy(fn(*args))


def _pgd(model, x, y):
    from hdl_keras.attacks import PGD

    attack = PGD(model, eps=EPS, step_size=STEP, steps=10, seed=0)
    attack(x, y)  # compile
    return attack


def worker_default(weights_path, repeats):
    from hdl_keras.attacks import Square

    model = _model(weights_path)
    _, (x, y) = _batch()
    attack = _pgd(model, x, y)

    def forward_and_input_gradient(x, y):
        return attack.loss_and_grad(x, y)[1]

    gradient = attack.compile(forward_and_input_gradient)
    gradient(x, y)
    pgd_time, gradient_time = interleaved_medians([_timed(attack, x, y), _timed(gradient, x, y)], repeats)

    square = Square(model, eps=0.1, n_queries=1000, seed=0)
    square(x[:100], y[:100])
    square_time = best_time(_timed(square, x[:100], y[:100]), 1)
    return {
        "pgd10_seconds": pgd_time,
        "fwd_bwd_seconds": gradient_time,
        "square_seconds": square_time,
        "square_mean_queries": float(square.queries.mean()),
    }


def worker_torch(weights_path, repeats):
    from hdl_keras.testing.torchattacks_reference import reference_attack

    model = _model(weights_path)
    _, (x, y) = _batch()
    attack = _pgd(model, x, y)
    reference = reference_attack("PGD", model, eps=EPS, alpha=STEP, steps=10)
    reference(x, y)
    pgd_time, reference_time = interleaved_medians([_timed(attack, x, y), _timed(reference, x, y)], repeats)
    return {"pgd10_seconds": pgd_time, "torchattacks_pgd10_seconds": reference_time}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (under 3 minutes)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--weights", help=argparse.SUPPRESS)
    args = parser.parse_args()
    repeats = 5 if args.quick else 15
    if args.worker:
        import keras

        run = worker_torch if keras.backend.backend() == "torch" else worker_default
        print(json.dumps(run(args.weights, repeats)))
        return
    with tempfile.TemporaryDirectory() as folder:
        weights = os.path.join(folder, "small_cnn.weights.h5")
        extra = ["--weights", weights] + (["--quick"] if args.quick else [])
        results = run_per_backend(__file__, [DEFAULT_BACKEND, "torch"], extra)
    for name, result in results.items():
        print(f"{name}: {result}")
        if "error" in result:
            sys.exit(f"{name} worker failed:\n{result['error']}")
    default, torch = results[DEFAULT_BACKEND], results["torch"]
    print(
        json.dumps(
            {
                "pgd10_over_10_fwd_bwd": round(default["pgd10_seconds"] / (10 * default["fwd_bwd_seconds"]), 3),
                "speedup_vs_torchattacks_pgd10": round(
                    torch["torchattacks_pgd10_seconds"] / default["pgd10_seconds"], 2
                ),
                "speedup_vs_torchattacks_same_backend": round(
                    torch["torchattacks_pgd10_seconds"] / torch["pgd10_seconds"], 2
                ),
                "square_1000q_seconds_per_100": round(default["square_seconds"], 2),
                "backend": DEFAULT_BACKEND,
            }
        )
    )


if __name__ == "__main__":
    main()
