"""EoT, BPDA and Transfer: gradients averaged, substituted or borrowed from a surrogate."""

import keras
import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from keras import ops

from hdl_keras import backend
from hdl_keras.attacks.base import Attack
from hdl_keras.attacks.bpda import BPDA
from hdl_keras.attacks.eot import EoT
from hdl_keras.attacks.fgsm import FGSM
from hdl_keras.attacks.pgd import PGD
from hdl_keras.attacks.transfer import Transfer
from hdl_keras.testing.toy_models import AlwaysOnNoise

pytestmark = pytest.mark.backend_suite

NUM_FEATURES = 12


@keras.saving.register_keras_serializable(package="hdl_keras_tests")
class InputRounding(keras.layers.Layer):
    """Rounds inputs to multiples of `1 / levels`: zero input gradient almost everywhere.

    The zero gradient is written out (`stop_gradient(round) + 0 * x`) because
    TensorFlow registers no gradient for Round (its tape would return None).
    """

    def __init__(self, levels=4, **kwargs):
        super().__init__(**kwargs)
        self.levels = levels

    def call(self, inputs):
        rounded = ops.round(inputs * self.levels) / self.levels
        return ops.stop_gradient(rounded) + 0.0 * inputs

    def get_config(self):
        return {**super().get_config(), "levels": self.levels}


class GradientProbe(Attack):
    """Stand-in attack returning `[loss, d loss / dx]` per example instead of inputs."""

    def perturb(self, x, y):
        loss, grad = self.loss_and_grad(x, y)
        return ops.concatenate([loss[:, None], grad], axis=1)


class DirectGradientFGSM(FGSM):
    """Stand-in taking its gradient from the backend directly, not from `loss_and_grad`."""

    def perturb(self, x, y):
        _, grad = backend.value_and_input_grad(
            lambda t: self.loss(self.logits(t), y), x, differentiable=False
        )
        return self.project(x + self.eps * ops.sign(grad), x)


class FakeBlackBox(FGSM):
    black_box = True


def linear_layer(v):
    """Dense layer with logits `[0, v.x]`."""
    layer = keras.layers.Dense(2)
    layer.build((None, NUM_FEATURES))
    layer.set_weights([np.stack([np.zeros_like(v), v], axis=1), np.zeros(2, "float32")])
    return layer


def noisy_gain_model(stddev=1.5, seed=0):
    """Logits `[0, v.(x * g)]` with a random gain `g = 1 + stddev * noise` in every call.

    With `stddev > 1`, the gain flips the sign of a feature's gradient often,
    so single-draw gradients are noisy, while the expected logits are `[0, v.x]`.
    """
    v = np.random.default_rng(seed).standard_normal(NUM_FEATURES).astype("float32")
    inputs = keras.Input((NUM_FEATURES,))
    gain = AlwaysOnNoise(stddev, seed=seed)(keras.layers.Lambda(ops.ones_like)(inputs))
    logits = linear_layer(v)(keras.layers.Multiply()([inputs, gain]))
    return keras.Model(inputs, logits), v


def small_mlp(num_classes=5, seed=0):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((NUM_FEATURES,))
    hidden = keras.layers.Dense(16, activation="relu")(inputs)
    return keras.Model(inputs, keras.layers.Dense(num_classes)(hidden))


def predictions(model, x):
    return np.argmax(ops.convert_to_numpy(model(x, training=False)), axis=1)


def accuracy(model, x, y):
    return float(np.mean(predictions(model, x) == y))


def expected_accuracy(model, x, y, draws=64):
    """Accuracy of a randomized model averaged over `draws` noise draws (one batched call)."""
    tiled = np.tile(x, (draws, 1))
    return accuracy(model, tiled, np.tile(y, draws))


def numpy(t):
    return ops.convert_to_numpy(t)


def uniform_inputs(seed, size=64, low=0.2, high=0.8):
    rng = np.random.default_rng(seed)
    return rng.uniform(low, high, (size, NUM_FEATURES)).astype("float32")


# EoT


def test_eot_averaged_gradient_varies_less_than_a_single_draw():
    model, v = noisy_gain_model()
    x = uniform_inputs(0, size=32)
    y = (x @ v > 0).astype("int32")
    single, averaged = GradientProbe(model, eps=0.1), EoT(GradientProbe(model, eps=0.1), n=8)
    single_draws = [numpy(single(x, y))[:, 1:] for _ in range(2)]
    averaged_draws = [numpy(averaged(x, y))[:, 1:] for _ in range(2)]
    single_spread = np.mean((single_draws[0] - single_draws[1]) ** 2)
    averaged_spread = np.mean((averaged_draws[0] - averaged_draws[1]) ** 2)
    assert single_spread > 0
    # The variance of a mean of 8 draws is 8 times smaller; allow a wide margin.
    assert averaged_spread < 0.35 * single_spread


