"""Minimal-norm steps onto a hyperplane inside the box [0, 1]^d, l_inf and l_2 (FAB).

FAB (Croce & Hein 2020, "Minimally distorted adversarial examples with a fast
adaptive boundary attack", section 3.1, eq. 4-5) projects a point `t` onto
the hyperplane `{z : <w, z> = b}` intersected with the box: it solves

    d* = argmin_d ||d||_p  subject to  <w, t + d> = b,  t + d in [0, 1]^d

exactly, by sorting the coordinates by the step at which they reach the box
and a binary search over the sorted prefix sums. Both functions are
vectorized over rows (`keras.ops` only, no Python branch on values) and follow
`projection_linf` / `projection_l2` of the authors' reference code
(fra31/auto-attack, `autoattack/fab_projections.py`); rows where the
hyperplane cannot be reached inside the box get the step that goes as far
towards it as the box allows.
"""

import math

from keras import ops

# Stand-in for an infinite ratio, as in the reference code.
_BIG = 1e12


def _take(values, index):
    """`values[b, index[b]]` for a `(N, D)` tensor and an int `(N,)` index."""
    return ops.take_along_axis(values, ops.expand_dims(index, 1), axis=1)[:, 0]


def _bisect(above, like, num_features):
    """Per row, the last index `k` in [0, D-1) of a bisection keeping `above(k)` true.

    `above` maps int32 indices `(N,)` to booleans `(N,)`; `like` is any `(N,)`
    float tensor (shape and dtype of the search bounds). Runs the
    `ceil(log2 D)` halvings of the reference code, vectorized over rows.
    """
    low = ops.zeros_like(like)
    high = ops.full(ops.shape(like), float(num_features - 1))
    for _ in range(math.ceil(math.log2(num_features))):
        middle = ops.floor((low + high) / 2.0)
        is_above = above(ops.cast(middle, "int32"))
        low = ops.where(is_above, middle, low)
        high = ops.where(is_above, high, middle)
    return ops.cast(low, "int32")


def _safe(denominator):
    """`denominator` with zeros replaced by 1, for divisions whose result is masked."""
    return ops.where(ops.equal(denominator, 0.0), 1.0, denominator)


def projection_linf(t, w, b):
    """The l_inf-minimal step `d` with `<w, t + d> = b` and `t + d` in [0, 1]^D.

    Args:
        t: float `(N, D)` points in [0, 1].
        w: float `(N, D)` hyperplane normals.
        b: float `(N,)` offsets.

    Returns:
        Float `(N, D)` steps `d`.
    """
    num_features = t.shape[1]
    side = ops.where(ops.sum(w * t, axis=1) - b >= 0, 1.0, -1.0)
    w = w * side[:, None]
    b = b * side
    nonzero = ops.cast(ops.not_equal(w, 0.0), t.dtype)
    corner = ops.cast(w < 0, t.dtype)
    d = (corner - t) * nonzero
    p = corner - t * (2.0 * corner - 1.0)
    order = ops.argsort(p, axis=1)
    b = b - ops.sum(w * t, axis=1)
    b0 = ops.sum(w * d, axis=1)
    reverse = ops.flip(order, axis=1)
    w_sorted = ops.take_along_axis(w, reverse, axis=1)
    s = ops.cumsum(ops.abs(w_sorted), axis=1)
    sb = ops.cumsum(-w_sorted * ops.take_along_axis(d, reverse, axis=1), axis=1) + b0[:, None]
    b2 = sb[:, -1] - s[:, -1] * _take(p, order[:, 0])
    whole_box = b - b2 > 0
    partial = ops.logical_and(b - b0 > 0, ops.logical_not(whole_box))

    def above(index):
        current = _take(order, num_features - 1 - index)
        return b - (_take(sb, index) - _take(s, index) * _take(p, current)) > 0

    index = _bisect(above, b, num_features)

    lambda_box = ops.maximum((b - sb[:, -1]) / _safe(-s[:, -1]), 0.0)[:, None]
    d_box = (2.0 * corner - 1.0) * lambda_box
    lambda_partial = ops.maximum((b - _take(sb, index)) / _safe(-_take(s, index)), 0.0)[:, None]
    d_partial = ops.minimum(lambda_partial, d) * corner + ops.maximum(-lambda_partial, d) * (1.0 - corner)
    d = ops.where(whole_box[:, None], d_box, ops.where(partial[:, None], d_partial, d))
    return d * nonzero


def projection_l2(t, w, b):
    """The l_2-minimal step `d` with `<w, t + d> = b` and `t + d` in [0, 1]^D.

    Args:
        t: float `(N, D)` points in [0, 1].
        w: float `(N, D)` hyperplane normals.
        b: float `(N,)` offsets.

    Returns:
        Float `(N, D)` steps `d`.
    """
    num_features = t.shape[1]
    c = ops.sum(w * t, axis=1) - b
    side = ops.where(c >= 0, 1.0, -1.0)
    w = w * side[:, None]
    c = c * side
    tiny = ops.abs(w) < 1e-8
    w_safe = ops.where(tiny, 1.0, w)
    r = ops.clip(ops.maximum(t / w_safe, (t - 1.0) / w_safe), -_BIG, _BIG)
    r = ops.where(tiny, _BIG, r)
    r = ops.where(ops.equal(r, -_BIG), _BIG, r)
    order = ops.argsort(r, axis=1)
    rs = ops.take_along_axis(r, order, axis=1)
    rs2 = ops.concatenate([rs[:, 1:], ops.zeros_like(rs[:, :1])], axis=1)
    rs = ops.where(ops.equal(rs, _BIG), 0.0, rs)
    rs2 = ops.where(ops.equal(rs2, _BIG), 0.0, rs2)
    w3s = ops.take_along_axis(w * w, order, axis=1)
    w5 = ops.sum(w3s, axis=1, keepdims=True)
    ws = w5 - ops.cumsum(w3s, axis=1)
    keep = ops.cast(ops.logical_not(tiny), t.dtype)
    d = -(r * w) * keep
    s = ops.concatenate([-w5 * rs[:, :1], ops.cumsum((rs - rs2) * ws, axis=1) - w5 * rs[:, :1]], axis=1)
    unconstrained = s[:, 0] + c < 0
    whole_box = ops.sum(d * w, axis=1) + c > 0
    partial = ops.logical_not(ops.logical_or(unconstrained, whole_box))

    index = _bisect(lambda index: _take(s, index) + c > 0, c, num_features)

    d_free = -(c / _safe(w5[:, 0]))[:, None] * w
    ws_index = _take(ws, index)
    alpha = (_take(s, index) + c) / _safe(ws_index) + _take(rs, index)
    alpha = ops.where(ops.equal(ws_index, 0.0), 0.0, alpha)[:, None]
    reached = ops.cast(alpha > r, t.dtype)
    d_partial = d * reached - alpha * w * (1.0 - reached)
    d = ops.where(unconstrained[:, None], d_free, ops.where(partial[:, None], d_partial, d))
    return d * keep
