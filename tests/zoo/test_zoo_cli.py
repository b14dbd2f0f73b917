"""`hdl zoo` (`hdl-zoo`): every command on a tiny temporary zoo, and its error messages."""

import json
import sys

import keras
import numpy as np
import pytest

from hdl_keras import zoo
from hdl_keras.experiments import prepare_data
from hdl_keras.testing.cli import invoke
from hdl_keras_cli import zoo as cli


def run(*args):
    return invoke(cli.main, args, env={"COLUMNS": "200"})


def centroid_model():
    """Nearest-centroid iris classifier (logits `2 mu_k . x - |mu_k|^2`), no training needed."""
    (x, y), _ = prepare_data("iris")
    means = np.stack([x[y == label].mean(axis=0) for label in range(3)])
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    model.layers[0].set_weights([2 * means.T, -np.sum(means**2, axis=1)])
    return model


@pytest.fixture
def cli_zoo(make_entry):
    """iris-mlp-dl (evaluated, paper values), iris-mlp-hdl and wine-mlp-dl (not evaluated)."""
    metrics = {
        "num_examples": 30,
        "clean_accuracy": 0.9,
        "attacks": {"fgsm": 0.6, "pgd20": 0.5},
        "worst_case_accuracy": 0.5,
        "stability": None,
        "zero_weights": 0.25,
        "zero_channels": 0.0,
        "bits_per_weight": 32,
    }
    evaluation = {
        "command": "hdl-zoo eval iris-mlp-dl --update-card",
        "date": "2026-01-02",
        "attacks": "standard",
        "backend": "tensorflow",
    }
    reference = {
        "paper": "Bertsimas et al. (2023), Holistic Deep Learning",
        "table": "Tables 8-11, row iris",
        "figure": None,
        "values": {"clean_accuracy": 1.0, "pgd": 0.12, "eps": 0.1},
    }
    make_entry("iris-mlp-dl", model=centroid_model(), metrics=metrics, evaluation=evaluation, reference=reference)
    make_entry("iris-mlp-hdl", method="HDL")
    make_entry("wine-mlp-dl")
    return zoo.zoo_root()


def test_list_shows_every_entry(cli_zoo):
    result = run("list")
    assert result.exit_code == 0, result.output
    for name in ("iris-mlp-dl", "iris-mlp-hdl", "wine-mlp-dl"):
        assert name in result.stdout
    row = next(line for line in result.stdout.splitlines() if "iris-mlp-dl" in line)
    assert row.split()[:7] == ["iris-mlp-dl", "iris", "DL", "90.0%", "50.0%", "25.0%", "32"]
    assert row.rstrip().endswith("KB")
    assert "not evaluated yet" in result.stdout


def test_list_json_is_the_list_of_cards(cli_zoo):
    result = run("list", "--json")
    assert result.exit_code == 0
    cards = json.loads(result.stdout)
    assert cards == zoo.list_entries()
    assert [card["name"] for card in cards] == ["iris-mlp-dl", "iris-mlp-hdl", "wine-mlp-dl"]
    assert cards[0]["metrics"]["clean_accuracy"] == 0.9 and len(cards[0]["sha256"]) == 64


def test_list_filters(cli_zoo):
    by_dataset = json.loads(run("list", "--dataset", "iris", "--json").stdout)
    assert [card["name"] for card in by_dataset] == ["iris-mlp-dl", "iris-mlp-hdl"]
    by_method = json.loads(run("list", "--method", "hdl", "--json").stdout)
    assert [card["name"] for card in by_method] == ["iris-mlp-hdl"]


def test_card_pretty_and_json(cli_zoo):
    pretty = run("card", "iris-mlp-dl")
    assert pretty.exit_code == 0
    assert "90.0% on 30 test points" in pretty.stdout and zoo.card("iris-mlp-dl")["sha256"] in pretty.stdout
    assert "Tables 8-11, row iris" in pretty.stdout
    as_json = run("card", "iris-mlp-hdl", "--json")
    assert as_json.exit_code == 0 and json.loads(as_json.stdout) == zoo.card("iris-mlp-hdl")
    assert "not evaluated yet" in run("card", "iris-mlp-hdl").stdout


def test_eval_json_last_line_and_update_card(cli_zoo):
    result = run("eval", "iris-mlp-dl", "--n", 20, "--batch-size", 10, "--json", "--update-card")
    assert result.exit_code == 0, result.output
    last = json.loads(result.stdout.strip().splitlines()[-1])
    assert last["name"] == "iris-mlp-dl" and last["num_examples"] == 20
    assert 0.0 <= last["worst_case_accuracy"] <= last["attacks"]["pgd20"] <= last["clean_accuracy"] <= 1.0
    assert last["clean_accuracy"] > 0.8
    card = zoo.card("iris-mlp-dl")
    assert card["metrics"]["clean_accuracy"] == last["clean_accuracy"]
    assert (
        card["evaluation"]["command"]
        == "hdl-zoo eval iris-mlp-dl --attacks standard --n 20 --batch-size 10 --update-card"
    )


def test_eval_piped_prints_one_progress_line(cli_zoo):
    # Not a terminal (the runner's stdout): one line per progress bar, no redraw per batch.
    result = run("eval", "iris-mlp-dl", "--n", 30, "--batch-size", 2)
    assert result.exit_code == 0, result.output
    assert "\r" not in result.output and "\b" not in result.output
    progress = [line for line in result.stdout.splitlines() if "15/15" in line]
    assert len(progress) == 1 and "clean_acc" in progress[0]


