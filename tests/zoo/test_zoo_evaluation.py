"""Zoo evaluation: evaluate_entry on a tiny iris entry, sparsity statistics, update_card.

Load + evaluate, the sparsity statistics and update_card run on every backend
(`backend_suite`); the slower attack-preset variants on the default backend.
"""

import datetime
import json

import keras
import numpy as np
import pytest

from hdl_keras import zoo
from hdl_keras.data import input_bounds
from hdl_keras.experiments import prepare_data
from hdl_keras.layers import MaskedDense
from hdl_keras.measure import ZERO_CHANNEL_TOLERANCE
from hdl_keras.zoo.evaluation import attack_set
from hdl_keras.zoo.evaluation import default_preset
from hdl_keras.zoo.evaluation import evaluate_entry
from hdl_keras.zoo.evaluation import evaluation_data
from hdl_keras.zoo.evaluation import sparsity_statistics
from hdl_keras.zoo.evaluation import update_card
from hdl_keras.zoo.evaluation import wilson_interval

# iris: 150 rows, the protocol's fixed 20 % stratified test split.
IRIS_TEST_ROWS = 30


@pytest.fixture
def trained_iris_model():
    """A linear nearest-centroid classifier of iris: logits `2 mu_k . x - |mu_k|^2`.

    `mu_k` are the class means of the train+validation pool, so no test point
    is used and no training step is needed.
    """
    (x, y), _ = prepare_data("iris")
    return nearest_centroid(x, y)


@pytest.fixture
def iris_entry(make_entry, trained_iris_model):
    make_entry("iris-mlp-dl", model=trained_iris_model)
    return "iris-mlp-dl"


def nearest_centroid(x, y):
    """The nearest-centroid classifier of `(x, y)` as a Dense layer: logits `2 mu_k . x - |mu_k|^2`."""
    means = np.stack([x[y == label].mean(axis=0) for label in range(3)])
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    model.layers[0].set_weights([2 * means.T, -np.sum(means**2, axis=1)])
    return model


def test_paper_scaled_entry_is_evaluated_in_the_papers_units_unclipped(make_entry):
    # Bertsimas et al. (2023)'s units: standardised / 255, so eps 0.1 is 25.5 standard deviations.
    (x_pool, y_pool), _ = prepare_data("iris", scaling="paper")
    make_entry(
        "iris-mlp-dl",
        model=nearest_centroid(x_pool, y_pool),
        threat_model={"norm": "linf", "eps": 0.1, "scaling": "paper"},
    )
    assert default_preset("iris", "paper") == "bertsimas2023"
    result = evaluate_entry("iris-mlp-dl", attacks="bertsimas2023", verbose=0)
    x, y = evaluation_data("iris", 1000, scaling="paper")
    assert x.min() < 0.0  # standardised features: a [0, 1] clip would be wrong, the attack must not clip
    predicted = np.argmax(zoo.load("iris-mlp-dl").predict(x, verbose=0), axis=-1)
    assert result["clean_accuracy"] == pytest.approx(np.mean(predicted == y)) and result["clean_accuracy"] > 0.8
    assert set(result["attacks"]) == {"fgsm", "pgd20", "pgd40"}
    # 25 standard deviations break a linear model on every point.
    assert result["worst_case_accuracy"] <= min(result["attacks"].values()) <= 0.2
    attacks = attack_set(
        zoo.load("iris-mlp-dl"), 0.1, "bertsimas2023", images=False, bounds=input_bounds("iris", "paper")
    )
    assert attacks["pgd40"].bounds == (-np.inf, np.inf) and attacks["pgd40"].step_size == 0.01
    assert attacks["pgd40"].steps == 40


@pytest.mark.backend_suite
def test_loaded_entry_evaluates_with_robust_at_most_clean(iris_entry):
    result = evaluate_entry(iris_entry, verbose=0)
    x, y = evaluation_data("iris", 1000)
    predicted = np.argmax(zoo.load(iris_entry).predict(x, verbose=0), axis=-1)
    assert result["num_examples"] == IRIS_TEST_ROWS == len(y)
    assert result["clean_accuracy"] == pytest.approx(np.mean(predicted == y))
    assert result["clean_accuracy"] > 0.8  # nearest centroid separates iris well
    assert set(result["attacks"]) == {"fgsm", "pgd20"}
    for accuracy in result["attacks"].values():
        assert 0.0 <= result["worst_case_accuracy"] <= accuracy <= result["clean_accuracy"] <= 1.0
    assert result["stability"] is None
    assert result["zero_weights"] == 0.0 and result["zero_channels"] == 0.0
    assert result["bits_per_weight"] == 32
    # PGD-20 can climb the cross-entropy of this 3-class linear model to corners that keep the label
    # where FGSM flips it (2 of the 30 rows on tensorflow): flagged, so the worst case is reported.
    fgsm_stronger = result["attacks"]["fgsm"] < result["attacks"]["pgd20"]
    assert result["gradient_masking_flags"] == (["single_step_stronger"] if fgsm_stronger else [])


