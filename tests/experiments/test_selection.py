"""Selection on validation: per metric (worst-split stability), average rank with ties, recommend."""

import json

import numpy as np
import pytest

from hdl_keras.experiments import ProtocolResult
from hdl_keras.experiments import average_ranks
from hdl_keras.experiments import recommend
from hdl_keras.experiments import select_by_rank
from hdl_keras.experiments import select_per_metric
from hdl_keras.experiments import summarize
from hdl_keras.experiments.grids import config_id
from hdl_keras.experiments.selection import rank_descending

SETTINGS = {"network": "mlp", "num_classes": 3, "epochs": 1, "batch_size": 32, "rounds": 1}


def make_runs(method, config, val, test=None, val_adv=None, test_adv=None, sparsity=0.0):
    """One record per split; `val`, `test`, ... are per-split accuracies (%)."""
    test = val if test is None else test
    val_adv = [0.0] * len(val) if val_adv is None else val_adv
    test_adv = [0.0] * len(val) if test_adv is None else test_adv
    return [
        {
            "method": method,
            "config": config,
            "config_id": config_id(config),
            "split": split,
            "val_accuracy": val[split],
            "val_adv_accuracy": val_adv[split],
            "test_accuracy": test[split],
            "test_adv_accuracy": test_adv[split],
            "sparsity": sparsity,
            "train_seconds": 0.0,
        }
        for split in range(len(val))
    ]


def test_summaries_average_the_splits_and_take_the_worst_for_stability():
    (summary,) = summarize(
        make_runs("DL", {"lr": 0.01}, val=[100.0, 60.0], test=[90.0, 80.0], val_adv=[50.0, 30.0], sparsity=5.0)
    )
    assert summary["splits"] == 2
    assert summary["validation"] == {"natural": 80.0, "adversarial": 40.0, "stability": 60.0, "sparsity": 5.0}
    assert summary["test"]["natural"] == 85.0 and summary["test"]["stability"] == 80.0


def test_per_metric_selection_uses_validation_and_worst_split_stability():
    # A: higher mean validation accuracy, B: better worst split; C: the sparsest, most robust.
    runs = (
        make_runs("HDL", {"lr": 0.01}, val=[100.0, 60.0], test=[70.0, 70.0], val_adv=[10.0, 10.0], sparsity=10.0)
        + make_runs("HDL", {"lr": 0.001}, val=[75.0, 75.0], test=[90.0, 90.0], val_adv=[20.0, 20.0], sparsity=20.0)
        + make_runs(
            "HDL",
            {"lr": 0.0001},
            val=[50.0, 50.0],
            test=[95.0, 95.0],
            val_adv=[40.0, 40.0],
            test_adv=[33.0, 35.0],
            sparsity=30.0,
        )
    )
    chosen = select_per_metric(runs)["HDL"]
    assert chosen["natural"]["config"] == {"lr": 0.01}
    assert chosen["natural"]["test"]["natural"] == 70.0  # the test value of the validation choice
    assert chosen["stability"]["config"] == {"lr": 0.001}
    assert chosen["adversarial"]["config"] == {"lr": 0.0001}
    assert chosen["adversarial"]["test"]["adversarial"] == 34.0
    assert chosen["sparsity"]["config"] == {"lr": 0.0001}


def test_ranks_share_ties_and_the_lowest_average_rank_wins():
    assert rank_descending([90.0, 95.0, 90.0, 80.0]).tolist() == [2.5, 1.0, 2.5, 4.0]
    # Validation (natural, adversarial, stability, sparsity):
    # A (90, 50, 85, 10), B (90, 60, 80, 20), C (80, 70, 80, 20).
    # Ranks: natural 1.5 1.5 3; adversarial 3 2 1; stability 1 2.5 2.5; sparsity 3 1.5 1.5.
    runs = (
        make_runs("HDL", {"lr": 1.0}, val=[95.0, 85.0], val_adv=[50.0, 50.0], sparsity=10.0)
        + make_runs("HDL", {"lr": 2.0}, val=[100.0, 80.0], val_adv=[60.0, 60.0], sparsity=20.0)
        + make_runs("HDL", {"lr": 3.0}, val=[80.0, 80.0], val_adv=[70.0, 70.0], sparsity=20.0)
        + make_runs("DL", {"lr": 1.0}, val=[50.0, 50.0])
        + make_runs("DL", {"lr": 2.0}, val=[50.0, 50.0])
    )
    summaries = [s for s in summarize(runs) if s["method"] == "HDL"]
    np.testing.assert_allclose(average_ranks(summaries), [2.125, 1.875, 2.0])
    chosen = select_by_rank(runs)
    assert chosen["HDL"]["config"] == {"lr": 2.0}
    assert chosen["HDL"]["average_rank"] == pytest.approx(1.875)
    assert chosen["DL"]["config"] == {"lr": 1.0}  # a full tie goes to the first configuration


def test_recommend_returns_the_validation_winner_not_the_test_winner(tmp_path):
    runs = make_runs("DL", {"lr": 0.01}, val=[90.0, 90.0], test=[70.0, 70.0]) + make_runs(
        "Robust",
        {"lr": 0.01, "rho": 0.1},
        val=[80.0, 80.0],
        test=[95.0, 95.0],
        val_adv=[60.0, 60.0],
        test_adv=[50.0, 50.0],
    )
    result = ProtocolResult(settings=SETTINGS, runs=runs)
    best = recommend(result, "natural")
    assert (best.method, best.config) == ("DL", {"lr": 0.01})
    assert best.validation_value == 90.0 and best.test_values["natural"] == 70.0
    assert recommend(result, "adversarial").method == "Robust"
    (tmp_path / "results.json").write_text(json.dumps({"settings": SETTINGS, "runs": runs}))
    from_file = recommend(tmp_path, "rank")
    # DL ranks (natural, adversarial, stability, sparsity): 1, 2, 1, 1.5 (tie); Robust: 2, 1, 2, 1.5.
    assert from_file.method == "DL" and from_file.metric == "rank"
    assert from_file.validation_value == pytest.approx(1.375)
    with pytest.raises(ValueError, match="metric"):
        recommend(result, "accuracy")
