"""Deployed files against the deployment targets: size budget, robustness kept, latency.

The rows are those of `benchmarks/deploy_check.py` (one per exported file:
`entry`, `file`, `kind`, `dataset`, `eps`, `onnx_bytes`, `litert_bytes`,
`latency_ratio_vs_dense`); accuracies come from the zoo's cards (nothing is
recomputed). A file's deployed size is the smaller of its ONNX and LiteRT files.

`deployment_targets(rows, cards)` checks the three targets of a deployable
robust model:

- `mnist_budget`: an MNIST file of at most `BUDGET_BYTES` with clean accuracy
  >= 98.5 % (all test images) and AutoAttack accuracy >= 95 % at l_inf 16/255
  (its card);
- `fashion_mnist_budget`: a Fashion-MNIST file of at most `BUDGET_BYTES` whose
  robust accuracy at 8/255 is within 3 points of the float small CNN trained
  by the same objective (`fashion_mnist-small_cnn-tradeoff`);
- `shrunk_latency`: every file of an entry whose recipe prunes and removes
  channels (its card's `training.channels`: fewer after than before, as
  the RobustSparseBinary recipe records) at most 0.5 times the onnxruntime
  latency of its dense float entry at batch 1. The shrunk files of the
  weight-sparse HDL entries (`kind == "shrunk"`: `shrink` drops only the
  units left without a weight) are reported beside it (`weight_sparse_*`),
  not decided on: unstructured zeros leave almost every channel, and a
  dense onnxruntime kernel computes them all.

Examples:

    ```python
    import json
    from hdl_keras import zoo
    from hdl_keras.deploy.targets import deployment_targets

    rows = json.load(open("docs/results/deployment/results.json"))["rows"]
    targets = deployment_targets(rows, zoo.list_entries())
    print(targets["mnist_budget"]["met"], targets["mnist_budget"]["best"])
    ```
"""

BUDGET_BYTES = 16_000  # "a deployed file <= 16 KB", in decimal kilobytes (the stricter reading)
MNIST_EPS = 16 / 255
FASHION_MNIST_EPS = 8 / 255
MNIST_MIN_CLEAN = 0.985
MNIST_MIN_AUTOATTACK = 0.95
FASHION_MNIST_MAX_GAP = 0.03
FASHION_MNIST_FLOAT_TWIN = "fashion_mnist-small_cnn-tradeoff"
MAX_SHRUNK_LATENCY_RATIO = 0.5
_EPS_TOLERANCE = 1e-6


def deployed_bytes(row):
    """The deployed size of an exported file: the smaller of its ONNX and LiteRT files (bytes)."""
    return min(row["onnx_bytes"], row["litert_bytes"])


def _clean(metrics):
    """Clean accuracy on all test images where measured (`clean_acc`), else on the evaluated points."""
    return metrics["clean_acc"] if metrics.get("clean_acc") is not None else metrics["clean_accuracy"]


def channel_pruned_by_recipe(card):
    """Whether an entry's recipe removed channels: its card's `training.channels` has fewer after than before."""
    channels = (card.get("training") or {}).get("channels")
    return bool(channels) and sum(channels["after"].values()) < sum(channels["before"].values())


def _slowest(rows):
    """The row of `rows` with the largest batch-1 latency ratio to its dense entry, and that ratio (None, None if none)."""
    timed = [row for row in rows if "latency_ratio_vs_dense" in row]
    slowest = max(timed, key=lambda row: row["latency_ratio_vs_dense"]["1"], default=None)
    return slowest, None if slowest is None else slowest["latency_ratio_vs_dense"]["1"]


def best_within_budget(rows, cards, dataset, eps, max_bytes=BUDGET_BYTES):
    """The file of `dataset` at radius `eps` of at most `max_bytes` with the best card robust accuracy.

    Returns:
        None without such a file, else a dict: `file`, `entry`, `bytes`,
        `clean` and `robust` (the card's worst case over its attacks) and
        `autoattack` (the card's AutoAttack accuracy, None if not measured).
    """
    by_name = {card["name"]: card for card in cards}
    candidates = [
        row
        for row in rows
        if row["dataset"] == dataset
        and abs(row["eps"] - eps) < _EPS_TOLERANCE
        and deployed_bytes(row) <= max_bytes
        and by_name.get(row["entry"], {}).get("metrics", {}).get("worst_case_accuracy") is not None
    ]
    if not candidates:
        return None
    row = max(
        candidates, key=lambda row: (by_name[row["entry"]]["metrics"]["worst_case_accuracy"], -deployed_bytes(row))
    )
    metrics = by_name[row["entry"]]["metrics"]
    return {
        "file": row["file"],
        "entry": row["entry"],
        "bytes": deployed_bytes(row),
        "clean": _clean(metrics),
        "robust": metrics["worst_case_accuracy"],
        "autoattack": metrics.get("autoattack_acc"),
    }


def deployment_targets(rows, cards):
    """Each deployment target (module docstring) with what meets it best and whether it is met.

    Returns:
        `{"mnist_budget", "fashion_mnist_budget", "shrunk_latency"}`, each a
        dict with `met` (bool) and what it was decided on: `best` (from
        `best_within_budget`, or None) for the budgets, plus `float_robust`
        and `gap` for Fashion-MNIST; `worst_ratio` and `worst_file` (the
        slowest file of a channel-pruning recipe relative to its dense
        entry) for the latency, and `weight_sparse_worst_ratio` and
        `weight_sparse_worst_file` (the same over the weight-sparse entries'
        shrunk files, not decided on).
    """
    mnist = best_within_budget(rows, cards, "mnist", MNIST_EPS)
    mnist_met = bool(
        mnist
        and mnist["autoattack"] is not None
        and mnist["clean"] >= MNIST_MIN_CLEAN
        and mnist["autoattack"] >= MNIST_MIN_AUTOATTACK
    )
    fashion = best_within_budget(rows, cards, "fashion_mnist", FASHION_MNIST_EPS)
    twin = next((card for card in cards if card["name"] == FASHION_MNIST_FLOAT_TWIN), None)
    float_robust = None if twin is None else twin["metrics"]["worst_case_accuracy"]
    gap = None if fashion is None or float_robust is None else float_robust - fashion["robust"]
    by_name = {card["name"]: card for card in cards}
    slowest, worst_ratio = _slowest(row for row in rows if channel_pruned_by_recipe(by_name.get(row["entry"], {})))
    weight_sparse, weight_sparse_ratio = _slowest(row for row in rows if row["kind"] == "shrunk")
    return {
        "mnist_budget": {"met": mnist_met, "best": mnist},
        "fashion_mnist_budget": {
            "met": gap is not None and gap <= FASHION_MNIST_MAX_GAP,
            "best": fashion,
            "float_robust": float_robust,
            "gap": gap,
        },
        "shrunk_latency": {
            "met": worst_ratio is not None and worst_ratio <= MAX_SHRUNK_LATENCY_RATIO,
            "worst_ratio": worst_ratio,
            "worst_file": None if slowest is None else slowest["file"],
            "weight_sparse_worst_ratio": weight_sparse_ratio,
            "weight_sparse_worst_file": None if weight_sparse is None else weight_sparse["file"],
        },
    }


__all__ = ["BUDGET_BYTES", "best_within_budget", "channel_pruned_by_recipe", "deployed_bytes", "deployment_targets"]
