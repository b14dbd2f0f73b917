"""Writes docs/results/index.md: the HDL protocol results next to the paper's tables.

Usage: python docs/scripts/hdl_results.py  (after bash docs/results/run.sh)

Reads every docs/results/<dataset>/results.json written by `hdl-protocol` and lists, per
dataset, the average-rank selection (the layout of paper Tables 2-4) with the command that
produced it; for MNIST and Fashion-MNIST the paper's Table 3 / Table 2 values (Bertsimas et
al. 2023, copied from the paper) are printed beside ours. Numbers are test-set percentages.
"""

import pathlib

import numpy as np

from hdl_keras import presets
from hdl_keras.data import prepare_data
from hdl_keras.experiments import METRICS
from hdl_keras.experiments import ProtocolResult

RESULTS = pathlib.Path(__file__).resolve().parents[1] / "results"
DATASETS = ("iris", "wine", "breast_cancer", "digits", "mnist", "fashion_mnist")
TABLES = DATASETS[:4]
METHODS = ("DL", "Robust", "Stable", "Sparse", "Robust+Sparse", "Stable+Sparse", "Stable+Robust", "HDL")
ROW_NAMES = {"natural": "Avg. accuracy", "adversarial": "Adv. acc.", "stability": "Stability", "sparsity": "Sparsity"}
# Table 3 of Bertsimas et al. (2023) (MNIST, adversarial rho = 0.1) and Table 2 (Fashion-MNIST, rho = 0.01), in METHODS order.
PAPER_TABLES = {
    "mnist": (
        "Table 3",
        {
            "natural": (99.2, 99.3, 99.2, 99.1, 99.2, 99.2, 99.3, 99.3),
            "adversarial": (49.6, 78.4, 51.5, 42.6, 74.7, 27.7, 79.5, 76.0),
            "stability": (99.1, 99.2, 99.2, 99.1, 99.1, 99.0, 99.3, 99.2),
            "sparsity": (0, 0, 0, 16.1, 27.9, 31.7, 0, 28.0),
        },
    ),
    "fashion_mnist": (
        "Table 2",
        {
            "natural": (91.8, 92.0, 91.9, 91.4, 92.1, 91.4, 92.0, 92.1),
            "adversarial": (78.7, 81.1, 78.3, 80.8, 86.9, 80.2, 86.8, 87.1),
            "stability": (91.5, 91.7, 91.8, 91.3, 91.9, 91.2, 91.7, 91.8),
            "sparsity": (0, 0, 0, 36.2, 26.6, 48.4, 0, 26.8),
        },
    ),
}


# What our tables' data are, where they differ from the paper's rows.
DATA_NOTES = {
    "digits": [
        "Data: scikit-learn's `digits` (1,797 rows, the test part of UCI's optical recognition of "
        "handwritten digits), **not** the paper's optical-recog-digits row (3,822 rows): the paper's "
        "numbers below are for other data.  ",
    ],
}


def _attack(settings):
    """The attack of a run, with its steps and clipping (runs saved before the scaling modes lack them)."""
    if "scaling" in settings:
        return settings["attack"]
    return (
        f"{settings['attack']}, eps {settings['attack_eps']:g}, {settings['attack_steps']} steps of "
        f"{settings['attack_step_size']:.3g}, clipped to [0, 1]"
    )


def _figure_lines(name):
    """The plot of the table below, made by docs/scripts/figures.py, when it exists."""
    if not (RESULTS / "img" / f"hdl_{name}.png").exists():
        return []
    return [
        f"![{name}: the four HDL metrics per method](img/hdl_{name}.png)",
        "",
        "*The table's values (ours) as bars: `python docs/scripts/figures.py --only hdl`.*",
        "",
    ]


