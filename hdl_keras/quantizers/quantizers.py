"""Weight quantizers: binary, ternary and k-bit projections with a straight-through gradient.

Each quantizer is the projection `proj_Q(w)` onto a set of quantized weights
`Q = R_+ x {levels}^n` (Li, Wang and Xin 2020, sec. II-A): it factors `w` into integer
*levels* times a positive *scale* (one per layer, or one per output channel
with `per_channel=True`; the output channel is the last axis of a Keras
`Dense` kernel `(in, out)` and `Conv2D` kernel `(kh, kw, in, out)`), and

* `q(w)` returns `levels * scale` in the forward pass with the identity as
  its gradient (straight-through estimator): Algorithm 1 of Li et al. (2020) (lines 6
  and 11) updates the float weights `w` with the gradient taken at the
  quantized weights, `w <- w - gamma * grad L(u)`. The forward value is
  exactly `levels * scale` (computed as `stop_gradient(levels * scale) +
  (w - stop_gradient(w))`, whose second term is an exact zero), so it equals
  `decode(*encode(w))` bit for bit;
* `q.encode(w)` returns `(codes, scale)` as numpy arrays: unsigned integer
  codes (`uint8`, the shape of `w`) and the float32 scale (shape `()` or
  `(channels,)`), what a packed file stores; `q.decode(codes, scale)` maps
  them back to float32 weights;
* `q.bits` is the number of bits per weight of the codes (1, 2, k).

Resolve a quantizer from a name with `get("binary" | "ternary" | "4bit" |
"kbit" | ...)`.
"""

import math
import numbers
import re

import keras
import numpy as np
from keras import ops


def _check_per_channel(per_channel):
    if not isinstance(per_channel, bool):
        raise ValueError(
            "Expected `per_channel` to be a bool (one scale per output channel, "
            f"the last axis, when True). Received: per_channel={per_channel!r}"
        )
    return per_channel


