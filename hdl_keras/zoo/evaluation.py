"""Measures zoo entries with the attack suite and writes the numbers into their cards.

`evaluate_entry` runs `hdl_keras.attacks.evaluate` on the first `n` test
points of the entry's dataset, prepared as the HDL protocol prepares them
(`hdl_keras.data.prepare_data`: the official test images; for tables
the fixed 20 % test split, scaled with statistics of the train+validation
pool, so no test point was seen in training), at the card's l_inf radius, in
the card's units (`threat_model.scaling`: `"minmax"`, inputs and attacks in
[0, 1]; `"paper"`, tables standardised then divided by 255 as in Bertsimas et
al. (2023)'s code, attacked unclipped: `hdl_keras.data.input_bounds`):

- `"standard"`: FGSM and PGD-20 (step eps/4, random start, seeded);
- `"bertsimas2023"`: those and the PGD of Bertsimas et al. (2023)'s code,
  40 steps of 0.01 from a random start (`pgd40`; the tables' evaluation in
  the paper's scaling);
- `"full"`: those, APGD-CE (100 steps), C&W-l_inf (PGD-20 on the
  Carlini-Wagner margin, `cw_linf`) and the black-box Square attack (1000
  queries; images only: it perturbs square patches, which tables do not have);
- `"autoattack"` (images only): FGSM and PGD-20, then AutoAttack
  (`hdl_keras.attacks.AutoAttack`, Croce & Hein 2020) on the same points:
  `"standard"`, or `"rand"` when the model is randomized; the metrics gain
  RobustBench's fields (see `evaluate_entry`).

This module only reads entries: `hdl_keras.recipes.zoo_cards.update_card`
(`hdl-zoo eval --update-card`) is the only writer of a card's `metrics`,
`gradient_masking_flags` and `evaluation`.

Examples:

    ```python
    from hdl_keras.recipes.zoo_cards import update_card
    from hdl_keras.zoo.evaluation import evaluate_entry

    result = evaluate_entry("mnist-small_cnn-hdl", attacks="standard", n=500)
    print(result["clean_accuracy"], result["attacks"]["pgd20"], result["worst_case_accuracy"])
    update_card("mnist-small_cnn-hdl", result, "hdl-zoo eval mnist-small_cnn-hdl --n 500 --update-card")
    ```
"""

import keras
import numpy as np
from keras import ops

from hdl_keras import attacks as attack_suite
from hdl_keras import presets
from hdl_keras.data import input_bounds
from hdl_keras.data import prepare_data
from hdl_keras.measure import prunable_layers
from hdl_keras.measure import weight_statistics
from hdl_keras.utils.moved import moved_names
from hdl_keras.zoo import registry

# The attack suites of `hdl_keras.presets` (attack_suites.json), weakest first.
PRESETS = tuple(presets.attack_suites())
# The image datasets of hdl_keras.data: AutoAttack (and Square) perturb images.
IMAGE_DATASETS = ("mnist", "fashion_mnist", "cifar10")
SQUARE_QUERIES = presets.attack_suite("full")["attacks"]["square"]["n_queries"]
# z of the two-sided 95 % Wilson interval.
WILSON_Z = 1.959963984540054


def attack_set(model, eps, preset="standard", seed=0, images=True, bounds=(0.0, 1.0)):
    """The attacks of `preset` at l_inf radius `eps`, by name.

    Args:
        model: the attacked model (logits).
        eps: l_inf radius.
        preset: `"standard"` (`fgsm`, `pgd20`), `"bertsimas2023"` (adds
            `pgd40`, 40 steps of 0.01) or `"full"` (adds `apgd`, `cw`, and
            `square` when `images`); `"autoattack"` gives the standard set,
            which `evaluate_entry` runs beside AutoAttack. The suites are
            data: `hdl_keras.presets.attack_suite(preset)`.
        seed: seed of the random starts and of Square's sampling.
        images: whether inputs are images `(B, H, W, C)`; Square needs them.
        bounds: `(low, high)` of valid inputs, where every attack clips;
            default `(0, 1)` (`hdl_keras.data.input_bounds`).

    Returns:
        A dict name -> `hdl_keras.attacks.Attack`.
    """
    check_preset(preset)
    attacks = {}
    for name, spec in presets.attack_suite(preset)["attacks"].items():
        if spec.get("images_only") and not images:
            continue
        attacks[name] = _build_attack(model, eps, spec, seed, bounds)
    return attacks


