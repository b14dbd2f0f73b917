"""The report's three-letter preprocessing configurations and their training batches."""

import dataclasses
import itertools

import keras

from hdl_keras.preprocessing.balancing import balance_classes
from hdl_keras.preprocessing.augmentation import AugmentedBatches
from hdl_keras.preprocessing.augmentation import augmentation

# Standard deviation of the training noise (the report does not give it): 0.1 on
# [0, 1] pixels, 1.6 times the MNIST threat radius 16/255, a third of MNIST's pixel
# standard deviation (about 0.31), so digits stay legible.
NOISE_STDDEV = 0.1


@dataclasses.dataclass(frozen=True)
class Preprocessing:
    """A preprocessing configuration: balancing, augmentation, Gaussian noise.

    Attributes:
        balance: add shifted and rescaled copies of the smaller classes
            (`balance_classes`).
        augment: per-image random crop (and horizontal flip when the data
            allow it).
        noise: add Gaussian noise to the training images.
    """

    balance: bool
    augment: bool
    noise: bool

    @classmethod
    def from_code(cls, code):
        """The configuration named by the report's letters, e.g. `"TTF"`."""
        if not isinstance(code, str) or len(code) != 3 or set(code) - {"T", "F"}:
            raise ValueError(
                "A preprocessing code is three letters T or F (balancing, augmentation, "
                f"noise), e.g. 'FFF' or 'TTF'. Received: code={code!r}"
            )
        return cls(*(letter == "T" for letter in code))

    @property
    def code(self):
        """The three letters, e.g. `"TFT"`."""
        return "".join("T" if flag else "F" for flag in (self.balance, self.augment, self.noise))


def all_codes():
    """The eight codes in the report's table order: FFF, FFT, FTF, ..., TTT."""
    return ["".join(letters) for letters in itertools.product("FT", repeat=3)]


def training_pipeline(
    input_shape,
    augment=True,
    noise=True,
    padding=2,
    flip=False,
    noise_stddev=NOISE_STDDEV,
    seed=None,
):
    """The per-batch training transforms of a configuration, as a `keras.Sequential`.

    Augmentation is a random crop of the zero-padded image, drawn per image
    (`keras.layers.RandomTranslation` by up to `padding` pixels, nearest
    neighbour, zero fill: a `ZeroPadding2D` + `RandomCrop` would crop a whole
    batch at one place), then, with `flip`, `keras.layers.RandomFlip
    ("horizontal")`; noise is `keras.layers.GaussianNoise(noise_stddev)`
    added after the augmentation, `x + N(0, noise_stddev^2)` per pixel, not
    clipped. With `training=False` every stage is the identity.

    Args:
        input_shape: `(height, width, channels)`.
        augment: add the crop (and flip), default True.
        noise: add the Gaussian noise, default True.
        padding: largest shift of the crop in pixels, default 2 (of 28).
        flip: random horizontal flip; False for digits, whose mirror images
            are not digits. Default False.
        noise_stddev: standard deviation of the noise, default `NOISE_STDDEV`.
        seed: int seed, default None.

    Returns:
        A `keras.Sequential` `(batch, *input_shape) -> (batch, *input_shape)`;
        call it with `training=True`.
    """
    if noise_stddev <= 0:
        raise ValueError(f"noise_stddev must be > 0. Received: noise_stddev={noise_stddev!r}")
    stages = [keras.Input(tuple(input_shape))]
    if augment:
        stages.append(augmentation(input_shape, padding=padding, flip=flip, seed=seed))
    if noise:
        stages.append(keras.layers.GaussianNoise(noise_stddev, seed=None if seed is None else seed + 2))
    return keras.Sequential(stages, name="training_pipeline")


def preprocessed_batches(
    code,
    x,
    y,
    batch_size=128,
    flip=False,
    padding=2,
    noise_stddev=NOISE_STDDEV,
    seed=None,
):
    """Training batches of configuration `code` for `model.fit`.

    Balancing runs once (the copies are part of the epoch); the crop, flip
    and noise are drawn anew for every batch, in the data pipeline (an
    adversarial objective then attacks the transformed image).

    Args:
        code: the report's letters, e.g. `"TTF"`, or a `Preprocessing`.
        x: float array `(N, height, width, channels)` in [0, 1].
        y: int array `(N,)`.
        batch_size: default 128.
        flip: random horizontal flip (see `training_pipeline`), default False.
        padding: largest crop shift in pixels, default 2.
        noise_stddev: noise standard deviation, default `NOISE_STDDEV`.
        seed: int seed of balancing, transforms and shuffling, default None.

    Returns:
        A `hdl_keras.recipes.AugmentedBatches` (a `keras.utils.PyDataset`)
        of shuffled `(x_batch, y_batch)`.

    Examples:
        >>> batches = preprocessed_batches("TTF", x_train, y_train, seed=0)
        >>> model.fit(batches, epochs=10)  # doctest: +SKIP
    """
    config = code if isinstance(code, Preprocessing) else Preprocessing.from_code(code)
    if config.balance:
        x, y = balance_classes(x, y, seed=seed)
    transform = None
    if config.augment or config.noise:
        transform = training_pipeline(
            x.shape[1:],
            augment=config.augment,
            noise=config.noise,
            padding=padding,
            flip=flip,
            noise_stddev=noise_stddev,
            seed=seed,
        )
    return AugmentedBatches(x, y, batch_size, augment=transform, seed=seed)
