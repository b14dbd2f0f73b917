"""Backend core: input gradients, per-class gradients, double backprop, fit."""

import keras
import numpy as np
import pytest
from keras import ops

from hdl_keras import backend
from hdl_keras.testing.gradcheck import double_backprop_relative_error
from hdl_keras.testing.gradcheck import penalty_model_like
from hdl_keras.testing.parity import reference_model
from hdl_keras.testing.parity import reference_weights

pytestmark = pytest.mark.backend_suite

NUM_FEATURES, NUM_CLASSES = 6, 4


def linear_model(seed=0):
    """Logits `x @ W + b` with known weights: its input gradients are columns of W."""
    rng = np.random.default_rng(seed)
    inputs = keras.Input((NUM_FEATURES,))
    outputs = keras.layers.Dense(NUM_CLASSES)(inputs)
    model = keras.Model(inputs, outputs)
    weights = rng.standard_normal((NUM_FEATURES, NUM_CLASSES)).astype("float32")
    bias = rng.standard_normal(NUM_CLASSES).astype("float32")
    model.set_weights([weights, bias])
    return model, weights


def random_batch(batch_size=5, shape=(NUM_FEATURES,), seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((batch_size,) + shape, dtype=np.float32)
    y = rng.integers(0, NUM_CLASSES, batch_size)
    return x, y


def to_numpy(tensor):
    return ops.convert_to_numpy(tensor)


def test_input_grad_of_linear_model_is_column_sum():
    model, weights = linear_model()
    x, _ = random_batch()
    grad = to_numpy(backend.input_grad(model, x))
    assert grad.shape == x.shape
    np.testing.assert_allclose(grad, np.tile(weights.sum(axis=1), (len(x), 1)), atol=1e-5)


def test_value_and_input_grad_returns_the_value_and_grad_of_a_quadratic():
    x, _ = random_batch()
    value, grad = backend.value_and_input_grad(lambda t: ops.sum(t * t, axis=1), x)
    np.testing.assert_allclose(to_numpy(value), (x * x).sum(axis=1), rtol=1e-6)
    np.testing.assert_allclose(to_numpy(grad), 2 * x, rtol=1e-6)


def test_logit_jacobian_of_linear_model_is_the_weight_matrix():
    model, weights = linear_model()
    x, _ = random_batch()
    logits, jacobian = backend.logit_jacobian(model, x)
    assert tuple(jacobian.shape) == (len(x), NUM_CLASSES, NUM_FEATURES)
    np.testing.assert_allclose(to_numpy(logits), to_numpy(model(x)), atol=1e-6)
    np.testing.assert_allclose(to_numpy(jacobian), np.broadcast_to(weights.T, jacobian.shape), atol=1e-6)


def test_logit_difference_grads_are_differences_of_jacobian_rows():
    model, weights = linear_model()
    x, y = random_batch()
    _, grads = backend.logit_difference_grads(model, x, y)
    expected = weights.T[None, :, :] - weights.T[y][:, None, :]
    np.testing.assert_allclose(to_numpy(grads), expected, atol=1e-6)
    assert np.all(to_numpy(grads)[np.arange(len(y)), y] == 0.0)


def test_conv_jacobian_matches_finite_differences_per_example():
    model = reference_model(activation="tanh", pooling="average")
    model.set_weights(reference_weights(model))
    x, _ = random_batch(batch_size=3, shape=(28, 28, 1))
    _, jacobian = backend.logit_jacobian(lambda t: model(t, training=False), x)
    jacobian = to_numpy(jacobian)
    rng = np.random.default_rng(1)
    direction = rng.standard_normal(x.shape).astype("float32")
    step = 1e-2
    plus = to_numpy(model(x + step * direction, training=False))
    minus = to_numpy(model(x - step * direction, training=False))
    numeric = (plus - minus) / (2 * step)
    analytic = np.einsum("bkd,bd->bk", jacobian.reshape(3, 10, -1), direction.reshape(3, -1))
    np.testing.assert_allclose(analytic, numeric, rtol=2e-2, atol=2e-3)


def test_batched_gradients_equal_one_example_at_a_time():
    model = reference_model()
    model.set_weights(reference_weights(model))
    x, y = random_batch(batch_size=4, shape=(28, 28, 1))
    _, batched = backend.logit_difference_grads(lambda t: model(t, training=False), x, y)
    for b in range(len(x)):
        _, single = backend.logit_difference_grads(lambda t: model(t, training=False), x[b : b + 1], y[b : b + 1])
        np.testing.assert_allclose(to_numpy(batched)[b], to_numpy(single)[0], atol=1e-5)


def test_double_backprop_through_fit_matches_finite_differences():
    model = reference_model(activation="tanh", pooling="average")
    model.set_weights(reference_weights(model, seed=1))
    x, y = random_batch(batch_size=8, shape=(28, 28, 1))
    error = double_backprop_relative_error(penalty_model_like(model, penalty=1.0), x, y)
    assert error < 1e-2


def test_gradient_check_detects_a_cut_input_gradient():
    model = reference_model(activation="tanh", pooling="average")
    model.set_weights(reference_weights(model, seed=1))
    x, y = random_batch(batch_size=8, shape=(28, 28, 1))
    wrong = penalty_model_like(model, penalty=1.0, differentiable=False)
    assert double_backprop_relative_error(wrong, x, y) > 0.1


def column_spread(weights):
    """sum_{k, j} ||W[:, k] - W[:, j]||^2: the penalty's value on a linear model."""
    return float(np.sum((weights[:, :, None] - weights[:, None, :]) ** 2))


@pytest.mark.parametrize("penalty", [0.0, 1.0])
def test_input_gradient_penalty_trains_inside_fit(penalty):
    """With the penalty, fit shrinks the input gradients of a linear model."""
    model, weights = linear_model(seed=2)
    wrapped = penalty_model_like(model, penalty=penalty)
    wrapped.compile(
        optimizer=keras.optimizers.SGD(learning_rate=0.05),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    x, y = random_batch(batch_size=64, seed=3)
    history = wrapped.fit(x, y, batch_size=16, epochs=5, verbose=0)
    ratio = column_spread(model.get_weights()[0]) / column_spread(weights)
    assert np.all(np.isfinite(history.history["loss"]))
    if penalty:
        assert ratio < 0.1
    else:
        assert ratio > 0.5


def test_penalty_model_serializes(tmp_path):
    model, _ = linear_model()
    wrapped = penalty_model_like(model, penalty=0.5)
    x, _ = random_batch()
    wrapped.save(tmp_path / "penalty.keras")
    loaded = keras.saving.load_model(tmp_path / "penalty.keras")
    assert loaded.penalty == 0.5
    np.testing.assert_allclose(to_numpy(loaded(x)), to_numpy(wrapped(x)), atol=1e-6)


def test_gradient_through_a_piecewise_constant_function_is_zero_not_missing():
    x, _ = random_batch()
    grad = to_numpy(backend.input_grad(lambda t: ops.sum(ops.round(4.0 * t), axis=1), x))
    np.testing.assert_array_equal(grad, np.zeros_like(x))
