"""Quantized `Dense`/`Conv2D` layers (float shadow kernel, quantized forward).

`QuantDense` and `QuantConv2D` are the Keras `Dense` and `Conv2D` with one
more argument, `kernel_quantizer` (a name, dict or instance resolved by
`hdl_keras.quantizers.get`, default `"binary"`). They keep the float weights
`w` as their trainable `kernel` variable and compute with

    u = (lambda * q(w) + w) / (lambda + 1),

Li, Wang and Xin's (2020) BinaryRelax relaxation (`hdl_keras.quantizers.relaxed_kernel`),
where `lambda` is the non-trainable scalar weight `relax_lambda`. It starts
at `inf`, so the layers compute with `q(w)` exactly (BinaryConnect) unless
the `hdl_keras.callbacks.BinaryRelax` callback relaxes them. The gradient
reaches `w` straight through the quantizer.

As with the masked layers, the `kernel` property is the kernel the forward
pass uses (`u`; `q(w)` after BinaryRelax's switch and with BinaryConnect),
so tools that read `layer.kernel` (zero-weight and zero-channel counts,
interval bounds) see the quantized network; `float_kernel` is the variable
`w` and `quantized_kernel()` is `q(w)`.

`to_quantized` (`hdl_keras.layers.quantized_conversion`, also served from
here) converts a model's Keras `Dense`/`Conv2D` layers to these.
"""

import keras

from hdl_keras import quantizers
from hdl_keras.layers.masking import StoredVariablesMixin
from hdl_keras.quantizers.relax import relaxed_kernel


class QuantizedKernelMixin(StoredVariablesMixin):
    """Computes a Keras layer with a quantized (or BinaryRelax-relaxed) kernel.

    For a Keras layer that stores its kernel variable as `_kernel`, reads it
    through a `kernel` property and has an optional `bias` (`Dense` and the
    convolutions). The subclass calls `_init_quantizer(kernel_quantizer)` in
    `__init__` after the base class's `__init__` and `_build_relaxation()` in
    `build` after the base class's `build`. The bias is not quantized.

    Weights added:
        relax_lambda: non-trainable scalar `lambda`, initialised to `inf`
            (BinaryConnect); the `BinaryRelax` callback assigns it. Saved
            with the model.
    """

    def _init_quantizer(self, kernel_quantizer):
        quantizer = quantizers.get(kernel_quantizer)
        if quantizer is None:
            raise ValueError(
                f"{type(self).__name__} needs a kernel quantizer (e.g. 'binary', "
                "'ternary', '4bit'); use the Keras layer for a float kernel. "
                f"Received: kernel_quantizer={kernel_quantizer!r}"
            )
        self.kernel_quantizer = quantizer
        if getattr(self, "lora_rank", None):
            raise ValueError(f"{type(self).__name__} does not support LoRA. Received: lora_rank={self.lora_rank}")
        if self.quantization_mode is not None:
            raise ValueError(
                f"{type(self).__name__} does not support Keras' quantized dtype "
                f"policies. Received: dtype={self.dtype_policy.name!r}"
            )

    def _build_relaxation(self):
        self.relax_lambda = self.add_weight(
            name="relax_lambda",
            shape=(),
            initializer=keras.initializers.Constant(float("inf")),
            trainable=False,
        )

    def _check_built(self, what):
        if not self.built:
            raise AttributeError(f"You must build the layer before accessing `{what}`.")

    @property
    def kernel(self):
        """The kernel of the forward pass, `u = (lambda * q(w) + w) / (lambda + 1)` (a tensor)."""
        self._check_built("kernel")
        return relaxed_kernel(self._kernel, self.kernel_quantizer, self.relax_lambda)

    @property
    def float_kernel(self):
        """The float kernel variable `w` (what the optimizer updates)."""
        self._check_built("float_kernel")
        return self._kernel

    def quantized_kernel(self):
        """Returns `q(w)`, the quantized kernel (straight-through gradient), `w`'s shape."""
        self._check_built("quantized_kernel")
        return self.kernel_quantizer(self._kernel)

    def _own_variables(self):
        variables = [self._kernel]
        if self.bias is not None:
            variables.append(self.bias)
        return variables + [self.relax_lambda]

    def enable_lora(self, *args, **kwargs):
        raise NotImplementedError(
            f"{type(self).__name__} does not support LoRA: the quantizer reads the kernel variable directly."
        )

    def quantize(self, *args, **kwargs):
        raise NotImplementedError(
            f"{type(self).__name__} is already quantized (quantization-aware, "
            f"{self.kernel_quantizer!r}); Keras' post-training `quantize()` applies "
            "to float Dense/Conv layers."
        )

    def _quantizer_config(self):
        return {"kernel_quantizer": quantizers.serialize(self.kernel_quantizer)}


