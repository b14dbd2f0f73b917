"""Interval bound propagation (IBP, Gowal et al. 2018) through Keras models."""

import numbers

import keras
import numpy as np
from keras import ops

from hdl_keras.layers.noisy_residual import ResidualNoise
from hdl_keras.models.resnet import ZeroPadChannels
from hdl_keras.utils import graph

_MONOTONE_ACTIVATIONS = (
    keras.activations.linear,
    keras.activations.relu,
    keras.activations.sigmoid,
    keras.activations.tanh,
)

# Layers that are elementwise non-decreasing or pick/average/move entries
# (a monotone map): the bounds are the layer applied to the lower and upper
# bounds.
_MONOTONE_LAYERS = (
    keras.layers.ReLU,
    keras.layers.MaxPooling1D,
    keras.layers.MaxPooling2D,
    keras.layers.AveragePooling1D,
    keras.layers.AveragePooling2D,
    keras.layers.GlobalAveragePooling1D,
    keras.layers.GlobalAveragePooling2D,
    keras.layers.GlobalMaxPooling1D,
    keras.layers.GlobalMaxPooling2D,
    keras.layers.Flatten,
    keras.layers.Reshape,
    keras.layers.ZeroPadding2D,
    ZeroPadChannels,
)

# Identity at inference. `ResidualNoise` is treated as if its noise were off:
# the bounds are those of the noise-free network.
_IDENTITY_LAYERS = (
    keras.layers.InputLayer,
    keras.layers.Dropout,
    ResidualNoise,
)

SUPPORTED_LAYERS = (
    "Dense (MaskedDense), Conv1D/Conv2D/Conv3D (MaskedConv2D) with a linear, "
    "relu, sigmoid or tanh activation, Activation (same activations), ReLU, "
    "MaxPooling1D/2D, AveragePooling1D/2D, GlobalAveragePooling1D/2D, "
    "GlobalMaxPooling1D/2D, Flatten, Reshape, ZeroPadding2D, ZeroPadChannels, "
    "BatchNormalization, Add, Concatenate, InputLayer, Dropout, ResidualNoise, "
    "and nested Sequential/functional models made of these"
)


class _Interval:
    """Elementwise bounds `lower <= z <= upper` of a tensor `z` (a tree leaf)."""

    __slots__ = ("lower", "upper")

    def __init__(self, lower, upper):
        self.lower = lower
        self.upper = upper


def _unsupported(layer, reason=""):
    return ValueError(
        f"Interval bound propagation does not support layer {layer.name!r} of "
        f"type {type(layer).__name__}{reason}. Supported layers: "
        f"{SUPPORTED_LAYERS}."
    )


def _activation(layer, interval):
    activation = layer.activation
    if not any(activation is fn for fn in _MONOTONE_ACTIVATIONS):
        raise _unsupported(layer, f" with activation {activation!r}")
    return _Interval(activation(interval.lower), activation(interval.upper))


def _affine(interval, linear, abs_linear):
    """Center/radius form: `mu' = W mu + b`, `r' = |W| r` (Gowal et al. eq. 6)."""
    center = (interval.upper + interval.lower) / 2
    radius = (interval.upper - interval.lower) / 2
    center = linear(center)
    radius = abs_linear(radius)
    return _Interval(center - radius, center + radius)


def _dense(layer, interval):
    if getattr(layer, "quantization_mode", None) is not None:
        raise _unsupported(layer, " (quantized)")
    kernel = ops.convert_to_tensor(layer.kernel)
    bias = layer.bias if layer.use_bias else 0.0
    interval = _affine(
        interval,
        lambda x: ops.matmul(x, kernel) + bias,
        lambda r: ops.matmul(r, ops.abs(kernel)),
    )
    return _activation(layer, interval)


def _conv(layer, interval):
    kernel = ops.convert_to_tensor(layer.kernel)
    if layer.use_bias:
        if layer.data_format == "channels_last":
            shape = (1,) * (layer.rank + 1) + (layer.filters,)
        else:
            shape = (1, layer.filters) + (1,) * layer.rank
        bias = ops.reshape(layer.bias, shape)
    else:
        bias = 0.0
    interval = _affine(
        interval,
        lambda x: layer.convolution_op(x, kernel) + bias,
        lambda r: layer.convolution_op(r, ops.abs(kernel)),
    )
    return _activation(layer, interval)


