"""The kernel regularizers of RVSM, RGSM and ADMM (Dinh et al. 2020): each method's w-step.

`RVSM`, `RGSM` and `ADMM` return the coupling `(beta / 2) * ||w - stop_gradient(u)||^2`
of the relaxed augmented Lagrangian (eq. 4; ADMM: eq. 2 with its multiplier
`z`), whose gradient is Algorithm 1's `beta * (w - u)`; `RegularizerSum` keeps
a regularizer already on a kernel beside them. `hdl_keras.pruning.splitting`
attaches them to a model (`apply_rvsm`, `apply_rgsm`, `apply_admm`) and
explains the design.
"""

import keras
from keras import ops

from hdl_keras.pruning.operators import channel_norms
from hdl_keras.pruning.operators import channel_sparsity_projection
from hdl_keras.pruning.operators import check_number
from hdl_keras.pruning.operators import group_soft_threshold
from hdl_keras.pruning.operators import RGSM_PENALTIES
from hdl_keras.pruning.operators import hard_threshold
from hdl_keras.pruning.operators import rgsm_prox
from hdl_keras.pruning.operators import soft_threshold
from hdl_keras.pruning.operators import sparsity_projection

ADMM_STRUCTURES = ("weight", "channel")


def _check_channel_axis(channel_axis):
    if channel_axis not in (-1, -2):
        raise ValueError(
            "Expected `channel_axis` to be -1 (output channels) or -2 (input channels). "
            f"Received: channel_axis={channel_axis!r}"
        )
    return channel_axis


def _coupling(w, target, weight):
    """`(weight / 2) * ||w - stop_gradient(target)||^2`, gradient `weight * (w - target)`."""
    return 0.5 * weight * ops.sum(ops.square(ops.subtract(w, ops.stop_gradient(target))))


@keras.saving.register_keras_serializable(package="hdl_keras")
class RVSM(keras.regularizers.Regularizer):
    """RVSM's w-step coupling `(beta / 2) * ||w - H(w)||^2` (Dinh et al. 2020, Algorithm 1, eq. 4).

    `u = H_{sqrt(2 lam / beta)}(w)` (hard thresholding, the minimiser of
    `lam * ||u||_0 + (beta / 2) * ||w - u||^2`) is held constant in the
    gradient, which is `beta * (w - u)`. Pair it with the `ReplaceWithU`
    callback (`apply_rvsm` does both).

    Args:
        beta: coupling weight `beta > 0` (Dinh et al.'s (2020) Table 1 grid: 0.5, 1, ...).
        lam: l0 weight `lam >= 0` (Dinh et al. 2020: 1e-6).

    Examples:
        >>> layer = keras.layers.Dense(10, kernel_regularizer=RVSM(beta=0.5, lam=1e-6))
    """

    # Read by the callbacks of `hdl_keras.callbacks.splitting` (see there).
    split_step = "replace"

    def __init__(self, beta, lam):
        self.beta = check_number("beta", beta, low_inclusive=False)
        self.lam = check_number("lam", lam)

    @property
    def threshold(self):
        """The hard threshold `sqrt(2 * lam / beta)`."""
        return (2.0 * self.lam / self.beta) ** 0.5

    def prox(self, w):
        """`u = H_{sqrt(2 lam / beta)}(w)`, same shape as `w`, exact zeros."""
        return hard_threshold(w, self.threshold)

    def __call__(self, x):
        return _coupling(x, self.prox(x), self.beta)

    def get_config(self):
        return {"beta": self.beta, "lam": self.lam}


@keras.saving.register_keras_serializable(package="hdl_keras")
class RGSM(keras.regularizers.Regularizer):
    """RGSM's w-step: `lam2 * ||w||_GL + (beta / 2) * ||w - Prox(w)||^2` (Dinh et al. 2020, Algorithm 2).

    Algorithm 2 descends `f~(w) = f(w) + lam2 * ||w||_GL` plus the coupling
    `beta * (w - u)` with `u = Prox_{lam1}(w)` per channel (`rgsm_prox`:
    group-l0 hard threshold at `sqrt(2 * lam1 / beta)` by default, or the
    group-lasso soft threshold at `lam1 / beta`). The group-lasso term's
    gradient at an all-zero channel is taken as 0. Pair it with
    `ReplaceWithU` (`apply_rgsm` does both).

    Args:
        beta: coupling weight `beta > 0` (Dinh et al. 2020: 1).
        lam1: channel penalty on `u`, `>= 0` (Dinh et al. 2020: 5e-2, 1e-1).
        lam2: group-lasso weight on `w`, `>= 0` (Dinh et al. 2020: 1e-5).
        penalty: `"group_l0"` (default) or `"group_lasso"`, the prox of `u`.
        channel_axis: `-1` (output channels, default) or `-2` (input
            channels, Dinh et al.'s (2020) reference code).

    Examples:
        >>> layer = keras.layers.Conv2D(16, 3, kernel_regularizer=RGSM(1.0, 5e-2, 1e-5))
    """

    # Read by the callbacks of `hdl_keras.callbacks.splitting` (see there).
    split_step = "replace"

    def __init__(self, beta, lam1, lam2, penalty="group_l0", channel_axis=-1):
        self.beta = check_number("beta", beta, low_inclusive=False)
        self.lam1 = check_number("lam1", lam1)
        self.lam2 = check_number("lam2", lam2)
        if penalty not in RGSM_PENALTIES:
            raise ValueError(f"Expected `penalty` in {RGSM_PENALTIES}. Received: penalty={penalty!r}")
        self.penalty = penalty
        self.channel_axis = _check_channel_axis(channel_axis)

    def prox(self, w):
        """`u = Prox_{lam1}(w)` per channel, same shape as `w`, exact-zero channels."""
        return rgsm_prox(w, self.lam1, self.beta, self.penalty, self.channel_axis)

    def __call__(self, x):
        group_lasso = self.lam2 * ops.sum(channel_norms(x, self.channel_axis))
        return group_lasso + _coupling(x, self.prox(x), self.beta)

    def get_config(self):
        return {
            "beta": self.beta,
            "lam1": self.lam1,
            "lam2": self.lam2,
            "penalty": self.penalty,
            "channel_axis": self.channel_axis,
        }