@keras.saving.register_keras_serializable(package="hdl_keras")
class QuantDense(QuantizedKernelMixin, keras.layers.Dense):
    """Densely-connected layer computing with a quantized kernel (BinaryConnect/BinaryRelax).

    Computes `activation(dot(inputs, u) + bias)` with `u = (lambda * q(w) +
    w) / (lambda + 1)` (Li et al. 2020, Algorithm 1): `q` is `kernel_quantizer`,
    `w` the float kernel variable the optimizer updates (straight-through
    gradient) and `lambda` the non-trainable weight `relax_lambda`, `inf` by
    default, i.e. `u = q(w)` (BinaryConnect). The `BinaryRelax` callback
    relaxes `lambda` during training. The bias is not quantized.

    `layer.kernel` is `u` (a tensor), `layer.float_kernel` the variable `w`,
    `layer.quantized_kernel()` is `q(w)`. LoRA and Keras' post-training
    `quantize()` are not supported.

    The other arguments are those of `keras.layers.Dense`, with the same
    defaults (`lora_rank` must stay `None`).

    Args:
        units: positive integer, dimensionality of the output space.
        kernel_quantizer: the weight quantizer `q`: `"binary"` (default,
            `mean|w| * sign(w)`), `"ternary"`, `"4bit"`, `"kbit"`, a
            serialization dict or a `hdl_keras.quantizers.WeightQuantizer`.
        **kwargs: base layer keyword arguments, such as `name` and `dtype`.

    Input shape:
        N-D tensor with shape `(batch_size, ..., input_dim)`.

    Output shape:
        N-D tensor with shape `(batch_size, ..., units)`.

    Examples:
        >>> layer = QuantDense(2, kernel_quantizer="binary", use_bias=False)
        >>> layer.build((None, 2))
        >>> _ = layer.float_kernel.assign([[0.5, -1.0], [2.0, -0.5]])  # mean |w| = 1
        >>> keras.ops.convert_to_numpy(layer(keras.ops.ones((1, 2))))
        array([[ 2., -2.]], dtype=float32)

    Reference:
        - Li, Wang, Xin, An Integrated Approach to Produce Robust Models
          with High Efficiency (Li et al. 2020), Algorithm 1.
        - [Courbariaux et al., BinaryConnect, NeurIPS
          2015](https://arxiv.org/abs/1511.00363)
    """

    def __init__(
        self,
        units,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        lora_rank=None,
        lora_alpha=None,
        quantization_config=None,
        kernel_quantizer="binary",
        **kwargs,
    ):
        super().__init__(
            units,
            activation=activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint,
            lora_rank=lora_rank,
            lora_alpha=lora_alpha,
            quantization_config=quantization_config,
            **kwargs,
        )
        self._init_quantizer(kernel_quantizer)

    def build(self, input_shape):
        super().build(input_shape)
        self._build_relaxation()

    def get_config(self):
        return {**super().get_config(), **self._quantizer_config()}


@keras.saving.register_keras_serializable(package="hdl_keras")
class QuantConv2D(QuantizedKernelMixin, keras.layers.Conv2D):
    """2D convolution computing with a quantized kernel (BinaryConnect/BinaryRelax).

    Convolves the inputs with `u = (lambda * q(w) + w) / (lambda + 1)`
    (Li et al. 2020, Algorithm 1): `q` is `kernel_quantizer`, `w` the float kernel
    variable the optimizer updates (straight-through gradient) and `lambda`
    the non-trainable weight `relax_lambda`, `inf` by default, i.e. `u =
    q(w)` (BinaryConnect). The `BinaryRelax` callback relaxes `lambda` during
    training. The bias is not quantized.

    `layer.kernel` is `u` (a tensor), `layer.float_kernel` the variable `w`,
    `layer.quantized_kernel()` is `q(w)`: with a ternary or k-bit quantizer
    its output channels (last axis) can be exactly zero, the channel sparsity
    of Li et al. (2020) (sec. V-A), which counts on `layer.kernel` see.

    The other arguments are those of `keras.layers.Conv2D`, with the same
    defaults.

    Args:
        kernel_quantizer: the weight quantizer `q`: `"binary"` (default),
            `"ternary"`, `"4bit"`, `"kbit"`, a serialization dict or a
            `hdl_keras.quantizers.WeightQuantizer`.
        **kwargs: base layer keyword arguments, such as `name` and `dtype`.

    Input shape:
        4D tensor `(batch_size, height, width, channels)` for
        `data_format="channels_last"`, or `(batch_size, channels, height,
        width)` for `"channels_first"`.

    Output shape:
        4D tensor `(batch_size, new_height, new_width, filters)` or
        `(batch_size, filters, new_height, new_width)`.

    Examples:
        >>> layer = QuantConv2D(8, 3, kernel_quantizer="ternary")
        >>> tuple(layer(keras.ops.ones((1, 5, 5, 2))).shape)
        (1, 3, 3, 8)

    Reference:
        - Li, Wang, Xin, An Integrated Approach to Produce Robust Models
          with High Efficiency (Li et al. 2020), Algorithm 1 and sec. V-A.
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=(1, 1),
        padding="valid",
        data_format=None,
        dilation_rate=(1, 1),
        groups=1,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        kernel_quantizer="binary",
        **kwargs,
    ):
        super().__init__(
            filters,
            kernel_size,
            strides=strides,
            padding=padding,
            data_format=data_format,
            dilation_rate=dilation_rate,
            groups=groups,
            activation=activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint,
            **kwargs,
        )
        self._init_quantizer(kernel_quantizer)

    def build(self, input_shape):
        super().build(input_shape)
        self._build_relaxation()

    def get_config(self):
        return {**super().get_config(), **self._quantizer_config()}


def __getattr__(name):
    """`to_quantized` and `first_and_last_layers`, defined in `hdl_keras.layers.quantized_conversion`.

    Served on first access (PEP 562): that module imports the layers above.
    """
    if name in ("first_and_last_layers", "to_quantized"):
        from hdl_keras.layers import quantized_conversion

        return getattr(quantized_conversion, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