def _build_attack(model, eps, spec, seed, bounds):
    """The attack of one suite entry: `hdl_keras.attacks.<spec["attack"]>(model, eps=eps, ...)`.

    `step_ratio` becomes `step_size = step_ratio * eps`; `seeded` passes `seed`.
    """
    kwargs = {key: value for key, value in spec.items() if key not in ("attack", "step_ratio", "seeded", "images_only")}
    if "step_ratio" in spec:
        kwargs["step_size"] = spec["step_ratio"] * eps
    if spec.get("seeded"):
        kwargs["seed"] = seed
    return getattr(attack_suite, spec["attack"])(model, eps=eps, bounds=bounds, **kwargs)


def default_preset(dataset, scaling="minmax"):
    """The `hdl-zoo eval` default: `"autoattack"` for images, `"standard"` for tables, `"bertsimas2023"` under paper scaling."""
    if dataset in IMAGE_DATASETS:
        return "autoattack"
    return "bertsimas2023" if scaling == "paper" else "standard"


def check_preset(preset):
    """Raises a ValueError unless `preset` is one of `PRESETS`."""
    if preset not in PRESETS:
        raise ValueError(f"Expected attacks in {PRESETS}. Received: attacks={preset!r}")


def evaluation_data(dataset, n, scaling="minmax"):
    """The first `n` test points of `dataset` as the protocol prepares them (`prepare_data(dataset, scaling=...)`).

    Returns:
        `(x, y)`: float32 inputs (in [0, 1] but for tables under `"paper"`
        scaling) and int labels, `min(n, size)` rows.
    """
    _, (x_test, y_test) = prepare_data(dataset, scaling=scaling)
    return x_test[:n], np.asarray(y_test[:n]).astype("int64")