def test_eot_pgd_is_stronger_than_pgd_on_a_randomized_model():
    model, v = noisy_gain_model()
    x = uniform_inputs(1, size=128)
    y = (x @ v > 0).astype("int32")
    kwargs = dict(eps=0.15, step_size=0.15, steps=1, random_start=False, seed=0)
    pgd = expected_accuracy(model, numpy(PGD(model, **kwargs)(x, y)), y)
    eot = expected_accuracy(model, numpy(EoT(PGD(model, **kwargs), n=8)(x, y)), y)
    assert pgd < expected_accuracy(model, x, y)
    # Observed gaps are 0.05 to 0.08; single-draw runs differ by about 0.02.
    assert eot < pgd - 0.02


def test_eot_equals_the_wrapped_attack_on_a_deterministic_model():
    model = small_mlp()
    x = uniform_inputs(2, size=16)
    y = predictions(model, x)
    kwargs = dict(eps=0.05, step_size=0.02, steps=2, seed=3)
    np.testing.assert_allclose(
        numpy(EoT(PGD(model, **kwargs), n=3)(x, y)), numpy(PGD(model, **kwargs)(x, y)), atol=1e-6
    )
    np.testing.assert_allclose(
        numpy(EoT(GradientProbe(model, eps=0.1), n=3)(x, y)),
        numpy(GradientProbe(model, eps=0.1)(x, y)),
        rtol=1e-5,
        atol=1e-7,
    )


def test_eot_returns_a_subclass_copy_and_leaves_the_attack_unchanged():
    model = small_mlp()
    attack = PGD(model, eps=0.1, steps=4, seed=1)
    eot = EoT(attack, n=5)
    assert isinstance(eot, PGD) and type(eot).__name__ == "EoTPGD"
    assert type(attack) is PGD and not hasattr(attack, "eot_samples")
    assert (eot.eot_samples, eot.eps, eot.steps, eot.seed) == (5, 0.1, 4, 1)
    assert type(EoT(PGD(model), n=2)) is type(eot)  # one class per wrapped class


@settings(max_examples=3, deadline=None)
@given(
    eps=st.floats(0.0, 0.5),
    norm=st.sampled_from(["linf", "l2"]),
    seed=st.integers(0, 2**16),
    wrapper=st.sampled_from(["eot", "bpda"]),
)
def test_wrapped_examples_stay_in_the_ball_and_the_bounds(eps, norm, seed, wrapper):
    model, _ = noisy_gain_model(seed=seed % 5)
    rng = np.random.default_rng(seed)
    x = rng.random((6, NUM_FEATURES), dtype=np.float32)
    y = rng.integers(0, 2, 6)
    attack = PGD(model, eps=eps, norm=norm, step_size=max(eps / 2, 1e-3), steps=2, seed=seed)
    if wrapper == "eot":
        attack = EoT(attack, n=2)
    else:
        attack = BPDA(attack, substitute=small_mlp(num_classes=2, seed=seed % 3))
    x_adv = numpy(attack(x, y))
    assert x_adv.shape == x.shape
    assert x_adv.min() >= 0.0 and x_adv.max() <= 1.0
    delta = x_adv - x
    size = np.abs(delta).max(axis=1) if norm == "linf" else np.linalg.norm(delta, axis=1)
    assert np.all(size <= eps + 1e-5)


@pytest.mark.parametrize("wrapper", [EoT, lambda attack: BPDA(attack, small_mlp())])
def test_wrappers_reject_black_box_attacks_and_non_attacks(wrapper):
    model = small_mlp()
    with pytest.raises(ValueError, match="black-box"):
        wrapper(FakeBlackBox(model))
    with pytest.raises(ValueError, match="Attack"):
        wrapper(model)


def test_eot_refuses_an_attack_that_bypasses_loss_and_grad():
    model = small_mlp()
    x = uniform_inputs(9, size=4)
    with pytest.raises(ValueError, match="loss_and_grad"):
        EoT(DirectGradientFGSM(model, eps=0.1), n=2)(x, predictions(model, x))


@pytest.mark.parametrize("n", [0, 2.5, True])
def test_eot_rejects_a_bad_number_of_draws(n):
    with pytest.raises(ValueError, match="n="):
        EoT(PGD(small_mlp()), n=n)


# BPDA


def rounding_model(seed=0):
    """`body(round_4(x))`, `body` a linear model with logits `[0, v.x]`."""
    v = np.random.default_rng(seed).standard_normal(NUM_FEATURES).astype("float32")
    body = keras.Sequential([keras.Input((NUM_FEATURES,)), linear_layer(v)])
    return keras.Sequential([keras.Input((NUM_FEATURES,)), InputRounding(4), body]), body


