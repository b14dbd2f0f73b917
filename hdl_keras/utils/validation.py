"""One place for the checks of public entry points: numbers, images, labels, models.

Every check raises a Keras-style error: what was expected, what was received,
and what to do. Checks that need values (finite, in bounds, label range) run
eagerly on concrete arrays or tensors of any backend (numpy, TensorFlow, JAX,
PyTorch) with one reduction each, before compiled code runs; they are never
called inside a traced `train_step` or `perturb`.
"""

import math
import numbers
import warnings

import numpy as np
from keras import ops

# l_inf radii at or above this fraction of the input range are legal but
# almost surely a mistake (e.g. eps=8 meant as 8/255).
LARGE_EPS_FRACTION = 0.5


def check_number(value, name, *, low=None, high=None, low_inclusive=True, high_inclusive=True, allow_inf=False):
    """Returns `value` as a float after checking it is a real number in range.

    Args:
        value: the argument (a Python or numpy number; bools are refused).
        name: its name in the message.
        low: lower bound, None for none.
        high: upper bound, None for none.
        low_inclusive: whether `low` itself is allowed.
        high_inclusive: whether `high` itself is allowed.
        allow_inf: accept infinities (e.g. `lambda = inf` for BinaryConnect;
            `low`/`high` still apply).

    Raises:
        ValueError: NaN, inf (unless allowed), not a number, or out of range.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"Expected `{name}` to be a real number. Received: {name}={value!r}")
    value = float(value)
    if math.isnan(value) or (math.isinf(value) and not allow_inf):
        raise ValueError(f"Expected `{name}` to be a finite number. Received: {name}={value!r}. Pass a finite value.")
    below = low is not None and (value < low or (value == low and not low_inclusive))
    above = high is not None and (value > high or (value == high and not high_inclusive))
    if below or above:
        left = "[" if low_inclusive else "("
        right = "]" if high_inclusive else ")"
        interval = f"{left}{'-inf' if low is None else low}, {'inf' if high is None else high}{right}"
        raise ValueError(f"Expected `{name}` in {interval}. Received: {name}={value!r}")
    return value


def check_positive_int(value, name, minimum=1):
    """Returns `value` as an int, or raises if it is not an integer >= `minimum`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        qualifier = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ValueError(f"Expected `{name}` to be {qualifier}. Received: {name}={value!r}")
    return int(value)


def check_eps(eps, name="eps", *, norm="linf", bounds=(0.0, 1.0), owner=None):
    """Returns a threat-model radius as a float: not NaN, >= 0, sensible for `bounds`.

    l_2 radii may be `inf` (an unbounded minimal-perturbation attack, e.g. C&W-l_2).

    An l_inf radius above the input range `high - low` is an error (the ball
    covers the whole box: use `high - low` itself for an unbounded check); one
    of at least half the range is legal but warned about (usually a radius in
    pixel units, e.g. 8 for 8/255).
    """
    eps = check_number(eps, name, low=0.0, allow_inf=norm == "l2")
    low, high = bounds
    span = high - low
    where = f"{owner}: " if owner else ""
    if norm == "linf" and eps > span:
        raise ValueError(
            f"{where}Expected an l_inf `{name}` of at most the input range {span:g} "
            f"(bounds={tuple(bounds)}). Received: {name}={eps!r}. Images in [0, 1] take "
            f"radii like 8/255; pass {name}={span:g} for an attack covering the whole box."
        )
    if norm == "linf" and eps >= LARGE_EPS_FRACTION * span and eps < span:
        warnings.warn(
            f"{where}{name}={eps:g} is at least half the input range {span:g} "
            f"(bounds={tuple(bounds)}): almost surely a mistake (8/255 = {8 / 255:.4f}, not 8).",
            stacklevel=3,
        )
    return eps


