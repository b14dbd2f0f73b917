"""Paper grids (Bertsimas et al. 2023, sec. 4): values, per-method configurations, reductions."""

import pytest

from hdl_keras.experiments import PAPER_GRIDS
from hdl_keras.experiments import config_id
from hdl_keras.experiments import method_configs
from hdl_keras.experiments import reduced_grid
from hdl_keras.experiments.grids import grid_differences
from hdl_keras.objectives import METHODS

# lr (2) x rho (5) for robust x lambda (3) and beta_bar (2) for sparse x alpha (4) for stable.
EXPECTED_SIZES = {
    "DL": 2,
    "Robust": 2 * 5,
    "Stable": 2 * 4,
    "Sparse": 2 * 3 * 2,
    "Robust+Sparse": 2 * 5 * 3 * 2,
    "Stable+Sparse": 2 * 3 * 2 * 4,
    "Stable+Robust": 2 * 5 * 4,
    "HDL": 2 * 5 * 3 * 2 * 4,
}


def test_paper_grids_hold_the_paper_values():
    uci, image = PAPER_GRIDS["uci"], PAPER_GRIDS["image"]
    assert uci["lr"] == (1e-2, 1e-3) and image["lr"] == (1e-3, 1e-4)
    assert (uci["epochs"], uci["batch_size"]) == (150, 32)
    assert (image["epochs"], image["batch_size"]) == (50, 64)
    for grid in (uci, image):
        assert grid["rho"] == (1e-1, 1e-2, 1e-3, 1e-4, 1e-5)
        assert grid["sparsity_lambda"] == (1e-6, 1e-8, 1e-10)
        assert grid["beta_bar"] == (200, 1000)
        assert grid["stability_alpha"] == (0.7, 0.8, 0.9, 1.0)
        assert grid["rounds"] == 5


@pytest.mark.parametrize("grid", ["uci", "image"])
def test_each_method_searches_only_the_keys_of_its_parts(grid):
    assert set(EXPECTED_SIZES) == set(METHODS)
    for method, size in EXPECTED_SIZES.items():
        configs = method_configs(method, grid)
        assert len(configs) == size
        assert len({config_id(config) for config in configs}) == size
        keys = set(configs[0])
        assert "lr" in keys
        assert ("rho" in keys) == ("robust" in METHODS[method])
        assert ({"sparsity_lambda", "beta_bar"} <= keys) == ("sparse" in METHODS[method])
        assert ("stability_alpha" in keys) == ("stable" in METHODS[method])
    assert method_configs("DL", grid) == [{"lr": value} for value in PAPER_GRIDS[grid]["lr"]]


def test_reduced_grid_overrides_keys_and_lists_the_differences():
    grid = reduced_grid("uci", lr=1e-2, rho=[1e-1, 1e-3], epochs=20)
    assert grid["lr"] == (1e-2,) and grid["rho"] == (0.1, 0.001) and grid["epochs"] == 20
    assert len(method_configs("Robust", grid)) == 2
    assert grid_differences(grid, "uci") == [
        "lr (0.01) instead of (0.01, 0.001)",
        "rho (0.1, 0.001) instead of (0.1, 0.01, 0.001, 0.0001, 1e-05)",
        "epochs 20 instead of 150",
    ]
    assert grid_differences("uci", "uci") == []
    assert PAPER_GRIDS["uci"]["lr"] == (1e-2, 1e-3)  # the paper grid is not modified


def test_bad_grids_and_methods_are_rejected():
    with pytest.raises(ValueError, match="Unknown grid key"):
        reduced_grid("uci", learning_rate=[1e-3])
    with pytest.raises(ValueError, match="stability_alpha"):
        reduced_grid("uci", stability_alpha=[1.5])
    with pytest.raises(ValueError, match="epochs"):
        reduced_grid("image", epochs=0)
    with pytest.raises(ValueError, match="Unknown grid"):
        method_configs("DL", "cifar")
    with pytest.raises(ValueError, match="misses the keys"):
        method_configs("DL", {"lr": [1e-3]})
    with pytest.raises(ValueError, match="HDL"):
        method_configs("Robustest", "uci")
