"""Continuous sparsification mask shared by `MaskedDense` and `MaskedConv2D`.

Savarese et al. (2020) learn a sparse network by gating every kernel entry
`w_j` with `sigmoid(beta * s_j)`, where `s` is a trainable mask logit of the
kernel's shape and `beta` a temperature annealed from 1 to a large `beta_bar`
within each training round. The penalty `lambda * sum_j sigmoid(beta * s_j)`
(the "Sparsity" term of the HDL objective, eq. 4 of Bertsimas et al.) pushes
the logits below zero; the final network keeps the entries with `s_j > 0`
(the hard mask `1[s > 0]`, the limit of the gate as `beta -> inf`).

`granularity="channel"` gives each output channel (unit) one logit `s_c`
instead, shared by all its kernel entries: the gate then zeroes whole filters,
which `hdl_keras.pruning.shrink` removes from the network. The penalty still
sums the gate over the kernel's entries (`fan * sigmoid(beta * s_c)` for a
channel of `fan` entries), so `lambda` weighs a kept weight equally at both
granularities.

`MaskedKernelMixin` holds that logic once; a masked layer lists it before its
Keras base class (`class MaskedDense(MaskedKernelMixin, keras.layers.Dense)`)
so that its `kernel` property, which the base class's `call` reads, returns
the gated kernel.
"""

import math
import numbers

import keras
from keras import ops


def check_mask_init(mask_init):
    """Returns `mask_init` as a float; raises a ValueError unless a real number."""
    if isinstance(mask_init, bool) or not isinstance(mask_init, numbers.Real) or not math.isfinite(mask_init):
        raise ValueError(
            "Expected `mask_init` to be a finite number (the initial value "
            f"of the mask logits s). Received: mask_init={mask_init!r}"
        )
    return float(mask_init)


def check_gate_scale(gate_scale):
    """Returns `gate_scale` as a float; raises a ValueError unless a positive number."""
    if (
        isinstance(gate_scale, bool)
        or not isinstance(gate_scale, numbers.Real)
        or not math.isfinite(gate_scale)
        or gate_scale <= 0
    ):
        raise ValueError(
            "Expected `gate_scale` to be a finite positive number (the gate is "
            f"`gate_scale * sigmoid(beta * s)`). Received: gate_scale={gate_scale!r}"
        )
    return float(gate_scale)


GRANULARITIES = ("weight", "channel")

# The config keys a masked layer adds to its Keras base class (removed when it becomes a plain layer).
MASK_CONFIG_KEYS = ("mask_init", "beta", "gate_scale", "granularity")


def check_granularity(granularity):
    """Returns `granularity`; raises a ValueError unless one of `GRANULARITIES`."""
    if granularity not in GRANULARITIES:
        raise ValueError(
            f"Expected `granularity` in {GRANULARITIES} (one gate per kernel entry, or per output "
            f"channel). Received: granularity={granularity!r}"
        )
    return granularity


def check_beta(beta):
    """Returns `beta` as a float; raises a ValueError unless a positive number."""
    if isinstance(beta, bool) or not isinstance(beta, numbers.Real) or not math.isfinite(beta) or beta <= 0:
        raise ValueError(
            "Expected `beta` to be a finite positive number (the temperature "
            f"of the sigmoid gate). Received: beta={beta!r}"
        )
    return float(beta)


class StoredVariablesMixin:
    """Saves and loads a layer's `_own_variables()` in order, instead of `self.kernel`.

    For layers whose `kernel` property is a computed tensor (a gated or
    quantized kernel): the base classes would save that tensor; these save
    the raw variables (float kernel, bias, and the layer's own state).
    """

    def save_own_variables(self, store):
        if not self.built:
            return
        for index, variable in enumerate(self._own_variables()):
            store[str(index)] = variable

    def load_own_variables(self, store):
        self._check_load_own_variables(store)
        if not self.built:
            return
        for index, variable in enumerate(self._own_variables()):
            variable.assign(store[str(index)])