def dataset_section(name, result, folder="", heading="##", paper=None):
    """One dataset's rank-selected test values; `paper` (label, {metric: values in METHODS order}) beside them."""
    settings = result.settings
    chosen = result.selections["rank"]
    methods = [method for method in METHODS if method in chosen]
    lines = [
        f"{heading} {name}",
        "",
        *DATA_NOTES.get(name, []),
        f"Scaling mode: `{settings.get('scaling', 'minmax')}` ({settings['input_scaling']}); "
        f"attack: {_attack(settings)}.  ",
        *(
            []
            if settings.get("sparse_procedure")
            else [
                "Sparse methods trained with the procedure before the fix of the sparse collapse (no "
                "fixed-mask round, gates `sigmoid(beta s)`; see holistic.md): rerun for the current one.  ",
            ]
        ),
        f"Command: `{settings.get('command') or 'see ' + name + '/results.md'}`  ",
        f"Details, per-metric selection and chosen configurations: [{folder}{name}/results.md]({folder}{name}/results.md)",
        "",
        *([] if folder else _figure_lines(name)),
        "| | " + " | ".join(methods) + " |",
        "| --- |" + " --- |" * len(methods),
    ]
    seed = paper or PAPER_TABLES.get(name)
    for metric in METRICS:
        label = ROW_NAMES[metric]
        if metric == "adversarial":
            label += f" (PGD, eps {settings['attack_eps']:g})"
        ours = [f"{chosen[method]['test'][metric]:.1f}" for method in methods]
        lines.append(f"| {label}, ours | " + " | ".join(ours) + " |")
        if seed:
            values = dict(zip(METHODS, seed[1][metric]))
            lines.append(f"| {label}, paper {seed[0]} | " + " | ".join(f"{values[m]:.1f}" for m in methods) + " |")
    return lines + [""]


def paper_scaling_sections():
    """The tables at the paper's setting (`bash docs/results/run.sh paper_scaling`) beside Tables 8-11."""
    table = presets.paper_values("bertsimas2023", "tables_8_11")
    lines = [
        "## The tables at the paper's setting",
        "",
        "DL and HDL in the units and threat model of the authors' code (`--scaling paper`: features",
        "standardised, then divided by 255, so eps 0.1 is 25.5 standard deviations of a feature; PGD-40 of",
        "0.01, unclipped), at the paper's 150 epochs and 5 rounds, beside Tables 8-11 of Bertsimas et al.",
        "(2023). **Reduced grid**: lr 1e-2, rho {1e-3, 1e-4}, lambda {1e-6, 1e-8}, 3 splits, against the",
        "paper's 240 HDL configurations (and 2 DL learning rates) on 10 splits; rho 0.1 itself, tried first",
        "on digits (one split), trained HDL into a constant classifier (10 % accuracy, every weight zero).",
        "The zoo's table entries",
        "use HDL's configuration chosen here. At this radius a classifier is robust only by predicting one",
        "class: the majority-class share of each test set is given beside the tables, and the paper's",
        "adversarial accuracies sit at or near it.",
        "",
    ]
    for name in TABLES:
        path = RESULTS / "paper_scaling" / name / "results.json"
        if not path.exists():
            lines += [f"### {name}", "", "Not run yet: `bash docs/results/run.sh paper_scaling`.", ""]
            continue
        rows = table["rows"][name]
        paper = {
            metric: tuple(rows.get(method, {}).get(metric, float("nan")) for method in METHODS) for metric in METRICS
        }
        section = dataset_section(name, ProtocolResult.load(path), "paper_scaling/", "###", (table["name"], paper))
        _, (_, y_test) = prepare_data(name)
        share = 100 * np.bincount(y_test).max() / len(y_test)
        lines += section[:-1] + ["", f"Majority class of the test set: {share:.1f} % of its {len(y_test)} rows.", ""]
    return lines


def main():
    lines = [
        "# HDL protocol results",
        "",
        "Written by `python docs/scripts/hdl_results.py` from the runs of `bash docs/results/run.sh`",
        "(tensorflow backend, CPU). Every run here is **reduced** against the paper's protocol (fewer",
        "epochs and rounds, a smaller grid; the image runs also use the small CNN instead of AlexNet, train on 4096 images, test on 1000",
        "and use 2 splits instead of 10); each dataset's results.md lists exactly what differs.",
        "Per method, the configuration with the best average validation rank over the four metrics",
        "(the rule of paper Tables 2-4); test-set values in %. The paper's numbers come from full",
        "50-epoch runs on the whole datasets, so the image rows are not a like-for-like comparison.",
        "",
    ]
    for name in DATASETS:
        path = RESULTS / name / "results.json"
        if path.exists():
            lines += dataset_section(name, ProtocolResult.load(path))
        else:
            lines += [f"## {name}", "", f"Not run yet: `bash docs/results/run.sh {name}`.", ""]
    lines += paper_scaling_sections()
    (RESULTS / "index.md").write_text("\n".join(lines))
    print(f"wrote {RESULTS / 'index.md'}")


if __name__ == "__main__":
    main()
