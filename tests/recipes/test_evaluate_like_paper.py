"""evaluate_like_paper: every column of the papers' tables, bounded by the natural accuracy."""

import keras
import numpy as np
import pytest

from hdl_keras.layers import ResidualNoise
from hdl_keras.models import small_cnn
from hdl_keras.recipes import PAPER_TARGETS
from hdl_keras.recipes import evaluate_like_paper
from hdl_keras.recipes import paper_table_markdown

pytestmark = pytest.mark.backend_suite

BUDGET = {"eot_samples": 2, "eot_steps": 2, "nattack_examples": 4, "nattack_population": 8, "nattack_iterations": 2}


def noisy_model():
    """A tiny randomized classifier: noise on at inference, as in the EnResNets."""
    inputs = keras.Input((8, 8, 1))
    hidden = keras.layers.Dense(16, activation="relu")(keras.layers.Flatten()(inputs))
    hidden = ResidualNoise(0.5, seed=0)(hidden)
    return keras.Model(inputs, keras.layers.Dense(10)(hidden))


def data(n=12, shape=(8, 8, 1)):
    rng = np.random.default_rng(0)
    return rng.random((n, *shape)).astype("float32"), rng.integers(0, 10, n)


@pytest.mark.parametrize("randomized", [False, True])
def test_every_attack_is_at_most_the_natural_accuracy(randomized):
    model = noisy_model() if randomized else small_cnn((8, 8, 1), filters=(4,), dense_units=8)
    x, y = data()
    # Predicted labels make the natural accuracy high enough for the bounds to mean something.
    y = np.argmax(keras.ops.convert_to_numpy(model(x)), axis=1)
    result = evaluate_like_paper(model, x, y, "fashion_mnist", **BUDGET)
    accuracy = result["accuracy"]
    assert set(accuracy) == {
        "natural",
        "fgsm",
        "ifgsm20",
        "cw",
        "eot_pgd",
        "worst_case",
        "nattack",
        "nattack_natural",
        "nattack_ifgsm20",
    }
    for name in ("fgsm", "ifgsm20", "cw", "eot_pgd", "worst_case"):
        assert 0.0 <= accuracy[name] <= accuracy["natural"], name
    assert accuracy["worst_case"] <= min(accuracy[n] for n in ("fgsm", "ifgsm20", "cw", "eot_pgd"))
    assert accuracy["nattack"] <= accuracy["nattack_natural"]
    assert result["num_examples"] == 12 and result["nattack_examples"] == 4
    assert result["settings"]["eps"] == pytest.approx(8 / 255)
    assert result["randomized"] is randomized
    assert ("randomized_model" in result["flags"]) is randomized
    markdown = paper_table_markdown(result, "test run")
    assert "| 92.74 | 89.35 | 88.68 | 91.72 |" in markdown


def test_nattack_can_be_skipped_and_arguments_are_checked():
    model = small_cnn((8, 8, 1), filters=(4,), dense_units=8)
    x, y = data(4)
    result = evaluate_like_paper(model, x, y, "mnist", eot_samples=1, eot_steps=1, nattack_examples=0)
    assert "nattack" not in result["accuracy"] and result["nattack_examples"] == 0
    assert set(PAPER_TARGETS) == {"mnist", "fashion_mnist"}
    with pytest.raises(ValueError, match="dataset"):
        evaluate_like_paper(model, x, y, "imagenet")
    with pytest.raises(ValueError, match="eot_samples"):
        evaluate_like_paper(model, x, y, "mnist", eot_samples=0)
