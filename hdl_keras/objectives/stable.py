"""The HDL stability loss: the worst training subset of size a, in CVaR form."""

from keras import ops


def worst_subset_loss(losses, theta, alpha):
    """`theta + (1 / a) sum_n [L_n - theta]^+` with `a = alpha * batch size`.

    Bertsimas et al. (2023), sec. 3.4: the dual of the loss averaged over the
    worst subset of size `a` of the batch (equivalently the CVaR at level
    `alpha`). Minimised over the scalar `theta`, it equals the mean of the `a`
    largest per-example losses (for integer `a`).

    Args:
        losses: per-example losses `(B,)`.
        theta: scalar tensor (a trainable variable of the model).
        alpha: subset fraction in (0, 1]; `alpha = 0.7` mimics 70/30 splits.

    Returns:
        A scalar tensor.
    """
    if not 0.0 < alpha <= 1.0:
        raise ValueError(f"alpha must be in (0, 1]. Received: alpha={alpha}")
    subset_size = alpha * ops.cast(ops.shape(losses)[0], losses.dtype)
    return theta + ops.sum(ops.relu(losses - theta)) / subset_size
