"""evaluate: robust accuracy under a set of attacks, with gradient-masking flags.

The inputs' checks and batching live in `hdl_keras.attacks.evaluate_inputs`,
the gradient-masking flags in `hdl_keras.attacks.masking_flags`.
"""

import copy
import time

import keras
import numpy as np
from keras import ops

from hdl_keras.attacks.autoattack import AutoAttack
from hdl_keras.attacks.eot import EoT
from hdl_keras.attacks.evaluate_inputs import Batches
from hdl_keras.attacks.evaluate_inputs import as_arrays
from hdl_keras.attacks.evaluate_inputs import check_batch
from hdl_keras.attacks.evaluate_inputs import check_inputs
from hdl_keras.attacks.evaluate_inputs import check_options
from hdl_keras.attacks.evaluate_inputs import named_attacks
from hdl_keras.attacks.masking_flags import UNBOUNDED_TOLERANCE
from hdl_keras.attacks.masking_flags import masking_flags
from hdl_keras.attacks.report import AttackResult
from hdl_keras.attacks.report import RobustnessReport
from hdl_keras.attacks.wrapped import innermost_samples
from hdl_keras.attacks.wrapped import with_model
from hdl_keras.utils import validation


def evaluate(
    model,
    x,
    y=None,
    *,
    attacks,
    batch_size=256,
    eps_sweep=None,
    check_unbounded=False,
    eot_samples=None,
    verbose=1,
    eps=None,
    norm="linf",
    seed=0,
):
    """Evaluates `model` under `attacks`: robust accuracy, costs and warnings.

    Every attack runs on every batch; an example counts as robust under an
    attack when it is classified correctly both clean and on the attack's
    output, and as robust in the worst case when it survives every attack
    (as in RobustBench/AutoAttack, where clean errors count as non-robust).
    The report also flags the usual signs of gradient masking (Athalye et al.
    2018, section 5; Croce and Hein 2020): codes

    - `"black_box_stronger"`: a black-box attack (`black_box = True`, e.g.
      `Transfer`) reaches a lower accuracy than every white-box attack;
    - `"single_step_stronger"`: a one-step white-box attack (FGSM) reaches a
      lower accuracy than an iterative one (Carlini et al. 2019, sec. 4.4:
      iterative attacks must be at least as strong), e.g. PGD from a random
      start stuck where the model's gradient vanishes, or PGD on the
      cross-entropy of a multi-class linear model climbing to a box corner
      that keeps the label, which FGSM's first step flips;
    - `"eps_sweep_not_monotone"`, `"eps_sweep_flat"`: with `eps_sweep`, the
      strongest white-box attack, re-run at each eps, gains accuracy as eps
      grows, or loses none from the smallest to the largest eps;
    - `"unbounded_not_zero"`: with `check_unbounded`, that attack with eps
      covering the whole input box leaves more than 1 % accuracy;
    - `"randomized_model"`: two calls of the model on the first batch differ
      (gradients are random: use `EoT`, or pass `eot_samples`).

    Re-runs use a copy of the attack with the new `eps` (and its `step_size`,
    if any, scaled by the same factor, so that its relative step is kept).

    Args:
        model: the evaluated model, a callable `x -> logits` accepting
            `training=False` (usually a `keras.Model`).
        x: float array `(num_examples, *input_shape)` in the attacks' bounds;
            or, with `y=None`, an iterable of `(x_batch, y_batch)` pairs (a
            `tf.data.Dataset`, a generator, a list), evaluated batch by batch.
        y: int array `(num_examples,)` of labels in `[0, num_classes)`, or
            None when `x` yields batches. Default None.
        attacks: dict name -> `Attack`, or a list of attacks (named by class
            name, repeated names numbered). Untargeted attacks on the labels;
            white-box ones should attack `model`. Or `"autoattack"` (the
            standard AutoAttack at radius `eps`, `"rand"` when the model is
            randomized) or an `AutoAttack` instance: the ensemble runs on the
            still-robust points (`AutoAttack.run`) and the report is its
            report; `eps_sweep` and `check_unbounded` are then not supported.
        batch_size: batch size for array inputs, default 256.
        eps_sweep: optional list of eps values at which the strongest
            white-box attack is re-run (reported in ascending order), default
            None.
        check_unbounded: re-run the strongest white-box attack with eps
            covering the whole box (`high - low` for l_inf, times the square
            root of the input size for l_2), default False.
        eot_samples: when the model is randomized, run the white-box attacks
            on `EoT(model, samples=eot_samples)`; default None (no wrapping).
        verbose: 0 (silent), 1 or 2 (`keras.utils.Progbar` over batches),
            default 1.
        eps, norm, seed: radius (required), norm (default `"linf"`) and seed
            (default 0) of `attacks="autoattack"`; unused otherwise.

    Returns:
        A `RobustnessReport`.

    Examples:
        >>> report = evaluate(
        ...     model, x_test[:1000], y_test[:1000],
        ...     attacks={"pgd": PGD(model, eps=8 / 255, steps=20)},
        ...     eps_sweep=[2 / 255, 4 / 255, 8 / 255, 16 / 255],
        ... )
        >>> print(report.to_markdown())

    Reference:
        Athalye, Carlini, Wagner, "Obfuscated Gradients Give a False Sense of
        Security", ICML 2018, https://arxiv.org/abs/1802.00420; Croce, Hein,
        "Reliable evaluation of adversarial robustness with an ensemble of
        diverse parameter-free attacks", ICML 2020,
        https://arxiv.org/abs/2003.01690.
    """
    validation.logits_width(model)  # one logits output
    if isinstance(attacks, (str, AutoAttack)):
        return _evaluate_autoattack(
            model, x, y, attacks, batch_size, eps_sweep, check_unbounded, verbose, eps, norm, seed
        )
    attacks = named_attacks(attacks)
    eps_sweep = check_options(batch_size, eps_sweep, check_unbounded, eot_samples, verbose, attacks)
    rerun = eps_sweep is not None or check_unbounded
    batches = Batches(x, y, batch_size, keep=rerun)

    clean_correct, results, randomized, input_shape, attacks, predictions = _first_pass(
        model, batches, attacks, eot_samples, verbose
    )
    robust = clean_correct.copy()
    for result in results.values():
        robust &= ~result.success
    report = RobustnessReport(
        num_examples=len(clean_correct),
        clean_accuracy=float(np.mean(clean_correct)),
        clean_correct=clean_correct,
        attacks=results,
        robust=robust,
        worst_case_accuracy=float(np.mean(robust)),
        randomized=randomized,
        **predictions,
    )
    if rerun:
        _rerun_strongest(report, model, batches, attacks, eps_sweep, check_unbounded, input_shape, verbose)
    report.flags = masking_flags(report, eot_samples)
    return report


