"""RVSM, RGSM and ADMM inside `model.fit`: Algorithm 1/2 and eq. (3) iterates, known sparse
answers, composition with the adversarial objectives, serialization."""

import math

import keras
import numpy as np
import pytest
from keras import ops

from hdl_keras.backend import input_grad
from hdl_keras.layers import MaskedDense
from hdl_keras.measure import zero_channel_fraction
from hdl_keras.measure import zero_weight_fraction
from hdl_keras.objectives import TRADES
from hdl_keras.objectives import PGDAdversarialTraining
from hdl_keras.objectives import TradeOff
from hdl_keras.pruning import ADMM
from hdl_keras.pruning import RGSM
from hdl_keras.pruning import RVSM
from hdl_keras.pruning import ADMMUpdate
from hdl_keras.pruning import RegularizerSum
from hdl_keras.pruning import ReplaceWithU
from hdl_keras.pruning import apply_admm
from hdl_keras.pruning import apply_rgsm
from hdl_keras.pruning import apply_rvsm
from hdl_keras.pruning import remove_splitting
from hdl_keras.recipes import add_weight_decay
from hdl_keras.testing import assert_config_round_trip
from hdl_keras.testing import assert_saved_model_round_trip
from hdl_keras.testing.toy_models import small_mlp

pytestmark = pytest.mark.backend_suite

# Keras' default `jit_compile="auto"` compiles on jax and tensorflow; on torch it runs
# eagerly (torch.compile costs 10-60 s per model on the shared CPU). The Algorithm 1 test
# compiles on every backend, torch included.
JIT = keras.backend.backend() != "torch"
ATTACK = {"eps": 0.1, "step_size": 0.05, "steps": 2, "seed": 0}


def to_numpy(value):
    return ops.convert_to_numpy(value)


def linear_model(kernel):
    """`x -> x @ kernel` (no bias), kernel `(features, outputs)`."""
    inputs = keras.Input((kernel.shape[0],))
    outputs = keras.layers.Dense(kernel.shape[1], use_bias=False, name="linear")(inputs)
    model = keras.Model(inputs, outputs)
    model.set_weights([kernel])
    return model


def regression_data(num_examples=8, num_features=4, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(num_examples, num_features)).astype("float32")
    y = rng.normal(size=(num_examples, 1)).astype("float32")
    return x, y


def mse_gradient(w, x, y):
    """Gradient of Keras' mean squared error `mean((x @ w - y)^2)` for one output."""
    return 2.0 / len(x) * x.T @ (x @ w - y)


def test_rvsm_epochs_with_sgd_equal_algorithm_1_iterates():
    x, y = regression_data()
    w0 = np.array([[0.5], [-0.1], [0.25], [-0.8]], "float32")
    beta, lam, eta = 1.0, 0.045, 0.1
    model = linear_model(w0)
    replace = apply_rvsm(model, beta=beta, lam=lam)
    model.compile(optimizer=keras.optimizers.SGD(eta), loss="mse", jit_compile=True)
    model.fit(x, y, batch_size=4, epochs=2, shuffle=False, callbacks=[replace], verbose=0)

    threshold = math.sqrt(2 * lam / beta)  # 0.3

    def hard(w):
        return np.where(np.abs(w) > threshold, w, 0.0)

    w = w0.astype(np.float64)
    for _ in range(2):
        for batch in range(2):
            xb, yb = x[4 * batch : 4 * batch + 4], y[4 * batch : 4 * batch + 4]
            # w <- w - eta grad f(w) - eta beta (w - u), u = H(w) (Algorithm 1).
            w = w - eta * mse_gradient(w, xb, yb) - eta * beta * (w - hard(w))
        w = hard(w)  # end of epoch: w <- u
    kernel = to_numpy(model.get_layer("linear").kernel)
    np.testing.assert_allclose(kernel, w, rtol=1e-5, atol=1e-7)
    assert np.array_equal(kernel == 0, w == 0) and (w == 0).any() and (w != 0).any()


