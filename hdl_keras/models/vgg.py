"""VGG-16 for 32x32 images (CIFAR-10/100)."""

import keras
from keras import layers

from hdl_keras.models._validation import check_image_shape
from hdl_keras.models._validation import check_positive_int

# Filters of the 13 convolutions, grouped in stages ended by 2x2 max-pooling.
_VGG16_STAGES = (
    (64, 64),
    (128, 128),
    (256, 256, 256),
    (512, 512, 512),
    (512, 512, 512),
)


def vgg16(
    input_shape=(32, 32, 3),
    num_classes=10,
    batch_norm=True,
    dense_units=512,
    name="vgg16",
):
    """Builds the CIFAR variant of VGG-16 (about 15 M parameters).

    The 13 convolutions of VGG-16 (Simonyan & Zisserman 2015, configuration
    D): 3x3 kernels, padding `"same"`, stages of 64, 64 | 128, 128 |
    256 x 3 | 512 x 3 | 512 x 3 filters, each stage ended by 2x2
    max-pooling, so 32x32 inputs end at 1x1x512. Each convolution is followed
    by batch normalization (when `batch_norm`) and a ReLU; convolutions have
    a bias only without batch normalization. As in common CIFAR VGG code, the
    three 4096-unit ImageNet Dense layers are replaced by a small classifier:
    Flatten, Dense(`dense_units`) + ReLU, Dense(`num_classes`), no dropout.

    Args:
        input_shape: channels-last image shape `(height, width, channels)`;
            height and width must be at least 32. Defaults to `(32, 32, 3)`.
        num_classes: number of output logits. Defaults to `10`.
        batch_norm: whether to add batch normalization after each
            convolution. Defaults to `True`.
        dense_units: width of the hidden Dense layer. Defaults to `512`.
        name: name of the model. Defaults to `"vgg16"`.

    Returns:
        A functional `keras.Model` mapping `(batch, height, width, channels)`
        images to `(batch, num_classes)` logits (no softmax).

    Examples:
        >>> model = vgg16(num_classes=100)
        >>> model.output_shape
        (None, 100)

    Reference:
        - [Simonyan & Zisserman, Very Deep Convolutional Networks for
          Large-Scale Image Recognition, ICLR 2015](
          https://arxiv.org/abs/1409.1556)
    """
    input_shape = check_image_shape(input_shape, min_size=2 ** len(_VGG16_STAGES))
    num_classes = check_positive_int(num_classes, "num_classes")
    dense_units = check_positive_int(dense_units, "dense_units")
    if not isinstance(batch_norm, bool):
        raise ValueError(f"Expected `batch_norm` to be a bool. Received: batch_norm={batch_norm!r}")

    inputs = keras.Input(shape=input_shape, name="inputs")
    x = inputs
    for stage, stage_filters in enumerate(_VGG16_STAGES, start=1):
        for index, filters in enumerate(stage_filters, start=1):
            prefix = f"block{stage}_conv{index}"
            x = layers.Conv2D(filters, 3, padding="same", use_bias=not batch_norm, name=prefix)(x)
            if batch_norm:
                x = layers.BatchNormalization(name=f"{prefix}_bn")(x)
            x = layers.Activation("relu", name=f"{prefix}_relu")(x)
        x = layers.MaxPooling2D(2, name=f"block{stage}_pool")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(dense_units, activation="relu", name="fc1")(x)
    outputs = layers.Dense(num_classes, name="logits")(x)
    return keras.Model(inputs, outputs, name=name)