class MaskedKernelMixin(StoredVariablesMixin):
    """Gates a layer's kernel with `c * sigmoid(beta * s)` (continuous sparsification).

    `c = gate_scale`: 1 in Savarese et al. (2020)'s eq. and Bertsimas et al.
    (2023)'s eq. 9; the authors' code (and the default of `to_masked`) uses
    `c = 1 / sigmoid(s0) = 2` for `s0 = 0`, so that a fresh gate is 1 and the
    gated network starts as the dense one.

    For a Keras layer that stores its kernel variable as `_kernel`, reads it
    through a `kernel` property and has an optional `bias` (`Dense` and the
    convolutions). The subclass calls `_init_mask(mask_init, beta)` in
    `__init__` after the base class's `__init__` (`gate_scale`, `granularity` optional), and `_build_mask()` in
    `build` after the base class's `build`. The bias is not masked
    (a channel whose gate closes keeps its bias: `shrink` folds it forward).

    Weights added:
        mask_logits: trainable, the kernel's shape (`granularity="weight"`)
            or `(1, ..., 1, channels)` (`"channel"`), initialised to the
            constant `mask_init`; the paper's `s` (also readable as `s`).
        beta: non-trainable scalar, initialised to `beta`; a callback anneals
            it with `layer.beta.assign(value)`. Saved with the model.
    """

    def _init_mask(self, mask_init, beta, gate_scale=1.0, granularity="weight"):
        self.mask_init = check_mask_init(mask_init)
        self.initial_beta = check_beta(beta)
        self.gate_scale = check_gate_scale(gate_scale)
        self.granularity = check_granularity(granularity)
        if getattr(self, "lora_rank", None):
            raise ValueError(f"{type(self).__name__} does not support LoRA. Received: lora_rank={self.lora_rank}")
        if self.quantization_mode is not None:
            raise ValueError(
                f"{type(self).__name__} does not support quantized dtype "
                f"policies. Received: dtype={self.dtype_policy.name!r}"
            )

    def _build_mask(self):
        kernel_shape = tuple(self._kernel.shape)
        if self.granularity == "channel":  # one logit per output channel, broadcast over its entries
            kernel_shape = (1,) * (len(kernel_shape) - 1) + kernel_shape[-1:]
        self.mask_logits = self.add_weight(
            name="mask_logits",
            shape=kernel_shape,
            initializer=keras.initializers.Constant(self.mask_init),
            trainable=True,
        )
        self.beta = self.add_weight(
            name="beta",
            shape=(),
            initializer=keras.initializers.Constant(self.initial_beta),
            trainable=False,
        )

    def _check_built(self, what):
        if not self.built:
            raise AttributeError(f"You must build the layer before accessing `{what}`.")

    @property
    def kernel(self):
        """The gated kernel `unmasked_kernel * gate_scale * sigmoid(beta * s)` (a tensor)."""
        self._check_built("kernel")
        return ops.multiply(self._kernel, self.mask())

    @property
    def unmasked_kernel(self):
        """The kernel variable `W` before gating (what the optimizer updates)."""
        self._check_built("unmasked_kernel")
        return self._kernel

    @property
    def s(self):
        """The mask logits variable, `s` in the paper; same as `mask_logits`."""
        self._check_built("s")
        return self.mask_logits

    def _per_entry(self, gate):
        """`gate` broadcast to the kernel's shape (a no-op at `granularity="weight"`)."""
        if self.granularity == "weight":
            return gate
        return ops.broadcast_to(gate, tuple(self._kernel.shape))

    def mask(self):
        """Returns the soft gate `gate_scale * sigmoid(beta * s)`, the kernel's shape."""
        self._check_built("mask")
        gate = ops.sigmoid(ops.multiply(self.beta, self.mask_logits))
        gate = gate if self.gate_scale == 1.0 else ops.multiply(self.gate_scale, gate)
        return self._per_entry(gate)

    def hard_mask(self):
        """Returns the final mask `1[s > 0]` (float, the kernel's shape)."""
        self._check_built("hard_mask")
        return self._per_entry(ops.cast(ops.greater(self.mask_logits, 0.0), self._kernel.dtype))

    def sparsity_penalty(self):
        """Returns `sum(gate_scale * sigmoid(beta * s))`, the term weighted by lambda (scalar)."""
        return ops.sum(self.mask())

    def sparsity(self):
        """Returns the fraction of kernel entries the hard mask prunes (float).

        At `granularity="channel"` every channel has as many entries, so this
        is also the fraction of channels pruned.
        """
        self._check_built("sparsity")
        pruned = ops.cast(ops.less_equal(self.mask_logits, 0.0), "float32")
        return float(ops.convert_to_numpy(ops.mean(pruned)))

    def pruned_kernel(self):
        """Returns `gate_scale * unmasked_kernel * hard_mask()`: exact zeros where `s <= 0`.

        The gate's limit as `beta -> inf`, so the pruned network computes
        what the gated one does at a large `beta`.
        """
        kernel = ops.multiply(self._kernel, self.hard_mask())
        return kernel if self.gate_scale == 1.0 else ops.multiply(self.gate_scale, kernel)

    def _own_variables(self):
        variables = [self._kernel]
        if self.bias is not None:
            variables.append(self.bias)
        return variables + [self.mask_logits, self.beta]

    def enable_lora(self, *args, **kwargs):
        raise NotImplementedError(
            f"{type(self).__name__} does not support LoRA: the mask gates the "
            "kernel variable directly. Export a plain layer with "
            "`hdl_keras.layers.export_pruned` first."
        )

    def quantize(self, *args, **kwargs):
        raise NotImplementedError(
            f"{type(self).__name__} does not support `quantize()`. Export a "
            "plain layer with `hdl_keras.layers.export_pruned` and quantize "
            "that instead."
        )

    def _mask_config(self):
        return {
            "mask_init": self.mask_init,
            "beta": self.initial_beta,
            "gate_scale": self.gate_scale,
            "granularity": self.granularity,
        }