def test_regularizer_gradients_are_the_w_step_terms():
    w = np.array([[3.0, 0.1, 0.0], [4.0, -0.1, 0.0]], "float32")
    tensor = ops.convert_to_tensor(w)
    rvsm = RVSM(beta=2.0, lam=0.04)  # threshold sqrt(0.04) = 0.2
    u = np.where(np.abs(w) > 0.2, w, 0.0)
    assert float(to_numpy(rvsm(tensor))) == pytest.approx(0.5 * 2.0 * np.sum((w - u) ** 2))
    np.testing.assert_allclose(to_numpy(input_grad(rvsm, tensor)), 2.0 * (w - u), rtol=1e-6)

    rgsm = RGSM(beta=2.0, lam1=0.25, lam2=0.5)  # group l0 threshold sqrt(0.25) = 0.5
    u = w * np.array([1.0, 0.0, 0.0])
    unit = np.stack([w[:, 0] / 5.0, w[:, 1] / np.linalg.norm(w[:, 1]), [0.0, 0.0]], axis=1)
    expected = 0.5 * unit + 2.0 * (w - u)
    np.testing.assert_allclose(to_numpy(input_grad(rgsm, tensor)), expected, rtol=1e-5)

    admm = ADMM(rho=0.5, sparsity=0.5)
    admm.u = ops.convert_to_tensor(np.ones_like(w))
    admm.z = ops.convert_to_tensor(np.full_like(w, 0.25))
    expected = 0.5 * (w - 1.0 + 0.25)
    np.testing.assert_allclose(to_numpy(input_grad(admm, tensor)), expected, rtol=1e-6)


def test_admm_epochs_equal_the_iterations_of_eq_3():
    x, y = regression_data()
    w0 = np.array([[0.5], [-0.1], [0.25], [-0.8]], "float32")
    rho, eta = 0.5, 0.1
    model = linear_model(w0)
    apply_admm(model, rho=rho, sparsity=0.5)
    model.compile(optimizer=keras.optimizers.SGD(eta), loss="mse", jit_compile=JIT)
    update = ADMMUpdate(hard_prune=True)
    model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0, callbacks=[update])

    def project(v):  # keep the 2 largest magnitudes of 4
        return np.where(np.abs(v) >= np.sort(np.abs(v.ravel()))[-2], v, 0.0)

    w = w0.astype(np.float64)
    u, z = project(w), np.zeros_like(w)
    for _ in range(2):
        for batch in range(2):
            xb, yb = x[4 * batch : 4 * batch + 4], y[4 * batch : 4 * batch + 4]
            w = w - eta * mse_gradient(w, xb, yb) - eta * rho * (w - u + z)
        u = project(w + z)
        z = z + w - u
    layer = model.get_layer("linear")
    state = {variable.name: to_numpy(variable) for variable in layer.non_trainable_weights}
    np.testing.assert_allclose(state["admm_u"], u, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(state["admm_z"], z, rtol=1e-4, atol=1e-6)
    # hard_prune: w <- u at the end; half of the weights are exact zeros.
    np.testing.assert_array_equal(to_numpy(layer.kernel), state["admm_u"])
    assert zero_weight_fraction(model) == 0.5


def test_rvsm_prunes_irrelevant_inputs_to_exact_zeros():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = (2.0 * x[:, :1] - 1.0 * x[:, 1:2] + 0.05 * rng.normal(size=(64, 1))).astype("float32")

    def train(split):
        keras.utils.set_random_seed(0)
        inputs = keras.Input((4,))
        model = keras.Model(inputs, keras.layers.Dense(1, name="linear")(inputs))
        callbacks = [apply_rvsm(model, beta=1.0, lam=0.02)] if split else []  # threshold 0.2
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse", jit_compile=JIT)
        model.fit(x, y, batch_size=16, epochs=15, callbacks=callbacks, verbose=0)
        return to_numpy(model.get_layer("linear").kernel)[:, 0], model

    kernel, model = train(split=True)
    np.testing.assert_array_equal(kernel[2:], 0.0)
    np.testing.assert_allclose(kernel[:2], [2.0, -1.0], atol=0.05)
    assert zero_weight_fraction(model) == 0.5
    # Plain training gets close to the same weights but leaves no exact zero.
    plain, _ = train(split=False)
    assert np.all(plain != 0) and np.all(np.abs(plain[2:]) < 0.05)


@pytest.mark.parametrize("channel_axis", [-1, -2], ids=["output_channels", "input_channels"])
def test_rgsm_prunes_irrelevant_conv_channels_to_exact_zeros(channel_axis):
    rng = np.random.default_rng(0)
    teacher = rng.normal(0.0, 0.5, size=(3, 3, 2, 3)).astype("float32")
    if channel_axis == -1:
        teacher[..., 2] = 0.0  # output channel 2 is always 0
    else:
        teacher[:, :, 1, :] = 0.0  # input channel 1 is never used
    x = rng.normal(size=(32, 4, 4, 2)).astype("float32")
    y = to_numpy(ops.conv(x, teacher, padding="same"))

    keras.utils.set_random_seed(0)
    inputs = keras.Input((4, 4, 2))
    conv = keras.layers.Conv2D(3, 3, padding="same", use_bias=False, name="conv")
    model = keras.Model(inputs, conv(inputs))
    # Group-l0 threshold sqrt(2 * lam1 / beta) = 0.5.
    replace = apply_rgsm(model, beta=1.0, lam1=0.125, lam2=1e-3, channel_axis=channel_axis)
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="mse", jit_compile=JIT)
    model.fit(x, y, batch_size=8, epochs=10, callbacks=[replace], verbose=0)

    kernel = to_numpy(model.get_layer("conv").kernel)
    if channel_axis == -1:
        np.testing.assert_array_equal(kernel[..., 2], 0.0)
        np.testing.assert_allclose(kernel[..., :2], teacher[..., :2], atol=0.05)
        assert zero_channel_fraction(model) == pytest.approx(1 / 3)
    else:
        np.testing.assert_array_equal(kernel[:, :, 1, :], 0.0)
        np.testing.assert_allclose(kernel[:, :, 0, :], teacher[:, :, 0, :], atol=0.05)
        assert zero_channel_fraction(model, channel_axis=-2) == 0.5


