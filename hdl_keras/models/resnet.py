"""CIFAR ResNets of He et al. (2016): depth 6n + 2, parameter-free shortcuts."""

import numbers

import keras
from keras import layers
from keras import ops

from hdl_keras.models._validation import check_image_shape
from hdl_keras.models._validation import check_positive_int

_STAGE_FILTERS = (16, 32, 64)


@keras.saving.register_keras_serializable(package="hdl_keras")
class ZeroPadChannels(layers.Layer):
    """Pads the last (channels) axis of its input with zeros.

    Together with a strided subsampling it gives the parameter-free identity
    shortcut ("option A") of the CIFAR ResNets of He et al. (2016).

    Args:
        padding: number of zero channels added, an int `p` (`p` before and
            `p` after the existing channels) or a tuple `(before, after)`.
        **kwargs: base layer keyword arguments, such as `name`.

    Examples:
        >>> layer = ZeroPadChannels((8, 8))
        >>> layer.compute_output_shape((2, 4, 4, 16))
        (2, 4, 4, 32)
    """

    def __init__(self, padding, **kwargs):
        super().__init__(**kwargs)
        if isinstance(padding, numbers.Integral):
            padding = (padding, padding)
        if (
            not isinstance(padding, (list, tuple))
            or len(padding) != 2
            or any(isinstance(p, bool) or not isinstance(p, numbers.Integral) or p < 0 for p in padding)
        ):
            raise ValueError(
                "Expected `padding` to be a non-negative integer or a tuple "
                f"(before, after) of them. Received: padding={padding!r}"
            )
        self.padding = (int(padding[0]), int(padding[1]))

    def call(self, inputs):
        pad_width = [[0, 0]] * (len(inputs.shape) - 1) + [list(self.padding)]
        return ops.pad(inputs, pad_width)

    def compute_output_shape(self, input_shape):
        channels = input_shape[-1]
        if channels is not None:
            channels += sum(self.padding)
        return (*input_shape[:-1], channels)

    def get_config(self):
        config = super().get_config()
        config["padding"] = self.padding
        return config


def identity_shortcut(x, filters, stride, name):
    """Parameter-free shortcut ("option A") of a CIFAR ResNet block.

    Subsamples `x` spatially by `stride` (keeps every `stride`-th pixel) and
    pads its channels with zeros, half before and half after, up to
    `filters`. Returns `x` unchanged when neither is needed.

    Args:
        x: channels-last feature map.
        filters: channels of the output, at least those of `x`.
        stride: spatial subsampling factor.
        name: prefix of the names of the layers added.

    Returns:
        The shortcut tensor, `filters` channels.
    """
    channels = x.shape[-1]
    if filters < channels:
        raise ValueError(
            f"The identity shortcut can only add channels: expected `filters` of "
            f"at least {channels} (the input's). Received: filters={filters}"
        )
    if stride != 1:
        x = layers.MaxPooling2D(pool_size=1, strides=stride, name=f"{name}_subsample")(x)
    if filters != channels:
        before = (filters - channels) // 2
        x = ZeroPadChannels((before, filters - channels - before), name=f"{name}_pad")(x)
    return x


def basic_block(x, filters, stride, name, noise=None):
    """Basic residual block: two 3x3 convolutions and an identity shortcut.

    conv3x3(stride) - BN - ReLU - conv3x3 - BN, added to
    `identity_shortcut(x, filters, stride)`, then ReLU (He et al. 2016).
    Convolutions have no bias and He-normal initialization.

    With `noise`, a noise layer acts on the sum `shortcut + F(x)` before the
    final ReLU: for additive noise `n`, `shortcut + (F(x) + n)`, the noise
    injected into the residual mapping of the EnResNets (see
    `hdl_keras.layers.ResidualNoise`).

    Args:
        x: channels-last feature map.
        filters: channels of the block's convolutions and output.
        stride: stride of the first convolution (2 at the start of a stage).
        name: prefix of the names of the block's layers; unique in a model.
        noise: `None` (default, no noise) or a callable `noise(name=...)`
            that returns a new layer, e.g.
            `functools.partial(hdl_keras.layers.ResidualNoise, 0.1)`; it is
            called once, with `name=f"{name}_noise"`.

    Returns:
        The block's output tensor.
    """
    filters = check_positive_int(filters, "filters")
    stride = check_positive_int(stride, "stride")
    shortcut = identity_shortcut(x, filters, stride, name=f"{name}_shortcut")
    y = _conv3x3(filters, stride, name=f"{name}_conv1")(x)
    y = layers.BatchNormalization(name=f"{name}_bn1")(y)
    y = layers.Activation("relu", name=f"{name}_relu1")(y)
    y = _conv3x3(filters, 1, name=f"{name}_conv2")(y)
    y = layers.BatchNormalization(name=f"{name}_bn2")(y)
    y = layers.Add(name=f"{name}_add")([shortcut, y])
    if noise is not None:
        y = noise(name=f"{name}_noise")(y)
    return layers.Activation("relu", name=f"{name}_out")(y)


def _conv3x3(filters, stride, name):
    return layers.Conv2D(
        filters,
        3,
        strides=stride,
        padding="same",
        use_bias=False,
        kernel_initializer="he_normal",
        name=name,
    )


