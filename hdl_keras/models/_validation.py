"""Argument checks shared by the model builders (Keras-style `ValueError`s)."""

import numbers


def check_positive_int(value, name):
    """Returns `value` as an int, or raises if it is not an integer >= 1."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"Expected `{name}` to be a positive integer. Received: {name}={value!r}")
    return int(value)


def check_int_tuple(values, name, allow_empty=False):
    """Returns `values` as a tuple of positive ints (a list or tuple of them)."""
    if not isinstance(values, (list, tuple)) or (not values and not allow_empty):
        qualifier = "a (possibly empty)" if allow_empty else "a non-empty"
        raise ValueError(f"Expected `{name}` to be {qualifier} tuple of positive integers. Received: {name}={values!r}")
    for value in values:
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"Expected `{name}` to contain positive integers only. Received: {name}={values!r}")
    return tuple(int(value) for value in values)


def check_image_shape(input_shape, min_size=1):
    """Returns a channels-last `(height, width, channels)` shape as a tuple.

    Args:
        input_shape: the shape to check.
        min_size: smallest height and width the network accepts.
    """
    if not isinstance(input_shape, (list, tuple)) or len(input_shape) != 3:
        raise ValueError(
            "Expected `input_shape` to be a channels-last image shape "
            f"(height, width, channels). Received: input_shape={input_shape!r}"
        )
    shape = check_int_tuple(input_shape, "input_shape")
    if min(shape[:2]) < min_size:
        raise ValueError(
            f"Expected `input_shape` with height and width of at least {min_size}. "
            f"Received: input_shape={input_shape!r}"
        )
    return shape