def test_bpda_breaks_input_rounding_where_pgd_stalls():
    model, body = rounding_model()
    x = uniform_inputs(3, low=0.3, high=0.7)
    y = predictions(model, x)
    kwargs = dict(eps=0.25, step_size=0.1, steps=5, random_start=False)
    x_pgd = numpy(PGD(model, **kwargs)(x, y))
    np.testing.assert_array_equal(x_pgd, x)  # zero gradient: PGD never moves
    x_bpda = numpy(BPDA(PGD(model, **kwargs), substitute=body)(x, y))
    assert np.abs(x_bpda - x).max() <= 0.25 + 1e-6
    assert accuracy(model, x_bpda, y) < 0.25 < accuracy(model, x_pgd, y) == 1.0


def test_bpda_takes_values_from_the_model_and_gradients_from_the_substitute():
    model, body = rounding_model()
    x = uniform_inputs(4, size=16)
    y = np.random.default_rng(4).integers(0, 2, 16)
    bpda = numpy(BPDA(GradientProbe(model, eps=0.1), substitute=body)(x, y))
    real = numpy(GradientProbe(model, eps=0.1)(x, y))
    smooth = numpy(GradientProbe(body, eps=0.1)(x, y))
    np.testing.assert_allclose(bpda[:, 0], real[:, 0], rtol=1e-6)  # the rounded model's loss
    assert not np.allclose(real[:, 0], smooth[:, 0])
    # The cross-entropy gradient is (softmax - onehot) at the model's logits
    # times the substitute's logit gradient [0, v].
    probabilities = numpy(ops.softmax(model(x)))
    v = body.get_weights()[0][:, 1]
    expected = (probabilities[:, 1] - (y == 1))[:, None] * v[None, :]
    np.testing.assert_allclose(bpda[:, 1:], expected, rtol=1e-4, atol=1e-6)


def test_bpda_with_the_model_as_substitute_equals_the_attack():
    model = small_mlp()
    x = uniform_inputs(5, size=16)
    y = predictions(model, x)
    kwargs = dict(eps=0.05, step_size=0.02, steps=3, seed=2)
    np.testing.assert_allclose(
        numpy(BPDA(PGD(model, **kwargs), substitute=model)(x, y)),
        numpy(PGD(model, **kwargs)(x, y)),
        atol=1e-6,
    )


def test_bpda_reads_the_current_substitute_weights():
    model, body = rounding_model()
    substitute = clone_with_weights(body)  # variables of its own, not the model's
    x = uniform_inputs(6, size=8)
    y = predictions(model, x)
    attack = BPDA(FGSM(model, eps=0.1), substitute=substitute)
    first = numpy(attack(x, y))
    kernel, bias = substitute.get_weights()
    substitute.set_weights([-kernel, bias])
    second = numpy(attack(x, y))  # the substitute's gradient flipped sign
    np.testing.assert_allclose(second - x, -(first - x), atol=1e-6)


def test_bpda_rejects_a_substitute_that_is_not_callable():
    with pytest.raises(ValueError, match="substitute"):
        BPDA(PGD(small_mlp()), substitute="identity")


# Transfer


def clone_with_weights(model):
    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    return clone


def test_transfer_from_an_identical_copy_equals_the_white_box_attack():
    model = small_mlp()
    x = uniform_inputs(7, size=32)
    y = predictions(model, x)
    kwargs = dict(eps=0.1, step_size=0.03, steps=3, seed=0)
    transfer = Transfer(PGD(clone_with_weights(model), **kwargs))
    x_transfer = numpy(transfer(x, y))
    np.testing.assert_allclose(x_transfer, numpy(PGD(model, **kwargs)(x, y)), atol=1e-6)
    np.testing.assert_array_equal(transfer.queries, np.zeros(32))


def test_transfer_from_another_model_is_at_most_as_strong_as_white_box():
    target, source = small_mlp(seed=0), small_mlp(seed=1)
    x = uniform_inputs(8)
    y = predictions(target, x)
    kwargs = dict(eps=0.2, step_size=0.05, steps=5, seed=0)
    white_box = accuracy(target, numpy(PGD(target, **kwargs)(x, y)), y)
    transfer = Transfer(source, lambda model: PGD(model, **kwargs))
    transferred = accuracy(target, numpy(transfer(x, y)), y)
    assert white_box <= transferred
    assert white_box < 1.0


def test_transfer_builds_the_attack_on_the_source_and_is_black_box():
    source = small_mlp(seed=1)
    transfer = Transfer(source, PGD)
    assert Transfer.black_box and transfer.black_box
    assert isinstance(transfer.attack, PGD) and transfer.attack.model is source
    assert transfer.model is source and transfer.eps == PGD(source).eps


@pytest.mark.parametrize(
    "args, message",
    [
        ((None,), "Attack"),
        ((PGD(small_mlp()), PGD), "either"),
        ((small_mlp(), lambda model: model), "attack_factory"),
    ],
)
def test_transfer_rejects_bad_arguments(args, message):
    with pytest.raises(ValueError, match=message):
        Transfer(*args)
