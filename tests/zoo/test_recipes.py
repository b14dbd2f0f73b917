"""Zoo recipes: the recipe table, and train_entry with tiny overrides into a temporary zoo."""

import dataclasses
import json
import re
from pathlib import Path

import keras
import numpy as np
import pytest

from hdl_keras import data
from hdl_keras import models
from hdl_keras import zoo
from hdl_keras.layers import MaskedKernelMixin
from hdl_keras.measure import weight_statistics
from hdl_keras.objectives import AdversarialModel
from hdl_keras.objectives import HolisticModel
from hdl_keras.zoo import recipes
from hdl_keras.zoo.download import sha256_file
from hdl_keras.zoo.recipes import RECIPES
from hdl_keras.zoo.recipes import train_entry

TABLES = ("iris", "wine", "breast_cancer", "digits")
IMAGES = ("mnist", "fashion_mnist")
FAST_AT_EPS = {"mnist": 16 / 255, "fashion_mnist": 8 / 255}
REPOSITORY = Path(__file__).resolve().parents[2]


def test_recipe_table_covers_tables_and_images():
    expected = {f"{d}-mlp-{m}" for d in TABLES for m in ("dl", "hdl")}
    expected |= {f"{d}-small_cnn-{m}" for d in IMAGES for m in ("dl", "robust", "hdl", "pgd_at", "binaryrelax")}
    expected.add("mnist-tiny_cnn-binaryrelax")  # the deployable 1-bit entry (about 10 KB)
    expected |= {f"{d}-small_cnn-robust_sparse_binary" for d in IMAGES}  # robust + channel-sparse + 1-bit
    expected |= {f"{d}-small_cnn-tradeoff" for d in IMAGES}  # the float twins of the BinaryRelax entries
    assert set(RECIPES) == expected
    assert len(RECIPES) >= 23


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_shipped_card_was_trained_by_its_recipe(name):
    # A recipe changed without retraining (or a variant shipped without its recipe) would make
    # `hdl-zoo train NAME` produce something other than the card describes.
    card = json.loads((REPOSITORY / "zoo" / name / "card.json").read_text())
    recipe = RECIPES[name]
    assert card["method"]["hyperparameters"] == recipe.hyperparameters
    assert card["method"]["objective"] == recipe.objective
    training = card["training"]
    assert training["command"] == f"hdl-zoo train {name}"
    assert (training["epochs"], training["reduced"]) == (recipe.epochs, recipe.reduced)


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_recipe_is_consistent(name):
    recipe = RECIPES[name]
    assert recipe.name == name
    assert re.fullmatch(r"[a-z0-9_]+-[a-z0-9_]+-[a-z0-9_]+", name)
    assert name.startswith(f"{recipe.dataset}-{recipe.architecture}-")
    assert recipe.dataset in data.available_datasets()
    assert recipe.architecture in models.available_models()
    assert recipe.epochs >= 1 and recipe.batch_size >= 1
    if recipe.method == "PGD-AT":  # fast AT on all training images, at the papers' radii
        assert recipe.threat_model == {"norm": "linf", "eps": FAST_AT_EPS[recipe.dataset], "scaling": "minmax"}
        assert recipe.reduced is None and recipe.train_examples is None
        return
    if recipe.method == "RobustSparseBinary":  # no paper composes them: compared with the zoo's float entries
        assert recipe.threat_model == {"norm": "linf", "eps": FAST_AT_EPS[recipe.dataset], "scaling": "minmax"}
        hyper = recipe.hyperparameters
        assert 0 < hyper["channel_sparsity"] < 1 and hyper["bits"] == 1
        assert 1 < hyper["switch_epoch"] <= recipe.epochs and hyper["sparsify_epochs"] >= 1
        return
    if recipe.architecture == "tiny_cnn":  # no paper trains it: the report's row at its radius, 16/255
        assert recipe.reduced is None and recipe.threat_model["eps"] == recipe.reference["values"]["eps"]
        assert recipe.threat_model["eps"] == pytest.approx(16 / 255)
        return
    assert recipe.reduced  # every other recipe departs from its paper's setting and says how
    assert set(recipe.reference) == {"paper", "table", "figure", "values"}
    for key, value in recipe.reference["values"].items():
        assert 0.0 <= value <= 1.0, (key, value)
    hyper = recipe.hyperparameters
    if recipe.dataset in IMAGES:
        # All training images less a validation split; the threat model is the paper's radius
        # (Bertsimas et al. 2023: Table 3 MNIST rho 0.1, Table 2 Fashion-MNIST rho 0.01).
        eps = recipe.reference["values"]["eps"]
        assert recipe.threat_model == {"norm": "linf", "eps": eps, "scaling": "minmax"}
        assert recipe.train_examples is None and hyper["validation_examples"] > 0
        if recipe.method in ("BinaryRelax", "TradeOff"):  # Li, Wang and Xin (2020): trade-off loss, 8/255
            assert eps == pytest.approx(8 / 255) and (hyper["alpha"], hyper["beta"]) == (1.0, 8.0)
        if recipe.method == "BinaryRelax":
            assert 1 < hyper["switch_epoch"] <= recipe.epochs and hyper["bits"] == 1
        if recipe.method == "TradeOff":  # the float twin: the same training, no quantizer
            twin = RECIPES[name.replace("tradeoff", "binaryrelax")]
            assert (recipe.epochs, recipe.batch_size) == (twin.epochs, twin.batch_size)
            assert "kernel_quantizer" not in hyper
            # Only the peak rate and the shifts may differ: 1-bit kernels can need a lower rate, and
            # did worse with the shifts (Fashion-MNIST).
            shared = set(hyper) - {"lr", "selection_attack", "augment"}
            assert {key: hyper[key] for key in shared} == {key: twin.hyperparameters[key] for key in shared}
            assert "float" in recipe.reference["table"]
        if recipe.method in ("Robust", "HDL"):
            assert hyper["rho"] == eps and hyper["robust_top_k"] == 2
    else:  # the tables at the paper's setting: its units, 150 epochs, 5 rounds
        assert recipe.threat_model == {"norm": "linf", "eps": 0.1, "scaling": "paper"}
        assert recipe.train_examples is None and recipe.epochs == 150
    if recipe.method == "HDL":
        # Images: one annealing round + the fixed-mask round; tables: the paper's 5 rounds.
        rounds = 2 if recipe.dataset in IMAGES else 5
        assert (hyper["rounds"], hyper["beta_bar"]) == (rounds, 200.0)


