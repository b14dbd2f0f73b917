"""Tables fit 80 and 120 columns without cutting a number; `compare` headers name every entry.

The tables are those of the shipped zoo (its cards, read as JSON); the
expected numbers are read from the same cards.
"""

import pytest
from hdl_keras.testing.cli import invoke
from hdl_keras_cli import cards
from hdl_keras_cli import zoo
from hdl_keras_cli.tables import bits
from hdl_keras_cli.tables import percent

MNIST = ["mnist-small_cnn-dl", "mnist-small_cnn-hdl", "mnist-small_cnn-pgd_at", "mnist-small_cnn-robust"]


def run(columns, *args):
    result = invoke(zoo.main, args, env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= columns
    assert "…" not in result.stdout
    return lines


@pytest.mark.parametrize("columns", [80, 120])
def test_list_shows_every_number_in_full(columns):
    lines = run(columns, "list")
    for card in cards.list_cards():
        row = next(line for line in lines if line.split() and line.split()[0] == card["name"])
        metrics = card["metrics"] or {}
        for key in ("clean_accuracy", "worst_case_accuracy", "zero_weights"):
            assert percent(metrics.get(key)) in row.split(), (key, row)


def test_list_drops_the_dataset_method_and_bits_columns_at_80_only():
    # The longest shipped name (44 characters) leaves no room for the bits at 80 columns.
    header = next(line for line in run(80, "list") if line.split()[:1] == ["name"])
    assert header.split() == ["name", "clean", "robust", "sparsity", "size"]
    header = next(line for line in run(120, "list") if line.split()[:1] == ["name"])
    assert header.split() == ["name", "dataset", "method", "clean", "robust", "sparsity", "bits", "size"]


def test_bits_per_weight_keep_three_significant_digits():
    # A 1-bit network with a float stem averages 1.1364... bits per weight.
    assert [bits(value) for value in (32, 1, 1.1364303178484108, None)] == ["32", "1", "1.14", "-"]


@pytest.mark.parametrize("columns", [80, 120])
def test_compare_headers_name_every_entry(columns):
    lines = run(columns, "compare", *MNIST)
    rule = next(index for index, line in enumerate(lines) if "───" in line)
    header_lines = [line.split() for line in lines[:rule] if line.strip()]
    assert all(len(tokens) == len(MNIST) for tokens in header_lines), header_lines
    headers = ["".join(tokens[column] for tokens in header_lines) for column in range(len(MNIST))]
    assert headers == MNIST
    assert len(header_lines) == (1 if columns == 120 else 3)
    clean = next(line for line in lines if line.split()[:1] == ["clean"]).split()[1:]
    assert clean == [percent(cards.card(name)["metrics"]["clean_accuracy"]) for name in MNIST]


def test_compare_cites_the_papers_below_the_table():
    lines = run(80, "compare", *MNIST)
    references = next(line for line in lines if line.split()[:2] == ["paper", "source"]).split()[2:]
    assert references == ["[1]", "[1]", "[2]", "[1]"]  # pgd_at cites another paper than the HDL entries
    assert any(line.startswith("[1] Bertsimas et al. (2023)") for line in lines)