def evaluate_entry(
    name_or_model,
    attacks="standard",
    n=1000,
    batch_size=256,
    verbose=1,
    seed=0,
    *,
    dataset=None,
    eps=None,
    scaling=None,
    autoattack_options=None,
):
    """Evaluates a zoo entry (or a model) under the attacks of a preset.

    Args:
        name_or_model: an entry name (its model is loaded with
            `hdl_keras.zoo.load`, hash-checked; dataset and eps come from its
            card) or a `keras.Model` predicting logits (then `dataset` and
            `eps` are required).
        attacks: `"standard"` or `"full"` (see `attack_set`), default
            `"standard"`.
        n: number of test points (the first `n`; fewer when the test set is
            smaller), default 1000.
        batch_size: rows per attack call, default 256.
        verbose: 0 silent, 1 (default) a progress bar.
        seed: seed of the attacks' randomness, default 0.
        dataset: the dataset of a model passed directly.
        eps: the l_inf radius for a model passed directly; for an entry, a
            radius other than the card's (default: the card's).
        scaling: the input units of a model passed directly, `"minmax"`
            (default) or `"paper"` (`hdl_keras.data.prepare_data`); an
            entry's come from its card's `threat_model.scaling`.
        autoattack_options: optional dict of `AutoAttack` settings
            (`steps`, `n_queries`, `n_target_classes`) for a reduced run of
            `"autoattack"`; default None (the reference's settings).

    Returns:
        The card's `metrics` dict — `num_examples`, `clean_accuracy`,
        `attacks` (accuracy per attack name), `worst_case_accuracy` (robust
        to every attack, clean errors counted), `stability` (None: it needs
        training splits), `zero_weights` (fraction of kernel entries equal
        to 0), `zero_channels` (fraction of output units/filters whose kernel
        slice has l2 norm below `hdl_keras.measure.ZERO_CHANNEL_TOLERANCE`), `bits_per_weight`
        — plus `gradient_masking_flags`, the codes of the report's flags.
        Accuracies are fractions in [0, 1]. With `attacks="autoattack"`
        (images only), also RobustBench's fields: `clean_acc` (accuracy on
        all test images), `autoattack_acc` (after AutoAttack, on the `n`
        points), `autoattack` (`version`, `n`, `interval`: the Wilson 95 %
        interval of `autoattack_acc`, `per_attack`: the robust accuracy
        after each of its attacks, `number_forward_passes`, `seconds`,
        `forward_passes`, `backward_passes`), `unreliable` (a masking flag
        fired, e.g. the black-box Square broke points the white-box attacks
        did not) and `external` (the best known robust accuracy: robust to
        every attack run, FGSM and PGD-20 included).

    Examples:

        ```python
        result = evaluate_entry("iris-mlp-hdl", n=30, verbose=0)
        assert result["worst_case_accuracy"] <= result["clean_accuracy"]
        ```
    """
    check_preset(attacks)
    for key, value in (("n", n), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"Expected an int >= 1 for {key}. Received: {key}={value!r}")
    if isinstance(name_or_model, str):
        card = registry.card(name_or_model)
        model = registry.load(name_or_model)
        dataset = card["dataset"]
        eps = card["threat_model"]["eps"] if eps is None else eps
        scaling = card["threat_model"].get("scaling", "minmax")
    elif isinstance(name_or_model, keras.Model):
        if dataset is None or eps is None:
            raise ValueError(
                "Evaluating a model (not an entry name) needs dataset= and eps=. "
                f"Received: dataset={dataset!r}, eps={eps!r}"
            )
        model = name_or_model
    else:
        raise ValueError(f"Expected an entry name or a keras.Model. Received: {name_or_model!r}")
    scaling = scaling or "minmax"
    _, (x_test, y_test) = prepare_data(dataset, scaling=scaling)
    x, y = x_test[: int(n)], np.asarray(y_test[: int(n)]).astype("int64")
    if attacks == "autoattack" and x.ndim != 4:
        raise ValueError(
            f"AutoAttack evaluates image entries; {dataset!r} is a table dataset. Use "
            "attacks='standard' or 'full'. Received: attacks='autoattack'"
        )
    keras.utils.set_random_seed(seed)
    report = attack_suite.evaluate(
        model,
        x,
        y,
        attacks=attack_set(model, float(eps), attacks, seed, images=x.ndim == 4, bounds=input_bounds(dataset, scaling)),
        batch_size=int(batch_size),
        verbose=verbose,
    )
    zero_weights, zero_channels, bits = sparsity_statistics(model)
    if attacks == "autoattack":
        clean_acc = _accuracy(model, x_test, np.asarray(y_test), int(batch_size))
        metrics = _with_autoattack(
            model,
            x,
            y,
            float(eps),
            report,
            seed,
            int(batch_size),
            verbose,
            (zero_weights, zero_channels, bits),
            clean_acc,
            autoattack_options or {},
        )
        metrics["clean_acc_examples"] = int(len(y_test))
        return {**metrics, "intervals": accuracy_intervals(metrics)}
    metrics = {
        "num_examples": report.num_examples,
        "clean_accuracy": report.clean_accuracy,
        "attacks": {name: result.accuracy for name, result in report.attacks.items()},
        "worst_case_accuracy": report.worst_case_accuracy,
        "stability": None,
        "zero_weights": zero_weights,
        "zero_channels": zero_channels,
        "bits_per_weight": bits,
        "gradient_masking_flags": sorted({flag["code"] for flag in report.flags}),
    }
    return {**metrics, "intervals": accuracy_intervals(metrics)}


