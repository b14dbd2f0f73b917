"""`MaskedDense`: a Dense layer whose kernel is gated by a learned sparsity mask."""

import keras

from hdl_keras.layers.masking import MaskedKernelMixin


@keras.saving.register_keras_serializable(package="hdl_keras")
class MaskedDense(MaskedKernelMixin, keras.layers.Dense):
    """Densely-connected layer with continuous sparsification of its kernel.

    Computes `activation(dot(inputs, W * sigmoid(beta * s)) + bias)`: the
    kernel `W` is gated entry-wise by a trainable mask logit `s` of the same
    shape, as in Savarese et al. (2020) and the sparse variants of Holistic
    Deep Learning (eq. 4 and 9 of Bertsimas et al.). Only the kernel is
    masked; the bias is not. Add `lambda * layer.sparsity_penalty()` to the
    loss and anneal `layer.beta` (a non-trainable weight) from 1 to a large
    `beta_bar` during a training round; the final sparse kernel is
    `layer.pruned_kernel()` (`W * 1[s > 0]`), and
    `hdl_keras.layers.export_pruned(model)` turns a model into plain `Dense`
    layers carrying it.

    `layer.kernel` is the gated kernel (a tensor, as with Keras' LoRA);
    `layer.unmasked_kernel` is the variable `W`. LoRA and quantization are
    not supported (`enable_lora()`/`quantize()` raise `NotImplementedError`).

    `activation`, `use_bias`, `kernel_initializer`, `bias_initializer`,
    `kernel_regularizer`, `bias_regularizer`, `activity_regularizer`,
    `kernel_constraint`, `bias_constraint` and `quantization_config` are the
    arguments of `keras.layers.Dense`, with the same defaults; `lora_rank` and
    `lora_alpha` are kept for signature compatibility (`lora_rank` must stay
    `None`).

    Args:
        units: positive integer, dimensionality of the output space.
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
        N-D tensor with shape `(batch_size, ..., input_dim)`.

    Output shape:
        N-D tensor with shape `(batch_size, ..., units)`.

    Examples:
        >>> layer = MaskedDense(4, mask_init=0.0, beta=1.0)
        >>> y = layer(keras.ops.ones((2, 3)))
        >>> float(layer.sparsity_penalty())  # 12 gates of sigmoid(0) = 0.5
        6.0

    Reference:
        - [Savarese et al., Winning the Lottery with Continuous
          Sparsification, NeurIPS 2020](https://arxiv.org/abs/1912.04427)
        - [Bertsimas et al., Holistic Deep Learning, Machine Learning 113,
          2024](https://arxiv.org/abs/2110.15829)
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
        mask_init=0.0,
        beta=1.0,
        gate_scale=1.0,
        granularity="weight",
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
        self._init_mask(mask_init, beta, gate_scale, granularity)

    def build(self, input_shape):
        super().build(input_shape)
        self._build_mask()

    def get_config(self):
        return {**super().get_config(), **self._mask_config()}
