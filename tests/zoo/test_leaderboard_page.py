"""docs/scripts/leaderboard.py: tables per dataset and threat model, sorting, staleness check."""

import importlib.util
import json
import pathlib

import pytest

from hdl_keras import zoo

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "docs" / "scripts" / "leaderboard.py"


@pytest.fixture(scope="module")
def leaderboard():
    spec = importlib.util.spec_from_file_location("leaderboard", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def metrics(autoattack_acc=None, worst=0.5):
    values = {
        "num_examples": 1000,
        "clean_accuracy": 0.9,
        "attacks": {"pgd20": 0.6, "fgsm": 0.7},
        "worst_case_accuracy": worst,
        "stability": None,
        "zero_weights": 0.25,
        "zero_channels": 0.0,
        "bits_per_weight": 32,
    }
    if autoattack_acc is not None:
        values.update(
            clean_acc=0.91,
            clean_acc_examples=10000,
            autoattack_acc=autoattack_acc,
            external=autoattack_acc,
            unreliable=False,
            autoattack={
                "version": "standard",
                "n": 1000,
                "interval": [autoattack_acc - 0.03, autoattack_acc + 0.03],
                "per_attack": {"apgd-ce": autoattack_acc},
                "number_forward_passes": 1,
            },
        )
    return values


@pytest.fixture
def board_zoo(make_entry):
    make_entry("iris-mlp-hdl", method="HDL", metrics=metrics(autoattack_acc=0.40))
    make_entry("iris-mlp-dl", metrics=metrics(autoattack_acc=0.55))
    make_entry("wine-mlp-dl", metrics=metrics(worst=0.3))
    return zoo.zoo_root()


def test_tables_are_grouped_and_sorted_by_autoattack_accuracy(leaderboard, board_zoo):
    page = leaderboard.render(zoo.list_entries())
    assert "## iris, linf eps 0.1" in page and "## wine, linf eps 0.1" in page
    iris_rows = [line for line in page.splitlines() if line.startswith("| `iris-mlp")]
    assert [row.split(" | ")[0] for row in iris_rows] == ["| `iris-mlp-dl`", "| `iris-mlp-hdl`"]
    assert "| `iris-mlp-dl` | DL | 91.0 | 55.0 | 52.0-58.0 | 1000 | standard | 55.0 | no |" in page
    wine = next(line for line in page.splitlines() if line.startswith("| `wine-mlp-dl`"))
    assert "| 90.0 | - | - | 1000 | - | 30.0 | - |" in wine


def test_write_then_check_detects_staleness(leaderboard, board_zoo, tmp_path):
    out, img = tmp_path / "docs" / "leaderboard.md", tmp_path / "docs" / "img" / "leaderboard.png"
    out.parent.mkdir()
    options = ["--out", str(out), "--img", str(img)]
    assert leaderboard.main(["--check", *options]) == 1
    assert leaderboard.main(options) == 0
    assert img.read_bytes().startswith(b"\x89PNG")
    assert leaderboard.main(["--check", *options]) == 0
    card_path = board_zoo / "iris-mlp-hdl" / "card.json"
    card = json.loads(card_path.read_text())
    card["metrics"]["autoattack_acc"] = 0.6
    card_path.write_text(json.dumps(card))
    assert leaderboard.main(["--check", *options]) == 1


def test_committed_leaderboard_is_up_to_date(leaderboard, monkeypatch):
    monkeypatch.delenv("HDL_KERAS_ZOO_DIR", raising=False)
    assert leaderboard.main(["--check"]) == 0, "run: python docs/scripts/leaderboard.py"
