"""Zoo registry: card schema, names and suggestions, listing, zoo_root, load, the real zoo."""

import copy
import json
import pathlib

import keras
import numpy as np
import pytest

from hdl_keras import zoo
from hdl_keras.layers import MaskedDense
from hdl_keras.objectives import AdversarialModel
from hdl_keras.objectives import PGDAdversarialTraining
from hdl_keras.zoo.download import sha256_file
from hdl_keras.zoo.registry import SCHEMA_PATH

REAL_ZOO = pathlib.Path(__file__).resolve().parents[2] / "zoo"
REAL_ENTRIES = sorted(p.name for p in REAL_ZOO.iterdir() if (p / "card.json").is_file())

GOOD_CARD = {
    "name": "mnist-small_cnn-hdl",
    "dataset": "mnist",
    "architecture": "small_cnn",
    "parameters": 123456,
    "method": {"name": "HDL", "objective": "robust+stable+sparse", "hyperparameters": {"rho": 0.1}},
    "threat_model": {"norm": "linf", "eps": 0.1},
    "training": {
        "recipe": "mnist-small_cnn-hdl",
        "command": "hdl-zoo train mnist-small_cnn-hdl",
        "epochs": 3,
        "train_examples": 10000,
        "backend": "tensorflow",
        "hardware": "2-core CPU",
        "wall_time_seconds": 321.0,
        "reduced": "10000 training images, 3 epochs (paper: 50 epochs, all images)",
    },
    "metrics": {
        "num_examples": 1000,
        "clean_accuracy": 0.98,
        "attacks": {"fgsm": 0.9, "pgd20": 0.85},
        "worst_case_accuracy": 0.85,
        "stability": None,
        "zero_weights": 0.0,
        "zero_channels": 0.0,
        "bits_per_weight": 32,
    },
    "gradient_masking_flags": [],
    "file": "model.keras",
    "file_size_bytes": 1234,
    "sha256": "0123456789abcdef" * 4,
    "reference": {
        "paper": "Bertsimas et al. (2023), Holistic Deep Learning",
        "table": "Table 3",
        "figure": None,
        "values": {"clean_accuracy": 0.99, "pgd": 0.79},
    },
    "evaluation": {
        "command": "hdl-zoo eval mnist-small_cnn-hdl --attacks standard --n 1000 --update-card",
        "date": "2026-11-25",
        "attacks": "standard",
        "backend": "tensorflow",
    },
}


DELETE = object()


def _edited(path, value):
    """GOOD_CARD with the field at `path` (keys joined by '/') set to `value` (or removed: DELETE)."""
    card = copy.deepcopy(GOOD_CARD)
    *parents, last = path.split("/")
    target = card
    for key in parents:
        target = target[key]
    if value is DELETE:
        del target[last]
    else:
        target[last] = value
    return card


# --- schema and validation -------------------------------------------------------------


def test_good_card_validates_and_so_do_null_metrics_and_evaluation():
    zoo.validate_card(GOOD_CARD)
    zoo.validate_card(_edited("metrics", None))
    zoo.validate_card(_edited("evaluation", None))


def test_schema_requires_exactly_the_interface_keys():
    schema = json.loads(SCHEMA_PATH.read_text())
    assert set(schema["required"]) == {
        "name",
        "dataset",
        "architecture",
        "parameters",
        "method",
        "threat_model",
        "training",
        "metrics",
        "file",
        "file_size_bytes",
        "sha256",
        "reference",
        "evaluation",
        "gradient_masking_flags",
    }
    assert set(schema["required"]) == set(GOOD_CARD)


@pytest.mark.parametrize("key", sorted(GOOD_CARD))
def test_missing_top_level_key_is_rejected_by_name(key):
    with pytest.raises(zoo.ZooError, match=f"'{key}' is a required property"):
        zoo.validate_card(_edited(key, DELETE))


