"""AutoAttack speed and agreement: ours (default backend) against the authors' code (torch).

Usage: python benchmarks/autoattack_speed.py [--quick] [--entry NAME] [--n N]
                                            [--steps S] [--queries Q] [--targets T]

The same zoo entry (default `mnist-small_cnn-pgd_at`, a PGD-trained small CNN
on MNIST, l_inf eps from its card) and the same first `n` MNIST test images
(default 1000; `--quick`: 100) are evaluated by

- ours: `hdl_keras.attacks.AutoAttack(version="standard")` on the default
  backend (tensorflow), in one process;
- the reference: `pyautoattack.AutoAttack(version="standard")`, Croce &
  Hein's code (fra31/auto-attack), on the torch backend with the same Keras
  model as a `torch.nn.Module`, in another process (`run_per_backend`).

`--steps`, `--queries` and `--targets` reduce the iterations of APGD/FAB,
Square's queries and the target classes of both alike (a reduced run; the
output says so). Printed: the seconds of each (compilation included), their
ratio `speedup` (reference / ours, target >= 2; `cpu_speedup`, the ratio of
process CPU times, is steadier on a shared machine), both robust accuracies
(target: within 0.02), the Wilson 95 % half-width at `n`, and the per-point
agreement of the robust flags. Last line one JSON object.
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import run_per_backend  # noqa: E402

DEFAULT_BACKEND = "tensorflow"
STANDARD = ["apgd-ce", "apgd-t", "fab-t", "square"]


def _data(entry, n):
    from hdl_keras import zoo
    from hdl_keras.zoo.evaluation import evaluation_data

    card = zoo.card(entry)
    x, y = evaluation_data(card["dataset"], n)
    return zoo.load(entry), x, y, float(card["threat_model"]["eps"])


def worker(args):
    import keras
    import numpy as np

    model, x, y, eps = _data(args.entry, args.n)
    reduced = args.steps is not None or args.queries is not None or args.targets is not None
    start, cpu_start = time.perf_counter(), time.process_time()
    if keras.backend.backend() == "torch":
        from hdl_keras.testing.autoattack_reference import reference_autoattack
        from hdl_keras.testing.autoattack_reference import run

        adversary = reference_autoattack(
            model,
            eps=eps,
            version="custom" if reduced else "standard",
            attacks=STANDARD if reduced else None,
            seed=0,
            steps=args.steps,
            square_queries=args.queries,
            target_classes=args.targets,
        )
        _, robust = run(adversary, x, y, batch_size=args.batch_size)
    else:
        from hdl_keras.attacks import AutoAttack
        from hdl_keras.attacks import autoattack

        settings = dict(
            steps=args.steps or autoattack.STEPS,
            n_queries=args.queries or autoattack.SQUARE_QUERIES,
            n_target_classes=args.targets or autoattack.TARGET_CLASSES,
        )
        report = AutoAttack(model, eps=eps, version="standard", seed=0, batch_size=args.batch_size, **settings).run(
            x, y
        )
        robust = report.robust
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu_seconds, "robust": [bool(r) for r in np.asarray(robust)]}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 images instead of 1000")
    parser.add_argument("--entry", default="mnist-small_cnn-pgd_at")
    parser.add_argument("--n", type=int, default=None)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--queries", type=int, default=None)
    parser.add_argument("--targets", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.n is None:
        args.n = 100 if args.quick else 1000
    if args.worker:
        worker(args)
        return
    import math

    extra = ["--entry", args.entry, "--n", str(args.n), "--batch-size", str(args.batch_size)]
    for option in ("steps", "queries", "targets"):
        if getattr(args, option) is not None:
            extra += [f"--{option}", str(getattr(args, option))]
    results = run_per_backend(__file__, [DEFAULT_BACKEND, "torch"], extra, timeout=36000)
    for name, result in results.items():
        if "error" in result:
            raise SystemExit(f"{name} worker failed:\n{result['error']}")
    ours, reference = results[DEFAULT_BACKEND], results["torch"]
    n = len(ours["robust"])
    acc_ours = sum(ours["robust"]) / n
    acc_reference = sum(reference["robust"]) / n
    agreement = sum(a == b for a, b in zip(ours["robust"], reference["robust"])) / n
    half_width = 1.96 * math.sqrt(max(acc_ours * (1 - acc_ours), 1e-12) / n)
    reduced = [f"{k}={getattr(args, k)}" for k in ("steps", "queries", "targets") if getattr(args, k) is not None]
    print(
        f"entry {args.entry}, {n} MNIST test images, standard AutoAttack"
        + (f" (REDUCED: {', '.join(reduced)})" if reduced else "")
    )
    print(f"ours ({DEFAULT_BACKEND}): {ours['seconds']:.1f} s, robust {acc_ours:.4f}")
    print(f"reference (pyautoattack, torch): {reference['seconds']:.1f} s, robust {acc_reference:.4f}")
    print(
        f"speedup {reference['seconds'] / ours['seconds']:.2f}x; per-point agreement "
        f"{agreement:.4f}; 95 % half-width at n={n}: {half_width:.4f}"
    )
    print(
        json.dumps(
            {
                "ours_seconds": round(ours["seconds"], 2),
                "reference_seconds": round(reference["seconds"], 2),
                "speedup": round(reference["seconds"] / ours["seconds"], 3),
                "cpu_speedup": round(reference["cpu_seconds"] / ours["cpu_seconds"], 3),
                "robust_acc_ours": acc_ours,
                "robust_acc_reference": acc_reference,
                "n": n,
                "agreement": agreement,
                "reduced": ", ".join(reduced) or None,
            }
        )
    )


if __name__ == "__main__":
    main()
