"""Each zoo entry against the paper row it reproduces: values, gaps, intervals, train time.

`paper_comparison(card)` reads one card (nothing is recomputed) and sets our
measured values beside the paper's (`card["reference"]["values"]`):

- clean accuracy: ours on all test images when measured (`metrics.clean_acc`,
  RobustBench's field) else on the evaluated points (`metrics.clean_accuracy`);
- robust accuracy: ours is the strongest evaluation in the card (AutoAttack's
  `autoattack_acc` when measured, else the worst case over the card's
  attacks), the paper's is its headline adversarial value (PGD for Bertsimas
  et al. 2023, Square for the training-techniques report, IFGSM-20 for Li,
  Wang and Xin 2020);
- zero weights, where the paper reports sparsity.

Each accuracy comes with its Wilson 95 % interval. An entry *meets* its paper
row when the radii agree and ours is at least the paper's on every value the
paper gives (point estimates; the intervals say how sure that is).

Examples:

    ```python
    from hdl_keras import zoo
    from hdl_keras.zoo.targets import paper_comparison

    row = paper_comparison(zoo.card("mnist-small_cnn-pgd_at"))
    print(row["robust"], row["paper_robust"], row["meets_paper_row"])
    ```
"""

from hdl_keras.zoo.evaluation import wilson_interval

# The paper's headline adversarial value, by the key it has in `reference.values`.
_PAPER_ROBUST_KEYS = ("pgd", "square", "ifgsm20", "fgsm")
_EPS_TOLERANCE = 1e-6
# Bertsimas et al. (2023)'s tables of UCI data are in the units of the authors' code (features
# standardised, then divided by 255; `threat_model.scaling == "paper"`), not in [0, 1].
_PAPER_UNITS_TABLES = ("Tables 8-11",)


def paper_comparison(card):
    """One card's values beside its paper row.

    Args:
        card: a zoo card (dict, as `hdl_keras.zoo.card(name)` returns it).

    Returns:
        A dict: `name`, `paper` (source text or None), `clean`, `clean_n`,
        `clean_interval`, `paper_clean`, `robust`, `robust_n`,
        `robust_interval`, `robust_metric` (which evaluation), `paper_robust`,
        `paper_robust_metric`, `eps`, `paper_eps`, `scaling`, `paper_scaling`
        (units of eps), `same_radius` (same eps in the same units),
        `zero_weights`, `paper_zero_weights`, `train_minutes`, `paper_run`
        (how the paper trained the row's model and, once measured, its cost
        here: `hours`), `tried` (what else was tried; None when the card does
        not say), `gaps`
        (ours minus paper, per value the paper gives) and `meets_paper_row`
        (None when there is no paper row or no measurement yet). Fractions
        in [0, 1]; None where a value is missing.
    """
    metrics = card.get("metrics") or {}
    reference = card.get("reference") or {}
    values = reference.get("values") or {}
    clean, clean_n = _clean(metrics)
    robust, robust_n, robust_metric = _robust(metrics)
    paper_robust_metric = next((key for key in _PAPER_ROBUST_KEYS if values.get(key) is not None), None)
    eps = card["threat_model"]["eps"]
    paper_eps = values.get("eps")
    row = {
        "name": card["name"],
        "paper": ", ".join(part for part in (reference.get("paper"), reference.get("table")) if part) or None,
        "clean": clean,
        "clean_n": clean_n,
        "clean_interval": _interval(clean, clean_n),
        "paper_clean": values.get("clean_accuracy"),
        "robust": robust,
        "robust_n": robust_n,
        "robust_interval": _interval(robust, robust_n),
        "robust_metric": robust_metric,
        "paper_robust": values.get(paper_robust_metric) if paper_robust_metric else None,
        "paper_robust_metric": paper_robust_metric,
        "eps": eps,
        "paper_eps": paper_eps,
        "scaling": card["threat_model"].get("scaling", "minmax"),
        "paper_scaling": values.get("scaling") or _paper_scaling(reference),
        "zero_weights": metrics.get("zero_weights"),
        "paper_zero_weights": values.get("zero_weights") or None,
        "train_minutes": card["training"]["wall_time_seconds"] / 60,
        "paper_run": reference.get("paper_run"),
        "tried": reference.get("tried"),
    }
    row["same_radius"] = (
        paper_eps is not None and abs(paper_eps - eps) <= _EPS_TOLERANCE and row["scaling"] == row["paper_scaling"]
    )
    pairs = {
        "clean": ("clean", "paper_clean"),
        "robust": ("robust", "paper_robust"),
        "zero_weights": ("zero_weights", "paper_zero_weights"),
    }
    row["gaps"] = {
        key: row[ours] - row[paper]
        for key, (ours, paper) in pairs.items()
        if row[paper] is not None and row[ours] is not None
    }
    measured = clean is not None and robust is not None
    has_row = row["paper_clean"] is not None
    row["meets_paper_row"] = (
        None
        if not (measured and has_row)
        else row["same_radius"]
        and all(gap >= 0 for gap in row["gaps"].values())
        and len(row["gaps"]) == sum(row[paper] is not None for _, paper in pairs.values())
    )
    return row


def summary(rows, image_datasets=("mnist", "fashion_mnist"), datasets=None):
    """The last line of `benchmarks/zoo_targets.py`.

    Args:
        rows: `paper_comparison` rows.
        image_datasets: datasets whose robust evaluations count for
            `min_test_images_robust`.
        datasets: dict name -> dataset of the rows' entries.

    Returns:
        `{"entries", "meet_paper_row", "max_train_minutes", "min_test_images_robust"}`:
        entries with a paper row, how many meet it, the longest training in
        minutes, and the fewest test images behind an image entry's robust
        accuracy (0 when one is not evaluated).
    """
    with_row = [row for row in rows if row["paper_clean"] is not None]
    image_rows = [row for row in rows if (datasets or {}).get(row["name"]) in image_datasets]
    return {
        "entries": len(with_row),
        "meet_paper_row": sum(bool(row["meets_paper_row"]) for row in with_row),
        "max_train_minutes": round(max((row["train_minutes"] for row in rows), default=0.0), 1),
        "min_test_images_robust": min((row["robust_n"] or 0 for row in image_rows), default=0),
    }


def _paper_scaling(reference):
    table = reference.get("table") or ""
    return "paper" if table.startswith(_PAPER_UNITS_TABLES) else "minmax"


def _clean(metrics):
    if metrics.get("clean_acc") is not None:
        return metrics["clean_acc"], _clean_acc_examples(metrics)
    return metrics.get("clean_accuracy"), metrics.get("num_examples")


def _clean_acc_examples(metrics):
    # `clean_acc` is measured on the whole test split; its size is recorded beside it.
    return metrics.get("clean_acc_examples") or metrics.get("num_test_examples")


def _robust(metrics):
    autoattack = metrics.get("autoattack")
    if metrics.get("autoattack_acc") is not None and autoattack:
        return metrics["autoattack_acc"], autoattack.get("n"), "AutoAttack"
    if metrics.get("worst_case_accuracy") is not None:
        names = "+".join(metrics.get("attacks", {}))
        return metrics["worst_case_accuracy"], metrics.get("num_examples"), f"worst case ({names})"
    return None, None, None


def _interval(fraction, n):
    if fraction is None or not n:
        return None
    return wilson_interval(fraction, n)


__all__ = ["paper_comparison", "summary"]
