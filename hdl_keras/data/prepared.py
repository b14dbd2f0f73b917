"""The datasets as the HDL protocol and the zoo use them: `prepare_data`.

Input scalings (`SCALINGS`):

- `"minmax"` (default): tables min-max scaled to [0, 1];
- `"paper"`: the authors' code (github.com/kimvc7/HDL, src/input_data.py):
  tables standardised then divided by 255 (so a feature's standard deviation
  is 1/255).

Images stay in [0, 1] under both.
"""

import numpy as np

from hdl_keras.data.registry import load
from hdl_keras.data.splits import stratified_subset

SCALINGS = ("minmax", "paper")
_IMAGE_DATASETS = ("mnist", "fashion_mnist", "cifar10")


def input_bounds(dataset, scaling="minmax"):
    """The box of valid inputs of `dataset` under `scaling`, where attacks are clipped.

    `(0.0, 1.0)` for images (both scalings) and for min-max scaled tables;
    `(-inf, inf)` for tables under `"paper"` scaling: the authors' code
    attacks standardised tables unclipped (Bertsimas et al. 2023, code
    `src/pgd_attack.py`).
    """
    if scaling not in SCALINGS:
        raise ValueError(f"Expected scaling in {SCALINGS}. Received: scaling={scaling!r}")
    if scaling == "paper" and dataset not in _IMAGE_DATASETS:
        return (-float("inf"), float("inf"))
    return (0.0, 1.0)


def prepare_data(dataset, train_subset=None, test_subset=None, seed=0, scaling="minmax"):
    """Loads `dataset` as the protocol uses it.

    Images (`mnist`, `fashion_mnist`, `cifar10`) are kept in [0, 1] with their
    official test set, in both scalings (the authors' code also divides the
    pixels by 255). Tables (`iris`, `wine`, `breast_cancer`, `digits`) keep
    the 20 % stratified test set of `hdl_keras.data.load`, and their features
    are scaled with statistics of the train+validation pool:

    - `scaling="minmax"` (default): min-max to [0, 1] (test features clipped
      into [0, 1]), so that the attack radius and `rho` are fractions of each
      feature's range. This is our choice, not the paper's: `rho = 0.1` is
      then 0.3 to 0.7 of a feature's standard deviation.
    - `scaling="paper"`: standardised to mean 0 and standard deviation 1, then
      divided by 255, as the authors' code does (an image conversion it also
      applies to tables), so a feature's standard deviation is 1/255 and the
      paper's `rho = 0.1` is 25.5 standard deviations. The authors fit the
      standardisation on each split's training part; here it is fit on the
      train+validation pool (one scaling for every split).

    Args:
        dataset: a name of `hdl_keras.data.available_datasets()`.
        train_subset: optional int, keep a seeded stratified subset of that
            many rows of the train+validation pool (reduced runs).
        test_subset: optional int, the same for the test set.
        seed: int seed of the subsets.
        scaling: `"minmax"` (default) or `"paper"` (see above).

    Returns:
        `((x_pool, y_pool), (x_test, y_test))`: float32 inputs, int labels `(N,)`.
    """
    if scaling not in SCALINGS:
        raise ValueError(f"Expected scaling in {SCALINGS}. Received: scaling={scaling!r}")
    (x_pool, y_pool), (x_test, y_test) = load(dataset)
    if train_subset is not None:
        rows = stratified_subset(y_pool, train_subset, seed)
        x_pool, y_pool = x_pool[rows], y_pool[rows]
    if test_subset is not None:
        rows = stratified_subset(y_test, test_subset, seed)
        x_test, y_test = x_test[rows], y_test[rows]
    if x_pool.ndim == 2 and scaling == "minmax":
        low, high = x_pool.min(axis=0), x_pool.max(axis=0)
        scale = np.where(high > low, high - low, 1.0)
        x_pool = np.clip((x_pool - low) / scale, 0.0, 1.0)
        x_test = np.clip((x_test - low) / scale, 0.0, 1.0)
    elif x_pool.ndim == 2:
        mean, std = x_pool.mean(axis=0), x_pool.std(axis=0)
        std = np.where(std > 0, std, 1.0)
        x_pool = (x_pool - mean) / std / 255.0
        x_test = (x_test - mean) / std / 255.0
    return (x_pool.astype("float32"), y_pool), (x_test.astype("float32"), y_test)
