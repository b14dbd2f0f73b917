"""EoT, BPDA and Transfer: gradients averaged, approximated or borrowed from a surrogate.

EoT and BPDA wrap the model; every attack takes the wrapped model where it takes a model.
"""

import keras
import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from keras import ops

from hdl_keras.attacks import APGD
from hdl_keras.attacks import FAB
from hdl_keras.attacks import AutoAttack
from hdl_keras.attacks import CarliniWagner
from hdl_keras.attacks import cw_linf
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
    single, averaged = GradientProbe(model, eps=0.1), GradientProbe(EoT(model, samples=8), eps=0.1)
    single_draws = [numpy(single(x, y))[:, 1:] for _ in range(2)]
    averaged_draws = [numpy(averaged(x, y))[:, 1:] for _ in range(2)]
    single_spread = np.mean((single_draws[0] - single_draws[1]) ** 2)
    averaged_spread = np.mean((averaged_draws[0] - averaged_draws[1]) ** 2)
    assert single_spread > 0
    # The Jacobian's variance shrinks 8-fold; the loss gradient of one draw adds some back
    # (observed ratios 0.2 to 0.35 across backends).
    assert averaged_spread < 0.5 * single_spread


def test_eot_pgd_is_stronger_than_pgd_on_a_randomized_model():
    model, v = noisy_gain_model()
    x = uniform_inputs(1, size=128)
    y = (x @ v > 0).astype("int32")
    kwargs = dict(eps=0.15, step_size=0.15, steps=1, random_start=False, seed=0)
    pgd = expected_accuracy(model, numpy(PGD(model, **kwargs)(x, y)), y)
    eot = expected_accuracy(model, numpy(PGD(EoT(model, samples=8), **kwargs)(x, y)), y)
    assert pgd < expected_accuracy(model, x, y)
    assert eot < pgd - 0.02


def test_eot_gradient_of_a_deterministic_model_is_the_plain_gradient():
    model = small_mlp()
    x = uniform_inputs(2, size=16)
    y = predictions(model, x)
    np.testing.assert_allclose(
        numpy(GradientProbe(EoT(model, samples=3), eps=0.1)(x, y)),
        numpy(GradientProbe(model, eps=0.1)(x, y)),
        rtol=1e-5,
        atol=1e-7,
    )
    kwargs = dict(eps=0.05, step_size=0.02, steps=2, seed=3)
    np.testing.assert_allclose(
        numpy(PGD(EoT(model, samples=3), **kwargs)(x, y)), numpy(PGD(model, **kwargs)(x, y)), atol=1e-6
    )


def test_eot_returns_one_draw_of_the_model():
    model, _ = noisy_gain_model()
    x = uniform_inputs(3, size=8)
    eot = EoT(model, samples=4)
    first, second = numpy(eot(x)), numpy(eot(x))
    assert not np.allclose(first, second)  # a fresh draw per call, not a mean
    assert eot.inputs == model.inputs and eot.outputs == model.outputs
    assert {id(v) for v in eot.non_trainable_variables} == {id(v) for v in model.non_trainable_variables}


@pytest.mark.parametrize("samples", [0, 2.5, True])
def test_eot_rejects_a_bad_number_of_draws(samples):
    with pytest.raises(ValueError, match="samples="):
        EoT(small_mlp(), samples=samples)


def test_wrappers_reject_a_model_that_is_not_callable():
    with pytest.raises(ValueError, match="model"):
        EoT("model")
    with pytest.raises(ValueError, match="model"):
        BPDA(3, preprocess=ops.round)


# Every attack on wrapped models


def gradient_attacks(model, eps, seed):
    return {
        "fgsm": FGSM(model, eps=eps),
        "pgd": PGD(model, eps=eps, step_size=max(eps / 2, 1e-3), steps=2, seed=seed),
        "apgd": APGD(model, eps=eps, steps=3, seed=seed),
        "cw_linf": cw_linf(model, eps=eps, step_size=max(eps / 2, 1e-3), steps=2),
        "carlini_wagner": CarliniWagner(model, eps=eps, steps=3, binary_search_steps=1),
        "fab": FAB(model, eps=eps, steps=2, seed=seed),
    }


def wrapped(wrapper, seed):
    model, _ = noisy_gain_model(seed=seed % 5)
    if wrapper == "eot":
        return EoT(model, samples=2)
    return BPDA(small_mlp(num_classes=2, seed=seed % 3), preprocess=InputRounding(4))