@pytest.mark.parametrize(
    "path, value, where",
    [
        ("notes", "hand-written", r"at \(top level\): Additional properties are not allowed \('notes'"),
        ("sha256", "ABCDEF" + "0" * 58, "at sha256"),
        ("sha256", "0" * 63, "at sha256"),
        ("name", "MNIST-small_cnn-hdl", "at name"),
        ("name", "mnist-small_cnn", "at name"),
        ("parameters", 0, "at parameters"),
        ("parameters", 12.5, "at parameters"),
        ("file", "../model.keras", "at file"),
        ("file", "model.weights.h5", "at file"),
        ("threat_model/norm", "linf2", "at threat_model/norm"),
        ("threat_model/eps", -0.1, "at threat_model/eps"),
        ("metrics/clean_accuracy", 1.5, "at metrics/clean_accuracy"),
        ("metrics/attacks", {"pgd20": "85%"}, "at metrics/attacks/pgd20"),
        ("metrics/clean_accuracy", DELETE, "at metrics: 'clean_accuracy' is a required property"),
        ("metrics/clean_acc", 0.99, "at metrics: 'clean_acc_examples' is a dependency of 'clean_acc'"),
        ("training/backend", "theano", "at training/backend"),
        ("training/command", DELETE, "at training: 'command' is a required property"),
        ("evaluation/date", "25/11/2026", "at evaluation/date"),
        ("gradient_masking_flags", ["eps_sweep_flat", "eps_sweep_flat"], "at gradient_masking_flags"),
        ("reference/values", {"pgd": "79"}, "at reference/values/pgd"),
    ],
)
def test_bad_field_is_rejected_naming_where(path, value, where):
    with pytest.raises(zoo.ZooError, match=where) as info:
        zoo.validate_card(_edited(path, value), source="some/card.json")
    message = str(info.value)
    assert message.startswith("some/card.json: invalid zoo card")
    assert "card.schema.json" in message


@pytest.mark.parametrize(
    "card, where",
    [
        (
            {**GOOD_CARD, "dataset": "imagenet", "name": "imagenet-small_cnn-hdl"},
            "at dataset: 'imagenet'",
        ),
        (
            {**GOOD_CARD, "architecture": "resnet18", "name": "mnist-resnet18-hdl"},
            "at architecture: 'resnet18'",
        ),
        ({**GOOD_CARD, "name": "fashion_mnist-small_cnn-hdl"}, "at name: .*'mnist-small_cnn-'"),
    ],
)
def test_card_must_agree_with_the_registries_and_its_name(card, where):
    with pytest.raises(zoo.ZooError, match=where):
        zoo.validate_card(card)


def test_non_dict_card_is_rejected():
    with pytest.raises(zoo.ZooError, match="is not of type 'object'"):
        zoo.validate_card(["not", "a", "card"])


def test_invalid_card_file_is_named_in_the_error(tiny_zoo):
    path = tiny_zoo / "wine-mlp-dl" / "card.json"
    card = json.loads(path.read_text())
    card["sha256"] = "not-a-hash"
    path.write_text(json.dumps(card))
    with pytest.raises(zoo.ZooError, match=r"wine-mlp-dl.card\.json: invalid zoo card at sha256"):
        zoo.list_entries()
    with pytest.raises(zoo.ZooError, match="at sha256"):
        zoo.card("wine-mlp-dl")


def test_unparsable_card_gives_line_and_column(tiny_zoo):
    (tiny_zoo / "iris-mlp-dl" / "card.json").write_text('{"name": "iris-mlp-dl",\n  oops}')
    with pytest.raises(zoo.ZooError, match=r"card\.json is not valid JSON \(line 2, column 3"):
        zoo.card("iris-mlp-dl")


def test_card_name_must_equal_its_folder(tiny_zoo):
    (tiny_zoo / "iris-mlp-dl").rename(tiny_zoo / "iris-mlp-robust")
    with pytest.raises(zoo.ZooError, match="name 'iris-mlp-dl' differs from its folder 'iris-mlp-robust'"):
        zoo.card("iris-mlp-robust")


def test_unreadable_card_is_a_zoo_error(tiny_zoo):
    (tiny_zoo / "iris-mlp-dl" / "card.json").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(zoo.ZooError, match="Cannot read zoo card .*iris-mlp-dl"):
        zoo.card("iris-mlp-dl")


