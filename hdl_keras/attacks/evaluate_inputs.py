"""The inputs of `evaluate`: attack naming, option and batch checks, re-iterable batches.

`Batches` turns arrays `(x, y)` or an iterable of `(x_batch, y_batch)` pairs
into numpy batches that can be iterated twice (for the re-runs of the eps
sweep); the checks raise `ValueError` in Keras style before any attack runs.
"""

import numpy as np
from keras import ops

from hdl_keras.attacks.base import Attack
from hdl_keras.utils import validation


def named_attacks(attacks):
    """`attacks` (a dict name -> `Attack` or a list, named by class name) as a checked dict."""
    if isinstance(attacks, dict):
        named = dict(attacks)
    elif isinstance(attacks, (list, tuple)):
        named = {}
        for attack in attacks:
            base = type(attack).__name__
            name, number = base, 1
            while name in named:
                number += 1
                name = f"{base}_{number}"
            named[name] = attack
    else:
        raise ValueError(
            "attacks must be a dict name -> Attack or a list of attacks. "
            f"Received: attacks of type {type(attacks).__name__}"
        )
    if not named:
        raise ValueError(f"evaluate needs at least one attack. Received: attacks={attacks!r}")
    for name, attack in named.items():
        if not isinstance(attack, Attack):
            raise ValueError(
                f"attacks must be hdl_keras Attack instances. Received: {name!r} of type {type(attack).__name__}"
            )
        if attack.targeted:
            raise ValueError(
                f"evaluate measures accuracy under untargeted attacks. Received: {name!r} with targeted=True"
            )
    return named


def check_options(batch_size, eps_sweep, check_unbounded, eot_samples, verbose, attacks):
    """Validates the options; returns `eps_sweep` as an ascending list (or None)."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be an int >= 1. Received: batch_size={batch_size!r}")
    if eot_samples is not None and (
        isinstance(eot_samples, bool) or not isinstance(eot_samples, int) or eot_samples < 1
    ):
        raise ValueError(f"eot_samples must be None or an int >= 1. Received: eot_samples={eot_samples!r}")
    if verbose not in (0, 1, 2):
        raise ValueError(f"verbose must be 0, 1 or 2. Received: verbose={verbose!r}")
    if (eps_sweep is not None or check_unbounded) and all(
        getattr(attack, "black_box", False) for attack in attacks.values()
    ):
        raise ValueError(
            "eps_sweep and check_unbounded re-run the strongest white-box attack; every attack received is black-box."
        )
    if eps_sweep is None:
        return None
    eps_sweep = sorted(float(eps) for eps in np.ravel(np.asarray(eps_sweep, dtype="float64")))
    if not eps_sweep or not np.all(np.isfinite(eps_sweep)) or min(eps_sweep) < 0:
        raise ValueError(f"eps_sweep must be a non-empty list of finite eps >= 0. Received: eps_sweep={eps_sweep}")
    return eps_sweep


def check_batch(x, y, num_classes, attacks):
    """Checks the labels `y` `(batch,)` of `x` `(batch, *input_shape)`: ints in `[0, num_classes)`."""
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(
            f"y must hold int class labels. Received: y.dtype={y.dtype} (one-hot labels: pass np.argmax(y, axis=-1))"
        )
    if y.ndim != 1 or len(y) != len(x):
        raise ValueError(
            f"x and y must hold the same number of examples, y of shape (batch,). "
            f"Received: x.shape={x.shape}, y.shape={y.shape}"
        )
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(
            f"labels must be in [0, {num_classes}) for a model with {num_classes} "
            f"logits. Received: labels in [{y.min()}, {y.max()}]"
        )


def check_inputs(model, x, attacks):
    """Non-empty, finite inputs of the model's shape within every attack's bounds (before the model runs)."""
    if not attacks:
        validation.check_images(x, None, "evaluate")
    for name, attack in attacks.items():
        validation.check_images(x, attack.bounds, f"attack {name!r}")
    validation.check_input_shape(model, x, "evaluate")


def as_arrays(x, y):
    """Numpy `(x, y)` from arrays or from an iterable of batches."""
    if y is not None:
        return _to_numpy(x, "x"), _to_numpy(y, "y")
    pairs = [_pair(item) for item in x]
    if not pairs:
        raise ValueError("evaluate received no examples: x (or the batches it yields) is empty.")
    return np.concatenate([p[0] for p in pairs]), np.concatenate([p[1] for p in pairs])


class Batches:
    """Re-iterable numpy `(x, y)` batches of arrays or of an iterable of pairs.

    One-shot iterators (generators) are cached during the first pass when
    `keep`, so that a second pass can run.
    """

    def __init__(self, x, y, batch_size, keep):
        self.num_batches = None
        self._cache = None
        if y is not None:
            self._x, self._y = _to_numpy(x, "x"), _to_numpy(y, "y")
            if self._x.ndim < 2 or self._y.ndim < 1 or len(self._x) != len(self._y):
                raise ValueError(
                    "x and y must hold the same number of examples, x of shape "
                    "(num_examples, *input_shape) and y of shape (num_examples,). "
                    f"Received: x.shape={self._x.shape}, y.shape={self._y.shape}"
                )
            self._batch_size = batch_size
            self.num_batches = -(-len(self._x) // batch_size)
            self._iterable = None
            return
        if isinstance(x, (np.ndarray, str, bytes, dict)) or ops.is_tensor(x) or not hasattr(x, "__iter__"):
            raise ValueError(
                "evaluate needs x and y arrays, or x an iterable of (x_batch, y_batch) "
                f"pairs with y=None. Received: x of type {type(x).__name__} and y=None"
            )
        self._iterable = x
        try:
            self.num_batches = len(x)
        except TypeError:  # no length (a generator) or an unknown one (tf.data)
            self.num_batches = None
        if keep and iter(x) is x:
            self._cache = []

    def __iter__(self):
        if self._iterable is None:
            for start in range(0, len(self._x), self._batch_size):
                stop = start + self._batch_size
                yield self._x[start:stop], self._y[start:stop]
            return
        if self._cache:
            yield from self._cache
            return
        for item in self._iterable:
            batch = _pair(item)
            if self._cache is not None:
                self._cache.append(batch)
            yield batch


def _pair(item):
    if not isinstance(item, (tuple, list)) or len(item) != 2:
        raise ValueError(
            f"each batch must be a pair (x_batch, y_batch). Received: an item of type {type(item).__name__}"
        )
    return _to_numpy(item[0], "x"), _to_numpy(item[1], "y")


def _to_numpy(value, name):
    if ops.is_tensor(value):
        value = ops.convert_to_numpy(value)
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be array-like. Received: {name} of type {type(value).__name__}") from error
    if array.dtype == object:
        raise ValueError(f"{name} must be a numeric array. Received: {name} of type {type(value).__name__}")
    if name == "x":
        array = array.astype("float32", copy=False)
    return array