@pytest.mark.parametrize("wrapper", ["eot", "bpda"])
@pytest.mark.parametrize("name", ["fgsm", "pgd", "apgd", "cw_linf", "carlini_wagner", "fab"])
def test_every_attack_on_a_wrapped_model_stays_in_the_ball_and_the_bounds(name, wrapper):
    seed = 11
    rng = np.random.default_rng(seed)
    x = rng.random((6, NUM_FEATURES), dtype=np.float32)
    y = rng.integers(0, 2, 6)
    eps = 0.1
    x_adv = numpy(gradient_attacks(wrapped(wrapper, seed), eps, seed)[name](x, y))
    assert x_adv.shape == x.shape
    assert x_adv.min() >= 0.0 and x_adv.max() <= 1.0
    assert np.abs(x_adv - x).max() <= eps + 1e-5


@settings(max_examples=3, deadline=None)
@given(
    eps=st.floats(0.0, 0.5),
    norm=st.sampled_from(["linf", "l2"]),
    seed=st.integers(0, 2**16),
    wrapper=st.sampled_from(["eot", "bpda"]),
)
def test_wrapped_pgd_examples_stay_in_the_ball_and_the_bounds(eps, norm, seed, wrapper):
    rng = np.random.default_rng(seed)
    x = rng.random((6, NUM_FEATURES), dtype=np.float32)
    y = rng.integers(0, 2, 6)
    attack = PGD(wrapped(wrapper, seed), eps=eps, norm=norm, step_size=max(eps / 2, 1e-3), steps=2, seed=seed)
    x_adv = numpy(attack(x, y))
    assert x_adv.shape == x.shape
    assert x_adv.min() >= 0.0 and x_adv.max() <= 1.0
    delta = x_adv - x
    size = np.abs(delta).max(axis=1) if norm == "linf" else np.linalg.norm(delta, axis=1)
    assert np.all(size <= eps + 1e-5)


def test_autoattack_runs_on_a_wrapped_model():
    model, body = rounding_model()
    x = uniform_inputs(12, size=8, low=0.3, high=0.7)
    y = predictions(model, x)
    auto = AutoAttack(BPDA(body, preprocess=InputRounding(4)), eps=0.25, version="custom", attacks=["apgd-ce"], steps=5)
    x_adv = numpy(auto(x, y))
    assert np.abs(x_adv - x).max() <= 0.25 + 1e-6
    assert accuracy(model, x_adv, y) < 0.25


# BPDA


def rounding_model(seed=0):
    """`body(round_4(x))`, `body` a linear model with logits `[0, v.x]`."""
    v = np.random.default_rng(seed).standard_normal(NUM_FEATURES).astype("float32")
    body = keras.Sequential([keras.Input((NUM_FEATURES,)), linear_layer(v)])
    return keras.Sequential([keras.Input((NUM_FEATURES,)), InputRounding(4), body]), body


def test_bpda_through_input_quantization_gives_the_gradient_the_plain_model_lacks():
    model, body = rounding_model()
    x = uniform_inputs(4, size=16)
    y = np.random.default_rng(4).integers(0, 2, 16)
    plain = numpy(GradientProbe(model, eps=0.1)(x, y))
    bpda = numpy(GradientProbe(BPDA(body, preprocess=InputRounding(4)), eps=0.1)(x, y))
    np.testing.assert_array_equal(plain[:, 1:], 0.0)  # the rounding blocks the gradient
    np.testing.assert_allclose(bpda[:, 0], plain[:, 0], rtol=1e-6)  # the rounded model's loss
    # Identity backward through the rounding: (softmax - onehot) at the model's logits times [0, v].
    probabilities = numpy(ops.softmax(model(x)))
    v = body.get_weights()[0][:, 1]
    expected = (probabilities[:, 1] - (y == 1))[:, None] * v[None, :]
    np.testing.assert_allclose(bpda[:, 1:], expected, rtol=1e-4, atol=1e-6)
    assert np.abs(bpda[:, 1:]).max() > 0


def test_bpda_breaks_input_rounding_where_pgd_stalls():
    model, body = rounding_model()
    x = uniform_inputs(3, low=0.3, high=0.7)
    y = predictions(model, x)
    kwargs = dict(eps=0.25, step_size=0.1, steps=5, random_start=False)
    x_pgd = numpy(PGD(model, **kwargs)(x, y))
    np.testing.assert_array_equal(x_pgd, x)  # zero gradient: PGD never moves
    x_bpda = numpy(PGD(BPDA(body, preprocess=InputRounding(4)), **kwargs)(x, y))
    assert np.abs(x_bpda - x).max() <= 0.25 + 1e-6
    assert accuracy(model, x_bpda, y) < 0.25 < accuracy(model, x_pgd, y) == 1.0