@pytest.mark.parametrize("cls", [PGDAdversarialTraining, TRADES, TradeOff], ids=lambda cls: cls.__name__)
def test_rvsm_adds_its_coupling_to_the_adversarial_objectives(cls):
    # One SGD step on the whole batch: the RVSM model's step is the plain model's step
    # minus eta * beta * (w0 - H(w0)), then w <- H(w) at the end of the epoch.
    rng = np.random.default_rng(0)
    x = rng.random((16, 4), dtype=np.float32)
    y = rng.integers(0, 3, 16)
    beta, lam, eta = 0.5, 0.01, 0.5  # threshold 0.2

    def fit(split):
        # small_mlp re-seeds keras, so both models start alike and draw the same random starts.
        model = cls.from_model(small_mlp(num_classes=3, num_features=4, seed=0), **ATTACK)
        initial = model.get_weights()
        callbacks = [apply_rvsm(model, beta=beta, lam=lam)] if split else []
        model.compile(optimizer=keras.optimizers.SGD(eta), jit_compile=JIT)
        history = model.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=callbacks)
        return initial, model, history

    initial, plain, plain_history = fit(split=False)
    _, split, history = fit(split=True)

    threshold = math.sqrt(2 * lam / beta)
    # The logged loss (at w0) is the objective plus (beta / 2) ||w0 - H(w0)||^2 per kernel.
    coupling = sum(
        0.5 * beta * np.sum((w0 - np.where(np.abs(w0) > threshold, w0, 0.0)) ** 2) for w0 in initial if w0.ndim == 2
    )
    expected_loss = plain_history.history["loss"][0] + coupling
    assert history.history["loss"][0] == pytest.approx(expected_loss, rel=1e-5)
    for w0, w_plain, w_split in zip(initial, plain.get_weights(), split.get_weights()):
        if w0.ndim == 1:  # biases: no regularizer
            np.testing.assert_allclose(w_split, w_plain, rtol=1e-5, atol=1e-6)
            continue
        u0 = np.where(np.abs(w0) > threshold, w0, 0.0)
        stepped = w_plain - eta * beta * (w0 - u0)
        expected = np.where(np.abs(stepped) > threshold, stepped, 0.0)
        np.testing.assert_allclose(w_split, expected, rtol=1e-5, atol=1e-6)
        assert np.array_equal(w_split == 0, expected == 0) and (expected == 0).any()


