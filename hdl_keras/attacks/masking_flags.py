"""Gradient-masking flags of a `RobustnessReport` (Athalye et al. 2018; Croce & Hein 2020).

`masking_flags(report, eot_samples)` reads the results `evaluate` (or
`AutoAttack.run`) measured and returns the usual signs that the attacks were
too weak for the model, as `{"code", "message"}` dicts: `"black_box_stronger"`,
`"single_step_stronger"`, `"eps_sweep_not_monotone"`, `"eps_sweep_flat"`, `"unbounded_not_zero"` and
`"randomized_model"` (the codes are explained in `hdl_keras.attacks.evaluate`).
"""

import numpy as np

# Accuracy above which an attack with eps covering the whole box is flagged.
UNBOUNDED_TOLERANCE = 0.01


def masking_flags(report, eot_samples):
    """The gradient-masking flags of `report`, a list of `{"code", "message"}` dicts.

    Args:
        report: a `RobustnessReport` (its `attacks`, `eps_sweep`,
            `unbounded_accuracy` and `randomized`).
        eot_samples: the `eot_samples` the white-box attacks ran with, or
            None (named in the `"randomized_model"` message).
    """
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
    flags += _single_step_flags(white)
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


def _single_step_flags(white):
    """`"single_step_stronger"` for each one-step attack below the iterative ones (Carlini et al. 2019)."""
    iterative = {n: r for n, r in white.items() if r.steps is not None and r.steps > 1}
    if not iterative:
        return []
    weakest_iterative = max(iterative, key=lambda n: iterative[n].accuracy)
    flags = []
    for name, result in white.items():
        if result.steps == 1 and result.accuracy < iterative[weakest_iterative].accuracy:
            flags.append(
                _flag(
                    "single_step_stronger",
                    f"one-step attack {name} reaches {result.accuracy:.2%} accuracy, below the "
                    f"{iterative[weakest_iterative].accuracy:.2%} of the iterative {weakest_iterative}: "
                    "the iterative attack is weaker than one step (stuck where the gradient vanishes, "
                    "steps too small, or its loss maximised at points that keep the label); report the "
                    "worst case, not the iterative attack alone.",
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