def check_bounds(bounds, name="bounds"):
    """Returns `(low, high)` as floats: not NaN, `low < high`.

    `low = -inf` or `high = inf` mean no bound on that side (unbounded inputs,
    such as standardised tables, attacked unclipped); `low = inf` or
    `high = -inf` are refused.
    """
    try:
        low, high = bounds
    except (TypeError, ValueError):
        raise ValueError(f"Expected `{name}` to be a pair (low, high). Received: {name}={bounds!r}") from None
    low = check_number(low, f"{name}[0]", high=math.inf, high_inclusive=False, allow_inf=True)
    high = check_number(high, f"{name}[1]", low=-math.inf, low_inclusive=False, allow_inf=True)
    if not low < high:
        raise ValueError(f"Expected `{name}` = (low, high) with low < high. Received: {name}={bounds!r}")
    return low, high


def _numpy(x):
    """A numpy view of an array or a tensor of any backend."""
    if isinstance(x, np.ndarray):
        return x
    return ops.convert_to_numpy(x)


def check_images(x, bounds=None, owner="input", name="x"):
    """Checks a batch of inputs: non-empty, floating, finite, within `bounds`.

    Args:
        x: numpy array or backend tensor `(batch, *input_shape)`.
        bounds: `(low, high)` the values must lie in, or None for no range.
        owner: who checks (named in the message, e.g. `"PGD"`).
        name: the argument's name.

    Raises:
        ValueError: an empty batch, a non-numeric or integer dtype, NaN or
            inf values, or values outside `bounds`.
    """
    shape = tuple(x.shape) if hasattr(x, "shape") else np.shape(x)
    if len(shape) < 1 or shape[0] == 0:
        raise ValueError(
            f"{owner} expects a non-empty batch `{name}` of shape (batch, ...). "
            f"Received: {name}.shape={shape}. Pass at least one example."
        )
    values = _numpy(x)
    if not np.issubdtype(values.dtype, np.floating):
        raise ValueError(
            f"{owner} expects floating-point inputs `{name}`. Received: dtype={values.dtype}. "
            "Convert images with x.astype('float32') / 255 (values in [0, 1])."
        )
    low_seen, high_seen = float(np.min(values)), float(np.max(values))
    if not (math.isfinite(low_seen) and math.isfinite(high_seen)):
        bad = int(np.size(values) - np.count_nonzero(np.isfinite(values)))
        raise ValueError(
            f"{owner} expects finite inputs `{name}`; received {bad} NaN or inf values "
            f"of {np.size(values)}. Remove or repair them before calling."
        )
    if bounds is not None:
        low, high = bounds
        if low_seen < low or high_seen > high:
            raise ValueError(
                f"{owner} expects inputs in bounds={tuple(bounds)}; received values in "
                f"[{low_seen:.4g}, {high_seen:.4g}]. Scale the inputs (normalization belongs "
                "inside the model) or pass bounds=."
            )


def check_in_bounds(x, bounds, owner):
    """Raises a ValueError unless `x` (numpy or tensor) lies within `bounds`."""
    check_images(x, bounds, owner)


