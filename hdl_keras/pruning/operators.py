"""Thresholding, proximal and projection operators of the splitting methods (Dinh et al. 2020, sec. 4).

Every operator maps a kernel `w` (any shape) to a tensor of the same shape
and dtype whose pruned entries are exact zeros (`ops.where`, never a small
multiplier). Channel (group) operators group the entries of `w` by their
index along `axis`: with the default `axis=-1`, group `g` is the output
channel `w[..., g]` of a `Dense` kernel `(in, out)` or a `Conv2D` kernel
`(kh, kw, in, out)`. `axis=-2` groups by input channel instead, as the
reference code of Dinh et al. (2020) does (it reduces PyTorch's `(out, in, kh, kw)`
kernels over dims 0, 2 and 3).

| operator | formula | where |
| --- | --- | --- |
| `hard_threshold(w, a)` | `w * 1[abs(w) > a]` | RVSM's `H_a` (Algorithm 1), the l0 prox |
| `soft_threshold(w, a)` | `sign(w) * max(abs(w) - a, 0)` | l1 prox; ADMM's u-step for eq. (2) |
| `group_soft_threshold(w, a)` | `w_g * max(norm(w_g) - a, 0) / norm(w_g)` | group lasso, eq. (6) |
| `group_hard_threshold(w, a)` | `w_g * 1[norm(w_g) > a]` | group-l0 prox, eq. (6) |
| `rgsm_prox(w, lam1, beta)` | group-l0 or group-lasso prox | RGSM's u-step (Alg. 2) |
| `sparsity_projection(w, s)` | keep the largest `abs(w)` | ADMM's projection (Dinh et al.'s (2020) code) |
| `channel_sparsity_projection(w, s)` | keep the largest `norm(w_g)` | ADMM's channel projection |

Thresholds follow the relaxed augmented Lagrangian
`lam * P(u) + (beta / 2) * ||w - u||^2` (eq. 4): its minimiser over `u` is
the prox of `P` with parameter `lam / beta`, i.e. a hard threshold at
`sqrt(2 * lam / beta)` for `P = l0` (Algorithm 1's `H_{sqrt(2 lam / beta)}`)
or `sqrt(2 * lam1 / beta)` for the group l0 (eq. 6, whose `!=` reads `>`),
and a soft threshold at `lam / beta` for the l1 and group-lasso penalties.
"""

import math
import numbers

from keras import ops

RGSM_PENALTIES = ("group_l0", "group_lasso")


def check_number(name, value, low=0.0, low_inclusive=True, high=None, high_inclusive=True):
    """Returns `value` as a float; raises a ValueError unless a real number in range.

    Args:
        name: the argument's name, for the message.
        value: the value received.
        low: smallest allowed value, default 0.
        low_inclusive: whether `low` itself is allowed, default True.
        high: largest allowed value, default None (no bound).
        high_inclusive: whether `high` itself is allowed, default True.
    """
    valid = (
        not isinstance(value, bool)
        and isinstance(value, numbers.Real)
        and math.isfinite(value)
        and (value >= low if low_inclusive else value > low)
        and (high is None or (value <= high if high_inclusive else value < high))
    )
    if not valid:
        low_bracket = "[" if low_inclusive else "("
        high_text = "inf)" if high is None else f"{high}{']' if high_inclusive else ')'}"
        raise ValueError(
            f"Expected `{name}` to be a finite number in {low_bracket}{low}, {high_text}. Received: {name}={value!r}"
        )
    return float(value)


def _check_axis(w, axis):
    ndim = len(w.shape)
    if ndim == 0 or isinstance(axis, bool) or not isinstance(axis, int) or not -ndim <= axis < ndim:
        raise ValueError(
            f"Expected `axis` to index a dimension of the kernel of shape {tuple(w.shape)} "
            f"(the channel axis: -1 for output channels). Received: axis={axis!r}"
        )
    return axis % ndim


def _per_group(values, w, axis):
    """Reshapes a `(num_groups,)` vector to broadcast against `w` along `axis`."""
    shape = [1] * len(w.shape)
    shape[axis] = -1
    return ops.reshape(values, shape)