class WeightQuantizer:
    """Base class of the weight quantizers: `q(w) = levels(w) * scale(w)`.

    A subclass sets `bits` and `offset` (the code of level 0: `code = level +
    offset`) and implements `levels_and_scale(w)`, returning float tensors of
    integer levels (the shape of `w`) and the scale (shape `()`, or `(1, ...,
    1, channels)` with `per_channel=True`).

    Args:
        per_channel: one scale per output channel (the last axis of the
            kernel) when `True`, one per tensor when `False` (default).
    """

    bits = None
    offset = None

    def __init__(self, per_channel=False):
        self.per_channel = _check_per_channel(per_channel)

    def levels_and_scale(self, w):
        """Returns `(levels, scale)` float tensors with `proj_Q(w) = levels * scale`."""
        raise NotImplementedError(f"{type(self).__name__} must implement levels_and_scale().")

    def _reduction_axes(self, w):
        """The axes a scale is computed over: all, or all but the last one."""
        if self.per_channel:
            if len(w.shape) < 1:
                raise ValueError(
                    "per_channel=True needs a tensor with a channel axis (the last "
                    f"one). Received: a tensor of shape {tuple(w.shape)}"
                )
            return tuple(range(len(w.shape) - 1))
        return None

    def _mean(self, values, w):
        axes = self._reduction_axes(w)
        if axes is None:
            return ops.mean(values)
        return ops.mean(values, axis=axes, keepdims=True)

    def _sum(self, values, w):
        axes = self._reduction_axes(w)
        if axes is None:
            return ops.sum(values)
        return ops.sum(values, axis=axes, keepdims=True)

    def _max(self, values, w):
        axes = self._reduction_axes(w)
        if axes is None:
            return ops.max(values)
        return ops.max(values, axis=axes, keepdims=True)

    def project(self, w):
        """Returns `proj_Q(w) = levels * scale` (no gradient: use `q(w)` to train)."""
        levels, scale = self.levels_and_scale(ops.convert_to_tensor(w))
        return ops.multiply(levels, scale)

    def __call__(self, w):
        """Returns `proj_Q(w)` in the forward pass, the identity gradient in the backward pass.

        Args:
            w: float tensor (any shape; a channel axis last with
                `per_channel=True`).

        Returns:
            A tensor of `w`'s shape and dtype equal to `levels * scale`.
        """
        w = ops.convert_to_tensor(w)
        projected = ops.stop_gradient(self.project(w))
        return ops.add(projected, ops.subtract(w, ops.stop_gradient(w)))

    def encode(self, w):
        """Returns `(codes, scale)`: uint8 codes of `w`'s shape and the float32 scale.

        `codes = levels + offset` lie in `0 .. 2**bits - 1`; `scale` has
        shape `()` or `(channels,)` with `per_channel=True`.
        """
        levels, scale = self.levels_and_scale(ops.convert_to_tensor(w, "float32"))
        levels = np.rint(ops.convert_to_numpy(levels)).astype(np.int64)
        codes = self._codes(levels).astype(np.uint8)
        scale = np.asarray(ops.convert_to_numpy(scale), dtype=np.float32)
        if self.per_channel:
            scale = scale.reshape(scale.shape[-1:])
        else:
            scale = scale.reshape(())
        return codes, scale

    def _codes(self, levels):
        return levels + self.offset

    def _levels(self, codes):
        return codes.astype(np.float32) - np.float32(self.offset)

    def decode(self, codes, scale):
        """Returns the float32 weights `levels(codes) * scale` (numpy).

        Args:
            codes: integer array of codes in `0 .. max_code`.
            scale: float32 array of shape `()`, or `(channels,)` matching the
                last axis of `codes` for a per-channel quantizer.
        """
        codes = np.asarray(codes)
        scale = np.asarray(scale, dtype=np.float32)
        if not np.issubdtype(codes.dtype, np.integer):
            raise ValueError(f"Expected integer codes. Received: codes of dtype {codes.dtype}")
        max_code = self.max_code
        if codes.size and (codes.min() < 0 or codes.max() > max_code):
            raise ValueError(
                f"Expected codes in 0..{max_code} for {type(self).__name__}"
                f"({self._describe()}). Received: codes in {codes.min()}..{codes.max()}"
            )
        expected = codes.shape[-1:] if self.per_channel else ()
        if scale.shape != expected:
            raise ValueError(
                f"Expected a scale of shape {expected} for codes of shape "
                f"{codes.shape} ({'per-channel' if self.per_channel else 'per-tensor'}). "
                f"Received: scale of shape {scale.shape}"
            )
        return (self._levels(codes) * scale).astype(np.float32)

    @property
    def max_code(self):
        """The largest code `encode` returns (`2 * offset`, or 1 for binary)."""
        return 2 * self.offset

    def _describe(self):
        return ", ".join(f"{key}={value!r}" for key, value in self.get_config().items())

    def __repr__(self):
        return f"{type(self).__name__}({self._describe()})"

    def get_config(self):
        return {"per_channel": self.per_channel}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


@keras.saving.register_keras_serializable(package="hdl_keras")
class BinaryQuantizer(WeightQuantizer):
    """Binary projection `proj_Q(w) = mean(|w|) * sign(w)` (Li et al. 2020, sec. III-A).

    The XNOR-Net projection Li et al. (2020) use for BinaryConnect and BinaryRelax:
    `E[|w|] * sign(w) = (||w||_1 / n) * sign(w)`, the closest point to `w` in
    `R_+ x {-1, +1}^n`. Here `sign(0) = +1`, so every weight is `+-scale`.
    Codes: `{0, 1}` for `{-1, +1}` (1 bit).

    Args:
        per_channel: one scale `mean(|w|)` per output channel (last axis)
            when `True`, one for the whole tensor when `False` (default, the
            paper's per-layer scale).

    Examples:
        >>> q = BinaryQuantizer()
        >>> keras.ops.convert_to_numpy(q(keras.ops.array([0.5, -1.0, 0.0, 2.5])))
        array([ 1., -1.,  1.,  1.], dtype=float32)
    """

    bits = 1
    offset = 1

    @property
    def max_code(self):
        return 1

    def levels_and_scale(self, w):
        levels = ops.where(ops.greater_equal(w, 0), 1.0, -1.0)
        return ops.cast(levels, w.dtype), self._mean(ops.abs(w), w)

    def _codes(self, levels):
        return (levels + 1) // 2

    def _levels(self, codes):
        return 2 * codes.astype(np.float32) - np.float32(1)


