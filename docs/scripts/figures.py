"""The documentation's figures, from the zoo models, their cards and the saved HDL results.

Usage: python docs/scripts/figures.py [--only NAME ...] [--n 200]   (or `make figures`)

Writes PNG files (and the measured numbers beside them as JSON) that the pages link:

- `adversarial`: grids of clean / perturbation / adversarial MNIST digits with the
  predicted labels, one per attack (FGSM, PGD-20, APGD-CE, Square) on the standard-trained
  `mnist-small_cnn-dl` entry and PGD-20 on the adversarially trained `mnist-small_cnn-pgd_at`,
  at eps 0.2 (l_inf) (docs/img/adversarial_*.png);
- `eps`: accuracy under PGD-20 (step eps/8, random start) against eps (0 to 3 times the
  PGD-AT entry's radius) for every zoo image entry, one plot per dataset, on the first `--n` test images (docs/img/zoo_eps_*.png, .json);
- `sparsity`: the fraction of zero kernel entries per layer of the HDL zoo entries
  (docs/img/hdl_sparsity.png);
- `size`: model file size against robust (worst-case) accuracy of every entry, from the
  cards (docs/img/zoo_size_vs_robust.png);
- `confusion`: clean and PGD-20 confusion matrices of `mnist-small_cnn-pgd_at` and
  `mnist-small_cnn-dl` on the first `--n` test images (docs/img/confusion_*.png);
- `hdl`: the four HDL metrics per method of each dataset of docs/results (the
  configuration selected by average validation rank, test values), beside its table
  (docs/results/img/hdl_<dataset>.png).

Except for the grids, attacks run at the zoo cards' radius; nothing is typed in.
"""

import argparse
import json
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import keras
import matplotlib.pyplot as plt
import numpy as np

from hdl_keras import (
    data,
    zoo,
)
from hdl_keras.attacks import (
    APGD,
    FGSM,
    PGD,
    Square,
    evaluate,
    plot_confusion_matrix,
)

DOCS = Path(__file__).resolve().parents[1]
IMG = DOCS / "img"
RESULTS = DOCS / "results"
IMAGE_DATASETS = ("mnist", "fashion_mnist")
METRICS = ("natural", "adversarial", "stability", "sparsity")
GRID_IMAGES = 8
# The grids use a radius at which the standard-trained entry is fooled, to show what attacks do.
GRID_EPS = 0.2


def attack_for(name, model, eps):
    """The attack `name` of the grids, at radius `eps` (l_inf)."""
    if name == "FGSM":
        return FGSM(model, eps=eps)
    if name == "PGD-20":
        return PGD(model, eps=eps, step_size=eps / 8, steps=20, seed=0)
    if name == "APGD-CE":
        return APGD(model, eps=eps, steps=100, seed=0)
    if name == "Square":
        return Square(model, eps=eps, n_queries=1000, seed=0)
    raise ValueError(f"Unknown attack {name!r}")


def predict(model, x):
    return np.argmax(keras.ops.convert_to_numpy(model(x, training=False)), axis=1)