@pytest.mark.parametrize("dataset", TABLES)
def test_table_hdl_configuration_is_the_grid_search_choice(dataset):
    # The rank selection of `bash docs/results/run.sh paper_scaling`, on validation splits only.
    results = json.loads((REPOSITORY / "docs" / "results" / "paper_scaling" / dataset / "results.json").read_text())
    assert results["settings"]["scaling"] == "paper"
    chosen = results["selections"]["rank"]["HDL"]["config"]
    hyper = RECIPES[f"{dataset}-mlp-hdl"].hyperparameters
    assert {key: hyper[key] for key in chosen} == chosen
    assert results["settings"]["epochs"] == RECIPES[f"{dataset}-mlp-hdl"].epochs
    assert results["settings"]["rounds"] == hyper["rounds"]


def test_reference_values_match_the_papers():
    # Bertsimas et al. (2023), Table 3 (MNIST, HDL column) and Table 9, row iris (HDL adversarial accuracy).
    mnist_hdl = RECIPES["mnist-small_cnn-hdl"].reference
    assert mnist_hdl["table"].startswith("Table 3")
    assert mnist_hdl["values"]["clean_accuracy"] == pytest.approx(0.993)
    assert mnist_hdl["values"]["pgd"] == pytest.approx(0.760)
    assert RECIPES["iris-mlp-hdl"].reference["values"]["pgd"] == pytest.approx(0.3267)
    # Fashion-MNIST's adversarial column of Bertsimas et al. (2023) is at rho = 0.01, not our 0.1.
    assert RECIPES["fashion_mnist-small_cnn-dl"].reference["values"]["eps"] == 0.01
    # The training-techniques report: PGD adversarial training on MNIST; it has no Fashion-MNIST setting.
    assert (
        RECIPES["mnist-small_cnn-pgd_at"]
        .reference["paper"]
        .startswith("Investigating the Effects of Training Techniques")
    )
    assert RECIPES["fashion_mnist-small_cnn-pgd_at"].reference["values"] == {}