# --- names, listing, zoo_root -----------------------------------------------------------


def test_card_returns_the_written_card_as_a_fresh_copy(tiny_zoo):
    card = zoo.card("iris-mlp-hdl")
    assert card == json.loads((tiny_zoo / "iris-mlp-hdl" / "card.json").read_text())
    card["method"]["name"] = "changed"
    assert zoo.card("iris-mlp-hdl")["method"]["name"] == "HDL"


def test_unknown_name_suggests_close_matches(tiny_zoo):
    with pytest.raises(zoo.UnknownEntryError) as info:
        zoo.card("iris-mlp-hld")
    error = info.value
    assert isinstance(error, KeyError) and isinstance(error, zoo.ZooError)
    assert error.name == "iris-mlp-hld"
    assert error.suggestions[0] == "iris-mlp-hdl"
    assert "wine-mlp-dl" not in error.suggestions
    assert str(error).startswith("Unknown zoo entry 'iris-mlp-hld'. Did you mean 'iris-mlp-hdl'")
    assert "3 entries" in str(error) and "hdl-zoo list" in str(error)


def test_unknown_name_suggests_entries_containing_it(tiny_zoo):
    with pytest.raises(zoo.UnknownEntryError) as info:
        zoo.entry_path("wine")
    assert info.value.suggestions == ["wine-mlp-dl"]


def test_unrelated_name_gets_no_suggestion(tiny_zoo):
    with pytest.raises(zoo.UnknownEntryError, match=r"Unknown zoo entry 'cifar10-vgg16-xyz'\. The zoo"):
        zoo.load("cifar10-vgg16-xyz")


def test_unknown_name_in_a_one_entry_zoo(make_entry):
    make_entry("iris-mlp-dl")
    with pytest.raises(zoo.UnknownEntryError, match="The zoo holds 1 entry: list them"):
        zoo.card("iris-mlp-robust")


@pytest.mark.parametrize("name", ["../iris-mlp-dl", "iris-mlp-dl/card.json", ""])
def test_paths_are_not_entry_names(tiny_zoo, name):
    with pytest.raises(zoo.UnknownEntryError):
        zoo.card(name)


def test_non_string_name_is_a_value_error(tiny_zoo):
    with pytest.raises(ValueError, match="Received: name=3"):
        zoo.card(3)


def test_list_entries_sorted_and_filtered(tiny_zoo):
    (tiny_zoo / "README.md").write_text("not an entry")
    (tiny_zoo / "half-written-entry").mkdir()

    def names(**filters):
        return [c["name"] for c in zoo.list_entries(**filters)]

    assert names() == ["iris-mlp-dl", "iris-mlp-hdl", "wine-mlp-dl"]
    assert names(dataset="iris") == ["iris-mlp-dl", "iris-mlp-hdl"]
    assert names(method="hdl") == ["iris-mlp-hdl"]
    assert names(method="DL") == ["iris-mlp-dl", "wine-mlp-dl"]
    assert names(dataset="wine", method="dl") == ["wine-mlp-dl"]
    assert names(dataset="cifar10") == []
    assert names(method="trades") == []


def test_method_filter_matches_card_method_or_name_part(make_entry):
    make_entry("mnist-mlp-pgd_at", method="PGD-AT")
    assert [c["name"] for c in zoo.list_entries(method="pgd-at")] == ["mnist-mlp-pgd_at"]
    assert [c["name"] for c in zoo.list_entries(method="PGD_AT")] == ["mnist-mlp-pgd_at"]


@pytest.mark.parametrize(
    "filters, match",
    [({"dataset": "imagenet"}, "Received: dataset='imagenet'"), ({"method": 1}, "Received: method=1")],
)
def test_bad_filters_are_value_errors(tiny_zoo, filters, match):
    with pytest.raises(ValueError, match=match):
        zoo.list_entries(**filters)