def test_replacement_happens_before_validation_and_not_in_evaluate():
    x, y = regression_data()
    model = linear_model(np.array([[0.5], [-0.1], [0.25], [-0.8]], "float32"))
    replace = apply_rvsm(model, beta=1.0, lam=0.045)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse", jit_compile=JIT)
    history = model.fit(
        x,
        y,
        batch_size=4,
        epochs=1,
        shuffle=False,
        verbose=0,
        callbacks=[replace],
        validation_data=(x, y),
    )
    kernel = to_numpy(model.get_layer("linear").kernel)
    # Validation saw u: its loss is the MSE at the sparse kernel, whose coupling term is 0.
    sparse_loss = float(np.mean((x @ kernel - y) ** 2))
    assert history.history["val_loss"][0] == pytest.approx(sparse_loss, rel=1e-5)
    # model.evaluate outside fit replaces nothing, even with the callback.
    model.get_layer("linear").kernel.assign(np.full((4, 1), 0.1, "float32"))
    model.evaluate(x, y, verbose=0, callbacks=[replace])
    np.testing.assert_allclose(to_numpy(model.get_layer("linear").kernel), 0.1)


def test_apply_keeps_an_existing_regularizer_and_remove_restores_it():
    model = small_mlp(num_classes=3, num_features=4, seed=0)
    add_weight_decay(model, 5e-4)
    apply_rvsm(model, beta=1.0, lam=0.02)
    kernel = model.layers[1].kernel
    assert isinstance(kernel.regularizer, RegularizerSum)
    value = to_numpy(kernel)
    u = np.where(np.abs(value) > 0.2, value, 0.0)
    expected = 2.5e-4 * np.sum(value**2) + 0.5 * np.sum((value - u) ** 2)
    assert float(to_numpy(kernel.regularizer(kernel))) == pytest.approx(expected, rel=1e-5)
    # A second apply replaces the splitting part only.
    apply_rgsm(model, beta=1.0, lam1=0.01, lam2=0.0)
    parts = kernel.regularizer.regularizers
    assert [type(part).__name__ for part in parts] == ["L2", "RGSM"]
    # The layer's config gets the splitting regularizer only: add_weight_decay's L2 is on
    # the variable, not in the config.
    assert isinstance(model.layers[1].kernel_regularizer, RGSM)
    remove_splitting(model)
    assert isinstance(kernel.regularizer, keras.regularizers.L2)
    assert model.layers[1].kernel_regularizer is None