@pytest.mark.parametrize("dataset", IMAGES)
def test_pgd_at_recipes_are_fast_at_at_the_threat_radius(dataset):
    recipe = RECIPES[f"{dataset}-small_cnn-pgd_at"]
    hyper = recipe.hyperparameters
    eps = FAST_AT_EPS[dataset]
    assert (hyper["eps"], hyper["steps"], hyper["random_start"]) == (eps, 1, True)
    training_eps = hyper.get("train_eps", eps)  # a larger training radius; selection stays at eps
    assert training_eps >= eps
    assert hyper["step_size"] == pytest.approx(1.25 * training_eps)  # Wong et al. 2020's FGSM step
    assert ("train_eps" in hyper) == ("train_eps" in recipe.objective)
    assert hyper["schedule"] == "one_cycle" and hyper["validation_examples"] == 6000
    assert "FGSM" in recipe.objective and "Wong" in recipe.objective


def test_validation_split_is_stratified_disjoint_and_complete():
    y = np.repeat(np.arange(10), 100)
    x = np.arange(1000, dtype="float32").reshape(1000, 1)
    (x_train, y_train), (x_val, y_val) = recipes.validation_split(x, y, 200)
    assert len(y_val) == 200 and len(y_train) == 800
    assert np.bincount(y_val).tolist() == [20] * 10
    assert sorted(np.concatenate([x_train, x_val]).ravel().tolist()) == x.ravel().tolist()
    assert np.array_equal(recipes.validation_split(x, y, 200)[1][0], x_val)  # seeded


def test_the_training_module_reexports_the_catalogue():
    from hdl_keras.recipes import zoo_catalogue
    from hdl_keras.recipes import zoo_entries

    for name in ("ENTRY_RECIPES", "THREAT_MODEL", "ZooRecipe", "get_recipe"):
        assert getattr(zoo_entries, name) is getattr(zoo_catalogue, name), name
        assert name in zoo_entries.__all__
    assert zoo_entries.get_recipe("iris-mlp-hdl") is zoo_catalogue.ENTRY_RECIPES["iris-mlp-hdl"]


def test_unknown_recipe_suggests_close_names():
    with pytest.raises(zoo.UnknownEntryError, match="iris-mlp-hdl") as info:
        recipes.get_recipe("iris-mlp-hld")
    assert "iris-mlp-hdl" in info.value.suggestions


@pytest.mark.parametrize("kwargs", [{"epochs": 0}, {"train_examples": -3}, {"epochs": 1.5}])
def test_bad_overrides_are_value_errors(kwargs, zoo_dir):
    with pytest.raises(ValueError, match="Expected an int >= 1"):
        train_entry("iris-mlp-dl", **kwargs)