def resnet(depth, input_shape=(32, 32, 3), num_classes=10, name=None):
    """Builds a CIFAR ResNet of He et al. (2016) with `depth = 6n + 2` layers.

    A 3x3 convolution with 16 filters, then three stages of `n` basic blocks
    (`basic_block`) with 16, 32 and 64 filters, the first block of the second
    and third stages having stride 2; batch normalization and ReLU after
    each convolution, global average pooling and a Dense layer of logits.

    Shortcuts are parameter-free identities ("option A" of the paper): where
    a block changes shape, its input is subsampled with stride 2 and its
    channels padded with zeros (`identity_shortcut`, `ZeroPadChannels`), as in
    the paper's CIFAR experiments and the reference PyTorch code. The
    trainable parameters are then 0.27 M (ResNet-20), 0.46 M (32), 0.66 M
    (44), 0.85 M (56) and 1.7 M (110), as in the paper's Table 6.

    Args:
        depth: number of weighted layers, `6n + 2` for an integer `n >= 1`
            (20, 32, 44, 56, 110, 1202, ...).
        input_shape: channels-last image shape `(height, width, channels)`.
            Defaults to `(32, 32, 3)`.
        num_classes: number of output logits. Defaults to `10`.
        name: name of the model. Defaults to `"resnet{depth}"`.

    Returns:
        A functional `keras.Model` mapping `(batch, height, width, channels)`
        images to `(batch, num_classes)` logits (no softmax).

    Examples:
        >>> model = resnet(20)
        >>> model.output_shape
        (None, 10)

    Reference:
        - [He et al., Deep Residual Learning for Image Recognition, CVPR
          2016](https://arxiv.org/abs/1512.03385), section 4.2.
    """
    depth = check_resnet_depth(depth)
    input_shape = check_image_shape(input_shape)
    num_classes = check_positive_int(num_classes, "num_classes")
    inputs = keras.Input(shape=input_shape, name="inputs")
    outputs = resnet_logits(inputs, depth, num_classes)
    return keras.Model(inputs, outputs, name=name or f"resnet{depth}")


def resnet_logits(inputs, depth, num_classes=10, noise=None, prefix=""):
    """Applies the layers of `resnet(depth)` to a tensor and returns its logits.

    The building block of `resnet` and of the ensembles of
    `hdl_keras.models.en_resnet`: several calls on the same input, with
    different `prefix`es, give independent networks in one functional model.

    Args:
        inputs: channels-last image tensor, e.g. a `keras.Input`.
        depth: number of weighted layers, `6n + 2` for an integer `n >= 1`.
        num_classes: number of output logits. Defaults to `10`.
        noise: `None` (default) or a callable `noise(name=...)` returning a
            new noise layer, passed to every `basic_block`.
        prefix: prefix of the names of all the layers added. Defaults to `""`
            (the layer names of `resnet`).

    Returns:
        The `(batch, num_classes)` logits tensor.

    Examples:
        >>> inputs = keras.Input((32, 32, 3))
        >>> logits = resnet_logits(inputs, 20, prefix="member1_")
        >>> logits.shape
        (None, 10)
    """
    depth = check_resnet_depth(depth)
    num_classes = check_positive_int(num_classes, "num_classes")
    blocks_per_stage = (depth - 2) // 6
    x = _conv3x3(_STAGE_FILTERS[0], 1, name=f"{prefix}stem_conv")(inputs)
    x = layers.BatchNormalization(name=f"{prefix}stem_bn")(x)
    x = layers.Activation("relu", name=f"{prefix}stem_relu")(x)
    for stage, filters in enumerate(_STAGE_FILTERS):
        for block in range(blocks_per_stage):
            stride = 2 if stage > 0 and block == 0 else 1
            x = basic_block(
                x,
                filters,
                stride,
                name=f"{prefix}stage{stage + 1}_block{block + 1}",
                noise=noise,
            )
    x = layers.GlobalAveragePooling2D(name=f"{prefix}avg_pool")(x)
    return layers.Dense(num_classes, name=f"{prefix}logits")(x)


def check_resnet_depth(depth):
    """Returns `depth` as an int, or raises unless it is `6n + 2` with `n >= 1`."""
    depth = check_positive_int(depth, "depth")
    if depth < 8 or (depth - 2) % 6:
        raise ValueError(
            f"Expected `depth` of the form 6n + 2 with n >= 1 (20, 32, 44, 56, 110, ...). Received: depth={depth}"
        )
    return depth


def resnet20(**kwargs):
    """ResNet-20 (0.27 M parameters); see `resnet` for the arguments."""
    return resnet(20, **kwargs)


def resnet32(**kwargs):
    """ResNet-32 (0.46 M parameters); see `resnet` for the arguments."""
    return resnet(32, **kwargs)


def resnet44(**kwargs):
    """ResNet-44 (0.66 M parameters); see `resnet` for the arguments."""
    return resnet(44, **kwargs)


def resnet56(**kwargs):
    """ResNet-56 (0.85 M parameters); see `resnet` for the arguments."""
    return resnet(56, **kwargs)


def resnet110(**kwargs):
    """ResNet-110 (1.7 M parameters); see `resnet` for the arguments."""
    return resnet(110, **kwargs)
