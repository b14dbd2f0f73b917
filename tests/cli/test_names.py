"""The names the command line keeps for `--help` (no Keras) equal the library's, and the old paths still work."""

import importlib
import io
import warnings

import pytest

from hdl_keras import data
from hdl_keras import objectives
from hdl_keras.experiments import grids
from hdl_keras.experiments import protocol as protocol_module
from hdl_keras.experiments import training
from hdl_keras.recipes import recipes
from hdl_keras.zoo import evaluation
from hdl_keras_cli import protocol
from hdl_keras_cli import train
from hdl_keras_cli import zoo
from hdl_keras_cli.backend import progress_verbosity


def test_train_names_match_the_recipes():
    assert list(train.RECIPES) == list(recipes.RECIPES)
    assert train.RECIPES == {name: recipe.description for name, recipe in recipes.RECIPES.items()}
    assert train.DEPRECATED_RECIPE_NAMES == recipes.DEPRECATED_RECIPE_NAMES
    assert list(train.OBJECTIVES) == list(recipes.OBJECTIVES)
    assert list(train.SCHEMES) == list(recipes.SCHEMES)


def test_protocol_names_match_the_library():
    assert list(protocol.DATASETS) == data.available_datasets()
    assert list(protocol.METHODS) == list(objectives.METHODS)
    assert list(protocol.GRIDS) == list(grids.PAPER_GRIDS)
    assert list(protocol.SCALINGS) == list(protocol_module.SCALINGS)
    assert list(protocol.NETWORKS) == list(training.NETWORKS)


def test_zoo_attack_presets_match_the_evaluation():
    assert list(zoo.ATTACK_PRESETS) == list(evaluation.PRESETS)


@pytest.mark.parametrize(
    "old, name, new",
    [
        ("hdl_keras.zoo.cli", "main", "hdl_keras_cli.zoo"),
        ("hdl_keras.zoo.cli", "build_parser", "hdl_keras_cli.zoo"),
        ("hdl_keras.recipes.cli", "main", "hdl_keras_cli.train"),
        ("hdl_keras.recipes.cli", "build_parser", "hdl_keras_cli.train"),
        ("hdl_keras.recipes.cli", "evaluate_like_paper", "hdl_keras_cli.train_run"),
        ("hdl_keras.experiments.cli", "main", "hdl_keras_cli.protocol"),
    ],
)
def test_old_module_paths_warn_and_resolve(old, name, new):
    module = importlib.import_module(old)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = getattr(module, name)
    assert value is getattr(importlib.import_module(new), name)
    assert [w.category for w in caught] == [DeprecationWarning]
    assert new.split(".")[0] in str(caught[0].message)


def test_the_typer_app_name_resolves_to_main():
    from hdl_keras.zoo import cli

    with pytest.warns(DeprecationWarning, match="hdl_keras_cli.zoo.main"):
        assert cli.app is zoo.main


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_is_a_live_bar_on_a_terminal_and_one_line_per_bar_otherwise():
    assert progress_verbosity(_Terminal()) == 1
    assert progress_verbosity(io.StringIO()) == 2
