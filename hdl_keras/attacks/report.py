"""RobustnessReport: what `evaluate` measured, with JSON and markdown views."""

import dataclasses
import json

import numpy as np


@dataclasses.dataclass(eq=False)
class AttackResult:
    """One attack's results over the evaluated examples.

    Attributes:
        accuracy: fraction of examples classified correctly both clean and
            under the attack.
        success: bool array `(num_examples,)`, True where the attack turned
            a correctly classified example into a misclassified one.
        linf_mean, linf_max: mean and max over all examples of
            `||x_adv - x||_inf`.
        l2_mean, l2_max: the same for `||x_adv - x||_2`.
        queries: mean number of model queries per example (`attack.queries`
            when the attack sets it), else of gradient evaluations
            (`steps * restarts` times the EoT draws of an `EoT` model) when the attack has `steps` or
            `restarts`, else None.
        seconds: wall time of the attack over all batches (compilation
            included).
        eps: the attack's `eps`.
        norm: the attack's `norm`.
        black_box: the attack's `black_box` flag.
        predictions: int array `(num_examples,)` of the model's classes on
            the attack's outputs, or None (reports saved before it existed).
        steps: the attack's gradient steps (`attack.steps`: 1 for FGSM), or
            None where it has none (black-box attacks, reports saved before).
    """

    accuracy: float
    success: np.ndarray
    linf_mean: float
    linf_max: float
    l2_mean: float
    l2_max: float
    queries: float | None
    seconds: float
    eps: float | None
    norm: str | None
    black_box: bool
    predictions: np.ndarray | None = None
    steps: int | None = None

    def to_dict(self):
        values = dataclasses.asdict(self)
        values["success"] = [bool(s) for s in self.success]
        values["predictions"] = _int_list(self.predictions)
        return values

    @classmethod
    def from_dict(cls, values):
        values = dict(values)
        values["success"] = np.asarray(values["success"], dtype=bool)
        values["predictions"] = _int_array(values.get("predictions"))
        return cls(**values)