def test_first_n_points_and_same_result_for_the_same_seed(iris_entry):
    first = evaluate_entry(iris_entry, n=12, batch_size=6, verbose=0)
    again = evaluate_entry(iris_entry, n=12, batch_size=6, verbose=0)
    assert first["num_examples"] == 12
    assert first == again


def test_full_preset_adds_apgd_and_cw_but_not_square_on_tables(iris_entry):
    result = evaluate_entry(iris_entry, attacks="full", n=10, verbose=0)
    assert set(result["attacks"]) == {"fgsm", "pgd20", "apgd", "cw"}
    assert result["worst_case_accuracy"] <= min(result["attacks"].values())


def test_attack_set_full_on_images_includes_square():
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(), keras.layers.Dense(2)])
    attacks = attack_set(model, 0.1, "full", seed=0, images=True)
    assert list(attacks) == ["fgsm", "pgd20", "apgd", "cw", "square"]
    assert attacks["pgd20"].steps == 20 and attacks["pgd20"].step_size == pytest.approx(0.025)
    assert attacks["pgd20"].random_start
    assert all(attack.eps == pytest.approx(0.1) for attack in attacks.values())


def test_model_without_entry_needs_dataset_and_eps(trained_iris_model):
    model = trained_iris_model
    with pytest.raises(ValueError, match="dataset= and eps="):
        evaluate_entry(model, verbose=0)
    result = evaluate_entry(model, n=10, dataset="iris", eps=0.1, verbose=0)
    assert result["num_examples"] == 10


@pytest.mark.parametrize(
    "kwargs, match",
    [({"attacks": "strong"}, "attacks"), ({"n": 0}, "n"), ({"batch_size": -1}, "batch_size")],
)
def test_bad_arguments_are_value_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        evaluate_entry("iris-mlp-dl", verbose=0, **kwargs)


@pytest.mark.backend_suite
def test_sparsity_statistics_by_hand():
    # Dense 3 -> 2: kernel [[0, 1], [0, 2], [0, 0]] (4 zeros, unit 0 pruned);
    # Dense 2 -> 2: kernel [[1, 0], [0, 0]] (3 zeros, unit 1 pruned): 7 / 10 zeros, 2 / 4 channels.
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2), keras.layers.Dense(2)])
    model.layers[0].set_weights([np.array([[0, 1], [0, 2], [0, 0]], "float32"), np.ones(2, "float32")])
    model.layers[1].set_weights([np.array([[1, 0], [0, 0]], "float32"), np.ones(2, "float32")])
    zero_weights, zero_channels, bits = sparsity_statistics(model)
    assert zero_weights == pytest.approx(0.7)
    assert zero_channels == pytest.approx(0.5)
    assert bits == 32


@pytest.mark.backend_suite
def test_channel_threshold_and_masked_layers_count_pruned_kernels():
    model = keras.Sequential([keras.Input((2,)), MaskedDense(3)])
    layer = model.layers[0]
    layer.unmasked_kernel.assign(np.array([[1e-17, 1.0, 1.0], [0.0, 1.0, 1.0]], "float32"))
    # The gate of unit 2 is closed (s <= 0), the others open.
    layer.mask_logits.assign(np.array([[1.0, 1.0, -1.0], [1.0, 1.0, -1.0]], "float32"))
    zero_weights, zero_channels, _ = sparsity_statistics(model)
    assert 1e-17 < ZERO_CHANNEL_TOLERANCE
    assert zero_channels == pytest.approx(2 / 3)  # unit 0 (norm 1e-17) and unit 2 (gated)
    assert zero_weights == pytest.approx(3 / 6)  # the two gated entries and the exact 0


@pytest.mark.backend_suite
def test_update_card_writes_metrics_flags_and_evaluation(iris_entry, zoo_dir):
    result = evaluate_entry(iris_entry, n=10, verbose=0)
    written = update_card(iris_entry, result, "hdl-zoo eval iris-mlp-dl --n 10 --update-card")
    card = zoo.card(iris_entry)  # re-read and validated
    assert card == written
    assert card["metrics"] == {key: value for key, value in result.items() if key != "gradient_masking_flags"}
    assert card["gradient_masking_flags"] == result["gradient_masking_flags"]
    assert card["evaluation"] == {
        "command": "hdl-zoo eval iris-mlp-dl --n 10 --update-card",
        "date": datetime.date.today().isoformat(),
        "attacks": "standard",
        "backend": keras.backend.backend(),
    }
    assert sorted(path.name for path in (zoo_dir / iris_entry).iterdir()) == ["card.json", "model.keras"]


def test_update_card_infers_the_full_preset_and_keeps_flags(iris_entry):
    result = {
        "num_examples": 10,
        "clean_accuracy": 0.9,
        "attacks": {"fgsm": 0.8, "pgd20": 0.7, "apgd": 0.6, "cw": 0.65},
        "worst_case_accuracy": 0.6,
        "stability": None,
        "zero_weights": 0.0,
        "zero_channels": 0.0,
        "bits_per_weight": 32,
        "gradient_masking_flags": ["black_box_stronger"],
    }
    card = update_card(iris_entry, result, "hdl-zoo eval iris-mlp-dl --attacks full")
    assert card["evaluation"]["attacks"] == "full"
    assert zoo.card(iris_entry)["gradient_masking_flags"] == ["black_box_stronger"]


