"""`MaskedConv2D`: a Conv2D layer whose kernel is gated by a learned sparsity mask."""

import keras

from hdl_keras.layers.masking import MaskedKernelMixin


@keras.saving.register_keras_serializable(package="hdl_keras")
class MaskedConv2D(MaskedKernelMixin, keras.layers.Conv2D):
    """2D convolution with continuous sparsification of its kernel.

    Convolves the inputs with `W * sigmoid(beta * s)`: the kernel `W` is
    gated entry-wise by a trainable mask logit `s` of the same shape, as in
    Savarese et al. (2020) and the sparse variants of Holistic Deep Learning
    (eq. 4 and 9 of Bertsimas et al.). Only the kernel is masked; the bias is
    not. Add `lambda * layer.sparsity_penalty()` to the loss and anneal
    `layer.beta` (a non-trainable weight) from 1 to a large `beta_bar` during
    a training round; the final sparse kernel is `layer.pruned_kernel()`
    (`W * 1[s > 0]`), and `hdl_keras.layers.export_pruned(model)` turns a
    model into plain `Conv2D` layers carrying it.

    `layer.kernel` is the gated kernel (a tensor, as with Keras' LoRA);
    `layer.unmasked_kernel` is the variable `W`. LoRA and quantization are
    not supported (`enable_lora()`/`quantize()` raise `NotImplementedError`).

    `filters`, `kernel_size`, `strides`, `padding`, `data_format`,
    `dilation_rate`, `groups`, `activation`, `use_bias`, `kernel_initializer`,
    `bias_initializer`, `kernel_regularizer`, `bias_regularizer`,
    `activity_regularizer`, `kernel_constraint` and `bias_constraint` are the
    arguments of `keras.layers.Conv2D`, with the same defaults.

    Args:
        mask_init: initial value of every mask logit `s`. Defaults to `0.0`,
            the HDL paper's choice (gate `sigmoid(0) = 0.5`). Note the hard
            mask `1[s > 0]` prunes an entry whose logit never rose above 0.
        beta: initial temperature of the gate (the value of the `beta`
            weight at build time). Defaults to `1.0`, the start of a round.
        gate_scale: `c` in the gate `c * sigmoid(beta * s)`. Defaults to
            `1.0` (the papers' equations); `2.0` makes a fresh gate (`s = 0`)
            exactly 1, as in Bertsimas et al. (2023)'s code.
        granularity: `"weight"` (default): one gate per kernel entry, as in
            the papers; `"channel"`: one gate per output channel, shared by
            its entries, so that the sparsity is structured and
            `hdl_keras.pruning.shrink` removes the closed channels.
        **kwargs: base layer keyword arguments, such as `name` and `dtype`.

    Input shape:
        4D tensor `(batch_size, height, width, channels)` for
        `data_format="channels_last"`, or `(batch_size, channels, height,
        width)` for `"channels_first"`.

    Output shape:
        4D tensor `(batch_size, new_height, new_width, filters)` or
        `(batch_size, filters, new_height, new_width)`.

    Examples:
        >>> layer = MaskedConv2D(8, 3, mask_init=0.0)
        >>> tuple(layer(keras.ops.ones((1, 5, 5, 2))).shape)
        (1, 3, 3, 8)

    Reference:
        - [Savarese et al., Winning the Lottery with Continuous
          Sparsification, NeurIPS 2020](https://arxiv.org/abs/1912.04427)
        - [Bertsimas et al., Holistic Deep Learning, Machine Learning 113,
          2024](https://arxiv.org/abs/2110.15829)
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
        mask_init=0.0,
        beta=1.0,
        gate_scale=1.0,
        granularity="weight",
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
        self._init_mask(mask_init, beta, gate_scale, granularity)

    def build(self, input_shape):
        super().build(input_shape)
        self._build_mask()

    def get_config(self):
        return {**super().get_config(), **self._mask_config()}