def test_bpda_approximation_replaces_the_preprocessing_backward():
    model, body = rounding_model()
    x = uniform_inputs(5, size=8)
    y = predictions(model, x)
    doubled = numpy(GradientProbe(BPDA(body, InputRounding(4), lambda t: 2.0 * t), eps=0.1)(x, y))
    identity = numpy(GradientProbe(BPDA(body, InputRounding(4)), eps=0.1)(x, y))
    np.testing.assert_allclose(doubled[:, 0], identity[:, 0], rtol=1e-6)  # same forward
    np.testing.assert_allclose(doubled[:, 1:], 2.0 * identity[:, 1:], rtol=1e-5, atol=1e-7)


def test_bpda_substitute_gives_the_model_values_and_the_substitute_gradients():
    model, body = rounding_model()
    x = uniform_inputs(4, size=16)
    y = np.random.default_rng(4).integers(0, 2, 16)
    bpda = numpy(GradientProbe(BPDA(model, substitute=body), eps=0.1)(x, y))
    reference = numpy(GradientProbe(BPDA(body, preprocess=InputRounding(4)), eps=0.1)(x, y))
    np.testing.assert_allclose(bpda, reference, rtol=1e-5, atol=1e-7)


def test_bpda_with_the_model_as_substitute_equals_the_attack():
    model = small_mlp()
    x = uniform_inputs(5, size=16)
    y = predictions(model, x)
    kwargs = dict(eps=0.05, step_size=0.02, steps=3, seed=2)
    np.testing.assert_allclose(
        numpy(PGD(BPDA(model, substitute=model), **kwargs)(x, y)),
        numpy(PGD(model, **kwargs)(x, y)),
        atol=1e-6,
    )


def test_bpda_reads_the_current_substitute_weights():
    model, body = rounding_model()
    substitute = clone_with_weights(body)  # variables of its own, not the model's
    x = uniform_inputs(6, size=8)
    y = predictions(model, x)
    attack = FGSM(BPDA(model, substitute=substitute), eps=0.1)
    first = numpy(attack(x, y))
    kernel, bias = substitute.get_weights()
    substitute.set_weights([-kernel, bias])
    second = numpy(attack(x, y))  # the substitute's gradient flipped sign
    np.testing.assert_allclose(second - x, -(first - x), atol=1e-6)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({}, "either"),
        ({"preprocess": ops.round, "substitute": small_mlp()}, "either"),
        ({"substitute": small_mlp(), "approximation": ops.round}, "approximation"),
        ({"substitute": "identity"}, "substitute"),
        ({"preprocess": "round"}, "preprocess"),
    ],
)
def test_bpda_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        BPDA(small_mlp(), **kwargs)


# The attack-side calls of earlier releases


def test_attack_side_eot_warns_and_runs_the_attack_on_the_wrapped_model():
    model = small_mlp()
    attack = PGD(model, eps=0.1, steps=2, seed=1)
    with pytest.warns(DeprecationWarning, match="EoT\\(model, samples=5\\)"):
        eot = EoT(attack, n=5)
    assert type(eot) is PGD and isinstance(eot.model, EoT) and eot.model.samples == 5
    assert eot.model.model is model and attack.model is model  # the attack is left unchanged
    x = uniform_inputs(7, size=8)
    y = predictions(model, x)
    np.testing.assert_allclose(numpy(eot(x, y)), numpy(PGD(EoT(model, samples=5), eps=0.1, steps=2, seed=1)(x, y)))


def test_attack_side_bpda_warns_and_runs_the_attack_on_the_wrapped_model():
    model, body = rounding_model()
    with pytest.warns(DeprecationWarning, match="BPDA\\(model"):
        bpda = BPDA(PGD(model, eps=0.25, step_size=0.1, steps=5, random_start=False), body)
    assert type(bpda) is PGD and isinstance(bpda.model, BPDA) and bpda.model.substitute is body
    x = uniform_inputs(3, low=0.3, high=0.7)
    y = predictions(model, x)
    assert accuracy(model, numpy(bpda(x, y)), y) < 0.25


@pytest.mark.parametrize("wrapper", [EoT, lambda attack: BPDA(attack, small_mlp())])
def test_attack_side_wrappers_reject_black_box_attacks(wrapper):
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match="black-box"):
        wrapper(FakeBlackBox(small_mlp()))


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
