"""run_protocol end to end on iris (2 splits, 1 epoch, 1 round): files, metric ranges, resume."""

import json

import keras
import numpy as np
import pytest
from keras import ops

from hdl_keras.experiments import PAPER_GRIDS
from hdl_keras.experiments import ProtocolResult
from hdl_keras.experiments import build_model
from hdl_keras.experiments import harden_gates
from hdl_keras.experiments import prepare_data
from hdl_keras.experiments import recommend
from hdl_keras.experiments import reduced_grid
from hdl_keras.experiments import run_protocol
from hdl_keras.experiments import protocol
from hdl_keras.experiments.protocol import stratified_subset
from hdl_keras.measure import count_zero_weights
from hdl_keras.layers import export_pruned
from hdl_keras.objectives import METHODS

pytest.importorskip("sklearn")

TINY = reduced_grid(
    "uci", lr=[1e-2], rho=[1e-2], sparsity_lambda=[1e-6], beta_bar=[200], stability_alpha=[0.8, 1.0], epochs=1, rounds=1
)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    keras.utils.set_random_seed(0)
    output_dir = tmp_path_factory.mktemp("iris")
    result = run_protocol("iris", methods=["DL", "HDL"], grid=TINY, num_splits=2, output_dir=output_dir, verbose=0)
    return result, output_dir


def test_tiny_run_writes_results_in_range(tiny_run):
    result, output_dir = tiny_run
    assert len(result.runs) == (1 + 2) * 2
    content = json.loads((output_dir / "results.json").read_text())
    assert content["runs"] == json.loads(json.dumps(result.runs))
    assert set(content["selections"]) == {"per_metric", "rank"}
    settings = content["settings"]
    assert settings["reduced"] and "2 splits instead of 10" in settings["differences"]
    assert settings["attack_eps"] == 0.1 and settings["network"] == "mlp"
    for run in content["runs"]:
        for key in ("val_accuracy", "val_adv_accuracy", "test_accuracy", "test_adv_accuracy", "sparsity"):
            assert 0.0 <= run[key] <= 100.0
        assert run["val_adv_accuracy"] <= run["val_accuracy"]
        assert run["test_adv_accuracy"] <= run["test_accuracy"]
        assert (run["sparsity"] == 0.0) == (run["method"] == "DL")
    report = (output_dir / "results.md").read_text()
    assert "REDUCED" in report and "| Metric | DL | HDL |" in report
    assert "| Method | DL | HDL |" in report and "Adv. acc. rho = 0.1" in report
    assert ProtocolResult.load(output_dir).runs == content["runs"]


def test_resume_skips_finished_runs_and_reproduces_them(tmp_path, monkeypatch):
    grid = reduced_grid(TINY, lr=[1e-2])
    first = run_protocol("iris", methods=["Sparse"], grid=grid, num_splits=2, output_dir=tmp_path, verbose=0)
    log = tmp_path / "runs.jsonl"
    lines = log.read_text().splitlines()
    # Interrupted during split 1: its record is cut short.
    log.write_text(lines[0] + "\n" + lines[1][:20])
    fits = []
    train = protocol.train
    monkeypatch.setattr(protocol, "train", lambda *args, **kwargs: fits.append(1) or train(*args, **kwargs))
    resumed = run_protocol("iris", methods=["Sparse"], grid=grid, num_splits=2, output_dir=tmp_path, verbose=0)
    assert len(fits) == 1  # only split 1; it ran on a fresh model, first on the model reset after split 0
    for before, after in zip(first.runs, resumed.runs):
        for key in ("val_accuracy", "test_accuracy", "test_adv_accuracy", "sparsity"):
            assert after[key] == pytest.approx(before[key])
    assert len(log.read_text().splitlines()) == 2
    run_protocol("iris", methods=["Sparse"], grid=grid, num_splits=2, output_dir=tmp_path, verbose=0)
    assert len(fits) == 1
    with pytest.raises(ValueError, match="other settings"):
        run_protocol(
            "iris", methods=["Sparse"], grid=grid, num_splits=2, attack_eps=0.2, output_dir=tmp_path, verbose=0
        )


def test_recommendation_builds_and_trains_the_validation_winner(tiny_run):
    result, output_dir = tiny_run
    best = recommend(output_dir, "natural")
    assert best.validation_value == max(
        np.mean([r["val_accuracy"] for r in result.runs if r["config_id"] == cid])
        for cid in {r["config_id"] for r in result.runs}
    )
    (x, y), _ = prepare_data("iris")
    model = best.fit(x, y)
    assert model.method == best.method
    assert float(ops.convert_to_numpy(model.optimizer.learning_rate)) == pytest.approx(best.config["lr"])
    assert model.predict(x[:5], verbose=0).shape == (5, 3)