def hard_threshold(w, threshold):
    """Hard thresholding `H_a(w) = w * 1[|w| > a]`, RVSM's u-step (Dinh et al. 2020, Algorithm 1).

    Args:
        w: tensor of any shape.
        threshold: `a >= 0`; RVSM uses `sqrt(2 * lam / beta)`.

    Returns:
        A tensor like `w`, exact zeros where `|w| <= a`.

    Examples:
        >>> hard_threshold(keras.ops.array([0.5, -0.2, 0.3, -0.9]), 0.3)  # [0.5, 0, 0, -0.9]
    """
    threshold = check_number("threshold", threshold)
    w = ops.convert_to_tensor(w)
    return ops.where(ops.greater(ops.abs(w), threshold), w, ops.zeros_like(w))


def soft_threshold(w, threshold):
    """Soft thresholding `sign(w) * max(|w| - a, 0)`, the prox of `a * ||.||_1`.

    The u-step of ADMM on eq. (2) of Dinh et al. (2020) is `soft_threshold(w + z, lam / rho)`.

    Args:
        w: tensor of any shape.
        threshold: `a >= 0`.

    Returns:
        A tensor like `w`, exact zeros where `|w| <= a`.

    Examples:
        >>> soft_threshold(keras.ops.array([0.5, -0.2, -0.9]), 0.3)  # [0.2, 0, -0.6]
    """
    threshold = check_number("threshold", threshold)
    w = ops.convert_to_tensor(w)
    shrunk = ops.multiply(ops.sign(w), ops.subtract(ops.abs(w), threshold))
    return ops.where(ops.greater(ops.abs(w), threshold), shrunk, ops.zeros_like(w))


def channel_norms(w, axis=-1):
    """The l2 norm `||w_g||_2` of each group (channel) of `w`, indexed along `axis`.

    The square root is guarded so that the gradient at an all-zero group is 0
    (a subgradient of the group-lasso norm) instead of NaN: RGSM's
    `lam2 * ||w||_GL` term is differentiated through this function after the
    epoch-end replacement has zeroed whole channels.

    Args:
        w: tensor of rank >= 1, e.g. a `Conv2D` kernel `(kh, kw, in, out)`.
        axis: the channel axis, default -1 (output channels).

    Returns:
        A `(w.shape[axis],)` tensor of norms.
    """
    w = ops.convert_to_tensor(w)
    axis = _check_axis(w, axis)
    others = tuple(i for i in range(len(w.shape)) if i != axis)
    squares = ops.sum(ops.square(w), axis=others) if others else ops.square(w)
    positive = ops.greater(squares, 0.0)
    safe = ops.where(positive, squares, ops.ones_like(squares))
    return ops.where(positive, ops.sqrt(safe), ops.zeros_like(squares))


def group_soft_threshold(w, threshold, axis=-1):
    """Group-lasso prox `w_g * max(||w_g|| - a, 0) / ||w_g||` per channel (Dinh et al. 2020, eq. 6).

    Args:
        w: tensor of rank >= 1.
        threshold: `a >= 0`.
        axis: the channel axis, default -1 (output channels).

    Returns:
        A tensor like `w`: channels of norm `<= a` are exact zeros, the others
        shrunk towards 0 by `a` in norm.

    Examples:
        >>> w = keras.ops.array([[3.0, 0.1], [4.0, 0.1]])  # column norms 5 and 0.14
        >>> group_soft_threshold(w, 1.0)  # [[2.4, 0], [3.2, 0]]
    """
    threshold = check_number("threshold", threshold)
    w = ops.convert_to_tensor(w)
    axis = _check_axis(w, axis)
    norms = channel_norms(w, axis)
    keep = ops.greater(norms, threshold)
    scale = ops.where(keep, ops.divide(ops.subtract(norms, threshold), ops.where(keep, norms, 1.0)), 0.0)
    return ops.where(_per_group(keep, w, axis), ops.multiply(w, _per_group(scale, w, axis)), ops.zeros_like(w))


def group_hard_threshold(w, threshold, axis=-1):
    """Group-l0 prox `w_g * 1[||w_g|| > a]` per channel (Dinh et al. 2020, eq. 6).

    Args:
        w: tensor of rank >= 1.
        threshold: `a >= 0`; RGSM uses `sqrt(2 * lam1 / beta)`.
        axis: the channel axis, default -1 (output channels).

    Returns:
        A tensor like `w`: channels of norm `<= a` are exact zeros, the others
        unchanged.

    Examples:
        >>> w = keras.ops.array([[3.0, 0.1], [4.0, 0.1]])
        >>> group_hard_threshold(w, 1.0)  # [[3, 0], [4, 0]]
    """
    threshold = check_number("threshold", threshold)
    w = ops.convert_to_tensor(w)
    axis = _check_axis(w, axis)
    keep = _per_group(ops.greater(channel_norms(w, axis), threshold), w, axis)
    return ops.where(keep, w, ops.zeros_like(w))