def _batch_norm(layer, interval):
    """Inference form `y = s * x + t`, `s = gamma / sqrt(var + eps)`."""
    ndim = len(interval.lower.shape)
    axes = [layer.axis] if isinstance(layer.axis, numbers.Integral) else layer.axis
    shape = [1] * ndim
    for axis in axes:
        shape[axis] = interval.lower.shape[axis]
    variance = ops.reshape(layer.moving_variance, shape)
    mean = ops.reshape(layer.moving_mean, shape)
    scale = ops.rsqrt(variance + layer.epsilon)
    if layer.scale:
        scale = scale * ops.reshape(layer.gamma, shape)
    shift = -mean * scale
    if layer.center:
        shift = shift + ops.reshape(layer.beta, shape)
    return _affine(interval, lambda x: x * scale + shift, lambda r: r * ops.abs(scale))


def _propagate_layer(layer, args):
    """Bounds of `layer(*args)` given `_Interval` leaves in `args`."""
    if isinstance(layer, (keras.layers.Add, keras.layers.Concatenate)):
        inputs = args[0]
        lower = layer([i.lower for i in inputs])
        upper = layer([i.upper for i in inputs])
        return _Interval(lower, upper)
    interval = args[0]
    if not isinstance(interval, _Interval):
        raise _unsupported(layer, " (several inputs)")
    if isinstance(layer, keras.Model):
        return _propagate_model(layer, interval)
    if isinstance(layer, keras.layers.Dense):
        return _dense(layer, interval)
    if isinstance(layer, (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D)) and not isinstance(
        layer, keras.layers.Conv2DTranspose
    ):
        return _conv(layer, interval)
    if isinstance(layer, keras.layers.BatchNormalization):
        return _batch_norm(layer, interval)
    if isinstance(layer, keras.layers.Activation):
        return _activation(layer, interval)
    if isinstance(layer, keras.layers.ReLU) and layer.negative_slope < 0:
        raise _unsupported(layer, " with a negative slope")
    if isinstance(layer, _MONOTONE_LAYERS):
        return _Interval(layer(interval.lower), layer(interval.upper))
    if isinstance(layer, _IDENTITY_LAYERS):
        return interval
    raise _unsupported(layer)


def _propagate_model(model, interval):
    if isinstance(model, keras.Sequential):
        for layer in model.layers:
            interval = _propagate_layer(layer, (interval,))
        return interval
    if not graph.has_graph(model) or len(model.inputs) != 1:
        raise _unsupported(model, " (not a single-input functional model)")
    return graph.run_through_graph(
        model, [interval], call_fn=lambda layer, *args, **kwargs: _propagate_layer(layer, args)
    )


