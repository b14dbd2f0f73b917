"""evaluate: robust accuracy under a set of attacks, with gradient-masking flags."""

import copy
import time

import keras
import numpy as np
from keras import ops

from hdl_keras.attacks.base import Attack
from hdl_keras.utils import validation
from hdl_keras.attacks.eot import EoT
from hdl_keras.attacks.wrapped import innermost_samples
from hdl_keras.attacks.wrapped import with_model
from hdl_keras.attacks.report import AttackResult
from hdl_keras.attacks.report import RobustnessReport

# Accuracy above which an attack with eps covering the whole box is flagged.
UNBOUNDED_TOLERANCE = 0.01


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
    from hdl_keras.attacks.autoattack import AutoAttack  # here: autoattack imports this module

    if isinstance(attacks, (str, AutoAttack)):
        return _evaluate_autoattack(
            model, x, y, attacks, batch_size, eps_sweep, check_unbounded, verbose, eps, norm, seed
        )
    attacks = _named_attacks(attacks)
    eps_sweep = _check_options(batch_size, eps_sweep, check_unbounded, eot_samples, verbose, attacks)
    rerun = eps_sweep is not None or check_unbounded
    batches = _Batches(x, y, batch_size, keep=rerun)

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
    report.flags = _flags(report, eot_samples)
    return report


def _evaluate_autoattack(model, x, y, attacks, batch_size, eps_sweep, check_unbounded, verbose, eps, norm, seed):
    """`evaluate` with `attacks="autoattack"` or an `AutoAttack`: its report."""
    from hdl_keras.attacks.autoattack import AutoAttack

    if eps_sweep is not None or check_unbounded:
        raise ValueError(
            "eps_sweep and check_unbounded re-run one attack; with AutoAttack, run "
            "evaluate with a dict of attacks for them. Received: attacks=AutoAttack"
        )
    x, y = _arrays(x, y)
    if isinstance(attacks, str):
        if attacks != "autoattack":
            raise ValueError(f"attacks given as a string must be 'autoattack'. Received: attacks={attacks!r}")
        if eps is None:
            raise ValueError("attacks='autoattack' needs eps=, the radius. Received: eps=None")
        version = "rand" if _is_randomized(model, x[:batch_size]) else "standard"
        attacks = AutoAttack(model, norm=norm, eps=eps, version=version, seed=seed, batch_size=batch_size)
    return attacks.run(x, y, verbose=verbose)


def _arrays(x, y):
    """Numpy `(x, y)` from arrays or from an iterable of batches."""
    if y is not None:
        return _to_numpy(x, "x"), _to_numpy(y, "y")
    pairs = [_pair(item) for item in x]
    if not pairs:
        raise ValueError("evaluate received no examples: x (or the batches it yields) is empty.")
    return np.concatenate([p[0] for p in pairs]), np.concatenate([p[1] for p in pairs])


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
        _check_images(model, x, attacks)
        logits = _logits(model, x)
        if index == 0:
            input_shape = x.shape[1:]
            randomized = not np.allclose(logits, _logits(model, x), rtol=1e-5, atol=1e-6)
            if randomized and eot_samples is not None:
                attacks = _with_eot(attacks, eot_samples)
        _check_batch(x, y, logits.shape[-1], attacks)
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