def rgsm_prox(w, lam1, beta, penalty="group_l0", axis=-1):
    """RGSM's u-step `u_g = Prox_{lam1}(w_g)` (Dinh et al. 2020, Algorithm 2).

    The minimiser of `lam1 * P(u) + (beta / 2) * ||w - u||^2` over `u`:

    - `penalty="group_l0"` (default; `P = ||.||_{G l0}`, the relaxed, l0-type
      choice of RVSM, and what Dinh et al.'s (2020) reference code runs):
      `group_hard_threshold(w, sqrt(2 * lam1 / beta))`;
    - `penalty="group_lasso"` (`P = ||.||_GL`):
      `group_soft_threshold(w, lam1 / beta)`.

    Args:
        w: kernel, rank >= 1.
        lam1: `lam1 >= 0`, the weight of the channel penalty on `u`.
        beta: `beta > 0`, the coupling weight.
        penalty: `"group_l0"` or `"group_lasso"`.
        axis: the channel axis, default -1 (output channels).

    Returns:
        A tensor like `w` with exact-zero channels.
    """
    lam1 = check_number("lam1", lam1)
    beta = check_number("beta", beta, low_inclusive=False)
    if penalty not in RGSM_PENALTIES:
        raise ValueError(f"Expected `penalty` in {RGSM_PENALTIES}. Received: penalty={penalty!r}")
    if penalty == "group_l0":
        return group_hard_threshold(w, math.sqrt(2.0 * lam1 / beta), axis)
    return group_soft_threshold(w, lam1 / beta, axis)


def _kept_count(total, sparsity):
    return total - int(math.floor(sparsity * total + 1e-9))


def sparsity_projection(w, sparsity):
    """Projects `w` on the kernels with at most a `sparsity` fraction of nonzeros removed.

    Keeps the `n - floor(sparsity * n)` entries of largest magnitude (all
    entries tied with the smallest kept magnitude are kept too) and zeroes the
    rest: the Euclidean projection on `{u : ||u||_0 <= k}` used as ADMM's
    u-step by Dinh et al.'s (2020) ADMM baseline (Zhang et al. 2018).

    Args:
        w: tensor of any shape.
        sparsity: the fraction of entries to prune, in [0, 1].

    Returns:
        A tensor like `w`.

    Examples:
        >>> sparsity_projection(keras.ops.array([0.5, -0.2, 0.3, -0.9]), 0.5)  # [0.5, 0, 0, -0.9]
    """
    sparsity = check_number("sparsity", sparsity, high=1.0)
    w = ops.convert_to_tensor(w)
    magnitudes = ops.abs(w)
    kept = _kept_count(int(math.prod(w.shape)), sparsity)
    if kept == 0:
        return ops.zeros_like(w)
    smallest_kept = ops.top_k(ops.reshape(magnitudes, (-1,)), kept, sorted=True)[0][-1]
    return ops.where(ops.greater_equal(magnitudes, smallest_kept), w, ops.zeros_like(w))


def channel_sparsity_projection(w, sparsity, axis=-1):
    """Keeps the channels of largest l2 norm, zeroing a `sparsity` fraction of them.

    The channel version of `sparsity_projection` (Dinh et al.'s (2020) ADMM channel
    pruning): keeps the `C - floor(sparsity * C)` channels of largest norm
    (ties with the smallest kept norm are kept).

    Args:
        w: tensor of rank >= 1.
        sparsity: the fraction of channels to prune, in [0, 1].
        axis: the channel axis, default -1 (output channels).

    Returns:
        A tensor like `w` with exact-zero channels.
    """
    sparsity = check_number("sparsity", sparsity, high=1.0)
    w = ops.convert_to_tensor(w)
    axis = _check_axis(w, axis)
    norms = channel_norms(w, axis)
    kept = _kept_count(int(w.shape[axis]), sparsity)
    if kept == 0:
        return ops.zeros_like(w)
    smallest_kept = ops.top_k(norms, kept, sorted=True)[0][-1]
    keep = _per_group(ops.greater_equal(norms, smallest_kept), w, axis)
    return ops.where(keep, w, ops.zeros_like(w))
