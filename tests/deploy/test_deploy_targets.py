"""hdl_keras.deploy.targets: the deployment targets decided from deploy-check rows and cards."""

import pytest

from hdl_keras.deploy.targets import BUDGET_BYTES
from hdl_keras.deploy.targets import best_within_budget
from hdl_keras.deploy.targets import deployment_targets

MNIST_EPS, FASHION_EPS = 16 / 255, 8 / 255


def card(name, robust, clean=0.99, autoattack=None):
    metrics = {"clean_accuracy": clean, "worst_case_accuracy": robust}
    if autoattack is not None:
        metrics["autoattack_acc"] = autoattack
    return {"name": name, "metrics": metrics}


def row(entry, dataset="mnist", eps=MNIST_EPS, onnx=10_000, litert=30_000, kind="quantized", ratio=None):
    result = {
        "entry": entry,
        "file": entry,
        "kind": kind,
        "dataset": dataset,
        "eps": eps,
        "onnx_bytes": onnx,
        "litert_bytes": litert,
    }
    if ratio is not None:
        result["latency_ratio_vs_dense"] = {"1": ratio, "128": ratio}
    return result


def test_best_within_budget_keeps_the_most_robust_file_under_the_budget_at_the_radius():
    cards = [card("small", 0.92, autoattack=0.92), card("big", 0.99), card("other_eps", 0.98), card("best", 0.95)]
    rows = [
        row("small", onnx=9_000),
        row("big", onnx=BUDGET_BYTES + 1, litert=BUDGET_BYTES + 2),
        row("other_eps", eps=0.1),
        row("best", onnx=40_000, litert=BUDGET_BYTES),  # LiteRT's file is the deployed one
    ]
    best = best_within_budget(rows, cards, "mnist", MNIST_EPS)
    assert (best["entry"], best["bytes"], best["robust"], best["autoattack"]) == ("best", BUDGET_BYTES, 0.95, None)
    assert best_within_budget(rows, cards, "fashion_mnist", FASHION_EPS) is None


@pytest.mark.parametrize(
    "clean, autoattack, met",
    [(0.99, 0.95, True), (0.984, 0.97, False), (0.99, 0.949, False), (0.99, None, False)],
)
def test_mnist_budget_needs_clean_and_autoattack(clean, autoattack, met):
    robust = 0.95 if autoattack is None else autoattack
    targets = deployment_targets([row("m")], [card("m", robust, clean=clean, autoattack=autoattack)])
    assert targets["mnist_budget"]["met"] is met


def test_fashion_budget_is_measured_against_the_float_twin():
    rows = [row("f", dataset="fashion_mnist", eps=FASHION_EPS)]
    twin = card("fashion_mnist-small_cnn-tradeoff", 0.79)
    near = deployment_targets(rows, [card("f", 0.77), twin])["fashion_mnist_budget"]
    assert near["met"] and near["gap"] == pytest.approx(0.02)
    far = deployment_targets(rows, [card("f", 0.634), twin])["fashion_mnist_budget"]
    assert not far["met"] and far["gap"] == pytest.approx(0.156)
    assert deployment_targets(rows, [card("f", 0.77)])["fashion_mnist_budget"]["met"] is False  # no twin


def channel_pruned_card(name, after=16):
    return {**card(name, 0.9), "training": {"channels": {"before": {"conv": 32}, "after": {"conv": after}}}}


def test_shrunk_latency_is_decided_by_the_slowest_file_of_a_channel_pruning_recipe():
    cards = [
        channel_pruned_card("a"),
        channel_pruned_card("b"),
        channel_pruned_card("kept", after=32),
        card("hdl", 0.9),
    ]
    rows = [
        row("a", ratio=0.4),
        row("b", ratio=0.6),
        row("kept", ratio=2.0),  # its recipe removed no channel: not counted
        row("hdl", kind="shrunk", ratio=0.98),  # weight-sparse: reported, not decided on
    ]
    latency = deployment_targets(rows, cards)["shrunk_latency"]
    assert (latency["met"], latency["worst_ratio"], latency["worst_file"]) == (False, 0.6, "b")
    assert (latency["weight_sparse_worst_ratio"], latency["weight_sparse_worst_file"]) == (0.98, "hdl")
    assert deployment_targets([rows[0], rows[3]], cards)["shrunk_latency"]["met"] is True
    assert deployment_targets(rows[2:], cards)["shrunk_latency"]["met"] is False  # nothing channel-pruned
    assert deployment_targets([], cards)["shrunk_latency"]["met"] is False
