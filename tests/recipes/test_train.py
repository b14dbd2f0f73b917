"""`hdl_keras.recipes.train`: the one training function, and the deprecation aliases of the moves."""

import importlib
import pathlib
import sys

import keras
import numpy as np
import pytest

from hdl_keras import recipes
from hdl_keras.recipes.holistic import build_model


def _data():
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(64, 4)).astype("float32")
    return x, (x[:, 0] > x[:, 1]).astype("int64")


def _mlp():
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(2)])
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def test_train_is_model_fit_for_a_plain_objective():
    x, y = _data()
    fitted = _mlp()
    keras.utils.set_random_seed(2)
    fitted.fit(x, y, epochs=2, batch_size=16, verbose=0)
    trained = _mlp()
    keras.utils.set_random_seed(2)
    histories = recipes.train(trained, x, y, epochs=2, batch_size=16, verbose=0)
    assert len(histories) == 1 and len(histories[0].history["loss"]) == 2
    for a, b in zip(fitted.weights, trained.weights, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_sparse_objective_trains_in_rounds_and_needs_beta_bar():
    x, y = _data()
    model = build_model("HDL", {"lr": 1e-2, "rho": 0.1}, (4,), 2, network="mlp")
    with pytest.raises(ValueError, match="pass beta_bar"):
        recipes.train(model, x, y, epochs=1, batch_size=32, rounds=2, verbose=0)
    histories = recipes.train(model, x, y, epochs=1, batch_size=32, rounds=2, beta_bar=10.0, verbose=0)
    assert len(histories) == 2


def _channel_gated_mlp(sparsity_lambda):
    """The sparse objective's MLP with one gate per unit, trained 2 short rounds."""
    from hdl_keras.objectives import masked_layers

    x, y = _data()
    keras.utils.set_random_seed(0)
    config = {"lr": 1e-2, "sparsity_lambda": sparsity_lambda, "gate_granularity": "channel"}
    model = build_model("Sparse", config, (4,), 2, network="mlp")
    gated = masked_layers(model)
    assert [tuple(layer.mask_logits.shape) for layer in gated] == [(1, 128), (1, 128), (1, 2)]
    recipes.train(model, x, y, epochs=2, batch_size=32, rounds=2, beta_bar=10.0, verbose=0)
    closed = [int((keras.ops.convert_to_numpy(layer.mask_logits) <= 0).sum()) for layer in gated]
    return model, closed


def test_channel_gates_close_whole_units_that_shrink_removes():
    """`gate_granularity="channel"`: lambda sets how many units close, and `shrink` removes them."""
    from hdl_keras.layers import export_pruned
    from hdl_keras.pruning import shrink

    _, closed_weak = _channel_gated_mlp(1e-7)
    model, closed = _channel_gated_mlp(1e-5)
    assert sum(closed[:2]) > sum(closed_weak[:2]), (closed, closed_weak)
    assert all(0 < count < 128 for count in closed[:2]), closed
    x, _ = _data()
    pruned = export_pruned(model)
    small = shrink(pruned)
    hidden = [layer.units for layer in small.layers if isinstance(layer, keras.layers.Dense)][:2]
    assert hidden == [128 - closed[0], 128 - closed[1]]
    np.testing.assert_allclose(np.asarray(small(x)), np.asarray(pruned(x)), atol=1e-4)


@pytest.mark.parametrize("epochs", [0, 1.5, True])
def test_bad_epochs_is_a_clear_error(epochs):
    x, y = _data()
    with pytest.raises(ValueError, match="Expected epochs to be an int >= 1"):
        recipes.train(_mlp(), x, y, epochs=epochs)


def _fresh_import(name, monkeypatch):
    monkeypatch.delitem(sys.modules, name, raising=False)
    return importlib.import_module(name)


def test_old_zoo_paths_warn_and_give_the_moved_objects(monkeypatch):
    from hdl_keras.recipes import packed_entries
    from hdl_keras.recipes import zoo_cards
    from hdl_keras.recipes import zoo_entries

    with pytest.warns(DeprecationWarning, match="hdl_keras.recipes.zoo_entries"):
        old = _fresh_import("hdl_keras.zoo.recipes", monkeypatch)
    assert old is zoo_entries
    with pytest.warns(DeprecationWarning, match="ENTRY_RECIPES"):
        assert old.RECIPES is zoo_entries.ENTRY_RECIPES
    packed = importlib.import_module("hdl_keras.zoo.packed")
    with pytest.warns(DeprecationWarning, match="hdl_keras.recipes.packed_entries.add_packed_entry"):
        assert packed.add_packed_entry is packed_entries.add_packed_entry
    evaluation = importlib.import_module("hdl_keras.zoo.evaluation")
    with pytest.warns(DeprecationWarning, match="hdl_keras.recipes.zoo_cards.update_card"):
        assert evaluation.update_card is zoo_cards.update_card
    with pytest.raises(AttributeError, match="no attribute 'not_there'"):
        evaluation.not_there  # noqa: B018


def test_renamed_pruning_objectives_warn():
    from hdl_keras.pruning import schedule

    with pytest.warns(DeprecationWarning, match="FINETUNE_OBJECTIVES"):
        assert schedule.OBJECTIVES is schedule.FINETUNE_OBJECTIVES


def test_the_zoo_package_imports_no_producer():
    import hdl_keras.zoo

    folder = pathlib.Path(hdl_keras.zoo.__file__).parent
    aliases = ("recipes.py", "packed.py")  # the deprecated paths of the moved producers
    for path in sorted(folder.glob("*.py")):
        if path.name in aliases:
            continue
        top_level = [line for line in path.read_text().splitlines() if line.startswith(("from ", "import "))]
        assert not [line for line in top_level if "recipes" in line or "experiments" in line], path.name
