"""Gaussian noise injected into residual mappings (EnResNet, Wang et al. 2019)."""

import math
import numbers

import keras
from keras import ops


def check_stddev(value, name):
    """Raises a ValueError unless `value` is a finite real number >= 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value < 0:
        raise ValueError(f"Expected `{name}` to be a finite number >= 0. Received: {name}={value!r}")


@keras.saving.register_keras_serializable(package="hdl_keras")
class ResidualNoise(keras.layers.Layer):
    """Adds seeded Gaussian noise to a residual block's `shortcut + F(x)`.

    The first step of the Feynman-Kac construction of the EnResNets (Wang,
    Yuan, Shi and Osher 2019; Dinh et al., section 2): "modify ResNet by
    injecting Gaussian noise to each residual mapping". A residual block
    `x + F(x)` becomes the Euler-Maruyama step of a diffusion,

        x + F(x) + sigma * eps,    eps ~ N(0, I),

    i.e. `F(x)` receives additive noise before the addition. The layer acts
    on the sum `h = shortcut + F(x)` (in `basic_block`, between the addition
    and the final ReLU), which is the same for additive noise and lets the
    scale follow the authors' code (`out + noise_coef * std(out) * randn`,
    noise coefficient 0.1):

    - `relative=True` (default): `sigma = stddev * std(h)`, the standard
      deviation of all the entries of `h` (batch included, as in the
      reference code; the gradient flows through it), computed as
      `sqrt(var(h) + keras.config.epsilon())` so that a constant `h` has a
      finite gradient;
    - `relative=False`: `sigma = stddev`, noise `N(0, stddev^2)`.

    As in the paper, the noise stays on at inference (`always_on=True`): the
    network is randomized, two forward passes differ, and its outputs average
    over the noise only through the ensemble (`Ensemble`). Attack such models
    with expectation over transformation (`hdl_keras.attacks.EoT`).
    `always_on=False` adds noise only when `training` (like
    `keras.layers.GaussianNoise`); `stddev=0` never adds noise.

    Each call draws new noise from the layer's `keras.random.SeedGenerator`
    (seeded with `seed`), so the draws are reproducible and the layer works
    under `jit` (`fit`, `predict`, the attack suite).

    Args:
        stddev: noise scale `>= 0`, relative to `std(h)` or absolute (see
            `relative`). Defaults to `0.1`, the authors' noise coefficient.
        relative: whether `stddev` multiplies the standard deviation of the
            input. Defaults to `True`.
        always_on: add noise at inference too. Defaults to `True`.
        seed: int seed of the noise, or `None` (default) for a random one.
        **kwargs: base layer keyword arguments, such as `name`.

    Input shape:
        Any tensor, e.g. `(batch, height, width, channels)`.

    Output shape:
        Same as the input.

    Examples:
        >>> layer = ResidualNoise(0.1, seed=0)
        >>> x = keras.random.uniform((2, 4, 4, 8), seed=1)
        >>> bool(keras.ops.all(layer(x) == layer(x)))
        False
        >>> bool(keras.ops.all(ResidualNoise(0.1, always_on=False)(x) == x))
        True

    Reference:
        - [Wang, Yuan, Shi, Osher, ResNets Ensemble via the Feynman-Kac
          Formalism to Improve Natural and Robust Accuracies, NeurIPS
          2019](https://arxiv.org/abs/1811.10745).
        - Dinh, Wang, Bertozzi, Osher, Xin, Sparsity Meets Robustness:
          Channel Pruning for the Feynman-Kac Formalism Principled Robust
          DNNs, section 2.
    """

    def __init__(self, stddev=0.1, relative=True, always_on=True, seed=None, **kwargs):
        super().__init__(**kwargs)
        check_stddev(stddev, "stddev")
        for arg, value in (("relative", relative), ("always_on", always_on)):
            if not isinstance(value, bool):
                raise ValueError(f"Expected `{arg}` to be a bool. Received: {arg}={value!r}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
            raise ValueError(f"Expected `seed` to be an int or None. Received: seed={seed!r}")
        self.stddev = float(stddev)
        self.relative = relative
        self.always_on = always_on
        self.seed = None if seed is None else int(seed)
        self.seed_generator = keras.random.SeedGenerator(self.seed)
        self.supports_masking = True
        self._build_at_init()

    def call(self, inputs, training=None):
        if self.stddev == 0 or not (self.always_on or training):
            return inputs
        scale = self.stddev
        if self.relative:
            scale = scale * ops.sqrt(ops.var(inputs) + keras.config.epsilon())
        noise = keras.random.normal(ops.shape(inputs), dtype=self.compute_dtype, seed=self.seed_generator)
        return inputs + scale * noise

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "stddev": self.stddev,
                "relative": self.relative,
                "always_on": self.always_on,
                "seed": self.seed,
            }
        )
        return config