def _flags(report, eot_samples):
    flags = []
    white = {n: r for n, r in report.attacks.items() if not r.black_box}
    black = {n: r for n, r in report.attacks.items() if r.black_box}
    if white and black:
        strongest = min(white, key=lambda n: white[n].accuracy)
        for name, result in black.items():
            if result.accuracy < white[strongest].accuracy:
                flags.append(
                    _flag(
                        "black_box_stronger",
                        f"black-box attack {name} reaches {result.accuracy:.2%} accuracy, below "
                        f"the {white[strongest].accuracy:.2%} of the strongest white-box attack "
                        f"{strongest}: the model likely masks its gradients (try EoT, BPDA, "
                        "more steps or restarts).",
                    )
                )
    if report.eps_sweep is not None:
        flags += _sweep_flags(report.eps_sweep)
    if report.unbounded_accuracy is not None and report.unbounded_accuracy > UNBOUNDED_TOLERANCE:
        flags.append(
            _flag(
                "unbounded_not_zero",
                f"with eps covering the whole input box, accuracy is still "
                f"{report.unbounded_accuracy:.2%} (expected <= {UNBOUNDED_TOLERANCE:.0%}): "
                "the attack does not find existing adversarial examples; gradients are "
                "likely masked or the attack is misconfigured.",
            )
        )
    if report.randomized:
        action = (
            f"the white-box attacks ran on EoT(model, samples={eot_samples})."
            if eot_samples is not None
            else "use EoT (or pass eot_samples=n) to attack its expected loss."
        )
        flags.append(
            _flag(
                "randomized_model",
                "randomized model: two calls on the same batch gave different outputs, so "
                f"single-draw gradients are noisy; {action}",
            )
        )
    return flags


def _sweep_flags(sweep):
    eps, accuracy = np.asarray(sweep["eps"]), np.asarray(sweep["accuracy"])
    flags = []
    if np.any(np.diff(accuracy) > 0):
        flags.append(
            _flag(
                "eps_sweep_not_monotone",
                f"accuracy of {sweep['attack']} rises with eps somewhere in "
                f"{_curve(eps, accuracy)}; a working attack can only get stronger with eps.",
            )
        )
    if len(eps) > 1 and eps[-1] > eps[0] and accuracy[0] > 0 and accuracy[-1] >= accuracy[0]:
        flags.append(
            _flag(
                "eps_sweep_flat",
                f"accuracy of {sweep['attack']} does not fall with eps: "
                f"{_curve(eps, accuracy)}; gradients are likely masked (zero, noisy or "
                "shattered).",
            )
        )
    return flags


def _curve(eps, accuracy):
    return ", ".join(f"eps={e:.4g}: {a:.2%}" for e, a in zip(eps, accuracy))


def _flag(code, message):
    return {"code": code, "message": message}


def _logits(model, x):
    return ops.convert_to_numpy(model(x, training=False))


def _named_attacks(attacks):
    if isinstance(attacks, dict):
        named = dict(attacks)
    elif isinstance(attacks, (list, tuple)):
        named = {}
        for attack in attacks:
            base = type(attack).__name__
            name, number = base, 1
            while name in named:
                number += 1
                name = f"{base}_{number}"
            named[name] = attack
    else:
        raise ValueError(
            "attacks must be a dict name -> Attack or a list of attacks. "
            f"Received: attacks of type {type(attacks).__name__}"
        )
    if not named:
        raise ValueError(f"evaluate needs at least one attack. Received: attacks={attacks!r}")
    for name, attack in named.items():
        if not isinstance(attack, Attack):
            raise ValueError(
                f"attacks must be hdl_keras Attack instances. Received: {name!r} of type {type(attack).__name__}"
            )
        if attack.targeted:
            raise ValueError(
                f"evaluate measures accuracy under untargeted attacks. Received: {name!r} with targeted=True"
            )
    return named


