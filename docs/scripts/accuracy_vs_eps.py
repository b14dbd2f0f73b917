"""Accuracy versus eps of one trained model, for the "Attack suite" docs page.

Usage: python docs/scripts/accuracy_vs_eps.py [--epochs 2] [--size 1000]

Trains the small CNN on MNIST (as `make demo` does), then measures accuracy on
the first `--size` test images under FGSM, PGD-20 (step eps/8, random start)
and APGD-CE-20 (random start) for eps in 0 .. 0.4, and writes
`docs/img/accuracy_vs_eps.png` and `docs/img/accuracy_vs_eps.json`.
"""

import argparse
import json
import os

import keras
import numpy as np

from hdl_keras import data
from hdl_keras.attacks import APGD
from hdl_keras.attacks import FGSM
from hdl_keras.attacks import PGD
from hdl_keras.models import small_cnn

EPSILONS = [0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4]
OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "img")


def attacks_at(model, eps):
    return {
        "FGSM": FGSM(model, eps=eps),
        "PGD-20": PGD(model, eps=eps, step_size=max(eps / 8, 1e-4), steps=20, seed=0),
        "APGD-CE-20": APGD(model, eps=eps, steps=20, seed=0),
    }


def robust_accuracy(model, attack, x, y, batch_size=500):
    correct = 0
    for start in range(0, len(x), batch_size):
        xb, yb = x[start : start + batch_size], y[start : start + batch_size]
        x_adv = keras.ops.convert_to_numpy(attack(xb, yb))
        correct += int(np.sum(np.argmax(model.predict(x_adv, verbose=0), axis=1) == yb))
    return correct / len(x)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--size", type=int, default=1000)
    args = parser.parse_args()

    keras.utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = data.load("mnist")
    model = small_cnn()
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x_train, y_train, batch_size=128, epochs=args.epochs, verbose=0)
    x, y = x_test[: args.size], y_test[: args.size]

    curves = {name: [] for name in attacks_at(model, 0.1)}
    for eps in EPSILONS:
        for name, attack in attacks_at(model, eps).items():
            curves[name].append(robust_accuracy(model, attack, x, y))
        print(f"eps={eps:.2f} " + " ".join(f"{n}={c[-1]:.3f}" for n, c in curves.items()))

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 4))
    for name, values in curves.items():
        axis.plot(EPSILONS, values, marker="o", label=name)
    axis.set_xlabel("eps (l_inf)")
    axis.set_ylabel(f"accuracy on {args.size} MNIST test images")
    axis.set_title(f"small_cnn, {args.epochs} epochs of standard training ({keras.backend.backend()})")
    axis.grid(alpha=0.3)
    axis.legend()
    figure.tight_layout()
    os.makedirs(OUT_DIR, exist_ok=True)
    figure.savefig(os.path.join(OUT_DIR, "accuracy_vs_eps.png"), dpi=120)
    result = {
        "command": "python docs/scripts/accuracy_vs_eps.py " + f"--epochs {args.epochs} --size {args.size}",
        "backend": keras.backend.backend(),
        "eps": EPSILONS,
        "accuracy": curves,
    }
    with open(os.path.join(OUT_DIR, "accuracy_vs_eps.json"), "w") as handle:
        json.dump(result, handle, indent=2)


if __name__ == "__main__":
    main()
