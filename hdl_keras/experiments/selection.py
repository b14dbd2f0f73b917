"""Model selection of the HDL protocol: per metric, by average rank, and `recommend`.

Bertsimas et al. (2023) sec. 4: a configuration (method + hyper-parameters)
is trained on each of the train/validation splits; its four metrics are

- natural: mean accuracy over the splits,
- adversarial: mean accuracy under the PGD attack over the splits,
- stability: worst (minimum) accuracy over the splits,
- sparsity: mean percentage of zero kernel weights,

on the validation sets (for selection) and on the test set (reported). Per
method and metric, the configuration with the best validation value is
chosen and its test value reported. The multi-objective selection of Tables
2-4 ranks a method's configurations on each of the four validation metrics
(rank 1 = best, ties share their average rank), averages the four ranks and
chooses the lowest average. `recommend` applies either rule across all the
methods of a run (the prescriptive idea of sec. 5).

All values are percentages in [0, 100]. Ties go to the configuration that
comes first (methods in `METHODS` order, configurations in grid order).
"""

import dataclasses
import json
import os
from pathlib import Path

import numpy as np

from hdl_keras.experiments import training

METRICS = ("natural", "adversarial", "stability", "sparsity")
RECOMMEND_METRICS = (*METRICS, "rank")


def summarize(runs):
    """Aggregates per-split run records into one summary per configuration.

    Args:
        runs: list of run records (dicts with `method`, `config`,
            `config_id`, `split`, `val_accuracy`, `val_adv_accuracy`,
            `test_accuracy`, `test_adv_accuracy`, `sparsity`).

    Returns:
        A list of dicts `{"method", "config", "config_id", "splits",
        "validation": {metric: value}, "test": {metric: value}}` with the
        four `METRICS`, in order of first appearance in `runs`.
    """
    groups = {}
    for run in runs:
        groups.setdefault((run["method"], run["config_id"]), []).append(run)
    return [
        {
            "method": method,
            "config": group[0]["config"],
            "config_id": config_key,
            "splits": len(group),
            "validation": _metrics(group, "val"),
            "test": _metrics(group, "test"),
        }
        for (method, config_key), group in groups.items()
    ]


def _metrics(group, prefix):
    accuracy = [run[f"{prefix}_accuracy"] for run in group]
    return {
        "natural": float(np.mean(accuracy)),
        "adversarial": float(np.mean([run[f"{prefix}_adv_accuracy"] for run in group])),
        "stability": float(np.min(accuracy)),
        "sparsity": float(np.mean([run["sparsity"] for run in group])),
    }


def rank_descending(values):
    """Ranks `values`, 1 = highest; tied values share the mean of their ranks.

    Examples:
        >>> rank_descending([90.0, 95.0, 90.0]).tolist()
        [2.5, 1.0, 2.5]
    """
    values = np.asarray(values, dtype=float)
    better = (values[None, :] > values[:, None]).sum(axis=1)
    tied = (values[None, :] == values[:, None]).sum(axis=1)
    return 1.0 + better + (tied - 1) / 2.0


def average_ranks(summaries):
    """The mean over the four `METRICS` of each summary's validation rank among `summaries`."""
    if not summaries:
        return np.zeros(0)
    ranks = [rank_descending([s["validation"][metric] for s in summaries]) for metric in METRICS]
    return np.mean(ranks, axis=0)


def _by_method(summaries):
    grouped = {}
    for summary in summaries:
        grouped.setdefault(summary["method"], []).append(summary)
    return grouped


def _best(summaries, metric):
    values = [summary["validation"][metric] for summary in summaries]
    return summaries[int(np.argmax(values))]


def _lowest_rank(summaries):
    ranks = average_ranks(summaries)
    index = int(np.argmin(ranks))
    return {**summaries[index], "average_rank": float(ranks[index])}


def select_per_metric(runs):
    """Per method and metric, the configuration with the best validation value.

    Args:
        runs: run records (see `summarize`).

    Returns:
        `{method: {metric: summary}}`; the reported number is
        `summary["test"][metric]`.
    """
    return {
        method: {metric: _best(group, metric) for metric in METRICS}
        for method, group in _by_method(summarize(runs)).items()
    }