def test_hardened_gates_compute_the_pruned_network():
    model = build_model("Sparse", {"lr": 1e-2, "sparsity_lambda": 1e-6, "beta_bar": 200.0}, (4,), 3)
    rng = np.random.default_rng(0)
    for variable in model.trainable_variables:
        if "mask_logits" in variable.path:
            variable.assign(rng.standard_normal(variable.shape).astype("float32"))
    x = rng.random((8, 4), dtype=np.float32)
    expected = ops.convert_to_numpy(export_pruned(model)(x))
    zeros = count_zero_weights(model)
    harden_gates(model)
    np.testing.assert_allclose(ops.convert_to_numpy(model(x)), expected, rtol=1e-5, atol=1e-6)
    assert count_zero_weights(model) == zeros


def test_data_are_scaled_to_the_unit_box_and_subsets_are_stratified():
    (x_pool, y_pool), (x_test, _) = prepare_data("iris", train_subset=60, test_subset=15)
    assert x_pool.shape == (60, 4) and x_test.shape == (15, 4)
    np.testing.assert_allclose(x_pool.min(axis=0), 0.0)
    np.testing.assert_allclose(x_pool.max(axis=0), 1.0)
    assert x_test.min() >= 0.0 and x_test.max() <= 1.0
    assert np.bincount(y_pool).tolist() == [20, 20, 20]
    y = np.array([0] * 6 + [1] * 3 + [2])
    rows = stratified_subset(y, 5, seed=1)  # quotas 3, 1.5, 0.5: the remainder goes to the first tie
    assert len(set(rows.tolist())) == 5 and np.bincount(y[rows]).tolist() == [3, 2]
    with pytest.raises(ValueError, match="subset size"):
        stratified_subset(y, 11)


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match="HDL"):
        run_protocol("iris", methods=["Robustest"], verbose=0)
    with pytest.raises(ValueError, match="num_splits"):
        run_protocol("iris", methods=["DL"], num_splits=0, verbose=0)
    with pytest.raises(ValueError, match="iris"):
        run_protocol("imagenet", methods=["DL"], verbose=0)


def test_another_network_is_used_and_labelled_as_a_departure():
    (x, _), _ = prepare_data("digits")
    model = build_model("DL", {"lr": 1e-3}, (8, 8, 1), 10, network="small_cnn")
    assert model(x[:2].reshape(-1, 8, 8, 1)).shape == (2, 10)
    assert any(isinstance(layer, keras.layers.Conv2D) for layer in model.layers)
    with pytest.raises(ValueError, match="network"):
        build_model("DL", {"lr": 1e-3}, (4,), 3, network="resnet")
    settings = {
        "methods": list(METHODS),
        "num_splits": 10,
        "train_subset": None,
        "test_subset": None,
        "attack_eps": 0.1,
        "input_shape": [28, 28, 1],
    }
    paper_grid = PAPER_GRIDS["image"]
    assert protocol._differences({**settings, "network": "alexnet"}, paper_grid, "image", 0.1) == []
    assert protocol._differences({**settings, "network": "small_cnn"}, paper_grid, "image", 0.1) == [
        "network small_cnn instead of alexnet"
    ]


def test_paper_scaling_standardises_then_divides_by_255_and_attacks_unclipped(tmp_path):
    (x_pool, _), (x_test, _) = prepare_data("iris", scaling="paper")
    np.testing.assert_allclose(x_pool.mean(axis=0), 0.0, atol=1e-6)
    np.testing.assert_allclose(x_pool.std(axis=0), 1.0 / 255.0, rtol=1e-4)
    assert x_pool.min() < 0.0 and np.abs(x_test).max() < 0.05
    tables = protocol.threat_model("iris", "paper")
    assert (tables["steps"], tables["step_size"], tables["bounds"]) == (40, 0.01, (-np.inf, np.inf))
    images = protocol.threat_model("mnist", "paper")
    assert images["bounds"] == (0.0, 1.0) and images["eps"] == 0.1
    default = protocol.threat_model("iris")
    assert (default["steps"], default["step_size"], default["bounds"]) == (10, 0.025, (0.0, 1.0))
    grid = reduced_grid("uci", lr=[1e-2], rho=[1e-2], epochs=1)
    result = run_protocol(
        "iris", methods=["DL"], grid=grid, num_splits=1, scaling="paper", output_dir=tmp_path, verbose=0
    )
    settings = result.settings
    assert settings["scaling"] == "paper" and settings["attack_bounds"] is None
    assert settings["attack_steps"] == 40 and "unclipped" in settings["attack"]
    assert "scaling mode `paper`" in (tmp_path / "results.md").read_text()
    with pytest.raises(ValueError, match="scaling"):
        prepare_data("iris", scaling="zscore")
