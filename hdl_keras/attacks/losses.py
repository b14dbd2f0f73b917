"""Per-example attack losses on logits, resolved from strings by `get`.

Every loss maps logits `z` of shape `(B, K)` and int labels of shape `(B,)` to
a `(B,)` tensor that an attack *ascends*: larger means more adversarial.

- `"ce"`, `"cross_entropy"`: `cross_entropy`, `CE(z, y)`; targeted `-CE(z, t)`.
- `"cw"`, `"margin"`: `margin`, `min(max_{k != y} z_k - z_y, 0)`; targeted
  `targeted_margin`, `min(z_t - max_{k != t} z_k, 0)`.
- `"dlr"`: `dlr`, `DLR(z, y)`; targeted `-DLR(z, t)`.

`targeted_dlr(z, y, t)` is the targeted DLR of APGD-T, which also needs the
true label `y`; `APGD` uses it.
"""

from keras import ops


def cross_entropy(logits, y):
    """Softmax cross-entropy `-log softmax(z)_y`, per example.

    Args:
        logits: float tensor `(B, K)`.
        y: int tensor `(B,)` of labels.

    Returns:
        Float tensor `(B,)`.
    """
    return ops.sparse_categorical_crossentropy(y, logits, from_logits=True)


def margin(logits, y, kappa=0.0):
    """Carlini-Wagner margin `min(max_{k != y} z_k - z_y, kappa)`, per example.

    The margin is positive exactly when the example is misclassified. It is
    minus the objective `f_6(x) = max(z_y - max_{k != y} z_k, -kappa)` that
    Carlini & Wagner (2017, eq. 6 untargeted form) minimize: ascending it
    pushes the best other logit above `z_y`, and stops (zero gradient) once it
    leads by the confidence `kappa`. `kappa=float("inf")` gives the plain,
    unclipped margin.

    Args:
        logits: float tensor `(B, K)`, `K >= 2`.
        y: int tensor `(B,)` of labels.
        kappa: confidence `>= 0` at which the margin is clipped, default 0.

    Returns:
        Float tensor `(B,)`.
    """
    return ops.minimum(_max_other(logits, y) - _label_logit(logits, y), kappa)


def targeted_margin(logits, target, kappa=0.0):
    """Targeted Carlini-Wagner margin `min(z_t - max_{k != t} z_k, kappa)`.

    Positive exactly when the model predicts the target `t`; ascending it
    raises `z_t` above every other logit until it leads by `kappa`.

    Args:
        logits: float tensor `(B, K)`, `K >= 2`.
        target: int tensor `(B,)` of target classes.
        kappa: confidence `>= 0` at which the margin is clipped, default 0.

    Returns:
        Float tensor `(B,)`.
    """
    return ops.minimum(_label_logit(logits, target) - _max_other(logits, target), kappa)


def dlr(logits, y):
    """Difference of logits ratio (Croce & Hein 2020, eq. 5), per example.

    `DLR(z, y) = -(z_y - max_{k != y} z_k) / (z_pi1 - z_pi3 + 1e-12)`, with
    `z_pi1 >= z_pi2 >= ...` the sorted logits. It is invariant to shifts and
    positive rescalings of the logits and positive exactly when the example is
    misclassified.

    Args:
        logits: float tensor `(B, K)`, `K >= 3`.
        y: int tensor `(B,)` of labels.

    Returns:
        Float tensor `(B,)`.

    Reference:
        Croce & Hein, "Reliable evaluation of adversarial robustness with an
        ensemble of diverse parameter-free attacks", ICML 2020,
        https://arxiv.org/abs/2003.01690
    """
    _check_num_classes(logits, 3, "dlr")
    top = ops.top_k(logits, 3)[0]
    scale = top[:, 0] - top[:, 2] + 1e-12
    return -(_label_logit(logits, y) - _max_other(logits, y)) / scale


def targeted_dlr(logits, y, target):
    """Targeted DLR of APGD-T (Croce & Hein 2020, eq. 6), per example.

    `-(z_y - z_t) / (z_pi1 - (z_pi3 + z_pi4) / 2 + 1e-12)`: ascending it raises
    the target logit `z_t` above the logit of the true label `y`.

    Args:
        logits: float tensor `(B, K)`, `K >= 4`.
        y: int tensor `(B,)` of true labels.
        target: int tensor `(B,)` of target classes.

    Returns:
        Float tensor `(B,)`.
    """
    _check_num_classes(logits, 4, "targeted_dlr")
    top = ops.top_k(logits, 4)[0]
    scale = top[:, 0] - 0.5 * (top[:, 2] + top[:, 3]) + 1e-12
    return -(_label_logit(logits, y) - _label_logit(logits, target)) / scale


_UNTARGETED = {
    "ce": cross_entropy,
    "cross_entropy": cross_entropy,
    "cw": margin,
    "margin": margin,
    "dlr": dlr,
}


def get(identifier, targeted=False):
    """Resolves an attack loss to a function `(logits, labels) -> (B,)` to ascend.

    Args:
        identifier: `"ce"`/`"cross_entropy"`, `"cw"`/`"margin"`, `"dlr"`, or a
            callable `(logits, labels) -> (B,)`.
        targeted: if True, `labels` are targets and the result is the targeted
            form: `-CE(z, t)`, `targeted_margin(z, t)`, `-DLR(z, t)`, and
            minus a given callable.

    Returns:
        A callable `(logits, labels) -> (B,)`.

    Raises:
        ValueError: for an unknown name.
    """
    if callable(identifier):
        fn = identifier
    elif isinstance(identifier, str) and identifier in _UNTARGETED:
        fn = _UNTARGETED[identifier]
    else:
        raise ValueError(
            f"Unknown attack loss. Expected a callable or one of {sorted(_UNTARGETED)}. Received: loss={identifier!r}"
        )
    if not targeted:
        return fn
    if fn is margin:
        return targeted_margin
    return lambda logits, target: -fn(logits, target)


def _label_logit(logits, y):
    one_hot = ops.one_hot(ops.cast(y, "int32"), ops.shape(logits)[-1], dtype=logits.dtype)
    return ops.sum(logits * one_hot, axis=-1)


def _max_other(logits, y):
    classes = ops.arange(ops.shape(logits)[-1], dtype="int32")
    is_label = ops.equal(classes[None, :], ops.cast(y, "int32")[:, None])
    return ops.max(ops.where(is_label, float("-inf"), logits), axis=-1)


def _check_num_classes(logits, minimum, name):
    num_classes = logits.shape[-1]
    if num_classes is not None and num_classes < minimum:
        raise ValueError(
            f"{name} needs logits with at least {minimum} classes. Received: logits.shape={tuple(logits.shape)}"
        )
