"""The HDL robust loss: the linearised upper bound of the adversarial cross-entropy."""

from keras import ops

from hdl_keras import backend

DUAL_NORMS = {"linf": "l1", "l2": "l2"}


def robust_cross_entropy(logits_fn, x, y, rho, norm="linf"):
    """Per-example robust loss of Bertsimas et al. (2023), eq. 7.

    `log sum_k exp((e_k - e_y)^T z + rho * ||grad_x (e_k - e_y)^T z||_*)`, the
    cross-entropy of the logits with each logit difference pushed up by its
    linearised worst case over the `rho`-ball; `||.||_*` is the dual norm of
    the ball's norm (l_1 for an l_inf ball, l_2 for an l_2 ball). At `rho = 0`
    it is the cross-entropy.

    Args:
        logits_fn: callable `x -> logits` of shape `(B, K)`.
        x: inputs `(B, *input_shape)`.
        y: int labels `(B,)`.
        rho: radius of the uncertainty set, `rho >= 0`.
        norm: `"linf"` (default) or `"l2"`, the norm of the ball.

    Returns:
        `(B,)` per-example losses, differentiable with respect to the weights.
    """
    if norm not in DUAL_NORMS:
        raise ValueError(f"norm must be one of {sorted(DUAL_NORMS)}. Received: norm={norm!r}")
    if rho < 0:
        raise ValueError(f"rho must be >= 0. Received: rho={rho}")
    logits, grads = backend.logit_difference_grads(logits_fn, x, y)
    flat = ops.reshape(grads, (ops.shape(grads)[0], ops.shape(grads)[1], -1))
    if norm == "linf":
        dual = ops.sum(ops.abs(flat), axis=-1)
    else:
        dual = ops.sqrt(ops.sum(ops.square(flat), axis=-1) + 1e-12)
    true_logit = ops.take_along_axis(logits, ops.cast(y, "int32")[:, None], axis=1)
    return ops.logsumexp(logits - true_logit + rho * dual, axis=1)