@pytest.mark.backend_suite
def test_tiny_hdl_run_writes_a_valid_pruned_entry(zoo_dir):
    card = train_entry("iris-mlp-hdl", epochs=1, train_examples=64, verbose=0)
    folder = zoo_dir / "iris-mlp-hdl"
    assert sorted(path.name for path in folder.iterdir()) == ["card.json", "model.keras"]
    assert zoo.card("iris-mlp-hdl") == card  # validated against the schema on reading
    assert card["sha256"] == sha256_file(folder / "model.keras")
    assert card["file_size_bytes"] == (folder / "model.keras").stat().st_size
    assert card["metrics"] is None and card["evaluation"] is None
    training = card["training"]
    assert training["command"] == "hdl-zoo train iris-mlp-hdl --epochs 1 --train-examples 64"
    assert (training["epochs"], training["train_examples"]) == (1, 64)
    assert training["backend"] == keras.backend.backend()
    assert "overridden run" in training["reduced"]
    model = keras.saving.load_model(zoo.entry_path("iris-mlp-hdl"), compile=False)
    assert not isinstance(model, HolisticModel)
    assert not any(isinstance(layer, MaskedKernelMixin) for layer in model._flatten_layers())
    assert card["parameters"] == model.count_params() == 4 * 128 + 128 + 128 * 128 + 128 + 128 * 3 + 3
    assert model.predict(np.zeros((2, 4), "float32"), verbose=0).shape == (2, 3)


def test_train_examples_above_the_pool_use_the_whole_pool(zoo_dir):
    card = train_entry("iris-mlp-dl", epochs=1, train_examples=256, verbose=0)
    assert card["training"]["train_examples"] == 120  # iris: 150 rows, 30 held out for testing


def test_a_retrained_entry_keeps_the_measured_cost_of_an_unchanged_paper_run(zoo_dir, monkeypatch):
    from hdl_keras.recipes import zoo_cards

    train_entry("iris-mlp-dl", epochs=1, verbose=0)
    cost = {"seconds_per_run": 2.5, "hours": 0.07, "measured_by": "python benchmarks/paper_compute.py: a log"}
    zoo_cards.set_paper_run_cost("iris-mlp-dl", cost)
    run = train_entry("iris-mlp-dl", epochs=1, verbose=0)["reference"]["paper_run"]
    assert {key: run[key] for key in cost} == cost
    changed = dataclasses.replace(RECIPES["iris-mlp-dl"], paper_run={**RECIPES["iris-mlp-dl"].paper_run, "epochs": 7})
    monkeypatch.setitem(RECIPES, "iris-mlp-dl", changed)
    run = train_entry("iris-mlp-dl", epochs=1, verbose=0)["reference"]["paper_run"]
    assert run["epochs"] == 7 and not set(cost) & set(run)  # another run: its cost is not known
    (zoo_dir / "iris-mlp-dl" / "card.json").write_text("{damaged")
    assert train_entry("iris-mlp-dl", epochs=1, verbose=0) == zoo.card("iris-mlp-dl")  # replaced, not a crash


def test_failed_run_keeps_the_existing_entry(zoo_dir, monkeypatch):
    train_entry("iris-mlp-dl", epochs=1, verbose=0)
    folder = zoo_dir / "iris-mlp-dl"
    before = {path.name: path.read_bytes() for path in folder.iterdir()}

    def broken_validation(card, source="card"):
        raise zoo.ZooError("simulated failure after the model file was written")

    monkeypatch.setattr(recipes, "validate_card", broken_validation)
    with pytest.raises(zoo.ZooError, match="simulated"):
        train_entry("iris-mlp-dl", epochs=2, verbose=0)
    assert {path.name: path.read_bytes() for path in folder.iterdir()} == before
    assert json.loads(before["card.json"])["training"]["epochs"] == 1


@pytest.fixture
def mnist_run_dir(tmp_path, monkeypatch):
    """The folder of resumable run state (`HDL_KERAS_RUNS`) for an MNIST run; skips without MNIST."""
    try:
        data.load("mnist")
    except data.DatasetNotFoundError:
        pytest.skip("MNIST files not found")
    monkeypatch.setenv("HDL_KERAS_RUNS", str(tmp_path / "runs"))
    return tmp_path / "runs"


