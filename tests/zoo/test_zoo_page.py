"""docs/scripts/zoo_page.py: the zoo page from the cards, its figure, and the staleness check."""

import importlib.util
import json
import pathlib

import pytest

from hdl_keras import zoo

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "docs" / "scripts" / "zoo_page.py"


@pytest.fixture(scope="module")
def zoo_page():
    spec = importlib.util.spec_from_file_location("zoo_page", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def page_zoo(make_entry):
    metrics = {
        "num_examples": 30,
        "clean_accuracy": 0.9,
        "attacks": {"pgd20": 0.5, "fgsm": 0.6},
        "worst_case_accuracy": 0.5,
        "stability": None,
        "zero_weights": 0.75,
        "zero_channels": 0.125,
        "bits_per_weight": 32,
    }
    evaluation = {
        "command": "hdl-zoo eval iris-mlp-hdl --attacks standard --n 1000 --update-card",
        "date": "2026-01-02",
        "attacks": "standard",
        "backend": "tensorflow",
    }
    reference = {
        "paper": "Bertsimas et al. (2023), Holistic Deep Learning",
        "table": "Tables 8-11, row iris",
        "figure": "Fig. 1",
        "values": {"clean_accuracy": 0.9933, "pgd": 0.3267, "eps": 0.1},
    }
    make_entry("iris-mlp-hdl", method="HDL", metrics=metrics, evaluation=evaluation, reference=reference)
    make_entry("wine-mlp-dl")
    return zoo.zoo_root()


def test_page_lists_entries_with_metrics_paper_values_and_commands(zoo_page, page_zoo):
    page = zoo_page.render(zoo.list_entries())
    entries = [line for line in page.splitlines() if line.startswith("| `iris-mlp-hdl` | iris")]
    assert entries == [
        "| `iris-mlp-hdl` | iris | HDL | 0.1 | 30 | 90.0 | 60.0 | 50.0 | 50.0 | 75.0 | 12.5 | 32 | "
        f"{zoo.card('iris-mlp-hdl')['file_size_bytes'] / 1024:.0f} |"
    ]
    assert "| Entry | Dataset | Method | eps | n | Clean % | FGSM % | PGD-20 % | Worst case %" in page
    paper_row = next(
        line for line in page.splitlines() if line.startswith("| `iris-mlp-hdl` | 90.0 [74.4, 96.5] | 99.3")
    )
    # Ours with the Wilson 95 % interval on the 30 test rows, the paper's PGD value, and the radius
    # in the paper's units (Bertsimas et al. 2023's tables: standardised features / 255), so "no".
    assert (
        "| 50.0 [33.2, 66.8] (30, worst case (pgd20+fgsm)) | 32.7 (pgd) | 0.1 (0.1, paper units) | 75.0 | 0 | no "
        "| Bertsimas et al. (2023), Holistic Deep Learning, Tables 8-11, row iris |" in paper_row
    )
    assert "`hdl-zoo eval iris-mlp-hdl --attacks standard --n 1000 --update-card` (2026-01-02, tensorflow)" in page
    assert "`hdl-zoo eval wine-mlp-dl --update-card` (not run yet)" in page
    assert "| `wine-mlp-dl` | wine | DL | 0.1 | - | - | - | - | - |" in page
    assert "![Clean vs worst-case accuracy of the zoo entries](img/zoo.png)" in page


def test_entries_below_their_row_list_the_gap_what_was_tried_and_the_papers_cost(zoo_page, page_zoo):
    from hdl_keras.recipes import zoo_cards

    page = zoo_page.render(zoo.list_entries())
    below = [line for line in page.splitlines() if line.startswith("| `iris-mlp-hdl` | clean")]
    assert below == [
        "| `iris-mlp-hdl` | clean -9.33, robust +17.33 (another radius or units) | not recorded | - | not measured |"
    ]
    zoo_cards.refresh_reference("iris-mlp-hdl")  # the recipe's paper run (5 rounds x 150 epochs) and tried list
    cost = {"seconds_per_run": 30.0, "hours": 20.0, "measured_by": "python benchmarks/paper_compute.py"}
    zoo_cards.set_paper_run_cost("iris-mlp-hdl", cost)
    row = next(
        line for line in zoo_page.render(zoo.list_entries()).splitlines() if line.startswith("| `iris-mlp-hdl` | clean")
    )
    assert "| 2400 runs x 30 s = 20.0 h |" in row and "min-max units" in row
    assert "| mlp, 240 configurations x 10 splits, 150 epochs x 5 rounds each |" in row


def test_empty_zoo_page(zoo_page, zoo_dir):
    assert zoo_page.render([]).rstrip().endswith("The zoo has no entries yet.")


def test_write_then_check_detects_staleness(zoo_page, page_zoo, tmp_path, make_entry):
    out, img = tmp_path / "docs" / "zoo.md", tmp_path / "docs" / "img" / "zoo.png"
    out.parent.mkdir()
    options = ["--out", str(out), "--img", str(img)]
    assert zoo_page.main(["--check", *options]) == 1  # nothing written yet
    assert zoo_page.main(options) == 0
    assert img.read_bytes().startswith(b"\x89PNG")
    assert "](img/zoo.png)" in out.read_text()
    assert zoo_page.main(["--check", *options]) == 0
    card_path = page_zoo / "wine-mlp-dl" / "card.json"
    card = json.loads(card_path.read_text())
    card["training"]["epochs"] = 7
    card_path.write_text(json.dumps(card))
    assert zoo_page.main(["--check", *options]) == 1  # a card changed
    assert zoo_page.main(options) == 0
    make_entry("iris-mlp-dl")
    assert zoo_page.main(["--check", *options]) == 1  # an entry was added
    assert zoo_page.main(options) == 0
    img.unlink()
    assert zoo_page.main(["--check", *options]) == 1  # the figure is missing


def test_committed_zoo_page_is_up_to_date(zoo_page, monkeypatch):
    monkeypatch.delenv("HDL_KERAS_ZOO_DIR", raising=False)
    assert zoo_page.main(["--check"]) == 0, "run: python docs/scripts/zoo_page.py"