def _evaluate_autoattack(model, x, y, attacks, batch_size, eps_sweep, check_unbounded, verbose, eps, norm, seed):
    """`evaluate` with `attacks="autoattack"` or an `AutoAttack`: its report."""
    if eps_sweep is not None or check_unbounded:
        raise ValueError(
            "eps_sweep and check_unbounded re-run one attack; with AutoAttack, run "
            "evaluate with a dict of attacks for them. Received: attacks=AutoAttack"
        )
    x, y = as_arrays(x, y)
    if isinstance(attacks, str):
        if attacks != "autoattack":
            raise ValueError(f"attacks given as a string must be 'autoattack'. Received: attacks={attacks!r}")
        if eps is None:
            raise ValueError("attacks='autoattack' needs eps=, the radius. Received: eps=None")
        version = "rand" if _is_randomized(model, x[:batch_size]) else "standard"
        attacks = AutoAttack(model, norm=norm, eps=eps, version=version, seed=seed, batch_size=batch_size)
    return attacks.run(x, y, verbose=verbose)


def _is_randomized(model, x):
    """True when two calls of `model` on `x` differ."""
    return not np.allclose(_logits(model, x), _logits(model, x), rtol=1e-5, atol=1e-6)


def _first_pass(model, batches, attacks, eot_samples, verbose):
    """Clean and per-attack results over all batches; wraps attacks in EoT if needed.

    Returns `(clean_correct, results, randomized, input_shape, attacks,
    predictions)`, the attacks as run (EoT-wrapped when the model is
    randomized and `eot_samples`), `predictions` the report's `labels`,
    `clean_predictions` and `num_classes`.
    """
    progbar = keras.utils.Progbar(batches.num_batches, verbose=verbose, stateful_metrics=["clean_acc", "worst_acc"])
    clean_parts, parts = [], {name: [] for name in attacks}
    label_parts, prediction_parts, num_classes = [], [], None
    randomized, input_shape = False, None
    seen, clean_count, worst_count = 0, 0, 0
    for index, (x, y) in enumerate(batches):
        check_inputs(model, x, attacks)
        logits = _logits(model, x)
        if index == 0:
            input_shape = x.shape[1:]
            randomized = not np.allclose(logits, _logits(model, x), rtol=1e-5, atol=1e-6)
            if randomized and eot_samples is not None:
                attacks = _with_eot(attacks, eot_samples)
        check_batch(x, y, logits.shape[-1], attacks)
        clean = np.argmax(logits, axis=-1) == y
        clean_parts.append(clean)
        label_parts.append(np.asarray(y, dtype="int64"))
        prediction_parts.append(np.argmax(logits, axis=-1))
        num_classes = int(logits.shape[-1])
        robust = clean.copy()
        for name, attack in attacks.items():
            part = _run_attack(model, attack, x, y, clean)
            parts[name].append(part)
            robust &= ~part["success"]
        seen += len(y)
        clean_count += int(clean.sum())
        worst_count += int(robust.sum())
        progbar.update(index + 1, [("clean_acc", clean_count / seen), ("worst_acc", worst_count / seen)])
    if not clean_parts:
        raise ValueError("evaluate received no examples: x (or the batches it yields) is empty.")
    if batches.num_batches is None:
        progbar.update(len(clean_parts), finalize=True)
    clean_correct = np.concatenate(clean_parts)
    results = {name: _merge(parts[name], attacks[name], clean_correct) for name in attacks}
    predictions = {
        "labels": np.concatenate(label_parts),
        "clean_predictions": np.concatenate(prediction_parts),
        "num_classes": num_classes,
    }
    return clean_correct, results, randomized, input_shape, attacks, predictions