def test_tiny_pgd_at_image_run(zoo_dir, mnist_run_dir, monkeypatch):
    radii = {}
    from_model = recipes.PGDAdversarialTraining.from_model
    validation = recipes.RobustValidation

    def spy_from_model(base, **kwargs):
        radii["training"] = kwargs["eps"]
        return from_model(base, **kwargs)

    def spy_validation(data, **kwargs):
        radii["selection"] = kwargs["eps"]
        return validation(data, **kwargs)

    monkeypatch.setattr(recipes.PGDAdversarialTraining, "from_model", spy_from_model)
    monkeypatch.setattr(recipes, "RobustValidation", spy_validation)
    card = train_entry("mnist-small_cnn-pgd_at", epochs=2, train_examples=128, verbose=0)
    hyper = card["method"]["hyperparameters"]
    assert radii == {"training": hyper.get("train_eps", hyper["eps"]), "selection": card["threat_model"]["eps"]}
    assert card["method"]["hyperparameters"]["steps"] == 1
    assert card["threat_model"]["eps"] == pytest.approx(16 / 255)
    assert card["training"]["train_examples"] == 128
    validation = card["training"]["validation"]
    assert validation["examples"] == 6000 and validation["epochs_run"] == 2
    assert validation["best_val_pgd_accuracy"] == max(validation["val_pgd_accuracy_per_epoch"])
    # The run folder keeps nothing once the run has finished (a new run starts afresh).
    assert not any(path.is_file() for path in mnist_run_dir.rglob("*"))
    saved = keras.saving.load_model(zoo.entry_path("mnist-small_cnn-pgd_at"), compile=False)
    assert not isinstance(saved, AdversarialModel)  # the file holds the plain network
    assert saved.output_shape == (None, 10)


def test_tiny_binaryrelax_image_run_writes_a_packed_binary_entry(zoo_dir, mnist_run_dir):
    name = "mnist-small_cnn-binaryrelax"
    card = train_entry(name, epochs=2, train_examples=128, verbose=0)
    folder = zoo_dir / name
    assert sorted(path.name for path in folder.iterdir()) == ["card.json", "model.hdlpack"]
    assert card["file"] == "model.hdlpack" and card["sha256"] == sha256_file(folder / "model.hdlpack")
    assert card["method"]["name"] == "BinaryRelax" and card["threat_model"]["eps"] == pytest.approx(8 / 255)
    validation = card["training"]["validation"]
    # 2 epochs: the switch to BinaryConnect moves to the last one, the only epoch selected from.
    assert validation["first_selected_epoch"] == 2 and validation["best_epoch"] == 2
    assert len(validation["val_pgd_accuracy_per_epoch"]) == 1 and validation["epochs_run"] == 2
    assert not any(path.is_file() for path in mnist_run_dir.rglob("*"))
    loaded = zoo.load(name)
    assert weight_statistics(loaded)["bits_per_weight"] == 1.0
    assert card["parameters"] == loaded.count_params()
    assert loaded.predict(np.zeros((2, 28, 28, 1), "float32"), verbose=0).shape == (2, 10)


