"""The HDL robust loss: the linearised upper bound of the adversarial cross-entropy."""

from keras import ops

from hdl_keras import backend
from hdl_keras.utils.validation import check_number

DUAL_NORMS = {"linf": "l1", "l2": "l2"}


def robust_cross_entropy(logits_fn, x, y, rho, norm="linf", top_k=None):
    """Per-example robust loss of Bertsimas et al. (2023), eq. 7.

    `log sum_k exp((e_k - e_y)^T z + rho * ||grad_x (e_k - e_y)^T z||_*)`, the
    cross-entropy of the logits with each logit difference pushed up by its
    linearised worst case over the `rho`-ball; `||.||_*` is the dual norm of
    the ball's norm (l_1 for an l_inf ball, l_2 for an l_2 ball). At `rho = 0`
    it is the cross-entropy.

    The exact term takes `K - 1` vector-Jacobian products per batch, one per
    class other than the label (the label's own difference is zero), from
    `hdl_keras.backend.value_and_vjps`; the weights' gradient differentiates
    through them.

    Args:
        logits_fn: callable `x -> logits` of shape `(B, K)`.
        x: inputs `(B, *input_shape)`.
        y: int labels `(B,)`.
        rho: radius of the uncertainty set, `rho >= 0`.
        norm: `"linf"` (default) or `"l2"`, the norm of the ball.
        top_k: `None` (default) for the exact term. An int `k < K - 1` keeps
            the dual-norm term only for the `k` classes with the largest
            logits besides `y` (the most competing ones) and leaves the other
            classes' margins unpenalised: `k` vector-Jacobian products per
            batch instead of `K - 1`, a lower bound on the exact term that is
            tight when the other classes are far behind.

    Returns:
        `(B,)` per-example losses, differentiable with respect to the weights.
    """
    if norm not in DUAL_NORMS:
        raise ValueError(f"norm must be one of {sorted(DUAL_NORMS)}. Received: norm={norm!r}")
    check_number(rho, "rho", low=0.0)
    labels = ops.cast(y, "int32")
    logits, grads = backend.value_and_vjps(logits_fn, x, lambda z: _difference_cotangents(z, labels, top_k))
    competitors = _competitors(ops.stop_gradient(logits), labels, top_k)
    # Scatter the dual norms back to their classes: (B, M) -> (B, K); the label's stays 0.
    dual = ops.einsum("bm,bmk->bk", _dual_norm(grads, norm), competitors)
    true_logit = ops.take_along_axis(logits, labels[:, None], axis=1)
    return ops.logsumexp(logits - true_logit + rho * dual, axis=1)


def _dual_norm(grads, norm):
    """`(B, M, *input)` gradients to their `(B, M)` dual norms."""
    flat = ops.reshape(grads, (ops.shape(grads)[0], ops.shape(grads)[1], -1))
    if norm == "linf":
        return ops.sum(ops.abs(flat), axis=-1)
    return ops.sqrt(ops.sum(ops.square(flat), axis=-1) + 1e-12)


def _competitors(logits, labels, top_k):
    """One-hot `(B, M, K)` of the classes whose margins get the dual-norm term.

    `top_k=None`: all `M = K - 1` classes other than the label, in class order.
    `top_k=k`: the `M = k` largest logits other than the label's.
    """
    num_classes = logits.shape[-1]
    if top_k is None:
        others = ops.arange(num_classes - 1, dtype="int32")[None, :]
        indices = others + ops.cast(others >= labels[:, None], "int32")
        return ops.one_hot(indices, num_classes, dtype=logits.dtype)
    if not 1 <= top_k < num_classes - 1:
        raise ValueError(
            f"top_k must be in [1, {num_classes - 2}] for {num_classes} classes "
            f"(use None for the exact term). Received: top_k={top_k}"
        )
    is_label = ops.one_hot(labels, num_classes, dtype="bool")
    masked = ops.where(is_label, ops.full_like(logits, -1e30), logits)
    _, indices = ops.top_k(masked, top_k)
    return ops.one_hot(indices, num_classes, dtype=logits.dtype)


def _difference_cotangents(logits, labels, top_k):
    """Cotangents `e_k - e_y` of the competing classes (list of M `(B, K)` tensors)."""
    competitors = _competitors(logits, labels, top_k)
    label = ops.one_hot(labels, logits.shape[-1], dtype=logits.dtype)
    return [competitors[:, m] - label for m in range(competitors.shape[1])]
