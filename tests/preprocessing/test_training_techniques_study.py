"""docs/results/training_techniques/: run.py writes records, report.py turns them into the page."""

import importlib.util
import json
import pathlib

import keras
import numpy as np
import pytest

from hdl_keras import data

ROOT = pathlib.Path(__file__).resolve().parents[2]
STUDY = ROOT / "docs" / "results" / "training_techniques"


def load_script(name):
    spec = importlib.util.spec_from_file_location(f"training_techniques_{name}", STUDY / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def report():
    return load_script("report")


def cnn_record(dataset, method, code, clean, square, **extra):
    return {
        "kind": "cnn",
        "dataset": dataset,
        "method": method,
        "code": code,
        "clean_all": clean,
        "n_all": 2000,
        "square": square,
        "n": 250,
        "epochs": 10,
        "best_epoch": 3,
        "noise_stddev": 0.1,
        "confusion_clean": [[1]],
        "confusion_square": [[1]],
        "command": f"python docs/results/training_techniques/run.py cnn --method {method}",
        **extra,
    }


def test_page_is_current(report):
    """index.md is what report.py writes from the committed records (rerun report.py if not)."""
    assert report.page(report.records(), draw=False) == (STUDY / "index.md").read_text()


def test_summary_counts_cells_and_compares_with_the_report(report):
    found = {
        "cnn-mnist-standard-FFF": cnn_record("mnist", "standard", "FFF", 0.99, 0.90),
        "cnn-mnist-fgsm_rs-FFF": cnn_record("mnist", "fgsm_rs", "FFF", 0.97, 0.80),
        "cnn-mnist-pgd20-FFF": cnn_record("mnist", "pgd20", "FFF", 0.98, 0.98),
        "cnn-fashion_mnist-standard-TFF": cnn_record("fashion_mnist", "standard", "TFF", 0.9, 0.1),
    }
    numbers = report.summary(found)
    assert numbers["configs_mnist"] == 2  # FFF standard and FFF adversarial (PGD-20 preferred)
    assert numbers["configs_fashion_mnist"] == 1
    # Report FFF: standard 98.90 / 91.65, adversarial 98.90 / 97.55. Ours: 99 >= 98.90,
    # 90 < 91.65, PGD-20 98 < 98.90, 98 >= 97.55.
    assert (numbers["cells_at_or_above_report"], numbers["cells_total"]) == (2, 4)
    assert report.adversarial_record(found, "mnist", "FFF")["method"] == "pgd20"


def test_reduced_runs_are_labelled(report):
    full = cnn_record("mnist", "standard", "FFF", 0.99, 0.9, n=2000, square_queries=5000)
    reduced = cnn_record("mnist", "fgsm_rs", "FFF", 0.99, 0.9, train_subset=6000, lr=0.01)
    assert report.reduced_note(full) == "full protocol"
    note = report.reduced_note(reduced)
    assert note.startswith("REDUCED") and "6000 training images" in note and "lr 0.01" in note
    assert "FGSM-RS" in note and "Square on 250 test images" in note


def test_a_tiny_run_writes_a_record_the_report_reads(tmp_path, monkeypatch, report):
    try:
        data.load("mnist")
    except data.DatasetNotFoundError:
        pytest.skip("MNIST files not found")
    run = load_script("run")
    monkeypatch.setattr(run, "MODELS", tmp_path / "models")
    records = tmp_path / "records"
    arguments = [
        "cnn",
        "--method",
        "fgsm_rs",
        "--codes",
        "TTF",
        "--train-subset",
        "200",
        "--epochs",
        "1",
        "--val-n",
        "20",
        "--square-n",
        "10",
        "--square-queries",
        "20",
        "--records",
        str(records),
    ]
    run.main(arguments)
    record = json.loads((records / "cnn-mnist-fgsm_rs-TTF.json").read_text())
    assert record["command"] == "python docs/results/training_techniques/run.py " + " ".join(arguments[:-2])
    # Balancing copies the rarer classes up to the largest count of the 200-image subset.
    assert record["train_examples"] > 200 and record["train_subset"] == 200
    assert 0.0 <= record["square"] <= record["clean"] <= 1.0
    assert sum(map(sum, record["confusion_square"])) == record["n"] == 10
    assert (tmp_path / "models" / "cnn-mnist-fgsm_rs-TTF.keras").exists()
    run.main(arguments)  # resumable: the existing record is kept
    assert json.loads((records / "cnn-mnist-fgsm_rs-TTF.json").read_text()) == record
    run.main(["autoattack", "--autoattack-n", "6", "--records", str(records)])
    attacked = json.loads((records / "cnn-mnist-fgsm_rs-TTF.json").read_text())
    # Robust points are correctly classified ones, counted on the same 6 images.
    model = keras.saving.load_model(tmp_path / "models" / "cnn-mnist-fgsm_rs-TTF.keras")
    _, _, (x_test, y_test) = run.split("mnist")
    correct = float(np.mean(np.argmax(model.predict(x_test[:6], verbose=0), -1) == y_test[:6]))
    assert attacked["autoattack_n"] == 6 and 0.0 <= attacked["autoattack"] <= correct
    assert 0.0 <= attacked["autoattack_square"] <= correct
    assert attacked["autoattack_command"].endswith("run.py autoattack --autoattack-n 6")
    # The ensemble's accuracy only falls attack after attack, and ends at the worst case.
    by_attack = list(attacked["autoattack_by_attack"].values())
    assert list(attacked["autoattack_by_attack"]) == ["apgd-ce", "apgd-t", "fab-t", "square"]
    assert by_attack == sorted(by_attack, reverse=True) and by_attack[-1] == attacked["autoattack"]
    monkeypatch.setattr(report, "RECORDS", records)
    assert report.summary()["configs_mnist"] == 1
    markdown = report.page(report.records(), draw=False)
    assert "| AutoAttack, ours" in markdown
    assert "| cnn-mnist-fgsm_rs-TTF | " in markdown.split("## Square against AutoAttack")[1]