@dataclasses.dataclass(eq=False)
class RobustnessReport:
    """The results of `hdl_keras.attacks.evaluate`.

    Attributes:
        num_examples: number of evaluated examples.
        clean_accuracy: accuracy on the clean inputs.
        clean_correct: bool array `(num_examples,)` of clean correctness.
        attacks: dict attack name -> `AttackResult`, in evaluation order.
        robust: bool array `(num_examples,)`: clean-correct and correct under
            every attack (the per-example worst case).
        worst_case_accuracy: mean of `robust`, at most every attack's accuracy.
        eps_sweep: None, or `{"attack": name, "eps": [...], "accuracy": [...]}`,
            the strongest white-box attack re-run at each eps (ascending).
        unbounded_accuracy: None, or the accuracy of the strongest white-box
            attack with eps covering the whole input box.
        randomized: True when two calls of the model on the same batch differed.
        flags: list of `{"code": str, "message": str}` gradient-masking and
            evaluation warnings (see `evaluate`).
        labels: int array `(num_examples,)` of the true labels, or None.
        clean_predictions: int array `(num_examples,)` of the model's classes
            on the clean inputs, or None.
        num_classes: number of logits of the model, or None.
        autoattack: None, or (reports of `AutoAttack.run`) a dict with the
            `version`, `norm`, `eps`, `attacks` run in order, `broken_by`
            (per point, the name of the attack that broke it, None if robust
            or misclassified clean), `forward_passes` and `backward_passes`
            (model passes over all points), `number_forward_passes` (forward
            passes per prediction: 1, or the EoT draws of `"rand"`) and
            `seconds`.

    `confusion_matrix()` (clean) and `confusion_matrix(attack_name)` count
    true label x predicted class.

    Reports compare equal when their `to_dict()` are equal;
    `RobustnessReport.from_json(report.to_json()) == report`.
    """

    num_examples: int
    clean_accuracy: float
    clean_correct: np.ndarray
    attacks: dict
    robust: np.ndarray
    worst_case_accuracy: float
    eps_sweep: dict | None = None
    unbounded_accuracy: float | None = None
    randomized: bool = False
    flags: list = dataclasses.field(default_factory=list)
    labels: np.ndarray | None = None
    clean_predictions: np.ndarray | None = None
    num_classes: int | None = None
    autoattack: dict | None = None

    def confusion_matrix(self, attack=None):
        """Counts of (true label, predicted class) on clean or attacked inputs.

        Args:
            attack: None for the clean inputs, else the name of an attack of
                `attacks` (its predictions on the attack's outputs).

        Returns:
            int array `(num_classes, num_classes)`: entry `[i, j]` counts the
            examples of label `i` classified as `j`; rows sum to the label
            counts, the trace is the number classified correctly (under an
            attack, on its outputs: a clean error that the attack happens to
            fix counts there, not in the attack's `accuracy`).
        """
        if self.labels is None or self.clean_predictions is None:
            raise ValueError(
                "This report holds no labels or predictions (it was saved before "
                "they were recorded); re-run evaluate to get confusion matrices."
            )
        if attack is None:
            predictions = self.clean_predictions
        elif attack in self.attacks:
            predictions = self.attacks[attack].predictions
            if predictions is None:
                raise ValueError(f"Attack {attack!r} of this report holds no predictions.")
        else:
            raise ValueError(
                f"Unknown attack. Expected None (clean) or one of {list(self.attacks)}. Received: attack={attack!r}"
            )
        num_classes = self.num_classes or int(max(self.labels.max(), predictions.max())) + 1
        matrix = np.zeros((num_classes, num_classes), dtype="int64")
        np.add.at(matrix, (self.labels, predictions), 1)
        return matrix

    def to_dict(self):
        """The report as JSON-compatible Python values."""
        return {
            "num_examples": self.num_examples,
            "clean_accuracy": self.clean_accuracy,
            "clean_correct": [bool(c) for c in self.clean_correct],
            "attacks": {name: result.to_dict() for name, result in self.attacks.items()},
            "robust": [bool(r) for r in self.robust],
            "worst_case_accuracy": self.worst_case_accuracy,
            "eps_sweep": self.eps_sweep,
            "unbounded_accuracy": self.unbounded_accuracy,
            "randomized": self.randomized,
            "flags": [dict(flag) for flag in self.flags],
            "labels": _int_list(self.labels),
            "clean_predictions": _int_list(self.clean_predictions),
            "num_classes": self.num_classes,
            "autoattack": None if self.autoattack is None else dict(self.autoattack),
        }

    def to_json(self, indent=None):
        """The report as a JSON string (see `to_dict`); `indent` as in `json.dumps`."""
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_dict(cls, values):
        """Inverse of `to_dict`."""
        values = dict(values)
        values["clean_correct"] = np.asarray(values["clean_correct"], dtype=bool)
        values["robust"] = np.asarray(values["robust"], dtype=bool)
        values["labels"] = _int_array(values.get("labels"))
        values["clean_predictions"] = _int_array(values.get("clean_predictions"))
        values["attacks"] = {name: AttackResult.from_dict(result) for name, result in values["attacks"].items()}
        return cls(**values)

    @classmethod
    def from_json(cls, text):
        """Inverse of `to_json`."""
        return cls.from_dict(json.loads(text))

    def to_markdown(self):
        """A markdown table (one row per attack, then the worst case), sweep and flags."""
        lines = [
            "| attack | accuracy | mean l_inf | mean l_2 | queries | seconds |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
            f"| clean | {_percent(self.clean_accuracy)} | - | - | - | - |",
        ]
        for name, result in self.attacks.items():
            queries = "-" if result.queries is None else f"{result.queries:.4g}"
            lines.append(
                f"| {name} | {_percent(result.accuracy)} | {result.linf_mean:.4g} | "
                f"{result.l2_mean:.4g} | {queries} | {result.seconds:.3g} |"
            )
        lines.append(f"| worst case | {_percent(self.worst_case_accuracy)} | - | - | - | - |")
        if self.eps_sweep is not None:
            lines += ["", f"Accuracy of {self.eps_sweep['attack']} by eps:", ""]
            lines += ["| eps | accuracy |", "| ---: | ---: |"]
            for eps, accuracy in zip(self.eps_sweep["eps"], self.eps_sweep["accuracy"]):
                lines.append(f"| {eps:.4g} | {_percent(accuracy)} |")
        if self.unbounded_accuracy is not None:
            unbounded = _percent(self.unbounded_accuracy)
            lines += ["", f"Accuracy with eps covering the whole box: {unbounded}"]
        lines += ["", "Flags:" if self.flags else "Flags: none", ""]
        lines += [f"- **{flag['code']}**: {flag['message']}" for flag in self.flags]
        return "\n".join(lines).rstrip() + "\n"

    def __eq__(self, other):
        if not isinstance(other, RobustnessReport):
            return NotImplemented
        return self.to_dict() == other.to_dict()


def _int_list(values):
    return None if values is None else [int(v) for v in values]


def _int_array(values):
    return None if values is None else np.asarray(values, dtype="int64")


def _percent(fraction):
    return f"{100.0 * fraction:.2f} %"
