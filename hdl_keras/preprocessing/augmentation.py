"""Data augmentation of the recipes: random crop of the zero-padded image, horizontal flip."""

import math

import keras
import numpy as np
from keras import ops


def augmentation(input_shape, padding=4, flip=True, seed=None, name="augmentation"):
    """Random crop after zero padding, and optionally a random horizontal flip.

    The standard CIFAR augmentation of the papers' training code: pad each
    image with `padding` zero pixels on every side, crop a random
    `height x width` window, and flip left-right with probability 1/2
    (`flip=False` for MNIST and Fashion-MNIST, whose flipped digits and
    garments are not samples of the data). Padding then cropping is a random
    shift by up to `padding` pixels with zeros filled in, which is what
    `keras.layers.RandomTranslation(padding / height, padding / width,
    fill_mode="constant", interpolation="nearest")` draws, per image.
    (`ZeroPadding2D` followed by `keras.layers.RandomCrop` would crop every
    image of a batch at the same place: one random shift per batch.) Built
    from Keras preprocessing layers, it runs on every backend; values stay in
    the input's range (zeros are filled in, pixels are moved, none is
    interpolated).

    With `training=False` it is the identity.

    Args:
        input_shape: `(height, width, channels)` of the images.
        padding: largest shift in pixels (zero padding of the crop), `>= 0`
            and smaller than the image, default 4.
        flip: add `RandomFlip("horizontal")`, default True.
        seed: int seed of the random shifts and flips, default None.
        name: name of the model, default `"augmentation"`.

    Returns:
        A `keras.Sequential` mapping `(batch, height, width, channels)` to
        the same shape; call it with `training=True` to augment.

    Examples:
        >>> augment = augmentation((32, 32, 3), seed=0)
        >>> augment(x_batch, training=True).shape
        (128, 32, 32, 3)
    """
    height, width, channels = _image_shape(input_shape)
    if isinstance(padding, bool) or not isinstance(padding, int) or not 0 <= padding < min(height, width):
        raise ValueError(f"padding must be an int in [0, {min(height, width)}). Received: padding={padding!r}")
    stages = [keras.Input((height, width, channels))]
    if padding:
        stages.append(
            keras.layers.RandomTranslation(
                padding / height,
                padding / width,
                fill_mode="constant",
                interpolation="nearest",
                fill_value=0.0,
                seed=seed,
            )
        )
    if flip:
        stages.append(keras.layers.RandomFlip("horizontal", seed=None if seed is None else seed + 1))
    return keras.Sequential(stages, name=name)


class AugmentedBatches(keras.utils.PyDataset):
    """Shuffled training batches `(x, y)` augmented by a Keras model, for `model.fit`.

    The augmentation runs in the data pipeline, on each batch before the
    train step, not inside the trained model: an adversarial objective then
    attacks the augmented image, as the papers' code does (augment, then run
    PGD on the result). Inside the model the attack would see the clean image
    and the crop would move its perturbation. A `keras.utils.PyDataset` works
    on all backends without `tf.data`.

    Args:
        x: float array `(N, height, width, channels)`.
        y: int array `(N,)`.
        batch_size: batch size, default 128.
        augment: callable `(x_batch, training=True) -> x_batch`, e.g.
            `augmentation(...)`; None gives the plain shuffled batches.
        shuffle: reshuffle the examples every epoch, default True.
        seed: int seed of the shuffling, default None. With a seed, the
            order of epoch `e` depends on `(seed, e)` only, so a run resumed
            at `initial_epoch` sees the batches of an uninterrupted one.
        initial_epoch: the (0-based) epoch the first pass belongs to,
            default 0 (a resumed run passes the epoch it restarts at).
        **kwargs: those of `keras.utils.PyDataset` (`workers`, ...).

    Examples:
        >>> batches = AugmentedBatches(x_train, y_train, 128, augmentation((32, 32, 3)))
        >>> model.fit(batches, epochs=200)  # doctest: +SKIP
    """

    def __init__(self, x, y, batch_size=128, augment=None, shuffle=True, seed=None, initial_epoch=0, **kwargs):
        super().__init__(**kwargs)
        self.x = np.asarray(x, dtype="float32")
        self.y = np.asarray(y)
        if len(self.x) != len(self.y) or not len(self.x):
            raise ValueError(
                "x and y must hold the same, non-zero number of examples. Received: "
                f"x.shape={self.x.shape}, y.shape={self.y.shape}"
            )
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be an int >= 1. Received: batch_size={batch_size!r}")
        self.batch_size = batch_size
        self.augment = augment
        self.shuffle = shuffle
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.epoch = int(initial_epoch)
        self.order = self._epoch_order()

    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, index):
        rows = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        x, y = self.x[rows], self.y[rows]
        if self.augment is not None:
            x = ops.convert_to_numpy(self.augment(x, training=True))
        return x, y

    def on_epoch_end(self):
        self.epoch += 1
        self.order = self._epoch_order()

    def _epoch_order(self):
        """The example order of `self.epoch`: from `(seed, epoch)` when seeded."""
        if not self.shuffle:
            return np.arange(len(self.x))
        if self.seed is None:
            return self.rng.permutation(len(self.x))
        return np.random.default_rng([self.seed, self.epoch]).permutation(len(self.x))


def _image_shape(input_shape):
    shape = tuple(input_shape)
    if len(shape) != 3 or not all(isinstance(s, int) and s > 0 for s in shape):
        raise ValueError(
            f"input_shape must be (height, width, channels) of positive ints. Received: input_shape={input_shape!r}"
        )
    return shape
