"""Backend-neutral pieces shared by the backend modules (keras.ops only)."""

from keras import ops


def class_cotangents(logits, labels=None):
    """Output cotangents, one per class, for the vector-Jacobian products.

    Args:
        logits: the `(B, K)` outputs the cotangents are for.
        labels: optional int tensor of shape `(B,)`. When given, the cotangent
            of class k is `e_k - e_{y_b}` (the logit difference of the HDL
            robust loss); otherwise it is `e_k`.

    Returns:
        A list of K tensors of shape `(B, K)`.
    """
    num_classes = logits.shape[-1]
    base = ops.zeros_like(logits)
    if labels is not None:
        base = -ops.one_hot(ops.cast(labels, "int32"), num_classes, dtype=logits.dtype)
    eye = ops.eye(num_classes, dtype=logits.dtype)
    return [base + eye[k][None, :] for k in range(num_classes)]


def stack_grads(grads):
    """Stacks M gradients of shape `(B, *input)` into `(B, M, *input)`."""
    return ops.stack(grads, axis=1)
