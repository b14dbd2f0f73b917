"""The project's main job on data that ships offline: train, attack, report.

Usage: python -m hdl_keras.demo [--epochs 2] [--attack-size 1000] [--out FILE]
(`make demo`; pick the backend with the KERAS_BACKEND environment variable.)

Trains the small CNN (`hdl_keras.models.small_cnn`) on MNIST with plain
`model.fit`, then attacks the first `--attack-size` test images with FGSM and
PGD-20 at the MNIST settings of the training-techniques report (eps 16/255,
step 2/255) and with PGD-40 at eps 0.3, and prints a markdown table of clean
and robust accuracy. With `--out`, the table and the run's settings are also
written as JSON.
"""

import argparse
import json
import time

import keras
import numpy as np

from hdl_keras import data
from hdl_keras.attacks import FGSM
from hdl_keras.attacks import PGD
from hdl_keras.models import small_cnn


def attacks_for(model):
    """The demo's attacks, by row name."""
    return {
        "FGSM eps=16/255": FGSM(model, eps=16 / 255),
        "PGD-20 eps=16/255": PGD(model, eps=16 / 255, step_size=2 / 255, steps=20, seed=0),
        "PGD-40 eps=0.3": PGD(model, eps=0.3, step_size=0.01, steps=40, seed=0),
    }


def accuracy(model, x, y, batch_size=500):
    predictions = model.predict(x, batch_size=batch_size, verbose=0)
    return float(np.mean(np.argmax(predictions, axis=1) == y))


def attacked_accuracy(model, attack, x, y, batch_size=500):
    """Accuracy on adversarial examples made batch by batch."""
    correct = 0
    for start in range(0, len(x), batch_size):
        x_adv = keras.ops.convert_to_numpy(attack(x[start : start + batch_size], y[start : start + batch_size]))
        correct += int(np.sum(np.argmax(model.predict(x_adv, verbose=0), axis=1) == y[start : start + batch_size]))
    return correct / len(x)


def run(epochs=2, attack_size=1000, seed=0):
    """Trains and attacks; returns a dict with the settings and result rows."""
    keras.utils.set_random_seed(seed)
    (x_train, y_train), (x_test, y_test) = data.load("mnist")
    model = small_cnn()
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    start = time.perf_counter()
    model.fit(x_train, y_train, batch_size=128, epochs=epochs, verbose=2)
    train_seconds = time.perf_counter() - start

    x_eval, y_eval = x_test[:attack_size], y_test[:attack_size]
    rows = [{"evaluation": "clean (10000 test images)", "accuracy": accuracy(model, x_test, y_test), "seconds": None}]
    rows.append({"evaluation": f"clean (first {attack_size})", "accuracy": accuracy(model, x_eval, y_eval), "seconds": None})
    for name, attack in attacks_for(model).items():
        start = time.perf_counter()
        value = attacked_accuracy(model, attack, x_eval, y_eval)
        rows.append({"evaluation": name, "accuracy": value, "seconds": time.perf_counter() - start})
    return {
        "backend": keras.backend.backend(),
        "model": "small_cnn",
        "dataset": "mnist",
        "epochs": epochs,
        "attack_size": attack_size,
        "train_seconds": train_seconds,
        "rows": rows,
    }


def to_markdown(result):
    lines = [
        f"small_cnn on MNIST, {result['epochs']} epoch(s), backend {result['backend']} "
        f"(training {result['train_seconds']:.1f} s)",
        "",
        "| evaluation | accuracy | attack time (s) |",
        "| --- | ---: | ---: |",
    ]
    for row in result["rows"]:
        seconds = "" if row["seconds"] is None else f"{row['seconds']:.1f}"
        lines.append(f"| {row['evaluation']} | {100 * row['accuracy']:.2f} % | {seconds} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--attack-size", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="also write the result as JSON to this file")
    args = parser.parse_args(argv)
    if args.epochs < 1 or not 1 <= args.attack_size <= 10000:
        parser.error("--epochs must be >= 1 and --attack-size in [1, 10000]")
    result = run(epochs=args.epochs, attack_size=args.attack_size, seed=args.seed)
    print(to_markdown(result))
    if args.out:
        with open(args.out, "w") as handle:
            json.dump(result, handle, indent=2)


if __name__ == "__main__":
    main()
