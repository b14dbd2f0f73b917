"""AutoAttack: the ensemble of Croce & Hein (2020) run as RobustBench runs it."""

import time

import numpy as np
from keras import ops

from hdl_keras.attacks.apgd import APGD
from hdl_keras.attacks.base import NORMS
from hdl_keras.attacks.base import check_in_bounds
from hdl_keras.attacks.eot import EoT
from hdl_keras.attacks.wrapped import innermost_samples
from hdl_keras.attacks.fab import FAB
from hdl_keras.attacks.masking_flags import masking_flags
from hdl_keras.attacks.report import AttackResult
from hdl_keras.attacks.report import RobustnessReport
from hdl_keras.attacks.square import Square

VERSIONS = ("standard", "plus", "rand", "custom")
ATTACK_NAMES = ("apgd-ce", "apgd-dlr", "apgd-t", "fab", "fab-t", "square")
# The reference's attack lists (fra31/auto-attack, `AutoAttack.set_version`).
VERSION_ATTACKS = {
    "standard": ("apgd-ce", "apgd-t", "fab-t", "square"),
    "plus": ("apgd-ce", "apgd-dlr", "fab", "square", "apgd-t", "fab-t"),
    "rand": ("apgd-ce", "apgd-dlr"),
}
STEPS = 100
SQUARE_QUERIES = 5000
TARGET_CLASSES = 9
RAND_EOT_SAMPLES = 20
# Smallest padded batch: batches are padded to a power of two (at least this) so that a
# shrinking set of still-robust points reuses a few compiled shapes instead of one per size.
MIN_BUCKET = 16


