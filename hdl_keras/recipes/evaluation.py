"""Evaluation as in the papers' tables: natural, FGSM, IFGSM^20, C&W and NAttack accuracy."""

import math
import warnings

import numpy as np

from hdl_keras import presets
from hdl_keras.attacks import FGSM
from hdl_keras.attacks import PGD
from hdl_keras.attacks import EoT
from hdl_keras.attacks import NAttack
from hdl_keras.attacks import cw_linf
from hdl_keras.attacks import evaluate

# The l_inf evaluation of Dinh et al. (2020) (CIFAR-10/100) and Li, Wang and Xin (2020) (Tables I-VIII,
# all datasets):
# FGSM at eps, IFGSM^20 with step 2/255 from x, C&W-l_inf with IFGSM^20's settings.
# Li et al. (2020) give no eps of their own for MNIST / Fashion-MNIST: the same 8/255 is used.
PAPER_EVALUATION = {
    dataset: presets.pgd_settings("li2020binaryrelax-ifgsm20")
    for dataset in ("cifar10", "cifar100", "svhn", "mnist", "fashion_mnist")
}

# Li et al. (2020), Table VIII (En2ResNet20, float, trade-off loss alpha = 1, beta = 8), in %.
PAPER_TARGETS = presets.paper_values("li2020binaryrelax", "table_8_float")["rows"]
# Deprecated aliases of `PAPER_EVALUATION` and `PAPER_TARGETS`, kept for one release.
SEED_EVALUATION = PAPER_EVALUATION
SEED_TARGETS = PAPER_TARGETS