def test_zoo_root_honours_the_environment(zoo_dir, monkeypatch, tmp_path):
    assert zoo.zoo_root() == zoo_dir
    assert zoo.list_entries() == []
    monkeypatch.setenv("HDL_KERAS_ZOO_DIR", str(tmp_path / "missing"))
    with pytest.raises(zoo.ZooError, match="HDL_KERAS_ZOO_DIR=.*missing.* is not a folder"):
        zoo.list_entries()


def test_zoo_root_defaults_to_the_checkout_zoo(monkeypatch):
    monkeypatch.delenv("HDL_KERAS_ZOO_DIR", raising=False)
    assert zoo.zoo_root() == REAL_ZOO


# --- load -------------------------------------------------------------------------------


@pytest.mark.backend_suite
def test_load_shipped_entry_predicts_like_the_saved_model(make_entry, build_tiny_model, iris_batch):
    x, y = iris_batch
    model = build_tiny_model()
    make_entry("iris-mlp-dl", model=model)
    loaded = zoo.load("iris-mlp-dl")
    expected = keras.ops.convert_to_numpy(model(x))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded.predict(x, verbose=0)), expected, atol=1e-6)
    assert any(isinstance(layer, MaskedDense) for layer in loaded.layers)
    assert loaded.compiled
    loss, accuracy = loaded.evaluate(x, y, verbose=0)
    assert accuracy == pytest.approx(np.mean(expected.argmax(axis=1) == y))
    logits = expected - expected.max(axis=1, keepdims=True)
    log_softmax = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    assert loss == pytest.approx(-np.mean(log_softmax[np.arange(len(y)), y]), rel=1e-5)


@pytest.mark.backend_suite
def test_load_unwraps_a_training_wrapper(make_entry, build_tiny_model, iris_batch):
    x, y = iris_batch

    def pgd_at(inputs, outputs, name):
        return PGDAdversarialTraining(inputs, outputs, eps=0.1, step_size=0.05, steps=2, name=name)

    wrapped = build_tiny_model(pgd_at)
    make_entry("iris-mlp-pgd_at", model=wrapped, method="PGD-AT")
    assert isinstance(keras.saving.load_model(zoo.entry_path("iris-mlp-pgd_at")), PGDAdversarialTraining)
    loaded = zoo.load("iris-mlp-pgd_at")
    assert not isinstance(loaded, AdversarialModel)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(loaded.predict(x, verbose=0)),
        keras.ops.convert_to_numpy(wrapped(x)),
        atol=1e-6,
    )
    assert len(loaded.evaluate(x, y, verbose=0)) == 2


def test_unloadable_file_is_a_zoo_error(make_entry):
    card, _ = make_entry("iris-mlp-dl")
    folder = zoo.zoo_root() / "iris-mlp-dl"
    (folder / "model.keras").write_bytes(b"not a zip archive")
    card.update(file_size_bytes=17, sha256=sha256_file(folder / "model.keras"))
    (folder / "card.json").write_text(json.dumps(card))
    with pytest.raises(zoo.ZooError, match="Keras could not load zoo entry 'iris-mlp-dl'"):
        zoo.load("iris-mlp-dl")


# --- the repository's zoo --------------------------------------------------------------


@pytest.mark.parametrize("name", REAL_ENTRIES)
def test_real_card_validates_and_its_file_matches(name, monkeypatch):
    monkeypatch.setenv("HDL_KERAS_ZOO_DIR", str(REAL_ZOO))
    card = zoo.card(name)
    shipped = REAL_ZOO / name / card["file"]
    assert shipped.is_file(), f"{shipped} is missing"
    assert shipped.stat().st_size == card["file_size_bytes"]
    assert sha256_file(shipped) == card["sha256"]


@pytest.mark.backend_suite
@pytest.mark.parametrize("name", REAL_ENTRIES)
def test_real_entry_loads_with_its_card_parameter_count(name, monkeypatch):
    monkeypatch.setenv("HDL_KERAS_ZOO_DIR", str(REAL_ZOO))
    model = zoo.load(name)
    assert model.count_params() == zoo.card(name)["parameters"]
