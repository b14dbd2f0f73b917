"""Every shipped zoo entry reproduces its card: clean and PGD-20 accuracy on 500 test points.

The card's numbers were measured by `hdl-zoo eval NAME --n 1000 --update-card` on the first
1000 test points (all of them for the small tables). Here the entry is re-evaluated on the
first 500 (or fewer) with the same attacks, through `hdl_keras.zoo.evaluation.evaluate_entry`.

Bound: the re-measured accuracy p_500 must lie within 4 binomial standard errors of a 500-point
estimate around the card's accuracy p, i.e. |p_500 - p| <= 4 * sqrt(p (1 - p) / n) + 1 / n
(the 1 / n term keeps the bound non-zero at p = 0 or 1). The two estimates share their first
500 points, so their difference varies less than two independent samples would: the bound is
generous for honest cards and still fails a card whose numbers were typed in or belong to
other weights.
"""

import math
import pathlib

import pytest

from hdl_keras import zoo
from hdl_keras.data.images import DatasetNotFoundError
from hdl_keras.zoo.evaluation import evaluate_entry

REAL_ZOO = pathlib.Path(__file__).resolve().parents[2] / "zoo"
REAL_ENTRIES = sorted(p.name for p in REAL_ZOO.iterdir() if (p / "card.json").is_file())
NUM_POINTS = 500


def within_sampling_error(measured, card_value, n):
    """True when `measured` is within 4 standard errors (plus 1/n) of `card_value`."""
    bound = 4 * math.sqrt(card_value * (1 - card_value) / n) + 1 / n
    return abs(measured - card_value) <= bound


def test_the_bound_rejects_a_card_far_from_the_measurement():
    assert within_sampling_error(0.90, 0.92, 500)
    assert not within_sampling_error(0.80, 0.92, 500)
    assert not within_sampling_error(0.05, 0.0, 500)


@pytest.mark.parametrize("name", REAL_ENTRIES)
def test_entry_reproduces_its_card_on_500_test_points(name, monkeypatch):
    monkeypatch.setenv("HDL_KERAS_ZOO_DIR", str(REAL_ZOO))
    card = zoo.card(name)
    if card["metrics"] is None:
        pytest.fail(f"{name} has no metrics: run `hdl-zoo eval {name} --update-card`")
    try:
        result = evaluate_entry(name, attacks="standard", n=NUM_POINTS, verbose=0)
    except DatasetNotFoundError as error:
        pytest.skip(f"dataset of {name} not installed here: {error}")
    n = result["num_examples"]
    expected = card["metrics"]
    assert within_sampling_error(result["clean_accuracy"], expected["clean_accuracy"], n), (
        result["clean_accuracy"],
        expected["clean_accuracy"],
        n,
    )
    assert within_sampling_error(result["attacks"]["pgd20"], expected["attacks"]["pgd20"], n), (
        result["attacks"]["pgd20"],
        expected["attacks"]["pgd20"],
        n,
    )
    assert result["attacks"]["pgd20"] <= result["clean_accuracy"]
