"""Tiny models with known behaviour, shared by the attack and objective tests."""

import keras
import numpy as np


def small_mlp(num_classes=5, seed=0, num_features=12):
    """A seeded `num_features -> 16 ReLU -> num_classes` logits MLP."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((num_features,))
    hidden = keras.layers.Dense(16, activation="relu")(inputs)
    return keras.Model(inputs, keras.layers.Dense(num_classes)(hidden))


def two_class_linear_model(seed=0, input_shape=(12,)):
    """Logits `[0, v . x]` (inputs flattened): a linear margin with direction `v`.

    Its l_inf-optimal attack is known in closed form, `x - eps * s_y * sign(v)`
    with `s_y = +1` for label 1 and -1 for label 0.

    Returns:
        `(model, v)`, `v` a float32 vector of `prod(input_shape)` entries.
    """
    rng = np.random.default_rng(seed)
    inputs = keras.Input(input_shape)
    flat = keras.layers.Flatten()(inputs) if len(input_shape) > 1 else inputs
    model = keras.Model(inputs, keras.layers.Dense(2)(flat))
    v = rng.standard_normal(int(np.prod(input_shape))).astype("float32")
    model.set_weights([np.stack([np.zeros_like(v), v], axis=1), np.zeros(2, "float32")])
    return model, v


def linear_problem(seed=0, num_examples=8, num_features=12, eps=0.1, norm="linf"):
    """A batch for `two_class_linear_model(seed)` and its exact worst case.

    Inputs lie in [0.2, 0.8] so an `eps <= 0.2` step never meets the [0, 1]
    bounds; the optimum moves each input by `eps` against its label along
    `sign(v)` (l_inf) or `v / ||v||` (l_2).

    Returns:
        `(model, x, y, optimum)`.
    """
    model, v = two_class_linear_model(seed=0, input_shape=(num_features,))
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.2, 0.8, (num_examples, num_features)).astype("float32")
    y = rng.integers(0, 2, num_examples)
    label_sign = np.where(y == 1, 1.0, -1.0)[:, None]
    direction = np.sign(v) if norm == "linf" else v / np.linalg.norm(v)
    return model, x, y, x - eps * label_sign * direction[None, :]


@keras.saving.register_keras_serializable(package="hdl_keras.testing")
class AlwaysOnNoise(keras.layers.Layer):
    """Adds seeded Gaussian noise in every call, `training` or not.

    A stand-in for a randomized defense (noise kept on at inference), whose
    outputs differ between two identical forward passes.

    Args:
        stddev: standard deviation of the noise.
        seed: seed of the layer's `SeedGenerator`, default None.
    """

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.stddev = stddev
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs):
        noise = keras.random.normal(keras.ops.shape(inputs), seed=self.seed_generator)
        return inputs + self.stddev * noise

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev, "seed": self.seed}