def evaluate_like_paper(
    model,
    x,
    y,
    dataset,
    *,
    eot_samples=10,
    eot_steps=20,
    nattack_examples=100,
    nattack_population=300,
    nattack_iterations=500,
    batch_size=256,
    seed=0,
    verbose=0,
):
    """Accuracies of the papers' tables, plus EoT-PGD and the suite's masking flags.

    Runs `hdl_keras.attacks.evaluate` with, at the dataset's
    `PAPER_EVALUATION` settings (eps 8/255):

    - `natural` (Li et al.'s (2020) N, Dinh et al.'s (2020) A_1): clean accuracy;
    - `fgsm` (A_1 / A_2): `FGSM(eps)`;
    - `ifgsm20` (A_2 / A_3): `PGD(eps, step 2/255, 20 steps, no random start)`;
    - `cw` (A_3 / A_4): `cw_linf`, IFGSM^20 on the C&W margin (see its doc for the
      difference with the papers' C&W code, whose accuracies are higher);
    - `eot_pgd`: `EoT(PGD(eps, step 2/255, eot_steps steps, random start),
      n=eot_samples)`, gradients averaged over noise draws: the attack a
      randomized model (EnResNet, noise on at inference) calls for, which the
      papers do not run;
    - `nattack` (Dinh et al.'s (2020) A_5): `NAttack(eps)` on the first `nattack_examples`
      examples only (it costs up to `population * iterations` forward
      passes per example), in a second `evaluate`; `nattack_natural` is the
      clean accuracy of that subset and `nattack_ifgsm20` the IFGSM^20
      accuracy of the first pass on it, against which the
      `black_box_stronger` flag compares NAttack (like `evaluate`'s flag).

    An example counts as robust when it is classified correctly clean and
    under the attack (`evaluate`'s convention), so each attack's accuracy is
    at most the natural accuracy of its examples. The the papers' tables attack
    the randomized model with single-draw gradients, as `fgsm`, `ifgsm20`
    and `cw` do here.

    Args:
        model: the logits network (`x -> (B, K)` logits), inputs in [0, 1].
        x: float array `(N, H, W, C)` in [0, 1].
        y: int array `(N,)`.
        dataset: a key of `PAPER_EVALUATION` (its eps and steps).
        eot_samples: gradient draws per EoT step, default 10.
        eot_steps: PGD steps of EoT-PGD, default 20.
        nattack_examples: examples attacked by NAttack, default 100; 0 skips it.
        nattack_population: NAttack samples per iteration, default 300
            (attackbox's default, Dinh et al. 2020).
        nattack_iterations: NAttack iterations, default 500 (attackbox's).
        batch_size: largest evaluation batch, default 256; the examples are
            split into equal batches (each attack then compiles once).
        seed: int seed of the attacks' randomness, default 0.
        verbose: progress bars of `evaluate`, default 0.

    Returns:
        A dict: `"accuracy"` (name -> accuracy in [0, 1] for `natural`,
        `fgsm`, `ifgsm20`, `cw`, `eot_pgd`, `worst_case` and, with NAttack,
        `nattack` and `nattack_natural`), `"flags"` (the reports' masking
        flags, by code), `"settings"` (the attacks' parameters),
        `"num_examples"`, `"nattack_examples"`, `"randomized"`, `"seconds"`
        (per attack) and `"dataset"`.

    Examples:
        >>> result = evaluate_like_paper(model, x_test[:500], y_test[:500], "fashion_mnist",
        ...                             nattack_examples=20)
        >>> result["accuracy"]["ifgsm20"] <= result["accuracy"]["natural"]
        True
    """
    if dataset not in PAPER_EVALUATION:
        raise ValueError(f"Unknown dataset. Expected one of {list(PAPER_EVALUATION)}. Received: dataset={dataset!r}")
    for name, value in (("eot_samples", eot_samples), ("eot_steps", eot_steps)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an int >= 1. Received: {name}={value!r}")
    if isinstance(nattack_examples, bool) or not isinstance(nattack_examples, int) or nattack_examples < 0:
        raise ValueError(f"nattack_examples must be an int >= 0. Received: nattack_examples={nattack_examples!r}")
    x = np.asarray(x, dtype="float32")
    y = np.asarray(y).astype("int64")
    settings = dict(PAPER_EVALUATION[dataset])
    eps, step, steps = settings["eps"], settings["step_size"], settings["steps"]
    ifgsm = PGD(model, eps=eps, step_size=step, steps=steps, random_start=False, seed=seed)
    attacks = {
        "fgsm": FGSM(model, eps=eps, seed=seed),
        "ifgsm20": ifgsm,
        "cw": cw_linf(model, eps=eps, step_size=step, steps=steps, seed=seed),
        "eot_pgd": EoT(PGD(model, eps=eps, step_size=step, steps=eot_steps, seed=seed), n=eot_samples),
    }
    # Equal batches (500 examples: 2 x 250, not 256 + 244), so that each attack compiles once.
    batch_size = math.ceil(len(x) / math.ceil(len(x) / batch_size))
    report = evaluate(model, x, y, attacks=attacks, batch_size=batch_size, verbose=verbose)
    accuracy = {"natural": report.clean_accuracy}
    accuracy.update({name: result.accuracy for name, result in report.attacks.items()})
    accuracy["worst_case"] = report.worst_case_accuracy
    seconds = {name: result.seconds for name, result in report.attacks.items()}
    flags = {flag["code"]: flag["message"] for flag in report.flags}
    settings.update(eot_samples=eot_samples, eot_steps=eot_steps)

    count = min(nattack_examples, len(x))
    if count:
        nattack = NAttack(
            model,
            eps=eps,
            population=nattack_population,
            max_iterations=nattack_iterations,
            seed=seed,
        )
        subset = evaluate(model, x[:count], y[:count], attacks={"nattack": nattack}, batch_size=count, verbose=verbose)
        accuracy["nattack"] = subset.attacks["nattack"].accuracy
        accuracy["nattack_natural"] = subset.clean_accuracy
        # IFGSM^20 on the same examples, from the first pass (no second compilation).
        ifgsm_robust = report.clean_correct[:count] & ~report.attacks["ifgsm20"].success[:count]
        accuracy["nattack_ifgsm20"] = float(np.mean(ifgsm_robust))
        if accuracy["nattack"] < accuracy["nattack_ifgsm20"]:
            flags["black_box_stronger"] = (
                f"black-box NAttack reaches {accuracy['nattack']:.2%} accuracy on the first {count} "
                f"examples, below the {accuracy['nattack_ifgsm20']:.2%} of IFGSM20 on them: the model "
                "likely masks its gradients (see EoT-PGD)."
            )
        seconds["nattack"] = subset.attacks["nattack"].seconds
        flags.update({flag["code"]: flag["message"] for flag in subset.flags})
        settings.update(nattack_population=nattack_population, nattack_iterations=nattack_iterations)
    return {
        "dataset": dataset,
        "num_examples": int(len(x)),
        "nattack_examples": count,
        "accuracy": accuracy,
        "flags": flags,
        "randomized": report.randomized,
        "settings": settings,
        "seconds": seconds,
    }


def paper_table_markdown(result, title, model_label="En2ResNet20", note=None):
    """A markdown table of `evaluate_like_paper`'s result next to Li et al.'s (2020) Table VIII row.

    Args:
        result: the dict returned by `evaluate_like_paper`.
        title: heading of the table.
        model_label: the model column, default `"En2ResNet20"`.
        note: optional paragraph placed under the heading.

    Returns:
        Markdown text.
    """
    acc = result["accuracy"]
    columns = ["natural", "fgsm", "ifgsm20", "cw", "eot_pgd", "nattack"]
    header = ["row", "N", "FGSM", "IFGSM20", "C&W (l_inf)", "EoT-PGD", "NAttack"]
    lines = [f"## {title}", ""]
    if note:
        lines += [note, ""]
    lines += ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    measured = [f"{100 * acc[c]:.2f}" if c in acc else "-" for c in columns]
    lines.append(f"| {model_label}, this run | " + " | ".join(measured) + " |")
    target = PAPER_TARGETS.get(result["dataset"])
    if target:
        cells = [f"{target[c]:.2f}" if c in target else "-" for c in columns]
        lines.append("| Table VIII of Li et al. (2020) (float, full training) | " + " | ".join(cells) + " |")
    lines += [
        "",
        f"{result['num_examples']} test images; NAttack on the first {result['nattack_examples']} "
        f"(their clean accuracy {100 * acc.get('nattack_natural', float('nan')):.2f}, IFGSM20 "
        f"{100 * acc.get('nattack_ifgsm20', float('nan')):.2f}). Worst case over the attacks of the "
        f"first pass: {100 * acc['worst_case']:.2f}. eps = {result['settings']['eps']:.5f} (8/255).",
        "",
    ]
    if result["flags"]:
        lines.append("Flags of `hdl_keras.attacks.evaluate`:")
        lines.append("")
        lines += [f"- `{code}`: {message}" for code, message in result["flags"].items()]
        lines.append("")
    return "\n".join(lines)


def evaluate_like_seed(*args, **kwargs):
    """Deprecated alias of `evaluate_like_paper`, kept for one release."""
    warnings.warn("evaluate_like_seed is deprecated; use evaluate_like_paper.", DeprecationWarning, stacklevel=2)
    return evaluate_like_paper(*args, **kwargs)


def seed_table_markdown(*args, **kwargs):
    """Deprecated alias of `paper_table_markdown`, kept for one release."""
    warnings.warn("seed_table_markdown is deprecated; use paper_table_markdown.", DeprecationWarning, stacklevel=2)
    return paper_table_markdown(*args, **kwargs)
