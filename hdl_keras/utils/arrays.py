"""`to_numpy`: a numpy copy of a tensor or a `keras.Variable`, without NumPy 2 warnings."""

import keras
from keras import ops


def to_numpy(value):
    """Returns `value` (a backend tensor, a `keras.Variable` or an array) as a numpy array.

    `keras.ops.convert_to_numpy` on a variable of the TensorFlow backend calls
    `np.array` on a `tf.Variable`, whose `__array__` takes no `copy` keyword:
    NumPy 2 then emits a `DeprecationWarning` per call. A variable's own
    `numpy()` avoids it on every backend.
    """
    if isinstance(value, keras.Variable):
        return value.numpy()
    return ops.convert_to_numpy(value)


__all__ = ["to_numpy"]