def check_labels(y, batch_size, num_classes=None, owner="input", name="y"):
    """Checks int labels `(batch,)`: shape, integer dtype, range `[0, num_classes)`.

    Args:
        y: numpy array or backend tensor.
        batch_size: the number of inputs they label.
        num_classes: the model's output width, or None when unknown.

    Returns:
        `y` as an int32 numpy array.
    """
    values = _numpy(y)
    if values.ndim != 1 or values.shape[0] != batch_size:
        raise ValueError(
            f"{owner} expects `{name}` to be int labels of shape (batch,) = ({batch_size},). "
            f"Received: {name}.shape={tuple(values.shape)}. Pass np.reshape({name}, (-1,)) for "
            f"(batch, 1) labels, np.argmax({name}, axis=-1) for one-hot ones."
        )
    if np.issubdtype(values.dtype, np.floating):
        if not np.all(np.isfinite(values)) or np.any(values != np.round(values)):
            raise ValueError(
                f"{owner} expects integer class labels `{name}`. Received: float values "
                f"that are not whole numbers (dtype={values.dtype}). Pass class indices."
            )
    elif not np.issubdtype(values.dtype, np.integer):
        raise ValueError(f"{owner} expects integer class labels `{name}`. Received: dtype={values.dtype}.")
    if values.size:
        low, high = int(np.min(values)), int(np.max(values))
        upper = num_classes if num_classes is not None else None
        if low < 0 or (upper is not None and high >= upper):
            limit = f"[0, {upper})" if upper is not None else "[0, num_classes)"
            raise ValueError(
                f"{owner} expects labels `{name}` in {limit} (the model has "
                f"{num_classes if num_classes is not None else 'an unknown number of'} outputs). "
                f"Received: labels in [{low}, {high}]. Map the labels to 0..K-1."
            )
    return values.astype("int32")


def logits_width(model):
    """The number of classes of a model returning logits `(batch, K)`, or None if unknown.

    Raises:
        ValueError: the model has several outputs, or a non-2D output.
    """
    outputs = getattr(model, "outputs", None)
    try:
        outputs = list(outputs) if outputs is not None else None
    except TypeError:
        outputs = None
    if not outputs:
        return None
    if len(outputs) != 1:
        raise ValueError(
            f"Expected a model with one logits output (batch, num_classes). Received: model "
            f"{getattr(model, 'name', model)!r} with {len(outputs)} outputs. Wrap it in a model "
            "returning the classification logits only."
        )
    shape = tuple(outputs[0].shape)
    if len(shape) != 2:
        raise ValueError(
            f"Expected a model with one logits output (batch, num_classes). Received: output "
            f"shape {shape} of model {getattr(model, 'name', model)!r}. Flatten or wrap it."
        )
    return shape[1]


def check_input_shape(model, x, owner="input", name="x"):
    """Raises unless `x.shape[1:]` matches the model's declared input shape (when known).

    Dimensions the model leaves free (None) match anything; a model without
    declared inputs (a plain callable, an unbuilt subclass) passes.
    """
    inputs = getattr(model, "inputs", None)
    try:
        inputs = list(inputs) if inputs is not None else []
    except TypeError:
        inputs = []
    if len(inputs) != 1:
        return
    expected = tuple(inputs[0].shape)[1:]
    received = tuple(x.shape)[1:]
    if len(expected) != len(received) or any(e is not None and e != r for e, r in zip(expected, received)):
        raise ValueError(
            f"{owner} expects `{name}` of shape (batch, {', '.join(map(str, expected))}) for model "
            f"{getattr(model, 'name', model)!r}. Received: {name}.shape={tuple(x.shape)}. "
            "Reshape the inputs (channels-last images)."
        )


def check_fit_arrays(model, x, y, owner=None):
    """Eager checks of `model.fit(x, y)` array inputs before the compiled step runs.

    Non-empty, finite float inputs and int labels `(N,)` in `[0, K)` for a
    model with `K` logits. Datasets, generators and `y=None` pass unchecked
    (their batches are only seen inside the traced step).
    """
    owner = owner or f"{type(model).__name__}.fit"
    arrays = (np.ndarray,)
    if y is None or not (isinstance(x, arrays) or ops.is_tensor(x)):
        return
    if not (isinstance(y, arrays) or ops.is_tensor(y)):
        return
    check_images(x, None, owner)
    check_input_shape(model, x, owner)
    check_labels(y, x.shape[0], logits_width(model), owner)


__all__ = [
    "LARGE_EPS_FRACTION",
    "check_bounds",
    "check_eps",
    "check_fit_arrays",
    "check_images",
    "check_in_bounds",
    "check_input_shape",
    "check_labels",
    "check_number",
    "check_positive_int",
    "logits_width",
]