def _with_autoattack(model, x, y, eps, report, seed, batch_size, verbose, sparsity, clean_acc, options):
    """The metrics of `evaluate_entry(..., attacks="autoattack")`: PGD-20 and FGSM beside AutoAttack."""
    version = "rand" if report.randomized else "standard"
    auto = attack_suite.AutoAttack(
        model, norm="linf", eps=eps, version=version, seed=seed, batch_size=batch_size, **options
    )
    auto_report = auto.run(x, y, verbose=verbose)
    robust = report.robust & auto_report.robust
    accuracy = auto_report.worst_case_accuracy
    flags = sorted({flag["code"] for flag in report.flags + auto_report.flags})
    masking = [code for code in flags if code != "randomized_model"]
    zero_weights, zero_channels, bits = sparsity
    details = auto_report.autoattack
    return {
        "num_examples": report.num_examples,
        "clean_accuracy": report.clean_accuracy,
        "attacks": {**{name: result.accuracy for name, result in report.attacks.items()}, "autoattack": accuracy},
        "worst_case_accuracy": float(np.mean(robust)),
        "stability": None,
        "zero_weights": zero_weights,
        "zero_channels": zero_channels,
        "bits_per_weight": bits,
        "clean_acc": clean_acc,
        "autoattack_acc": accuracy,
        "autoattack": {
            "version": version,
            "n": auto_report.num_examples,
            "interval": list(wilson_interval(accuracy, auto_report.num_examples)),
            "per_attack": {name: result.accuracy for name, result in auto_report.attacks.items()},
            "number_forward_passes": details["number_forward_passes"],
            "seconds": round(details["seconds"], 1),
            "forward_passes": details["forward_passes"],
            "backward_passes": details["backward_passes"],
        },
        "unreliable": bool(masking),
        "external": float(np.mean(robust)),
        "gradient_masking_flags": flags,
    }


def accuracy_intervals(metrics):
    """The Wilson 95 % interval of every accuracy in `metrics`, as `[low, high]` lists.

    Keys: `clean_accuracy`, `worst_case_accuracy`, `attack:<name>` (on
    `num_examples` points) and `clean_acc` (on `clean_acc_examples`).
    """
    n = metrics["num_examples"]
    intervals = {key: list(wilson_interval(metrics[key], n)) for key in ("clean_accuracy", "worst_case_accuracy")}
    intervals.update({f"attack:{name}": list(wilson_interval(value, n)) for name, value in metrics["attacks"].items()})
    if metrics.get("clean_acc") is not None:
        intervals["clean_acc"] = list(wilson_interval(metrics["clean_acc"], metrics["clean_acc_examples"]))
    return intervals


def wilson_interval(fraction, n, z=WILSON_Z):
    """`(low, high)`: the Wilson score interval of a binomial proportion (95 % by default).

    `center = (p + z^2 / 2n) / (1 + z^2 / n)`, half-width
    `z / (1 + z^2 / n) * sqrt(p (1 - p) / n + z^2 / 4n^2)`.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1. Received: n={n}")
    denominator = 1.0 + z * z / n
    center = (fraction + z * z / (2 * n)) / denominator
    half = z / denominator * float(np.sqrt(fraction * (1 - fraction) / n + z * z / (4 * n * n)))
    return max(0.0, center - half), min(1.0, center + half)


def _accuracy(model, x, y, batch_size):
    correct = 0
    for start in range(0, len(x), batch_size):
        logits = ops.convert_to_numpy(model(x[start : start + batch_size], training=False))
        correct += int(np.sum(np.argmax(logits, axis=1) == y[start : start + batch_size]))
    return correct / len(x)


def sparsity_statistics(model):
    """`(zero_weights, zero_channels, bits_per_weight)` of `model`'s kernels, `hdl_keras.measure.weight_statistics`.

    `(None, None, None)` for a model without a Dense or Conv2D layer.
    """
    if not prunable_layers(model):
        return None, None, None
    statistics = weight_statistics(model)
    return statistics["zero_weights"], statistics["zero_channels"], statistics["bits_per_weight"]


# Deprecated path of `update_card` (moved to `hdl_keras.recipes.zoo_cards`), kept for one release.
__getattr__ = moved_names("hdl_keras.zoo.evaluation", "hdl_keras.recipes.zoo_cards")