def _check_threshold_factor(threshold_factor):
    if (
        isinstance(threshold_factor, bool)
        or not isinstance(threshold_factor, numbers.Real)
        or not math.isfinite(threshold_factor)
        or not 0 <= threshold_factor < 1
    ):
        raise ValueError(
            "Expected `threshold_factor` to be a number in [0, 1) (the threshold "
            "is threshold_factor * mean|w|; TWN uses 0.7). "
            f"Received: threshold_factor={threshold_factor!r}"
        )
    return float(threshold_factor)


@keras.saving.register_keras_serializable(package="hdl_keras")
class TernaryQuantizer(WeightQuantizer):
    """Ternary projection onto `R_+ x {-1, 0, +1}^n` (TWN rule).

    Li et al. (2020, sec. V-A) run their Algorithm 1 "with the projection replaced by
    ternary" without giving the rule; this is the standard Ternary Weight
    Networks approximation of that projection (Li, Zhang and Liu, 2016):
    threshold `delta = threshold_factor * mean(|w|)`, levels
    `sign(w) * 1[|w| > delta]`, scale the mean of `|w|` over the entries
    above the threshold (0 when there are none). Entries at or below the
    threshold are exact zeros: the source of the channel sparsity Li et al. (2020)
    observes. Codes: `{0, 1, 2}` for `{-1, 0, +1}` (2 bits).

    Args:
        threshold_factor: `delta / mean(|w|)`, in `[0, 1)`. Defaults to
            `0.7`, the TWN value.
        per_channel: threshold and scale per output channel (last axis) when
            `True`; per tensor when `False` (default).

    Examples:
        >>> q = TernaryQuantizer()
        >>> keras.ops.convert_to_numpy(q(keras.ops.array([1.0, -3.0, 0.1, 0.3])))
        array([ 2., -2.,  0.,  0.], dtype=float32)
    """

    bits = 2
    offset = 1

    def __init__(self, threshold_factor=0.7, per_channel=False):
        super().__init__(per_channel=per_channel)
        self.threshold_factor = _check_threshold_factor(threshold_factor)

    def levels_and_scale(self, w):
        magnitude = ops.abs(w)
        delta = self.threshold_factor * self._mean(magnitude, w)
        kept = ops.cast(ops.greater(magnitude, delta), w.dtype)
        count = self._sum(kept, w)
        scale = ops.divide(self._sum(magnitude * kept, w), ops.maximum(count, 1.0))
        return ops.sign(w) * kept, scale

    def get_config(self):
        return {"threshold_factor": self.threshold_factor, **super().get_config()}


def _check_bits(bits):
    if isinstance(bits, bool) or not isinstance(bits, numbers.Integral) or not 2 <= bits <= 8:
        raise ValueError(
            f"Expected `bits` to be an int in 2..8 (use BinaryQuantizer for 1 bit). Received: bits={bits!r}"
        )
    return int(bits)