def test_tiny_robust_sparse_binary_run_prunes_shrinks_and_packs(zoo_dir, mnist_run_dir, monkeypatch):
    name = "mnist-small_cnn-robust_sparse_binary"
    peak_rates = []
    compile_one_cycle = recipes._compile_one_cycle

    def spy_compile(model, peak_lr, *args):
        peak_rates.append(peak_lr)
        return compile_one_cycle(model, peak_lr, *args)

    monkeypatch.setattr(recipes, "_compile_one_cycle", spy_compile)
    card = train_entry(name, epochs=2, train_examples=128, verbose=0)
    hyper = card["method"]["hyperparameters"]
    assert peak_rates == [hyper["lr"], hyper["quantize_lr"]]  # the float phase, then the quantized one
    channels = card["training"]["channels"]
    assert channels["before"] == {"conv1": 32, "conv2": 64, "conv3": 128, "fc1": 128, "logits": 10}
    # Half of each hidden layer's channels pruned; the first convolution and the logits kept.
    assert channels["after"] == {"conv1": 32, "conv2": 32, "conv3": 64, "fc1": 64, "logits": 10}
    assert card["file"] == "model.hdlpack" and card["threat_model"]["eps"] == pytest.approx(16 / 255)
    assert not any(path.is_file() for path in mnist_run_dir.rglob("*"))
    loaded = zoo.load(name)
    # The stem convolution stays float (3 x 3 x 1 x 32 weights), every other kernel is 1-bit.
    assert hyper["float_layers"] == ["conv1"] and type(loaded.get_layer("conv1")).__name__ == "Conv2D"
    assert all(type(loaded.get_layer(layer)).__name__.startswith("Quant") for layer in ("conv2", "conv3", "fc1"))
    statistics = weight_statistics(loaded)
    expected_bits = (288 * 32 + statistics["kernel_weights"] - 288) / statistics["kernel_weights"]
    assert statistics["bits_per_weight"] == pytest.approx(expected_bits)
    assert card["parameters"] == loaded.count_params() < 70_000  # of 241,546 dense


@pytest.mark.parametrize("name", ["mnist-small_cnn-tradeoff", "mnist-small_cnn-dl"])  # fast AT; model.fit
def test_augment_hyperparameter_trains_on_shifted_batches(name, zoo_dir, mnist_run_dir, monkeypatch):
    recipe = recipes.get_recipe(name)
    if name == "mnist-small_cnn-dl":  # a HolisticModel recipe given the trade-off entry's shifts
        shifted = dataclasses.replace(recipe, hyperparameters={**recipe.hyperparameters, "augment": {"padding": 2}})
        monkeypatch.setitem(RECIPES, name, shifted)
    assert recipes.get_recipe(name).hyperparameters["augment"] == {"padding": 2}
    seen = []

    class SpyBatches(recipes.AugmentedBatches):
        def __getitem__(self, index):
            x, y = super().__getitem__(index)
            rows = self.order[index * self.batch_size : (index + 1) * self.batch_size]
            seen.append(float(np.abs(x - self.x[rows]).max()))
            return x, y

    monkeypatch.setattr(recipes, "AugmentedBatches", SpyBatches)
    card = train_entry(name, epochs=2, train_examples=128, verbose=0)
    assert card["method"]["hyperparameters"]["augment"] == {"padding": 2}
    assert "shifted by up to 2 pixels" in card["method"]["objective"]
    assert ("training attack" in card["method"]["objective"]) == (recipe.method == "TradeOff")
    assert len(seen) >= 2 and max(seen) > 0  # the batches of 2 epochs, shifted images
    assert card["training"]["validation"]["epochs_run"] == 2


def test_backup_epoch_reads_the_epochs_backup_and_restore_saved(tmp_path):
    assert recipes._backup_epoch(tmp_path) == 0
    (tmp_path / "training_metadata.json").write_text(json.dumps({"epoch": 3, "batch": -1}))
    assert recipes._backup_epoch(tmp_path) == 3


@pytest.mark.parametrize("augment", [{"pad": 2}, {"padding": "2"}, {"padding": -1}, {"padding": 2, "flip": 1}, 2])
def test_a_malformed_augment_is_a_value_error_before_training(augment):
    recipe = recipes.get_recipe("mnist-small_cnn-tradeoff")
    with pytest.raises(ValueError, match="hyperparameters\\['augment'\\] must be a dict"):
        dataclasses.replace(recipe, hyperparameters={**recipe.hyperparameters, "augment": augment})
    unshifted = dataclasses.replace(recipe, hyperparameters={**recipe.hyperparameters, "augment": None})
    assert "shifted" not in unshifted.objective