def test_admm_state_is_attached_and_removed_and_not_saved(tmp_path):
    model = small_mlp(num_classes=3, num_features=4, seed=0)
    count = len(model.weights)
    apply_admm(model, rho=0.1, lam=0.01, structure="channel")
    # u and z for each of the two kernels; u starts at prox(w) (group soft threshold 0.1).
    assert len(model.weights) == count + 4
    layer = model.layers[1]
    u = {variable.name: to_numpy(variable) for variable in layer.non_trainable_weights}["admm_u"]
    kernel = to_numpy(layer.kernel)
    norms = np.linalg.norm(kernel, axis=0)
    np.testing.assert_allclose(u, kernel * np.maximum(norms - 0.1, 0.0) / norms, rtol=1e-5)

    x = np.random.default_rng(0).random((4, 4), dtype=np.float32)
    path = str(tmp_path / "admm.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert len(loaded.weights) == count
    assert loaded.layers[1].kernel.regularizer is None
    np.testing.assert_allclose(to_numpy(loaded(x)), to_numpy(model(x)), atol=1e-6)

    remove_splitting(model)
    assert len(model.weights) == count and layer.kernel.regularizer is None


def test_rvsm_and_rgsm_models_save_their_regularizers_and_train_after_loading(tmp_path):
    inputs = keras.Input((4,))
    hidden = MaskedDense(8, activation="relu", name="masked")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(3, name="head")(hidden))
    apply_rvsm(model, beta=0.5, lam=1e-3, layers=["masked"])
    apply_rgsm(model, beta=1.0, lam1=0.05, lam2=1e-4, layers=[model.get_layer("head")])
    x = np.random.default_rng(0).random((16, 4), dtype=np.float32)
    y = np.random.default_rng(1).integers(0, 3, 16)
    loaded = assert_saved_model_round_trip(model, x, tmp_path)
    assert loaded.get_layer("masked").kernel_regularizer.get_config() == {"beta": 0.5, "lam": 1e-3}
    assert isinstance(loaded.get_layer("head").kernel_regularizer, RGSM)
    # The masked layer's regularizer is on W (its kernel variable), not the gated kernel.
    assert isinstance(loaded.get_layer("masked").unmasked_kernel.regularizer, RVSM)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    loaded.compile(optimizer="sgd", loss=loss, jit_compile=JIT)
    loaded.fit(x, y, epochs=1, batch_size=8, verbose=0, callbacks=[ReplaceWithU()])
    head = to_numpy(loaded.get_layer("head").kernel)
    norms = np.linalg.norm(head, axis=0)
    assert np.all((norms == 0) | (norms > math.sqrt(0.1)))


@pytest.mark.parametrize(
    "obj",
    [
        RVSM(beta=0.5, lam=1e-6),
        RGSM(beta=1.0, lam1=0.05, lam2=1e-5, penalty="group_lasso", channel_axis=-2),
        ADMM(rho=0.01, sparsity=0.8, structure="channel"),
        RegularizerSum([keras.regularizers.L2(1e-4), RVSM(beta=1.0, lam=1e-3)]),
        ReplaceWithU(),
        ADMMUpdate(update_every=3, hard_prune=True),
    ],
    ids=lambda obj: type(obj).__name__,
)
def test_config_round_trip(obj):
    assert_config_round_trip(obj)


def test_callbacks_without_their_kernels_raise():
    model = linear_model(np.ones((4, 1), "float32"))
    model.compile(optimizer="sgd", loss="mse")
    x, y = regression_data()
    with pytest.raises(ValueError, match="apply_rvsm"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[ReplaceWithU()])
    with pytest.raises(ValueError, match="apply_admm"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[ADMMUpdate()])
    with pytest.raises(ValueError, match="has no state"):
        ADMM(rho=1.0, lam=0.1)(ops.ones((2, 2)))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda model: apply_rvsm(model, beta=0.0, lam=1e-6), "beta=0.0"),
        (lambda model: apply_rgsm(model, beta=1.0, lam1=-1.0, lam2=0.0), "lam1=-1.0"),
        (lambda model: apply_rgsm(model, 1.0, 0.1, 0.0, penalty="l0"), "penalty='l0'"),
        (lambda model: apply_rgsm(model, 1.0, 0.1, 0.0, channel_axis=0), "channel_axis=0"),
        (lambda model: apply_admm(model, rho=1.0), "lam=None, sparsity=None"),
        (lambda model: apply_admm(model, rho=1.0, lam=0.1, sparsity=0.5), "lam=0.1, sparsity=0.5"),
        (lambda model: apply_admm(model, 1.0, lam=0.1, structure="filter"), "structure='filter'"),
        (lambda model: apply_rvsm(model, 1.0, 1e-6, layers=["missing"]), "Received: 'missing'"),
        (lambda model: ADMMUpdate(update_every=0), "update_every=0"),
        (lambda model: RegularizerSum([]), "regularizers=[]"),
    ],
)
def test_invalid_arguments_are_reported(call, message):
    model = linear_model(np.ones((4, 1), "float32"))
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        call(model)
    # Nothing was attached by a failed call.
    assert model.get_layer("linear").kernel.regularizer is None
