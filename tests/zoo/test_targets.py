"""`hdl_keras.zoo.targets`: our values beside the paper row, gaps, intervals, verdicts."""

import copy

import pytest

from hdl_keras.zoo.targets import paper_comparison
from hdl_keras.zoo.targets import summary

CARD = {
    "name": "mnist-small_cnn-hdl",
    "dataset": "mnist",
    "threat_model": {"norm": "linf", "eps": 0.1, "scaling": "minmax"},
    "training": {"wall_time_seconds": 600.0},
    "metrics": {
        "num_examples": 1000,
        "clean_accuracy": 0.99,
        "attacks": {"pgd20": 0.80, "autoattack": 0.78},
        "worst_case_accuracy": 0.78,
        "zero_weights": 0.75,
        "clean_acc": 0.992,
        "clean_acc_examples": 10000,
        "autoattack_acc": 0.78,
        "autoattack": {"n": 1000},
    },
    "reference": {
        "paper": "Bertsimas et al. (2023)",
        "table": "Table 3 (MNIST)",
        "figure": None,
        "values": {"clean_accuracy": 0.993, "pgd": 0.76, "eps": 0.1, "zero_weights": 0.28},
    },
}


def test_uses_the_strongest_evaluation_and_all_test_images():
    row = paper_comparison(CARD)
    assert (row["clean"], row["clean_n"]) == (0.992, 10000)
    assert (row["robust"], row["robust_n"], row["robust_metric"]) == (0.78, 1000, "AutoAttack")
    assert row["paper_robust_metric"] == "pgd" and row["same_radius"]
    low, high = row["robust_interval"]
    assert low < 0.78 < high and high - low < 0.06  # Wilson 95 % at n = 1000
    assert row["gaps"] == pytest.approx({"clean": -0.001, "robust": 0.02, "zero_weights": 0.47})
    assert row["train_minutes"] == 10.0


def test_meets_only_when_every_paper_value_is_reached_at_the_same_radius():
    assert paper_comparison(CARD)["meets_paper_row"] is False  # clean 99.2 < 99.3
    better = copy.deepcopy(CARD)
    better["metrics"]["clean_acc"] = 0.994
    assert paper_comparison(better)["meets_paper_row"] is True
    other_radius = copy.deepcopy(better)
    other_radius["reference"]["values"]["eps"] = 0.01
    assert paper_comparison(other_radius)["meets_paper_row"] is False
    # Bertsimas et al. (2023)'s UCI tables are in the units of the authors' code, not [0, 1].
    tables = copy.deepcopy(better)
    tables["reference"]["table"] = "Tables 8-11, row iris"
    row = paper_comparison(tables)
    assert row["paper_scaling"] == "paper" and not row["same_radius"] and row["meets_paper_row"] is False


def test_worst_case_without_autoattack_and_unevaluated_cards():
    plain = copy.deepcopy(CARD)
    for key in ("clean_acc", "clean_acc_examples", "autoattack_acc", "autoattack"):
        del plain["metrics"][key]
    row = paper_comparison(plain)
    assert (row["clean"], row["clean_n"], row["robust"]) == (0.99, 1000, 0.78)
    assert row["robust_metric"].startswith("worst case")
    unevaluated = dict(CARD, metrics=None)
    assert paper_comparison(unevaluated)["meets_paper_row"] is None


def test_summary_counts_rows_and_the_smallest_robust_sample():
    better = copy.deepcopy(CARD)
    better["metrics"]["clean_acc"] = 0.994
    small = copy.deepcopy(CARD)
    small["name"] = "fashion_mnist-small_cnn-hdl"
    small["metrics"]["autoattack"]["n"] = 500
    small["training"]["wall_time_seconds"] = 5400.0
    rows = [paper_comparison(card) for card in (better, small)]
    datasets = {"mnist-small_cnn-hdl": "mnist", "fashion_mnist-small_cnn-hdl": "fashion_mnist"}
    assert summary(rows, datasets=datasets) == {
        "entries": 2,
        "meet_paper_row": 1,
        "max_train_minutes": 90.0,
        "min_test_images_robust": 500,
    }