def select_by_rank(runs):
    """Per method, the configuration with the best (lowest) average validation rank.

    The multi-objective rule of paper Tables 2-4: each method's configurations
    are ranked on each of the four validation metrics, the ranks averaged.

    Args:
        runs: run records (see `summarize`).

    Returns:
        `{method: summary}`, each summary with an `"average_rank"` entry; the
        reported numbers are `summary["test"]`.
    """
    return {method: _lowest_rank(group) for method, group in _by_method(summarize(runs)).items()}


def selections(runs):
    """Both selections, as stored in `results.json`: `{"per_metric": ..., "rank": ...}`."""
    return {"per_metric": select_per_metric(runs), "rank": select_by_rank(runs)}


@dataclasses.dataclass(frozen=True)
class Recommendation:
    """The method and hyper-parameters that won on validation, ready to train.

    Attributes:
        method: a name of `hdl_keras.objectives.METHODS`.
        config: dict of its searched hyper-parameters (`lr`, `rho`, ...).
        metric: the metric it won (`"natural"`, `"adversarial"`,
            `"stability"`, `"sparsity"` or `"rank"`).
        validation_value: its validation value of `metric` (%), or its
            average validation rank among all configurations for `"rank"`.
        test_values: its four test metrics (%), by metric name.
        settings: the protocol settings it was selected under (network,
            epochs, rounds, batch size, ...).
    """

    method: str
    config: dict
    metric: str
    validation_value: float
    test_values: dict
    settings: dict = dataclasses.field(repr=False)

    def build_model(self, input_shape, num_classes):
        """Returns the compiled `HolisticModel` of this configuration (untrained).

        Args:
            input_shape: shape of one example, e.g. `(4,)` or `(28, 28, 1)`.
            num_classes: number of classes.
        """
        return training.build_model(
            self.method, self.config, input_shape, num_classes, network=self.settings["network"]
        )

    def fit(self, x, y, **fit_kwargs):
        """Builds and trains the model as the protocol did; returns it.

        Epochs, rounds and batch size come from the protocol's settings.
        Prepare `x` as the protocol did: tabular features min-max scaled to
        [0, 1] (see `run_protocol`), images in [0, 1].

        Args:
            x: inputs `(N, *input_shape)`.
            y: int labels `(N,)` in `[0, num_classes)` of the protocol's data.
            **fit_kwargs: passed to `model.fit` (default `verbose=0`).

        Returns:
            The trained `HolisticModel` (masked layers keep their soft gates;
            `hdl_keras.layers.export_pruned` gives the pruned network).
        """
        x = np.asarray(x)
        model = self.build_model(x.shape[1:], self.settings["num_classes"])
        fit_kwargs.setdefault("verbose", 0)
        training.train(
            model,
            self.config,
            x,
            np.asarray(y),
            epochs=self.settings["epochs"],
            batch_size=self.settings["batch_size"],
            rounds=self.settings["rounds"],
            **fit_kwargs,
        )
        return model


def recommend(results, metric="rank"):
    """The method + configuration that won on validation across all methods of a run.

    Unlike the per-method selections, the winner is taken over every
    configuration of every method: the best validation value of `metric`, or
    for `"rank"` the lowest average of the four validation ranks among all
    configurations. Test values are only reported, never used to choose.

    Args:
        results: a `ProtocolResult`, or the path of a `results.json` (or of
            the folder holding it).
        metric: `"natural"`, `"adversarial"`, `"stability"`, `"sparsity"`
            or `"rank"` (default).

    Returns:
        A `Recommendation`.

    Examples:

        ```python
        best = recommend("runs/iris", "rank")
        model = best.fit(x_train, y_train)
        ```
    """
    if metric not in RECOMMEND_METRICS:
        raise ValueError(f"Expected metric in {RECOMMEND_METRICS}. Received: metric={metric!r}")
    settings, runs = _settings_and_runs(results)
    summaries = summarize(runs)
    if not summaries:
        raise ValueError("The results hold no finished runs to recommend from.")
    if metric == "rank":
        winner = _lowest_rank(summaries)
        value = winner["average_rank"]
    else:
        winner = _best(summaries, metric)
        value = winner["validation"][metric]
    return Recommendation(
        method=winner["method"],
        config=dict(winner["config"]),
        metric=metric,
        validation_value=float(value),
        test_values=dict(winner["test"]),
        settings=settings,
    )


def _settings_and_runs(results):
    if isinstance(results, (str, os.PathLike)):
        path = Path(results)
        if path.is_dir():
            path = path / "results.json"
        content = json.loads(path.read_text())
        return content["settings"], content["runs"]
    return results.settings, results.runs