def _run_attack(model, attack, x, y, clean):
    start = time.perf_counter()
    x_adv = ops.convert_to_numpy(attack(x, y))
    seconds = time.perf_counter() - start
    predictions = np.argmax(_logits(model, x_adv), axis=-1)
    fooled = predictions != y
    delta = (x_adv.astype("float64") - x).reshape(len(x), -1)
    return {
        "success": clean & fooled,
        "predictions": predictions,
        "linf": np.abs(delta).max(axis=1, initial=0.0),
        "l2": np.sqrt(np.sum(delta**2, axis=1)),
        "queries": _queries(attack, len(x)),
        "seconds": seconds,
    }


def _queries(attack, batch):
    """Per-example queries: `attack.queries`, else gradient evaluations, else None."""
    queries = getattr(attack, "queries", None)
    if queries is not None:
        return np.broadcast_to(np.asarray(queries, dtype="float64"), (batch,))
    if not (hasattr(attack, "steps") or hasattr(attack, "restarts")):
        return None
    count = getattr(attack, "steps", 1) * getattr(attack, "restarts", 1)
    return np.full(batch, float(count * innermost_samples(getattr(attack, "model", None))))


def _merge(parts, attack, clean_correct):
    """One `AttackResult` from the per-batch results of `_run_attack`."""
    success = np.concatenate([p["success"] for p in parts])
    linf = np.concatenate([p["linf"] for p in parts])
    l2 = np.concatenate([p["l2"] for p in parts])
    queries = None
    if all(p["queries"] is not None for p in parts):
        queries = float(np.mean(np.concatenate([p["queries"] for p in parts])))
    return AttackResult(
        accuracy=float(np.mean(clean_correct & ~success)),
        success=success,
        linf_mean=float(linf.mean()),
        linf_max=float(linf.max()),
        l2_mean=float(l2.mean()),
        l2_max=float(l2.max()),
        queries=queries,
        seconds=float(sum(p["seconds"] for p in parts)),
        eps=getattr(attack, "eps", None),
        norm=getattr(attack, "norm", None),
        black_box=bool(getattr(attack, "black_box", False)),
        predictions=np.concatenate([p["predictions"] for p in parts]),
        steps=None if getattr(attack, "black_box", False) else getattr(attack, "steps", None),
    )


def _rerun_strongest(report, model, batches, attacks, eps_sweep, check_unbounded, input_shape, verbose):
    """Fills `report.eps_sweep` / `unbounded_accuracy` with the strongest white-box attack."""
    white_box = [name for name in attacks if not report.attacks[name].black_box]
    name = min(white_box, key=lambda n: report.attacks[n].accuracy)
    attack = attacks[name]
    eps_values = list(eps_sweep or [])
    if check_unbounded:
        eps_values.append(_whole_box_eps(attack, input_shape))
    copies = [_with_eps(attack, eps) for eps in eps_values]
    progbar = keras.utils.Progbar(batches.num_batches, verbose=verbose)
    robust_counts, total = np.zeros(len(copies)), 0
    for index, (x, y) in enumerate(batches):
        clean = np.argmax(_logits(model, x), axis=-1) == y
        for position, attack_copy in enumerate(copies):
            x_adv = ops.convert_to_numpy(attack_copy(x, y))
            correct = np.argmax(_logits(model, x_adv), axis=-1) == y
            robust_counts[position] += np.sum(clean & correct)
        total += len(y)
        progbar.update(index + 1)
    accuracies = [float(count / total) for count in robust_counts]
    if eps_sweep is not None:
        report.eps_sweep = {
            "attack": name,
            "eps": [float(eps) for eps in eps_sweep],
            "accuracy": accuracies[: len(eps_sweep)],
        }
    if check_unbounded:
        report.unbounded_accuracy = accuracies[-1]


def _whole_box_eps(attack, input_shape):
    low, high = attack.bounds
    if attack.norm == "linf":
        return high - low
    return (high - low) * float(np.sqrt(np.prod(input_shape)))


def _with_eps(attack, eps):
    """A copy of `attack` with radius `eps` and, if it has one, a step size scaled alike."""
    clone = copy.copy(attack)
    if hasattr(attack, "step_size") and attack.eps > 0:
        clone.step_size = attack.step_size * eps / attack.eps
    clone.eps = float(eps)
    return clone


def _with_eot(attacks, eot_samples):
    return {
        name: attack
        if getattr(attack, "black_box", False) or isinstance(attack.model, EoT)
        else with_model(attack, EoT(attack.model, samples=eot_samples))
        for name, attack in attacks.items()
    }


def _logits(model, x):
    return ops.convert_to_numpy(model(x, training=False))


__all__ = ["UNBOUNDED_TOLERANCE", "evaluate"]
