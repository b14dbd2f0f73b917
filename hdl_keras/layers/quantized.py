"""Quantized `Dense`/`Conv2D` layers (float shadow kernel, quantized forward) and `to_quantized`.

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
"""

import keras

from hdl_keras import quantizers
from hdl_keras.layers.masking import StoredVariablesMixin
from hdl_keras.quantizers.relax import relaxed_kernel
from hdl_keras.utils.surgery import replace_layers
from hdl_keras.utils.surgery import serialized_model


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


_FLOAT_CLASSES = ("Dense", "Conv2D")


def _tensor_sources(value):
    """The layer names of the `keras_history` entries inside a serialized call."""
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            return [value["config"]["keras_history"][0]]
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        return [name for item in value for name in _tensor_sources(item)]
    return []


def _endpoint_names(value):
    """The layer names of a functional config's `input_layers`/`output_layers`."""
    if isinstance(value, list) and len(value) == 3 and isinstance(value[0], str):
        return [value[0]]
    if isinstance(value, (list, tuple)):
        return [name for item in value for name in _endpoint_names(item)]
    if isinstance(value, dict):
        return [name for item in value.values() for name in _endpoint_names(item)]
    return []


def _is_float_layer(layer_config):
    """Whether a serialized layer is a Keras `Dense` or `Conv2D`."""
    return layer_config.get("module") == "keras.layers" and layer_config.get("class_name") in _FLOAT_CLASSES


def _frontier(start, neighbours, candidates):
    """Candidates reached from `start` through non-candidate layers only."""
    reached, seen, stack = set(), set(), list(start)
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        if name in candidates:
            reached.add(name)
            continue
        stack.extend(neighbours.get(name, ()))
    return reached


def first_and_last_layers(model_config):
    """Names of the Dense/Conv2D layers next to the inputs and to the outputs.

    A layer is "first" if a path from a model input reaches it through no
    other Dense/Conv2D layer, "last" if a path from it to a model output
    crosses no other one: the stem convolution and the classifier of every
    member of an ensemble. Works on the top-level graph of a serialized
    Sequential or functional model (`serialize_keras_object(model)`).
    """
    config = model_config["config"]
    layers = config["layers"]
    candidates = {layer["config"]["name"] for layer in layers if _is_float_layer(layer)}
    if model_config["class_name"] == "Sequential":
        ordered = [layer["config"]["name"] for layer in layers if _is_float_layer(layer)]
        return set(ordered[:1] + ordered[-1:])
    successors, predecessors = {}, {}
    for layer in layers:
        name = layer["config"]["name"]
        for source in _tensor_sources(layer.get("inbound_nodes", [])):
            successors.setdefault(source, []).append(name)
            predecessors.setdefault(name, []).append(source)
    first = _frontier(_endpoint_names(config["input_layers"]), successors, candidates)
    last = _frontier(_endpoint_names(config["output_layers"]), predecessors, candidates)
    return first | last


def _quantize_config(rewritten, quantizer, skipped):
    """A serialized Keras `Dense`/`Conv2D` not in `skipped` rewritten to its quantized layer."""
    if _is_float_layer(rewritten) and rewritten["config"].get("name") not in skipped:
        class_name = rewritten["class_name"]
        rewritten["module"] = "hdl_keras.layers"
        rewritten["class_name"] = f"Quant{class_name}"
        rewritten["registered_name"] = f"hdl_keras>Quant{class_name}"
        rewritten["config"] = {**rewritten["config"], "kernel_quantizer": quantizer}
    return rewritten


def _copy_into_quantized(source, target):
    """A quantized target gets the source's kernel (as its float kernel) and bias."""
    if not isinstance(target, QuantizedKernelMixin):
        return False
    target.float_kernel.assign(source.kernel)
    if source.bias is not None:
        target.bias.assign(source.bias)
    return True


def to_quantized(model, kernel_quantizer="binary", skip_first_last=False):
    """Returns a copy of `model` whose Keras `Dense`/`Conv2D` layers are quantized.

    Every `keras.layers.Dense` and `Conv2D` becomes a `QuantDense`/
    `QuantConv2D` with the same configuration, `kernel_quantizer`, its
    weights as the float kernel and bias, and `relax_lambda = inf`
    (BinaryConnect); other layers (batch normalization, `ResidualNoise`,
    `Ensemble`, ...) are copied. Use it on a zoo model (e.g.
    `hdl_keras.models.get("en2_resnet20")`) to train its quantized twin,
    from scratch or from the float weights.

    Args:
        model: a built `keras.Sequential` or functional `keras.Model`
            (nested models are converted throughout).
        kernel_quantizer: the quantizer of every converted layer, as
            `hdl_keras.quantizers.get` accepts. Defaults to `"binary"`.
        skip_first_last: keep the first and last Dense/Conv2D layers float
            (common practice for binary nets; Li et al. (2020) do not say): those
            a model input reaches, or that reach a model output, through no
            other Dense/Conv2D layer of the top-level graph, e.g. the stem
            convolution and the classifier of each ensemble member. Defaults
            to `False` (all quantized).

    Returns:
        A new, uncompiled model of the same structure and layer names; with
        `lambda = inf` its outputs are those of `model` with every converted
        kernel `w` replaced by `q(w)`.

    Examples:
        >>> from hdl_keras.models import mlp
        >>> quantized = to_quantized(mlp(input_shape=(4,), num_classes=3), "ternary")
        >>> type(quantized.layers[-1]).__name__
        'QuantDense'
    """
    if not isinstance(model, keras.Model) or not model.built:
        raise ValueError(f"Expected a built keras.Model. Received: model={model!r}")
    if not isinstance(skip_first_last, bool):
        raise ValueError(f"Expected `skip_first_last` to be a bool. Received: skip_first_last={skip_first_last!r}")
    quantizer = quantizers.get(kernel_quantizer)
    if quantizer is None:
        raise ValueError(
            "Expected a kernel quantizer ('binary', 'ternary', '4bit', ...). "
            f"Received: kernel_quantizer={kernel_quantizer!r}"
        )
    skipped = first_and_last_layers(serialized_model(model)) if skip_first_last else set()
    config = quantizers.serialize(quantizer)
    return replace_layers(model, lambda entry: _quantize_config(entry, config, skipped), _copy_into_quantized)