def adversarial_grid(entry, attack_name, x, y, path):
    """3 x 8 grid: clean, perturbation (scaled to the radius), adversarial; predicted labels."""
    model = zoo.load(entry)
    eps = GRID_EPS
    x_adv = keras.ops.convert_to_numpy(attack_for(attack_name, model, eps)(x, y))
    clean_pred, adv_pred = predict(model, x), predict(model, x_adv)
    fig, axes = plt.subplots(3, len(x), figsize=(1.3 * len(x), 4.4))
    rows = [("clean", x, clean_pred), ("perturbation", x_adv - x, None), ("adversarial", x_adv, adv_pred)]
    for row, (label, images, preds) in enumerate(rows):
        for col in range(len(x)):
            ax = axes[row, col]
            if preds is None:
                ax.imshow(images[col, ..., 0], cmap="seismic", vmin=-eps, vmax=eps)
            else:
                ax.imshow(images[col, ..., 0], cmap="gray", vmin=0, vmax=1)
                wrong = preds[col] != y[col]
                ax.set_title(f"pred {preds[col]}", fontsize=9, color="crimson" if wrong else "black")
            ax.set_xticks([])
            ax.set_yticks([])
        axes[row, 0].set_ylabel(label, fontsize=9)
    fooled = int(np.sum(adv_pred != y))
    fig.suptitle(
        f"{attack_name} on {entry}, eps {eps:.4g} (l_inf): {fooled}/{len(x)} misclassified (red: wrong label)",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    print(f"wrote {path}: {fooled}/{len(x)} fooled")


def make_adversarial(n):
    (_, _), (x_test, y_test) = data.load("mnist")
    x, y = x_test[:GRID_IMAGES], y_test[:GRID_IMAGES]
    for attack_name in ("FGSM", "PGD-20", "APGD-CE", "Square"):
        slug = attack_name.lower().replace("-", "")
        adversarial_grid("mnist-small_cnn-dl", attack_name, x, y, IMG / f"adversarial_{slug}_dl.png")
    adversarial_grid("mnist-small_cnn-pgd_at", "PGD-20", x, y, IMG / "adversarial_pgd20_pgd_at.png")


def image_entries(dataset):
    return [card["name"] for card in zoo.list_entries(dataset=dataset)]


def make_eps(n):
    for dataset in IMAGE_DATASETS:
        (_, _), (x_test, y_test) = data.load(dataset)
        x, y = x_test[:n], y_test[:n]
        card_eps = zoo.card(f"{dataset}-small_cnn-pgd_at")["threat_model"]["eps"]
        epsilons = [float(e) for e in np.linspace(0.0, 3 * card_eps, 4)]
        curves = {}
        for entry in image_entries(dataset):
            model = zoo.load(entry)
            curves[entry] = [
                evaluate(
                    model, x, y, verbose=0, attacks={"PGD-20": attack_for("PGD-20", model, eps)}
                ).worst_case_accuracy
                if eps > 0
                else float(np.mean(predict(model, x) == y))
                for eps in epsilons
            ]
            print(dataset, entry, [round(a, 3) for a in curves[entry]])
        fig, ax = plt.subplots(figsize=(6.4, 4.0))
        for entry, accuracy in curves.items():
            ax.plot(epsilons, accuracy, marker="o", label=entry.split("-", 2)[2])
        ax.axvline(card_eps, color="gray", linestyle=":", label=f"PGD-AT card eps {card_eps:.4g}")
        ax.set_xlabel("eps (l_inf, inputs in [0, 1])")
        ax.set_ylabel(f"accuracy under PGD-20 (first {n} test images)")
        ax.set_ylim(0, 1.02)
        ax.set_title(f"{dataset}: zoo entries under PGD-20")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(IMG / f"zoo_eps_{dataset}.png", dpi=90)
        plt.close(fig)
        record = {
            "command": "python docs/scripts/figures.py --only eps --n " + str(n),
            "n": n,
            "attack": "PGD-20, step eps/8, random start, seed 0",
            "eps": epsilons,
            "accuracy": curves,
        }
        (IMG / f"zoo_eps_{dataset}.json").write_text(json.dumps(record, indent=1) + "\n")
        print(f"wrote {IMG / f'zoo_eps_{dataset}.png'}")


def kernel_zero_fractions(model):
    """(layer name, fraction of zero kernel entries) for every layer with a kernel."""
    return [
        (layer.name, float(np.mean(keras.ops.convert_to_numpy(layer.kernel) == 0)))
        for layer in model.layers
        if getattr(layer, "kernel", None) is not None
    ]


def make_sparsity(n):
    entries = [card["name"] for card in zoo.list_entries() if card["name"].endswith("-hdl")]
    fig, axes = plt.subplots(1, len(entries), figsize=(2.3 * len(entries), 3.4), sharey=True)
    for ax, entry in zip(axes, entries):
        names, fractions = zip(*kernel_zero_fractions(zoo.load(entry)))
        ax.bar(range(len(names)), fractions, color="tab:green")
        ax.set_xticks(range(len(names)), names, rotation=60, fontsize=8)
        ax.set_title(entry.replace("-hdl", ""), fontsize=9)
        ax.set_ylim(0, 1)
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("zero kernel entries")
    fig.suptitle("Per-layer sparsity of the HDL zoo entries", fontsize=10)
    fig.tight_layout()
    fig.savefig(IMG / "hdl_sparsity.png", dpi=90)
    plt.close(fig)
    print(f"wrote {IMG / 'hdl_sparsity.png'}")


def make_size(n):
    cards = zoo.list_entries()
    fig, ax = plt.subplots(figsize=(7.0, 4.4))
    markers = {"mnist": "o", "fashion_mnist": "s"}
    for card in cards:
        robust = card["metrics"].get("worst_case_accuracy")
        if robust is None:
            continue
        size_kib = card["file_size_bytes"] / 1024
        ax.scatter(
            size_kib,
            robust,
            marker=markers.get(card["dataset"], "^"),
            s=40,
            color=f"C{list(markers).index(card['dataset']) if card['dataset'] in markers else 2}",
        )
        ax.annotate(
            card["name"].split("-", 2)[2] if card["dataset"] in markers else card["name"],
            (size_kib, robust),
            fontsize=7,
            xytext=(4, 2),
            textcoords="offset points",
        )
    for index, (dataset, marker) in enumerate(markers.items()):
        ax.scatter([], [], marker=marker, color=f"C{index}", label=dataset)
    ax.scatter([], [], marker="^", color="C2", label="tables (mlp)")
    ax.set_xscale("log")
    ax.set_xlabel("model file size (KiB, log scale)")
    ax.set_ylabel("robust (worst-case) accuracy, card")
    ax.set_title("Size against robust accuracy of every zoo entry (from the cards)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(IMG / "zoo_size_vs_robust.png", dpi=90)
    plt.close(fig)
    print(f"wrote {IMG / 'zoo_size_vs_robust.png'}")


def make_confusion(n):
    (_, _), (x_test, y_test) = data.load("mnist")
    x, y = x_test[:n], y_test[:n]
    for entry in ("mnist-small_cnn-dl", "mnist-small_cnn-pgd_at"):
        model = zoo.load(entry)
        eps = zoo.card(entry)["threat_model"]["eps"]
        report = evaluate(model, x, y, verbose=0, attacks={"PGD-20": attack_for("PGD-20", model, eps)})
        fig, axes = plt.subplots(1, 2, figsize=(9.0, 4.2))
        plot_confusion_matrix(report.confusion_matrix(), ax=axes[0], title=f"clean ({report.clean_accuracy:.1%})")
        plot_confusion_matrix(
            report.confusion_matrix("PGD-20"),
            ax=axes[1],
            title=f"PGD-20, eps {eps:.4g} ({report.attacks['PGD-20'].accuracy:.1%})",
        )
        fig.suptitle(f"{entry}, first {n} MNIST test images", fontsize=10)
        fig.tight_layout()
        slug = entry.split("-", 2)[2]
        fig.savefig(IMG / f"confusion_{slug}.png", dpi=90)
        plt.close(fig)
        print(f"wrote {IMG / f'confusion_{slug}.png'}")


def make_hdl(n):
    out = RESULTS / "img"
    out.mkdir(exist_ok=True)
    for path in sorted(RESULTS.glob("*/results.json")):
        result = json.loads(path.read_text())
        if "selections" not in result:
            continue
        chosen = result["selections"]["rank"]
        methods = [m for m in result["settings"]["methods"] if m in chosen]
        fig, axes = plt.subplots(1, len(METRICS), figsize=(12.0, 3.2), sharey=True)
        for ax, metric in zip(axes, METRICS):
            values = [chosen[m]["test"][metric] for m in methods]
            ax.bar(range(len(methods)), values, color=[f"C{i}" for i in range(len(methods))])
            ax.set_xticks(range(len(methods)), methods, rotation=60, fontsize=8)
            ax.set_title(metric, fontsize=9)
            ax.set_ylim(0, 100)
            ax.grid(axis="y", alpha=0.3)
        axes[0].set_ylabel("test value (%)")
        dataset = path.parent.name
        fig.suptitle(
            f"{dataset}: the four HDL metrics per method (reduced run, "
            "configuration chosen by average validation rank)",
            fontsize=10,
        )
        fig.tight_layout()
        fig.savefig(out / f"hdl_{dataset}.png", dpi=80)
        plt.close(fig)
        print(f"wrote {out / f'hdl_{dataset}.png'}")


FIGURES = {
    "hdl": make_hdl,
    "size": make_size,
    "sparsity": make_sparsity,
    "adversarial": make_adversarial,
    "confusion": make_confusion,
    "eps": make_eps,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=sorted(FIGURES), help="figures to make (default all)")
    parser.add_argument("--n", type=int, default=200, help="test images for eps and confusion (default 200)")
    args = parser.parse_args()
    os.makedirs(IMG, exist_ok=True)
    for name in args.only or FIGURES:
        FIGURES[name](args.n)


if __name__ == "__main__":
    main()