@keras.saving.register_keras_serializable(package="hdl_keras")
class ADMM(keras.regularizers.Regularizer):
    """ADMM's w-step penalty `(rho / 2) * ||w - u + z||^2` (Dinh et al. 2020, eq. 2-3, scaled form).

    `z` is the scaled dual variable (eq. 3's `z / beta`) and `u` the sparse
    split variable; both are weights of the layer, attached by `apply_admm`
    and updated by the `ADMMUpdate` callback:
    `u <- prox(w + z)`, `z <- z + w - u`. The u-step `prox` is, by
    `structure` and whichever of `lam` / `sparsity` is given:

    | | `lam` (eq. 2: l1 / group lasso) | `sparsity` (projection, Dinh et al.'s (2020) code) |
    | --- | --- | --- |
    | `"weight"` | `soft_threshold(v, lam / rho)` | `sparsity_projection(v, sparsity)` |
    | `"channel"` | `group_soft_threshold(v, lam / rho)` | `channel_sparsity_projection(v, s)` |

    The state is not part of the config: a rebuilt `ADMM` has none until
    `apply_admm` attaches it, and calling it before raises a ValueError.

    Args:
        rho: penalty weight `rho > 0` (Dinh et al.'s (2020) ADMM code: 1e-2).
        lam: l1 weight `>= 0`; give this or `sparsity`.
        sparsity: fraction of weights (or channels) the projection prunes, in [0, 1].
        structure: `"weight"` (unstructured, default) or `"channel"`.
        channel_axis: `-1` (output channels, default) or `-2` (input channels).
    """

    # Read by the callbacks of `hdl_keras.callbacks.splitting` (see there).
    split_step = "admm"

    def __init__(self, rho, lam=None, sparsity=None, structure="weight", channel_axis=-1):
        self.rho = check_number("rho", rho, low_inclusive=False)
        if (lam is None) == (sparsity is None):
            raise ValueError(
                "ADMM needs exactly one of `lam` (l1 prox, eq. 2 of Dinh et al. 2020) and `sparsity` "
                f"(projection on the sparse set). Received: lam={lam!r}, sparsity={sparsity!r}"
            )
        self.lam = None if lam is None else check_number("lam", lam)
        self.sparsity = None if sparsity is None else check_number("sparsity", sparsity, high=1.0)
        if structure not in ADMM_STRUCTURES:
            raise ValueError(f"Expected `structure` in {ADMM_STRUCTURES}. Received: structure={structure!r}")
        self.structure = structure
        self.channel_axis = _check_channel_axis(channel_axis)
        self.u = None
        self.z = None

    def prox(self, v):
        """ADMM's u-step on `v = w + z`, same shape, exact zeros (see the class table)."""
        channel = self.structure == "channel"
        if self.lam is not None:
            if channel:
                return group_soft_threshold(v, self.lam / self.rho, self.channel_axis)
            return soft_threshold(v, self.lam / self.rho)
        if channel:
            return channel_sparsity_projection(v, self.sparsity, self.channel_axis)
        return sparsity_projection(v, self.sparsity)

    def __call__(self, x):
        if self.u is None:
            raise ValueError(
                "This ADMM regularizer has no state (u, z): attach it to a built model with "
                "`hdl_keras.pruning.apply_admm(model, rho=..., ...)`."
            )
        return _coupling(x, ops.subtract(self.u, self.z), self.rho)

    def get_config(self):
        return {
            "rho": self.rho,
            "lam": self.lam,
            "sparsity": self.sparsity,
            "structure": self.structure,
            "channel_axis": self.channel_axis,
        }


@keras.saving.register_keras_serializable(package="hdl_keras")
class RegularizerSum(keras.regularizers.Regularizer):
    """The sum of several regularizers, e.g. an existing L2 weight decay and `RVSM`.

    `apply_rvsm` and friends use it to keep a regularizer already on a
    kernel (such as `hdl_keras.recipes.add_weight_decay`'s L2).

    Args:
        regularizers: a non-empty list of regularizers (objects, names or
            serialized configs).
    """

    def __init__(self, regularizers):
        if not isinstance(regularizers, (list, tuple)) or not regularizers:
            raise ValueError(f"Expected a non-empty list of regularizers. Received: regularizers={regularizers!r}")
        self.regularizers = [keras.regularizers.get(r) for r in regularizers]

    def __call__(self, x):
        total = self.regularizers[0](x)
        for regularizer in self.regularizers[1:]:
            total = total + regularizer(x)
        return total

    def get_config(self):
        return {"regularizers": [keras.regularizers.serialize(r) for r in self.regularizers]}


SPLITTING_TYPES = (RVSM, RGSM, ADMM)