def test_invalid_result_leaves_the_card_unchanged(iris_entry, zoo_dir):
    path = zoo_dir / iris_entry / "card.json"
    before = path.read_text()
    result = {
        "num_examples": 10,
        "clean_accuracy": 1.5,
        "attacks": {"pgd20": 0.5},
        "worst_case_accuracy": 0.5,
        "gradient_masking_flags": [],
    }
    with pytest.raises(zoo.ZooError, match="clean_accuracy"):
        update_card(iris_entry, result, "hdl-zoo eval iris-mlp-dl")
    assert path.read_text() == before
    assert json.loads(before)["metrics"] is None


def test_wilson_interval_matches_known_values():
    assert wilson_interval(0.5, 100) == pytest.approx((0.4038, 0.5962), abs=1e-4)
    low, high = wilson_interval(0.0, 1000)
    assert low == pytest.approx(0.0, abs=1e-12) and high == pytest.approx(0.00383, abs=1e-5)


def test_autoattack_preset_is_for_images(iris_entry):
    with pytest.raises(ValueError, match="image entries"):
        evaluate_entry(iris_entry, attacks="autoattack", n=10, verbose=0)
    assert default_preset("iris") == "standard" and default_preset("mnist") == "autoattack"


def test_autoattack_preset_writes_robustbench_fields_into_a_valid_card(make_entry):
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((28, 28, 1)), keras.layers.AveragePooling2D(4), keras.layers.Flatten(), keras.layers.Dense(10)]
    )
    make_entry("mnist-small_cnn-dl", model=model)
    options = {"steps": 2, "n_queries": 10, "n_target_classes": 2}
    result = evaluate_entry("mnist-small_cnn-dl", attacks="autoattack", n=16, verbose=0, autoattack_options=options)
    auto = result["autoattack"]
    assert list(auto["per_attack"]) == ["apgd-ce", "apgd-t", "fab-t", "square"]
    assert auto["version"] == "standard" and auto["n"] == 16 and auto["number_forward_passes"] == 1
    assert auto["interval"][0] <= result["autoattack_acc"] <= auto["interval"][1]
    assert result["attacks"]["autoattack"] == result["autoattack_acc"]
    assert result["external"] == result["worst_case_accuracy"]
    assert result["worst_case_accuracy"] <= min(result["attacks"].values()) <= result["clean_accuracy"]
    assert result["unreliable"] == bool(set(result["gradient_masking_flags"]) - {"randomized_model"})
    assert 0.0 <= result["clean_acc"] <= 1.0
    card = update_card("mnist-small_cnn-dl", result, "hdl-zoo eval mnist-small_cnn-dl --n 16 --update-card")
    assert card["evaluation"]["attacks"] == "autoattack"
    assert zoo.card("mnist-small_cnn-dl")["metrics"]["autoattack_acc"] == result["autoattack_acc"]


def test_refresh_reference_takes_the_recipes_and_keeps_a_measured_cost(make_entry):
    from hdl_keras.recipes import zoo_cards
    from hdl_keras.recipes.zoo_entries import card_reference
    from hdl_keras.recipes.zoo_entries import get_recipe

    make_entry("iris-mlp-hdl", method="HDL")
    card = zoo_cards.refresh_reference("iris-mlp-hdl")
    assert card["reference"] == card_reference(get_recipe("iris-mlp-hdl")) == zoo.card("iris-mlp-hdl")["reference"]
    assert card["reference"]["paper_run"]["runs"] == 2400 and card["reference"]["tried"]
    cost = {"seconds_per_run": 12.5, "hours": 8.33, "measured_by": "python benchmarks/paper_compute.py: a log"}
    zoo_cards.set_paper_run_cost("iris-mlp-hdl", cost)
    again = zoo_cards.refresh_reference("iris-mlp-hdl")["reference"]["paper_run"]
    assert {key: again[key] for key in cost} == cost  # the paper run is unchanged, so is its cost


def test_a_paper_run_cost_without_its_command_is_refused_and_nothing_written(make_entry, zoo_dir):
    from hdl_keras.recipes import zoo_cards

    make_entry("iris-mlp-hdl", method="HDL")
    with pytest.raises(ValueError, match="no reference.paper_run: run refresh_reference"):
        zoo_cards.set_paper_run_cost("iris-mlp-hdl", {"hours": 1.0, "measured_by": "x"})
    zoo_cards.refresh_reference("iris-mlp-hdl")
    before = (zoo_dir / "iris-mlp-hdl" / "card.json").read_text()
    with pytest.raises(zoo.ZooError, match="measured_by"):
        zoo_cards.set_paper_run_cost("iris-mlp-hdl", {"hours": 1.0})
    assert (zoo_dir / "iris-mlp-hdl" / "card.json").read_text() == before
