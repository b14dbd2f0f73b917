"""`ConstantChannelsBias`: what constant input channels removed by `shrink` gave a convolution."""

import numbers

import keras
from keras import ops


def _pair(value, name):
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value, value)
    if (
        not isinstance(value, (list, tuple))
        or len(value) != 2
        or any(isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1 for v in value)
    ):
        raise ValueError(f"Expected `{name}` to be a positive integer or a pair of them. Received: {name}={value!r}")
    return (int(value[0]), int(value[1]))


@keras.saving.register_keras_serializable(package="hdl_keras")
class ConstantChannelsBias(keras.layers.Layer):
    """Adds the response of a "same"-padded convolution to constant channels.

    When `hdl_keras.pruning.shrink` removes input channels `k` that are
    constant, `x_k = c_k` everywhere (a zero filter followed by a bias, batch
    normalization or an activation), from a `Conv2D` with zero padding, their
    contribution `sum_k conv(c_k * 1, W_k)` is `sum_k c_k * sum(W_k)` inside
    the image but misses the padded taps at its border, so it is no bias. The
    layer keeps it exactly: with the kernel

        V[i, j, o] = sum_k c_k * W[i, j, k, o]        (kh, kw, filters)

    it returns `activation(inputs + conv(ones(1, H, W, 1), V))`, the
    convolution (strides, padding and dilation of the pruned one) of a
    one-channel image of ones of the pruned layer's input size `(H, W)`. That
    map is computed once per call, not per example; `V` is a trainable weight
    (it acts as a position-aware bias).

    Args:
        input_size: `(height, width)` of the pruned convolution's input.
        kernel_size: kernel size of the pruned convolution, an int or a pair.
        strides: its strides, an int or a pair. Defaults to `1`.
        padding: its padding, `"same"` or `"valid"`. Defaults to `"same"`.
        dilation_rate: its dilation rate, an int or a pair. Defaults to `1`.
        activation: activation applied after the addition (the pruned
            convolution's own, moved here). Defaults to `None`.
        **kwargs: base layer keyword arguments, such as `name`.

    Input shape:
        `(batch, out_height, out_width, filters)`, the convolution's output.

    Output shape:
        Same as the input.

    Examples:
        >>> layer = ConstantChannelsBias((3, 3), 3)  # 3x3 "same" conv on 3x3 images
        >>> layer.build((None, 3, 3, 1))
        >>> layer.set_weights([np.ones((3, 3, 1))])  # taps inside the image
        >>> keras.ops.convert_to_numpy(layer(np.zeros((1, 3, 3, 1))))[0, :, :, 0]
        array([[4., 6., 4.],
               [6., 9., 6.],
               [4., 6., 4.]], dtype=float32)
    """

    def __init__(
        self,
        input_size,
        kernel_size,
        strides=1,
        padding="same",
        dilation_rate=1,
        activation=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.input_size = _pair(input_size, "input_size")
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.strides = _pair(strides, "strides")
        self.dilation_rate = _pair(dilation_rate, "dilation_rate")
        if padding not in ("same", "valid"):
            raise ValueError(f"Expected `padding` to be 'same' or 'valid'. Received: padding={padding!r}")
        self.padding = padding
        self.activation = keras.activations.get(activation)

    def build(self, input_shape):
        if len(input_shape) != 4 or input_shape[-1] is None:
            raise ValueError(
                "ConstantChannelsBias takes a 4D channels-last convolution output "
                f"with a known number of channels. Received: input_shape={input_shape}"
            )
        self.kernel = self.add_weight(
            name="kernel",
            shape=(*self.kernel_size, input_shape[-1]),
            initializer="zeros",
        )

    def call(self, inputs):
        ones = ops.ones((1, *self.input_size, 1), dtype=self.compute_dtype)
        response = ops.conv(
            ones,
            ops.expand_dims(ops.cast(self.kernel, self.compute_dtype), 2),
            strides=self.strides,
            padding=self.padding,
            data_format="channels_last",
            dilation_rate=self.dilation_rate,
        )
        return self.activation(inputs + response)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "input_size": self.input_size,
                "kernel_size": self.kernel_size,
                "strides": self.strides,
                "padding": self.padding,
                "dilation_rate": self.dilation_rate,
                "activation": keras.activations.serialize(self.activation),
            }
        )
        return config