def test_eval_out_seed_and_eps_options(cli_zoo, tmp_path):
    out = tmp_path / "result.json"
    result = run("eval", "iris-mlp-dl", "--n", 10, "--seed", 3, "--eps", 0.3, "--out", out)
    assert result.exit_code == 0, result.output
    written = json.loads(out.read_text())
    assert written["name"] == "iris-mlp-dl" and written["num_examples"] == 10
    assert "linf eps 0.3" in result.output
    assert set(written["attacks"]) == {"fgsm", "pgd20"}  # tables default to the standard preset


def test_eval_table_shows_the_paper_values(cli_zoo):
    result = run("eval", "iris-mlp-dl", "--n", 10)
    assert result.exit_code == 0, result.output
    assert "pgd20" in result.stdout and "12.0% (eps 0.1)" in result.stdout
    assert "Tables 8-11, row iris" in result.stdout
    assert zoo.card("iris-mlp-dl")["metrics"]["num_examples"] == 30  # no --update-card: card unchanged


def test_train_writes_a_fresh_entry(zoo_dir):
    result = run("train", "iris-mlp-dl", "--epochs", 1, "--train-examples", 32)
    assert result.exit_code == 0, result.output
    card = zoo.card("iris-mlp-dl")
    assert card["training"]["train_examples"] == 32 and card["metrics"] is None
    assert "hdl-zoo eval iris-mlp-dl --update-card" in result.stdout


def test_compare_side_by_side(cli_zoo):
    result = run("compare", "iris-mlp-dl", "iris-mlp-hdl")
    assert result.exit_code == 0
    header = next(line for line in result.stdout.splitlines() if "iris-mlp-hdl" in line)
    assert header.index("iris-mlp-dl") < header.index("iris-mlp-hdl")
    assert "paper pgd" in result.stdout and "12.0%" in result.stdout
    as_json = json.loads(run("compare", "iris-mlp-dl", "wine-mlp-dl", "--json").stdout)
    assert [entry["name"] for entry in as_json] == ["iris-mlp-dl", "wine-mlp-dl"]
    assert as_json[0]["reference"]["values"]["pgd"] == 0.12


@pytest.mark.parametrize(
    "args",
    [("card", "iris-mlp-dll"), ("eval", "iris-mlp-dll"), ("compare", "iris-mlp-dl", "iris-mlp-dll")],
)
def test_unknown_entry_suggests_close_names(cli_zoo, args):
    result = run(*args)
    assert result.exit_code == cli.EXIT_FAILURE
    assert "Unknown zoo entry 'iris-mlp-dll'. Did you mean 'iris-mlp-dl'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output


def test_unknown_recipe(zoo_dir):
    result = run("train", "iris-mlp-dll")
    assert result.exit_code == cli.EXIT_FAILURE
    assert "Unknown zoo recipe 'iris-mlp-dll'. Did you mean iris-mlp-dl" in result.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ("eval", "iris-mlp-dl", "--attacks", "strong"),
            "--attacks must be one of standard, bertsimas2023, full, autoattack. Received: 'strong'",
        ),
        (("eval", "iris-mlp-dl", "--n", 0), "--n must be an integer >= 1. Received: 0"),
        (
            ("eval", "iris-mlp-dl", "--eps", 0.2, "--update-card"),
            "--update-card writes the card's threat model: --eps must be the card's 0.1 or left out. Received: 0.2",
        ),
        (("eval", "iris-mlp-dl", "--batch-size", -5), "--batch-size must be an integer >= 1. Received: -5"),
        (("train", "iris-mlp-dl", "--epochs", 0), "--epochs must be an integer >= 1. Received: 0"),
    ],
)
def test_bad_option_values(cli_zoo, args, message):
    result = run(*args)
    assert result.exit_code == cli.EXIT_USAGE
    assert result.stderr.strip() == f"hdl-zoo: error: {message}"
    assert zoo.card("iris-mlp-dl")["training"]["epochs"] == 0  # nothing trained


def test_non_integer_option_is_a_usage_error(cli_zoo):
    result = run("eval", "iris-mlp-dl", "--n", "many")
    assert result.exit_code == 2
    assert result.stderr.startswith("hdl-zoo: error: argument --n: invalid int value: 'many'.")


def test_unknown_dataset_filter(cli_zoo):
    result = run("list", "--dataset", "imagenet")
    assert result.exit_code == cli.EXIT_FAILURE
    assert "Unknown dataset" in result.stderr and "imagenet" in result.stderr


def test_list_skips_a_broken_card_and_names_it(cli_zoo):
    (cli_zoo / "wine-mlp-dl" / "card.json").write_text('{"name": "wine-mlp-dl",')
    result = run("list", "--json")
    assert result.exit_code == 0
    assert [card["name"] for card in json.loads(result.stdout)] == ["iris-mlp-dl", "iris-mlp-hdl"]
    assert result.stderr.startswith("hdl-zoo: warning: Skipped the broken zoo entry 'wine-mlp-dl'")
    assert "card.json is not valid JSON (line 1" in result.stderr
    assert "Traceback" not in result.output and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("command", [("card", "wine-mlp-dl"), ("eval", "wine-mlp-dl")])
def test_unreadable_card(cli_zoo, command):
    (cli_zoo / "wine-mlp-dl" / "card.json").write_text('{"name": "wine-mlp-dl",')
    result = run(*command)
    assert result.exit_code == cli.EXIT_FAILURE
    assert "card.json is not valid JSON (line 1" in result.stderr
    assert "Traceback" not in result.output and len(result.stderr.strip().splitlines()) == 1


def test_main_is_the_console_entry_point(cli_zoo, monkeypatch, capsys):
    # The console script runs `sys.exit(main())` with the arguments in sys.argv.
    monkeypatch.setattr(sys, "argv", ["hdl-zoo", "list", "--json"])
    assert cli.main() == 0
    assert len(json.loads(capsys.readouterr().out)) == 3
