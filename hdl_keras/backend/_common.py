"""Backend-neutral pieces shared by the backend modules (keras.ops only)."""

from keras import ops


def class_cotangents(num_classes, batch_size, labels=None, dtype="float32"):
    """Output cotangents, one per class, for the vector-Jacobian products.

    Args:
        num_classes: K, the number of logits.
        batch_size: B.
        labels: optional int tensor of shape `(B,)`. When given, the cotangent
            of class k is `e_k - e_{y_b}` (the logit difference of the HDL
            robust loss); otherwise it is `e_k`.
        dtype: dtype of the cotangents (the logits' dtype).

    Returns:
        A list of K tensors of shape `(B, K)`.
    """
    eye = ops.eye(num_classes, dtype=dtype)
    base = ops.zeros((batch_size, num_classes), dtype=dtype)
    if labels is not None:
        base = -ops.one_hot(ops.cast(labels, "int32"), num_classes, dtype=dtype)
    return [base + eye[k][None, :] for k in range(num_classes)]


def stack_class_grads(grads):
    """Stacks K gradients of shape `(B, *input)` into `(B, K, *input)`."""
    return ops.stack(grads, axis=1)
