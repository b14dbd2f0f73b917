"""The old import paths of moved names keep working for one release, with a DeprecationWarning."""

import importlib

import pytest

from hdl_keras import callbacks
from hdl_keras import evaluation
from hdl_keras import layers
from hdl_keras import measure
from hdl_keras import preprocessing
from hdl_keras import saving

# (old module, name, the object now)
MOVED = [
    ("hdl_keras.quantizers", "BinaryRelax", callbacks.BinaryRelax),
    ("hdl_keras.quantizers", "export_packed", saving.export_packed),
    ("hdl_keras.quantizers", "load_packed", saving.load_packed),
    ("hdl_keras.quantizers", "pack_bits", saving.pack_bits),
    ("hdl_keras.quantizers", "unpack_bits", saving.unpack_bits),
    ("hdl_keras.quantizers.packing", "export_packed", saving.export_packed),
    ("hdl_keras.quantizers.packing", "FORMAT_VERSION", saving.packed.FORMAT_VERSION),
    ("hdl_keras.quantizers.evaluation", "evaluate_quantized", evaluation.evaluate_quantized),
    ("hdl_keras.quantizers.evaluation", "float_twin", evaluation.float_twin),
    ("hdl_keras.quantizers.evaluation", "weight_statistics", measure.weight_statistics),
    ("hdl_keras.layers", "count_zero_weights", measure.count_zero_weights),
    ("hdl_keras.pruning", "ConstantChannelsBias", layers.ConstantChannelsBias),
    ("hdl_keras.pruning", "count_flops", measure.count_flops),
    ("hdl_keras.pruning", "model_summary", measure.model_summary),
    ("hdl_keras.pruning", "sparsity_report", measure.sparsity_report),
    ("hdl_keras.pruning", "zero_weight_fraction", measure.zero_weight_fraction),
    ("hdl_keras.pruning.measure", "prunable_layers", measure.prunable_layers),
    ("hdl_keras.pruning.flops", "count_parameters", measure.count_parameters),
    ("hdl_keras.pruning.constant_bias", "ConstantChannelsBias", layers.ConstantChannelsBias),
    ("hdl_keras.recipes.augmentation", "AugmentedBatches", preprocessing.AugmentedBatches),
    ("hdl_keras.recipes.resume", "ResumableBackup", callbacks.ResumableBackup),
]


@pytest.mark.parametrize("old_module, name, new", MOVED, ids=[f"{m}.{n}" for m, n, _ in MOVED])
def test_old_path_returns_the_moved_object_and_warns(old_module, name, new):
    module = importlib.import_module(old_module)
    with pytest.warns(DeprecationWarning, match=f"{name}` moved to `hdl_keras"):
        assert getattr(module, name) is new


def test_from_import_of_an_old_name_warns():
    with pytest.warns(DeprecationWarning, match="hdl_keras.callbacks.BinaryRelax"):
        from hdl_keras.quantizers import BinaryRelax
    assert BinaryRelax is callbacks.BinaryRelax


def test_an_unknown_name_is_still_an_attribute_error():
    quantizers = importlib.import_module("hdl_keras.quantizers")
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        quantizers.nope  # noqa: B018


def test_callbacks_stay_importable_where_users_import_them_without_warning(recwarn):
    from hdl_keras.objectives import BetaAnnealing
    from hdl_keras.pruning import ADMMUpdate
    from hdl_keras.pruning import ReplaceWithU

    assert (BetaAnnealing, ADMMUpdate, ReplaceWithU) == (
        callbacks.BetaAnnealing,
        callbacks.ADMMUpdate,
        callbacks.ReplaceWithU,
    )
    assert not [w for w in recwarn if issubclass(w.category, DeprecationWarning)]


def test_the_recipes_augmentation_function_survives_its_old_module_path():
    import hdl_keras.recipes
    import hdl_keras.recipes.augmentation  # noqa: F401  (the deprecated module path)

    assert hdl_keras.recipes.augmentation is preprocessing.augmentation
