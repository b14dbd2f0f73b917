"""AlexNet adapted to small (28x28 and 32x32) images."""

import numbers

import keras
from keras import layers

from hdl_keras.models._validation import check_image_shape
from hdl_keras.models._validation import check_int_tuple
from hdl_keras.models._validation import check_positive_int

# (filters at width 1, kernel size, max-pooling after the convolution).
_CONV_LAYERS = (
    (64, 5, True),
    (192, 5, True),
    (384, 3, False),
    (256, 3, False),
    (256, 3, True),
)


def alexnet(
    input_shape=(32, 32, 3),
    num_classes=10,
    width=1.0,
    dense_units=(512, 512),
    name="alexnet",
):
    """Builds AlexNet adapted to small images (CIFAR-10, MNIST, Fashion-MNIST).

    The Holistic Deep Learning paper trains an "AlexNet architecture
    (Krizhevsky et al. 2012)" on MNIST, Fashion-MNIST and CIFAR-10 without
    giving the details. This builder uses the usual small-image adaptation
    (an adaptation, not the ImageNet network):

    - five convolutions with 64, 192, 384, 256 and 256 filters (times
      `width`), kernels 5x5, 5x5, 3x3, 3x3, 3x3, stride 1, padding `"same"`,
      each followed by a ReLU; the ImageNet 11x11 stride-4 first layer is
      replaced by a 5x5 stride-1 one;
    - 2x2 max-pooling (stride 2) after the first, second and fifth
      convolutions, so 32x32 inputs end at 4x4x256 and 28x28 at 3x3x256;
    - no local response normalization, no batch normalization and no
      dropout (the forward pass is deterministic, as the input-gradient
      losses and attacks of this library expect);
    - a classifier of three Dense layers: `dense_units` ReLU layers (512 and
      512 by default instead of ImageNet's 4096 and 4096, which would not
      fit a CPU budget) and a final layer of `num_classes` logits.

    With the defaults the model has about 4.8 M parameters on 32x32x3 inputs.

    Args:
        input_shape: channels-last image shape `(height, width, channels)`;
            height and width must be at least 8. Defaults to `(32, 32, 3)`.
        num_classes: number of output logits. Defaults to `10`.
        width: multiplier of the number of convolution filters (each layer
            keeps at least one filter). Defaults to `1.0`.
        dense_units: widths of the hidden Dense layers. Defaults to
            `(512, 512)`.
        name: name of the model. Defaults to `"alexnet"`.

    Returns:
        A functional `keras.Model` mapping `(batch, height, width, channels)`
        images to `(batch, num_classes)` logits (no softmax).

    Examples:
        >>> model = alexnet(input_shape=(28, 28, 1), width=0.5)
        >>> model.output_shape
        (None, 10)

    Reference:
        - [Krizhevsky et al., ImageNet Classification with Deep Convolutional
          Neural Networks, NeurIPS 2012](
          https://papers.nips.cc/paper/4824-imagenet-classification-with-deep-convolutional-neural-networks)
        - [Bertsimas et al., Holistic Deep Learning, Machine Learning 113,
          2024](https://arxiv.org/abs/2110.15829)
    """
    num_pools = sum(pool for _, _, pool in _CONV_LAYERS)
    input_shape = check_image_shape(input_shape, min_size=2**num_pools)
    num_classes = check_positive_int(num_classes, "num_classes")
    if isinstance(width, bool) or not isinstance(width, numbers.Real) or width <= 0:
        raise ValueError(f"Expected `width` to be a positive number. Received: width={width!r}")
    dense_units = check_int_tuple(dense_units, "dense_units", allow_empty=True)

    inputs = keras.Input(shape=input_shape, name="inputs")
    x = inputs
    for index, (filters, kernel_size, pool) in enumerate(_CONV_LAYERS, start=1):
        x = layers.Conv2D(
            max(1, round(filters * width)),
            kernel_size,
            padding="same",
            activation="relu",
            name=f"conv{index}",
        )(x)
        if pool:
            x = layers.MaxPooling2D(2, name=f"pool{index}")(x)
    x = layers.Flatten(name="flatten")(x)
    for index, units in enumerate(dense_units, start=1):
        x = layers.Dense(units, activation="relu", name=f"fc{index}")(x)
    outputs = layers.Dense(num_classes, name="logits")(x)
    return keras.Model(inputs, outputs, name=name)