class AutoAttack:
    """AutoAttack (Croce & Hein 2020): APGD-CE, APGD-T, FAB-T, Square on the still-robust points.

    The ensemble the field reports, with the reference's order and settings
    (fra31/auto-attack, the rule of RobustBench):

    - `"standard"`: APGD-CE (100 iterations, 1 run), APGD-T (targeted DLR
      loss, the 9 classes of highest clean logit other than the label, 100
      iterations each), FAB-T (9 target classes, 100 iterations each) and
      Square (5,000 queries, `p_init` 0.8);
    - `"plus"`: APGD-CE and APGD-DLR with 5 restarts, untargeted FAB with 5
      restarts, Square, then APGD-T and FAB-T;
    - `"rand"`, for randomized models: APGD-CE and APGD-DLR, each with EoT
      over 20 draws of the model (`hdl_keras.attacks.EoT`);
    - `"custom"`: the attacks named in `attacks`, in that order.

    Each attack runs only on the points that are still robust (clean-correct
    and not yet broken), batch by batch; a point broken by an attack keeps
    that attack's adversarial example, so the result is the worst case per
    point. Batches of still-robust points are padded (repeating a row) to a
    power of two between 16 and `batch_size`, so the compiled steps are
    traced for a few shapes only. With fewer than 10 classes the target
    count is `num_classes - 1`.

    Args:
        model: a callable returning logits (see `hdl_keras.attacks.Attack`).
        norm: `"linf"` (default) or `"l2"` (Square is l_inf only here: the
            versions with Square need `"linf"`).
        eps: radius of the threat model, default 8/255.
        version: one of `VERSIONS`, default `"standard"`.
        attacks: with `version="custom"`, a sequence of names of
            `ATTACK_NAMES`; must be None otherwise.
        seed: seed of every attack's randomness, default 0.
        bounds: `(low, high)` of valid inputs, default `(0.0, 1.0)`.
        batch_size: largest batch per attack call, default 256.
        steps: iterations of APGD and FAB, default 100.
        n_queries: Square's queries, default 5000.
        n_target_classes: target classes of APGD-T and FAB-T, default 9.
            `steps`, `n_queries` and `n_target_classes` default to the
            reference's values; change them only for a reduced run, and say
            so beside its number.

    Examples:
        >>> auto = AutoAttack(model, norm="linf", eps=0.3, version="standard")
        >>> report = auto.run(x_test[:1000], y_test[:1000])
        >>> report.worst_case_accuracy, report.autoattack["broken_by"]

    Reference:
        Croce & Hein, "Reliable evaluation of adversarial robustness with an
        ensemble of diverse parameter-free attacks", ICML 2020,
        https://arxiv.org/abs/2003.01690; Croce et al., "RobustBench: a
        standardized adversarial robustness benchmark", NeurIPS 2021 Datasets
        and Benchmarks.
    """

    def __init__(
        self,
        model,
        norm="linf",
        eps=8 / 255,
        version="standard",
        attacks=None,
        seed=0,
        bounds=(0.0, 1.0),
        batch_size=256,
        *,
        steps=STEPS,
        n_queries=SQUARE_QUERIES,
        n_target_classes=TARGET_CLASSES,
    ):
        if version not in VERSIONS:
            raise ValueError(f"version must be one of {VERSIONS}. Received: version={version!r}")
        if norm not in NORMS:
            raise ValueError(f"AutoAttack supports norm in {NORMS}. Received: norm={norm!r}")
        if version == "custom":
            if not attacks:
                raise ValueError(
                    "version='custom' runs the attacks you name: pass attacks=[...] with names "
                    f"from {ATTACK_NAMES}. Received: attacks={attacks!r}"
                )
            unknown = [name for name in attacks if name not in ATTACK_NAMES]
            if unknown:
                raise ValueError(f"Unknown AutoAttack attack names {unknown}. Expected names from {ATTACK_NAMES}.")
            names = tuple(dict.fromkeys(attacks))
        else:
            if attacks is not None:
                raise ValueError(
                    f"version={version!r} fixes its attacks; use version='custom' to choose "
                    f"them. Received: attacks={attacks!r}"
                )
            names = VERSION_ATTACKS[version]
        if "square" in names and norm != "linf":
            raise ValueError(
                "Square is implemented for norm='linf' only; with norm='l2' use "
                "version='custom' without 'square'. Received: norm='l2'"
            )
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be an int >= 1. Received: batch_size={batch_size!r}")
        self.model = model
        self.norm = norm
        self.eps = float(eps)
        self.version = version
        self.attack_names = names
        self.seed = seed
        self.bounds = (float(bounds[0]), float(bounds[1]))
        self.batch_size = batch_size
        self.eot_samples = RAND_EOT_SAMPLES if version == "rand" else 1
        self.restarts = 5 if version == "plus" else 1
        self.steps = int(steps)
        self.n_queries = int(n_queries)
        self.n_target_classes = int(n_target_classes)
        self._attacks = None
        self.adversarial = None

    def attacks(self, num_classes):
        """The configured attacks, by name, for a model with `num_classes` outputs."""
        if self._attacks is None:
            self._attacks = {name: self._build(name, num_classes) for name in self.attack_names}
        return self._attacks

    def _build(self, name, num_classes):
        common = dict(eps=self.eps, norm=self.norm, seed=self.seed, bounds=self.bounds)
        targets = min(self.n_target_classes, num_classes - 1)
        if name in ("apgd-ce", "apgd-dlr"):
            model = EoT(self.model, samples=self.eot_samples) if self.eot_samples > 1 else self.model
            return APGD(
                model,
                steps=self.steps,
                restarts=self.restarts,
                loss="ce" if name == "apgd-ce" else "dlr",
                **common,
            )
        if name == "apgd-t":
            return APGD(self.model, steps=self.steps, loss="dlr", n_target_classes=targets, **common)
        if name == "fab":
            return FAB(self.model, steps=self.steps, restarts=self.restarts, **common)
        if name == "fab-t":
            return FAB(self.model, steps=self.steps, n_target_classes=targets, **common)
        return Square(
            self.model,
            eps=self.eps,
            n_queries=self.n_queries,
            p_init=0.8,
            seed=self.seed,
            bounds=self.bounds,
        )

    def __call__(self, x, y):
        """The worst-case adversarial examples, numpy, same shape as `x` (see `run`)."""
        self.run(x, y)
        return self.adversarial

    def run(self, x, y, verbose=0):
        """Runs the ensemble on numpy `x`, `y` and returns a `RobustnessReport`.

        The report's `attacks[name].accuracy` is the robust accuracy after
        that attack (cumulative, as the reference prints it), its `success`
        marks the points that attack broke first, `queries` the model passes
        per evaluated point it cost; `worst_case_accuracy` is the final robust
        accuracy; `autoattack` holds the version, `broken_by` (per point, the
        attack that broke it, None if robust or misclassified clean),
        `forward_passes`, `backward_passes` (totals over points) and
        `number_forward_passes` (1, or the EoT draws of `"rand"`).
        `self.adversarial` then holds the worst-case inputs (numpy, shape of
        `x`): the breaking attack's example where a point was broken, else `x`.
        """
        report, self.adversarial = self._run(x, y, verbose)
        return report

    def _run(self, x, y, verbose):
        x = np.asarray(x, dtype="float32")
        y = np.asarray(y).astype("int64")
        check_in_bounds(x, self.bounds, "AutoAttack")
        if y.shape != (len(x),):
            raise ValueError(
                f"y must be int labels of shape (num_examples,) = ({len(x)},). Received: y.shape={y.shape}"
            )
        if len(x) == 0:
            raise ValueError("AutoAttack received no examples: x is empty.")
        start = time.perf_counter()
        logits = self._logits(x)
        num_classes = logits.shape[-1]
        randomized = not np.allclose(
            logits[: self.batch_size], self._logits(x[: self.batch_size]), rtol=1e-5, atol=1e-6
        )
        clean = np.argmax(logits, axis=1) == y
        robust = clean.copy()
        x_adv = x.copy()
        broken_by = [None] * len(x)
        results = {}
        forward_total = 2 * len(x)
        backward_total = 0
        for name, attack in self.attacks(num_classes).items():
            attack_start = time.perf_counter()
            indices = np.flatnonzero(robust)
            forward = backward = 0
            for begin in range(0, len(indices), self.batch_size):
                chunk = indices[begin : begin + self.batch_size]
                adversarial = self._attack_chunk(attack, x[chunk], y[chunk])
                fooled = np.argmax(self._logits(adversarial), axis=1) != y[chunk]
                broken = chunk[fooled]
                x_adv[broken] = adversarial[fooled]
                robust[broken] = False
                for index in broken:
                    broken_by[index] = name
                passes = _passes(attack, name, num_classes, len(chunk))
                forward += passes[0] + len(chunk)
                backward += passes[1]
            success = np.zeros(len(x), dtype=bool)
            success[[i for i, b in enumerate(broken_by) if b == name]] = True
            delta = (x_adv - x).reshape(len(x), -1).astype("float64") * success[:, None]
            results[name] = AttackResult(
                accuracy=float(np.mean(robust)),
                success=success,
                linf_mean=float(np.abs(delta).max(axis=1).mean()),
                linf_max=float(np.abs(delta).max()),
                l2_mean=float(np.sqrt((delta**2).sum(axis=1)).mean()),
                l2_max=float(np.sqrt((delta**2).sum(axis=1)).max()),
                queries=float(forward / len(x)),
                seconds=time.perf_counter() - attack_start,
                eps=self.eps,
                norm=self.norm,
                black_box=bool(getattr(attack, "black_box", False)),
            )
            forward_total += forward
            backward_total += backward
            if verbose:
                print(f"{name}: robust accuracy {np.mean(robust):.2%} ({results[name].seconds:.1f} s)")
        report = RobustnessReport(
            num_examples=len(x),
            clean_accuracy=float(np.mean(clean)),
            clean_correct=clean,
            attacks=results,
            robust=robust,
            worst_case_accuracy=float(np.mean(robust)),
            randomized=bool(randomized),
            autoattack={
                "version": self.version,
                "norm": self.norm,
                "eps": self.eps,
                "attacks": list(self.attack_names),
                "broken_by": broken_by,
                "forward_passes": int(forward_total),
                "backward_passes": int(backward_total),
                "number_forward_passes": self.eot_samples,
                "seconds": time.perf_counter() - start,
            },
        )
        report.flags = masking_flags(report, self.eot_samples if self.eot_samples > 1 else None)
        return report, x_adv

    def _attack_chunk(self, attack, x, y):
        """`attack` on a chunk padded to a power-of-two batch; the padding is dropped."""
        size = len(x)
        padded = min(self.batch_size, max(MIN_BUCKET, 1 << (size - 1).bit_length()))
        padded = max(padded, size)
        if padded > size:
            fill = np.arange(padded - size) % size
            x = np.concatenate([x, x[fill]])
            y = np.concatenate([y, y[fill]])
        return ops.convert_to_numpy(attack(x, y))[:size]

    def _logits(self, x):
        parts = [
            ops.convert_to_numpy(self.model(x[i : i + self.batch_size], training=False))
            for i in range(0, len(x), self.batch_size)
        ]
        return np.concatenate(parts)


def _passes(attack, name, num_classes, batch):
    """`(forward, backward)` model passes of `attack` on `batch` points, from its algorithm.

    APGD: a value-and-gradient pass and a prediction per iteration (plus the
    start), per run; FAB: a prediction per iteration and a gradient per
    boundary (every class untargeted, one for FAB-T); Square: its queries.
    EoT multiplies every pass by its draws (a prediction runs the draws too).
    """
    if name == "square":
        return int(np.sum(attack.queries)), 0
    runs = attack.restarts * (attack.n_target_classes or 1)
    draws = innermost_samples(attack.model)
    steps = attack.steps + 1
    if name.startswith("apgd"):
        return batch * runs * steps * 2 * draws, batch * runs * steps * draws
    boundaries = 1 if attack.n_target_classes else num_classes
    return batch * runs * (2 * attack.steps + 1), batch * runs * attack.steps * boundaries