@keras.saving.register_keras_serializable(package="hdl_keras")
class KBitQuantizer(WeightQuantizer):
    """Uniform symmetric k-bit projection: `scale * clip(round(w / scale), -L, L)`.

    `L = 2**(bits - 1) - 1` and `scale = max(|w|) / L`, so the levels are the
    `2L + 1` integers `-L .. L` (for 4 bits: -7..7, 15 levels; zero is one of
    them, which gives the exact zeros and channel sparsity Li et al. (2020) report
    for 4-bit nets). Li et al. (2020) do not give their 4-bit rule; this max-scaled
    uniform grid is the simplest symmetric one and keeps every weight inside
    the grid's range (no clipping error). Rounding is half to even. Codes:
    `level + L` in `0 .. 2**bits - 2` (`bits` bits).

    Args:
        bits: bits per weight, 2..8. Defaults to `4`.
        per_channel: one scale `max(|w|) / L` per output channel (last axis)
            when `True`; per tensor when `False` (default).

    Examples:
        >>> q = KBitQuantizer(bits=3)  # levels -3..3, scale = max|w| / 3
        >>> keras.ops.convert_to_numpy(q(keras.ops.array([3.0, -1.2, 0.4, 2.6])))
        array([ 3., -1.,  0.,  3.], dtype=float32)
    """

    def __init__(self, bits=4, per_channel=False):
        super().__init__(per_channel=per_channel)
        self.bits = _check_bits(bits)
        self.offset = 2 ** (self.bits - 1) - 1

    def levels_and_scale(self, w):
        limit = float(self.offset)
        scale = self._max(ops.abs(w), w) / limit
        safe_scale = ops.where(ops.greater(scale, 0), scale, ops.ones_like(scale))
        levels = ops.clip(ops.round(ops.divide(w, safe_scale)), -limit, limit)
        return levels, scale

    def get_config(self):
        return {"bits": self.bits, **super().get_config()}


_ALIASES = {
    "binary": BinaryQuantizer,
    "ternary": TernaryQuantizer,
    "kbit": KBitQuantizer,
}

_BITS_NAME = re.compile(r"^([2-8])bit$")

_CLASSES = {cls.__name__: cls for cls in (BinaryQuantizer, TernaryQuantizer, KBitQuantizer)}


def serialize(quantizer):
    """Returns the Keras serialization dict of a quantizer."""
    return keras.saving.serialize_keras_object(quantizer)


def deserialize(config):
    """Returns the quantizer a serialization dict (or a class name) describes."""
    return keras.saving.deserialize_keras_object(config, module_objects=_CLASSES)


def get(identifier):
    """Resolves a quantizer from a name, a serialization dict or an instance.

    Names: `"binary"` (`BinaryQuantizer()`), `"ternary"`
    (`TernaryQuantizer()`), `"kbit"` (`KBitQuantizer(bits=4)`), `"2bit"` ..
    `"8bit"` (`KBitQuantizer(bits=k)`), and the class names. `None` gives
    `None`.

    Examples:
        >>> get("4bit")
        KBitQuantizer(bits=4, per_channel=False)
    """
    if identifier is None or isinstance(identifier, WeightQuantizer):
        return identifier
    if isinstance(identifier, dict):
        quantizer = deserialize(identifier)
    elif isinstance(identifier, str):
        name = identifier.lower()
        match = _BITS_NAME.match(name)
        if match:
            return KBitQuantizer(bits=int(match.group(1)))
        if name in _ALIASES:
            return _ALIASES[name]()
        if identifier not in _CLASSES:
            raise ValueError(
                "Unknown quantizer name. Expected one of "
                f"{sorted(_ALIASES)}, '2bit'..'8bit' or {sorted(_CLASSES)}. "
                f"Received: {identifier!r}"
            )
        quantizer = _CLASSES[identifier]()
    else:
        raise ValueError(
            f"Expected a quantizer name, a serialization dict or a WeightQuantizer instance. Received: {identifier!r}"
        )
    if not isinstance(quantizer, WeightQuantizer):
        raise ValueError(f"Expected a weight quantizer. Received: {identifier!r}")
    return quantizer