def _check_options(batch_size, eps_sweep, check_unbounded, eot_samples, verbose, attacks):
    """Validates the options; returns `eps_sweep` as an ascending list (or None)."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be an int >= 1. Received: batch_size={batch_size!r}")
    if eot_samples is not None and (
        isinstance(eot_samples, bool) or not isinstance(eot_samples, int) or eot_samples < 1
    ):
        raise ValueError(f"eot_samples must be None or an int >= 1. Received: eot_samples={eot_samples!r}")
    if verbose not in (0, 1, 2):
        raise ValueError(f"verbose must be 0, 1 or 2. Received: verbose={verbose!r}")
    if (eps_sweep is not None or check_unbounded) and all(
        getattr(attack, "black_box", False) for attack in attacks.values()
    ):
        raise ValueError(
            "eps_sweep and check_unbounded re-run the strongest white-box attack; every attack received is black-box."
        )
    if eps_sweep is None:
        return None
    eps_sweep = sorted(float(eps) for eps in np.ravel(np.asarray(eps_sweep, dtype="float64")))
    if not eps_sweep or not np.all(np.isfinite(eps_sweep)) or min(eps_sweep) < 0:
        raise ValueError(f"eps_sweep must be a non-empty list of finite eps >= 0. Received: eps_sweep={eps_sweep}")
    return eps_sweep


def _check_batch(x, y, num_classes, attacks):
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(
            f"y must hold int class labels. Received: y.dtype={y.dtype} (one-hot labels: pass np.argmax(y, axis=-1))"
        )
    if y.ndim != 1 or len(y) != len(x):
        raise ValueError(
            f"x and y must hold the same number of examples, y of shape (batch,). "
            f"Received: x.shape={x.shape}, y.shape={y.shape}"
        )
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(
            f"labels must be in [0, {num_classes}) for a model with {num_classes} "
            f"logits. Received: labels in [{y.min()}, {y.max()}]"
        )


def _check_images(model, x, attacks):
    """Non-empty, finite inputs of the model's shape within every attack's bounds (before the model runs)."""
    if not attacks:
        validation.check_images(x, None, "evaluate")
    for name, attack in attacks.items():
        validation.check_images(x, attack.bounds, f"attack {name!r}")
    validation.check_input_shape(model, x, "evaluate")


class _Batches:
    """Re-iterable numpy `(x, y)` batches of arrays or of an iterable of pairs.

    One-shot iterators (generators) are cached during the first pass when
    `keep`, so that a second pass can run.
    """

    def __init__(self, x, y, batch_size, keep):
        self.num_batches = None
        self._cache = None
        if y is not None:
            self._x, self._y = _to_numpy(x, "x"), _to_numpy(y, "y")
            if self._x.ndim < 2 or self._y.ndim < 1 or len(self._x) != len(self._y):
                raise ValueError(
                    "x and y must hold the same number of examples, x of shape "
                    "(num_examples, *input_shape) and y of shape (num_examples,). "
                    f"Received: x.shape={self._x.shape}, y.shape={self._y.shape}"
                )
            self._batch_size = batch_size
            self.num_batches = -(-len(self._x) // batch_size)
            self._iterable = None
            return
        if isinstance(x, (np.ndarray, str, bytes, dict)) or ops.is_tensor(x) or not hasattr(x, "__iter__"):
            raise ValueError(
                "evaluate needs x and y arrays, or x an iterable of (x_batch, y_batch) "
                f"pairs with y=None. Received: x of type {type(x).__name__} and y=None"
            )
        self._iterable = x
        try:
            self.num_batches = len(x)
        except TypeError:  # no length (a generator) or an unknown one (tf.data)
            self.num_batches = None
        if keep and iter(x) is x:
            self._cache = []

    def __iter__(self):
        if self._iterable is None:
            for start in range(0, len(self._x), self._batch_size):
                stop = start + self._batch_size
                yield self._x[start:stop], self._y[start:stop]
            return
        if self._cache:
            yield from self._cache
            return
        for item in self._iterable:
            batch = _pair(item)
            if self._cache is not None:
                self._cache.append(batch)
            yield batch


def _pair(item):
    if not isinstance(item, (tuple, list)) or len(item) != 2:
        raise ValueError(
            f"each batch must be a pair (x_batch, y_batch). Received: an item of type {type(item).__name__}"
        )
    return _to_numpy(item[0], "x"), _to_numpy(item[1], "y")


def _to_numpy(value, name):
    if ops.is_tensor(value):
        value = ops.convert_to_numpy(value)
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be array-like. Received: {name} of type {type(value).__name__}") from error
    if array.dtype == object:
        raise ValueError(f"{name} must be a numeric array. Received: {name} of type {type(value).__name__}")
    if name == "x":
        array = array.astype("float32", copy=False)
    return array
