"""Small convolutional network for MNIST and CIFAR-10 robustness experiments."""

import keras
from keras import layers

from hdl_keras.models._validation import check_image_shape
from hdl_keras.models._validation import check_int_tuple
from hdl_keras.models._validation import check_positive_int


def small_cnn(
    input_shape=(28, 28, 1),
    num_classes=10,
    filters=(32, 64, 128),
    dense_units=128,
    name="small_cnn",
):
    """Builds the small CNN used for PGD adversarial training on MNIST/CIFAR-10.

    Each entry of `filters` gives a 3x3 convolution (padding `"same"`) with a
    ReLU, followed by 2x2 max-pooling; then a hidden Dense layer of
    `dense_units` ReLU units and a Dense layer of `num_classes` logits. With
    the defaults: conv 32 - pool - conv 64 - pool - conv 128 - pool -
    Dense 128 - Dense 10, i.e. 3x3x128 features before the dense layers on
    28x28 inputs and 4x4x128 on 32x32 inputs.

    Args:
        input_shape: channels-last image shape `(height, width, channels)`;
            height and width must be at least `2 ** len(filters)`. Defaults
            to `(28, 28, 1)` (MNIST); use `(32, 32, 3)` for CIFAR-10.
        num_classes: number of output logits. Defaults to `10`.
        filters: number of filters of each convolution. Defaults to
            `(32, 64, 128)`.
        dense_units: width of the hidden Dense layer. Defaults to `128`.
        name: name of the model. Defaults to `"small_cnn"`.

    Returns:
        A functional `keras.Model` mapping `(batch, height, width, channels)`
        images to `(batch, num_classes)` logits (no softmax).

    Examples:
        >>> model = small_cnn(input_shape=(32, 32, 3))
        >>> model.output_shape
        (None, 10)

    Reference:
        - Investigating the Effects of Training Techniques on Classification
          Robustness (report; small CNN trained with PGD adversarial training
          on MNIST and CIFAR-10).
    """
    filters = check_int_tuple(filters, "filters")
    input_shape = check_image_shape(input_shape, min_size=2 ** len(filters))
    num_classes = check_positive_int(num_classes, "num_classes")
    dense_units = check_positive_int(dense_units, "dense_units")

    inputs = keras.Input(shape=input_shape, name="inputs")
    x = inputs
    for index, num_filters in enumerate(filters, start=1):
        x = layers.Conv2D(num_filters, 3, padding="same", activation="relu", name=f"conv{index}")(x)
        x = layers.MaxPooling2D(2, name=f"pool{index}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(dense_units, activation="relu", name="fc1")(x)
    outputs = layers.Dense(num_classes, name="logits")(x)
    return keras.Model(inputs, outputs, name=name)


def tiny_cnn(input_shape=(28, 28, 1), num_classes=10, name="tiny_cnn"):
    """The small CNN at a quarter of its parameters: `small_cnn(filters=(16, 32, 64), dense_units=64)`.

    conv 16 - pool - conv 32 - pool - conv 64 - pool - Dense 64 - Dense 10:
    60,874 parameters on 28x28x1 inputs (the small CNN: 241,546), which at
    1 bit per kernel weight pack into about 10 KB (`export_packed`), the
    size class of deployable MNIST models.

    Args:
        input_shape: channels-last image shape, at least 8x8. Defaults to
            `(28, 28, 1)`.
        num_classes: number of output logits. Defaults to `10`.
        name: name of the model. Defaults to `"tiny_cnn"`.

    Returns:
        A functional `keras.Model` mapping images to `(batch, num_classes)` logits.

    Examples:
        >>> tiny_cnn().count_params()
        60874
    """
    return small_cnn(input_shape, num_classes, filters=(16, 32, 64), dense_units=64, name=name)
