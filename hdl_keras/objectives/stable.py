"""The HDL stability loss: the worst training subset of size a, in CVaR form."""

import math

from keras import ops

from hdl_keras.utils.validation import check_number


def worst_subset_loss(losses, theta, alpha, weights=None, total=None):
    """`theta + (1 / a) sum_n w_n [L_n - theta]^+` with `a = alpha * total`.

    Bertsimas et al. (2023), sec. 3.4: the dual of the loss averaged over the
    worst subset of size `a` of the batch (equivalently the CVaR at level
    `alpha`). Minimised over the scalar `theta`, it equals the mean of the `a`
    largest per-example losses (for integer `a`).

    With example weights `w_n` the batch is the weighted empirical
    distribution: `total` is its mass (`sum_n w_n`, or the batch size `B`
    under Keras' `sum_over_batch_size` reduction), so an example of weight 0
    is left out and one of weight 2 counts twice.

    Args:
        losses: per-example losses `(B,)`.
        theta: scalar tensor (a trainable variable of the model).
        alpha: subset fraction in (0, 1]; `alpha = 0.7` mimics 70/30 splits.
        weights: example weights `(B,)`, default None (all 1).
        total: the mass `a` is a fraction of, default None (the batch size `B`).

    Returns:
        A scalar tensor.

    A batch with `a` below one example's share `total / B` (e.g. a short
    last batch) uses that share: the worst subset holds at least one
    example, so the loss is never scaled up beyond it.
    `check_subset_size` refuses such a setting at the first batch.
    """
    check_number(alpha, "alpha", low=0.0, high=1.0, low_inclusive=False)
    batch_size = ops.cast(ops.shape(losses)[0], losses.dtype)
    weights = ops.ones_like(losses) if weights is None else ops.cast(weights, losses.dtype)
    total = batch_size if total is None else ops.cast(total, losses.dtype)
    subset_size = ops.maximum(alpha * total, total / batch_size)
    return theta + ops.divide_no_nan(ops.sum(weights * ops.relu(losses - theta)), subset_size)


def check_subset_size(alpha, batch_size):
    """Raises unless the worst subset `a = alpha * batch_size` holds at least one example.

    Runs while tracing (the batch size is static at the first batch on every
    backend); an unknown (None) batch size passes. Only full batches are
    meant: `worst_subset_loss` clamps `a` to 1 for a short last batch.
    """
    if batch_size is None or not isinstance(batch_size, int):
        return
    if alpha * batch_size < 1 and not math.isclose(alpha * batch_size, 1.0):
        raise ValueError(
            f"The stability term averages the worst alpha * batch = {alpha} * {batch_size} "
            f"= {alpha * batch_size:.3g} examples, fewer than one. Expected alpha * batch >= 1. "
            f"Use a batch of at least {math.ceil(1 / alpha)} examples or a larger "
            "stability_alpha."
        )
