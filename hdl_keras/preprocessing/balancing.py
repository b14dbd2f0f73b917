"""Class balancing by translated and rescaled copies of under-represented classes."""

import keras
import numpy as np
from keras import ops


def balance_classes(x, y, max_shift=0.1, max_zoom=0.1, seed=None, batch_size=1024):
    """Adds shifted and rescaled copies of the smaller classes until all counts are equal.

    For each class `c` with `n_c < n_max = max_c n_c` examples, `n_max - n_c`
    examples of `c` are drawn at random (with replacement only when more
    copies than examples are needed) and each copy is moved by a random
    translation of up to `max_shift` of the height and width and rescaled by
    a random zoom factor in `[1 - max_zoom, 1 + max_zoom]`, per image
    (`keras.layers.RandomTranslation` then `keras.layers.RandomZoom`, zero
    fill, bilinear interpolation), as the training-techniques report does for
    MNIST, whose smallest class (5, 5421 images) has about 80 % of the largest
    (1, 6742). Copies are appended after the original examples, which are
    unchanged.

    Args:
        x: float array `(N, height, width, channels)`.
        y: int array `(N,)` of class labels.
        max_shift: largest translation as a fraction of the image size, in
            `[0, 1)`, default 0.1.
        max_zoom: largest relative zoom in or out, in `[0, 1)`, default 0.1.
        seed: int seed of the draws and transforms, default None.
        batch_size: images transformed per call of the layers, default 1024.

    Returns:
        `(x_balanced, y_balanced)`: `(K * n_max, height, width, channels)`
        float32 and `(K * n_max,)` labels, with K the number of classes in `y`.

    Examples:
        >>> x_bal, y_bal = balance_classes(x_train, y_train, seed=0)
        >>> np.bincount(y_bal)  # every class has the largest count
    """
    x = np.asarray(x, dtype="float32")
    y = np.asarray(y)
    if x.ndim != 4 or y.ndim != 1 or len(x) != len(y) or not len(y):
        raise ValueError(
            "balance_classes expects images x of shape (N, height, width, channels) and "
            f"labels y of shape (N,), N > 0. Received: x.shape={x.shape}, y.shape={y.shape}"
        )
    for name, value in (("max_shift", max_shift), ("max_zoom", max_zoom)):
        if not 0.0 <= value < 1.0:
            raise ValueError(f"{name} must be in [0, 1). Received: {name}={value!r}")
    classes, counts = np.unique(y, return_counts=True)
    target = counts.max()
    rng = np.random.default_rng(seed)
    rows = []
    for label, count in zip(classes, counts):
        members = np.flatnonzero(y == label)
        missing = target - count
        if missing:
            rows.append(rng.choice(members, size=missing, replace=missing > count))
    if not rows:
        return x.copy(), y.copy()
    rows = np.concatenate(rows)
    transform = _shift_and_zoom(x.shape[1:], max_shift, max_zoom, seed)
    copies = [
        ops.convert_to_numpy(transform(x[rows[start : start + batch_size]], training=True))
        for start in range(0, len(rows), batch_size)
    ]
    return np.concatenate([x, *copies]), np.concatenate([y, y[rows]])


def _shift_and_zoom(input_shape, max_shift, max_zoom, seed):
    stages = [keras.Input(input_shape)]
    if max_shift:
        stages.append(
            keras.layers.RandomTranslation(max_shift, max_shift, fill_mode="constant", fill_value=0.0, seed=seed)
        )
    if max_zoom:
        stages.append(
            keras.layers.RandomZoom(
                (-max_zoom, max_zoom),
                fill_mode="constant",
                fill_value=0.0,
                seed=None if seed is None else seed + 1,
            )
        )
    return keras.Sequential(stages, name="shift_and_zoom")
