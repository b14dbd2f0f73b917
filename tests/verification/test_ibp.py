import keras
import numpy as np
import pytest

from hdl_keras import models
from hdl_keras.layers import MaskedDense
from hdl_keras.layers import ResidualNoise
from hdl_keras.verification import interval_bounds
from hdl_keras.verification import verified_accuracy

pytestmark = pytest.mark.backend_suite


def _randomize_batch_norm(model, rng):
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            channels = layer.moving_mean.shape[0]
            layer.moving_mean.assign(rng.normal(size=channels).astype("float32"))
            layer.moving_variance.assign(rng.uniform(0.5, 2.0, size=channels).astype("float32"))
            layer.gamma.assign(rng.normal(size=channels).astype("float32"))
            layer.beta.assign(rng.uniform(0.5, 1.5, size=channels).astype("float32"))
    return model


def _residual_model():
    inputs = keras.Input((6, 6, 2))
    x = keras.layers.Conv2D(4, 3, padding="same", name="stem")(inputs)
    x = keras.layers.BatchNormalization(name="bn")(x)
    x = keras.layers.ReLU(name="relu")(x)
    y = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(x)
    y = keras.layers.Dropout(0.5)(y)
    x = keras.layers.Add()([x, y])
    x = ResidualNoise(0.0)(x)
    x = keras.layers.AveragePooling2D(2)(x)
    x = keras.layers.Reshape((-1,))(x)
    x = MaskedDense(8, activation="relu")(x)
    outputs = keras.layers.Dense(3)(x)
    return keras.Model(inputs, outputs)


def _sequential_model():
    return keras.Sequential(
        [
            keras.Input((5,)),
            keras.layers.Dense(6, activation="tanh"),
            keras.layers.BatchNormalization(),
            keras.layers.Activation("relu"),
            keras.layers.Dense(3),
        ]
    )


MODELS = {
    "mlp": lambda: models.mlp(input_shape=(5,), num_classes=3, hidden_units=(8, 8)),
    "small_cnn": lambda: models.small_cnn(input_shape=(8, 8, 1), num_classes=3, filters=(4, 8), dense_units=8),
    "resnet8": lambda: models.resnet(8, input_shape=(8, 8, 3), num_classes=3),
    "residual": _residual_model,
    "sequential": _sequential_model,
}


def _build(name):
    return _randomize_batch_norm(MODELS[name](), np.random.default_rng(0))


@pytest.mark.parametrize("name", sorted(MODELS))
def test_eps_zero_gives_the_logits(name):
    model = _build(name)
    rng = np.random.default_rng(1)
    x = rng.uniform(size=(3, *model.input_shape[1:])).astype("float32")
    lower, upper = interval_bounds(model, x, 0.0)
    logits = keras.ops.convert_to_numpy(model(x, training=False))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(lower), logits, atol=1e-5)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(upper), logits, atol=1e-5)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_logits_of_the_box_lie_within_the_bounds(name):
    model = _build(name)
    rng = np.random.default_rng(2)
    shape = model.input_shape[1:]
    eps = 0.05
    x = rng.uniform(size=(2, *shape)).astype("float32")
    lower, upper = interval_bounds(model, x, eps)
    lower = keras.ops.convert_to_numpy(lower)
    upper = keras.ops.convert_to_numpy(upper)
    assert np.all(lower <= upper)
    samples = 128
    low = np.clip(x - eps, 0.0, 1.0)
    high = np.clip(x + eps, 0.0, 1.0)
    for i in range(len(x)):
        uniform = rng.uniform(size=(samples, *shape))
        corners = rng.integers(0, 2, size=(samples, *shape))
        points = np.concatenate([low[i] + uniform * (high[i] - low[i]), np.where(corners, high[i], low[i])]).astype(
            "float32"
        )
        logits = keras.ops.convert_to_numpy(model(points, training=False))
        assert np.all(logits >= lower[i] - 1e-4)
        assert np.all(logits <= upper[i] + 1e-4)


@pytest.mark.parametrize("name", ["mlp", "residual"])
def test_verified_accuracy_is_below_natural_and_decreasing(name):
    model = _build(name)
    rng = np.random.default_rng(3)
    x = rng.uniform(size=(20, *model.input_shape[1:])).astype("float32")
    predictions = np.argmax(keras.ops.convert_to_numpy(model(x)), axis=-1)
    y = np.where(rng.uniform(size=20) < 0.75, predictions, (predictions + 1) % 3)
    natural = float(np.mean(predictions == y))
    accuracies = [verified_accuracy(model, x, y, eps, batch_size=7) for eps in (0.0, 1e-3, 1e-2, 0.1, 1.0)]
    assert accuracies[0] == pytest.approx(natural)
    assert all(a <= natural for a in accuracies)
    assert all(a >= b for a, b in zip(accuracies, accuracies[1:]))
    assert accuracies[-1] < natural
    one_hot = np.eye(3)[y]
    assert verified_accuracy(model, x, one_hot, 1e-3) == accuracies[1]


def test_unsupported_layer_raises():
    inputs = keras.Input((4,))
    x = keras.layers.LayerNormalization(name="norm")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(2)(x))
    with pytest.raises(ValueError, match="'norm'.*LayerNormalization.*Supported"):
        interval_bounds(model, np.zeros((1, 4)), 0.1)


def test_unsupported_activation_raises():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    with pytest.raises(ValueError, match="activation"):
        interval_bounds(model, np.zeros((1, 4)), 0.1)


def test_invalid_arguments_raise():
    model = _sequential_model()
    with pytest.raises(ValueError, match="eps"):
        interval_bounds(model, np.zeros((1, 5)), -1.0)
    with pytest.raises(ValueError, match="bounds"):
        interval_bounds(model, np.zeros((1, 5)), 0.1, bounds=(1.0, 0.0))
    with pytest.raises(ValueError, match="batch_size"):
        verified_accuracy(model, np.zeros((1, 5)), np.zeros(1, "int32"), 0.1, batch_size=0)