def interval_bounds(model, x, eps, bounds=(0.0, 1.0)):
    """Elementwise bounds of the logits of `model` over an L-inf ball.

    Interval bound propagation (Gowal et al. 2018, eq. 6): starting from the
    box `[max(x - eps, lo), min(x + eps, hi)]`, every layer maps elementwise
    bounds `z_lower <= z <= z_upper` to bounds of its output. An affine layer
    `z' = W z + b` uses the center/radius form

        mu = (z_upper + z_lower) / 2,  r = (z_upper - z_lower) / 2,
        mu' = W mu + b,  r' = |W| r,  z'_lower/upper = mu' -/+ r',

    and a monotone (non-decreasing) layer `h` (ReLU, pooling, reshaping)
    gives `h(z_lower) <= h(z) <= h(z_upper)`. `Add` sums the bounds.
    `BatchNormalization` is the affine map of its moving statistics
    (inference mode). `MaskedDense` / `MaskedConv2D` use their gated kernel
    `layer.kernel`. `Dropout` is the identity, and so is
    `hdl_keras.layers.ResidualNoise`: the bounds are those of the network with
    the noise off, not of the randomized network. The bounds are sound but
    loose: every logit of `model(x')` with `x'` in the box lies in
    `[lower, upper]`.

    Args:
        model: a `keras.Sequential` or single-input functional model made of
            the layers listed in `SUPPORTED_LAYERS` (nested models allowed).
        x: inputs, e.g. `(batch, height, width, channels)`.
        eps: L-inf radius, a number `>= 0`, or a scalar tensor (e.g. a
            scheduled radius inside a train step, traced: not checked).
        bounds: `(lo, hi)` range the perturbed input is clipped to, or
            `None` for no clipping. Defaults to `(0.0, 1.0)`.

    Returns:
        `(lower, upper)`, tensors of the model's output shape, e.g.
        `(batch, num_classes)`.

    Raises:
        ValueError: for an unsupported layer (the message names it and lists
            the supported ones) or an invalid `eps` / `bounds`.

    Examples:
        >>> from hdl_keras.models import mlp
        >>> model = mlp(input_shape=(4,), num_classes=3)
        >>> lower, upper = interval_bounds(model, np.zeros((2, 4)), eps=0.1)
        >>> bool(keras.ops.all(lower <= upper))
        True

    Reference:
        - [Gowal et al., On the Effectiveness of Interval Bound Propagation
          for Training Verifiably Robust Models,
          2018](https://arxiv.org/abs/1810.12715).
    """
    if not ops.is_tensor(eps) and (isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not eps >= 0):
        raise ValueError(f"Expected `eps` to be a number >= 0 or a scalar tensor. Received: eps={eps!r}")
    if bounds is not None and (not isinstance(bounds, (list, tuple)) or len(bounds) != 2 or not bounds[0] <= bounds[1]):
        raise ValueError(f"Expected `bounds` to be None or a pair (lo, hi) with lo <= hi. Received: bounds={bounds!r}")
    x = ops.convert_to_tensor(x, dtype=keras.config.floatx())
    lower, upper = x - eps, x + eps
    if bounds is not None:
        lower = ops.clip(lower, bounds[0], bounds[1])
        upper = ops.clip(upper, bounds[0], bounds[1])
    interval = _propagate_model(model, _Interval(lower, upper))
    return interval.lower, interval.upper


def verified_accuracy(model, x, y, eps, bounds=(0.0, 1.0), batch_size=128):
    """Fraction of examples verified robust at L-inf radius `eps` by IBP.

    An example is verified when it is correctly classified and its worst-case
    margin under the elementwise bounds of `interval_bounds` is positive:

        lower_y - max_{k != y} upper_k > 0,

    so no input of the eps-box (clipped to `bounds`) changes the prediction.
    This lower-bounds the robust accuracy against any attack.

    Args:
        model: see `interval_bounds`.
        x: inputs, a NumPy array or tensor `(n, ...)`.
        y: int labels `(n,)` or one-hot labels `(n, num_classes)`.
        eps: L-inf radius `>= 0`.
        bounds: input range, see `interval_bounds`.
        batch_size: examples bounded at a time, a positive int.

    Returns:
        A Python float in `[0, 1]`.

    Examples:
        >>> from hdl_keras.models import mlp
        >>> model = mlp(input_shape=(4,), num_classes=3)
        >>> x = np.random.uniform(size=(8, 4))
        >>> 0.0 <= verified_accuracy(model, x, np.zeros(8, "int32"), 0.01) <= 1.0
        True
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1:
        raise ValueError(f"Expected `batch_size` to be a positive int. Received: batch_size={batch_size!r}")
    x = np.asarray(keras.ops.convert_to_numpy(x))
    y = np.asarray(keras.ops.convert_to_numpy(y))
    if y.ndim == 2:
        y = np.argmax(y, axis=-1)
    if len(x) != len(y) or len(x) == 0:
        raise ValueError(
            "Expected `x` and `y` to hold the same positive number of examples. "
            f"Received: {len(x)} inputs and {len(y)} labels"
        )
    verified = 0
    for start in range(0, len(x), batch_size):
        xb, yb = x[start : start + batch_size], y[start : start + batch_size]
        lower, upper = interval_bounds(model, xb, eps, bounds=bounds)
        lower = ops.convert_to_numpy(lower)
        upper = ops.convert_to_numpy(upper)
        logits = ops.convert_to_numpy(model(xb, training=False))
        rows = np.arange(len(yb))
        others = upper.copy()
        others[rows, yb] = -np.inf
        margin = lower[rows, yb] - others.max(axis=-1)
        correct = logits.argmax(axis=-1) == yb
        verified += int(np.sum((margin > 0) & correct))
    return verified / len(x)
