import keras
import numpy as np
import pytest

from hdl_keras.layers import MaskedConv2D
from hdl_keras.layers import MaskedDense
from hdl_keras.layers import MaskedKernelMixin
from hdl_keras.measure import count_zero_weights
from hdl_keras.layers import export_pruned
from hdl_keras.testing import assert_config_round_trip
from hdl_keras.testing import assert_saved_model_round_trip

pytestmark = pytest.mark.backend_suite

# (masked class, plain class, constructor kwargs, input shape without batch).
CASES = {
    "dense": (MaskedDense, keras.layers.Dense, {"units": 3}, (5,)),
    "conv": (
        MaskedConv2D,
        keras.layers.Conv2D,
        {"filters": 3, "kernel_size": 2, "padding": "same"},
        (4, 4, 2),
    ),
}


def to_numpy(value):
    return keras.ops.convert_to_numpy(value)


def random_inputs(shape, seed=0):
    return np.random.default_rng(seed).normal(size=(2, *shape)).astype("float32")


def build_pair(case, **mask_kwargs):
    """A built masked layer and a plain layer sharing its kernel and bias."""
    masked_class, plain_class, kwargs, shape = CASES[case]
    masked = masked_class(**kwargs, **mask_kwargs)
    masked.build((None, *shape))
    rng = np.random.default_rng(1)
    kernel = rng.normal(size=masked.unmasked_kernel.shape).astype("float32")
    bias = rng.normal(size=masked.bias.shape).astype("float32")
    masked.unmasked_kernel.assign(kernel)
    masked.bias.assign(bias)
    plain = plain_class(**kwargs)
    plain.build((None, *shape))
    return masked, plain, kernel, bias, shape


@pytest.mark.parametrize("case", sorted(CASES))
def test_positive_logits_at_large_beta_give_the_plain_layer(case):
    masked, plain, kernel, bias, shape = build_pair(case, mask_init=20.0, beta=50.0)
    plain.set_weights([kernel, bias])
    x = random_inputs(shape)
    np.testing.assert_allclose(to_numpy(masked(x)), to_numpy(plain(x)), atol=1e-5)


@pytest.mark.parametrize("case", sorted(CASES))
def test_zero_logits_halve_the_kernel(case):
    masked, plain, kernel, bias, shape = build_pair(case)  # mask_init=0, beta=1
    plain.set_weights([0.5 * kernel, bias])
    x = random_inputs(shape)
    np.testing.assert_allclose(to_numpy(masked(x)), to_numpy(plain(x)), atol=1e-5)
    np.testing.assert_allclose(to_numpy(masked.kernel), 0.5 * kernel, atol=1e-6)


@pytest.mark.parametrize("case", sorted(CASES))
def test_weights_mask_and_sparsity(case):
    masked, _, kernel, _, _ = build_pair(case, mask_init=0.5, beta=2.0)
    assert masked.trainable_weights == [
        masked.unmasked_kernel,
        masked.bias,
        masked.mask_logits,
    ]
    assert masked.non_trainable_weights == [masked.beta]
    assert masked.s is masked.mask_logits
    assert tuple(masked.beta.shape) == ()
    np.testing.assert_allclose(to_numpy(masked.mask_logits), 0.5)

    # Half the logits negative, a quarter exactly zero, a quarter positive.
    size = kernel.size
    logits = np.full(size, 1.5, "float32")
    logits[: size // 2] = -1.0
    logits[size // 2 : 3 * size // 4] = 0.0
    logits = logits.reshape(kernel.shape)
    masked.mask_logits.assign(logits)

    gate = 1.0 / (1.0 + np.exp(-2.0 * logits))
    np.testing.assert_allclose(to_numpy(masked.mask()), gate, atol=1e-6)
    np.testing.assert_allclose(float(to_numpy(masked.sparsity_penalty())), gate.sum(), rtol=1e-5)
    hard = (logits > 0).astype("float32")
    np.testing.assert_array_equal(to_numpy(masked.hard_mask()), hard)
    pruned = to_numpy(masked.pruned_kernel())
    np.testing.assert_array_equal(pruned[logits <= 0], 0.0)
    np.testing.assert_array_equal(pruned[logits > 0], kernel[logits > 0])
    sparsity = masked.sparsity()
    assert isinstance(sparsity, float)
    assert sparsity == pytest.approx((logits <= 0).mean())


@pytest.mark.parametrize("case", sorted(CASES))
def test_channel_gates_share_one_logit_per_output_channel(case):
    masked, _, kernel, _, _ = build_pair(case, beta=2.0, gate_scale=2.0, granularity="channel")
    channels = kernel.shape[-1]
    assert tuple(masked.mask_logits.shape) == (1,) * (kernel.ndim - 1) + (channels,)
    logits = np.array([-1.0, 0.0, 1.5], "float32").reshape(masked.mask_logits.shape)
    masked.mask_logits.assign(logits)

    gate = np.broadcast_to(2.0 / (1.0 + np.exp(-2.0 * logits)), kernel.shape)
    np.testing.assert_allclose(to_numpy(masked.mask()), gate, atol=1e-6)
    # Summed over the kernel's entries: `fan * gate` per channel, so lambda weighs a kept weight as before.
    fan = kernel.size // channels
    np.testing.assert_allclose(
        float(to_numpy(masked.sparsity_penalty())), fan * (2.0 / (1.0 + np.exp(-2.0 * logits))).sum(), rtol=1e-5
    )
    pruned = to_numpy(masked.pruned_kernel())
    np.testing.assert_array_equal(pruned[..., :2], 0.0)  # s <= 0: the whole channel
    np.testing.assert_allclose(pruned[..., 2], 2.0 * kernel[..., 2])
    np.testing.assert_array_equal(to_numpy(masked.hard_mask()), np.broadcast_to(logits > 0, kernel.shape))
    assert masked.sparsity() == pytest.approx(2 / 3)


def test_channel_gates_train_save_and_shrink_to_the_open_channels(tmp_path):
    """A channel-gated network: the penalty closes gates in `fit`, the `.keras` file keeps
    them, and `shrink` of the hard-pruned network drops the closed channels, same predictions."""
    from hdl_keras.layers import to_masked
    from hdl_keras.models import small_cnn
    from hdl_keras.pruning import shrink

    masked = to_masked(small_cnn(filters=(4, 8), dense_units=8), granularity="channel")
    layers = [layer for layer in masked.layers if isinstance(layer, MaskedKernelMixin)]
    assert layers and all(layer.granularity == "channel" for layer in layers)
    x = np.random.default_rng(0).random((16, 28, 28, 1), dtype=np.float32)
    y = np.arange(16) % 10
    before = [to_numpy(layer.mask_logits).copy() for layer in layers]
    masked.compile(optimizer=keras.optimizers.SGD(0.1), loss=keras.losses.SparseCategoricalCrossentropy(True))
    masked.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert any(not np.array_equal(to_numpy(layer.mask_logits), old) for layer, old in zip(layers, before))

    for layer in layers:  # every gate open, then half of the second convolution's 8 filters closed
        layer.mask_logits.assign(np.ones(layer.mask_logits.shape, "float32"))
    conv = masked.get_layer(layers[1].name)
    conv.mask_logits.assign(np.where(np.arange(8) % 2 == 0, -1.0, 1.0).reshape(1, 1, 1, 8).astype("float32"))
    loaded = assert_saved_model_round_trip(masked, x, tmp_path)
    np.testing.assert_array_equal(to_numpy(loaded.get_layer(conv.name).mask_logits), to_numpy(conv.mask_logits))

    pruned = export_pruned(masked)
    small = shrink(pruned)
    assert small.get_layer(conv.name).filters == 4
    np.testing.assert_allclose(to_numpy(small(x)), to_numpy(pruned(x)), atol=1e-4)


class Penalized(keras.Model):
    """Cross-entropy plus `penalty * sum(sigmoid(beta * s))` over masked layers."""

    def __init__(self, penalty, **kwargs):
        super().__init__(**kwargs)
        self.penalty = penalty
        self.conv = MaskedConv2D(2, 2)
        self.flatten = keras.layers.Flatten()
        self.dense = MaskedDense(3)

    def call(self, inputs):
        return self.dense(self.flatten(self.conv(inputs)))

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        loss = super().compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=training)
        penalty = self.conv.sparsity_penalty() + self.dense.sparsity_penalty()
        return loss + self.penalty * penalty


def test_training_updates_kernel_and_logits():
    model = Penalized(penalty=0.1)
    x = random_inputs((4, 4, 1))
    y = np.array([0, 2])
    model(x)
    before = [to_numpy(w) for w in model.weights]
    model.compile(
        optimizer=keras.optimizers.SGD(0.1),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    model.fit(x, y, epochs=3, batch_size=2, verbose=0)
    for layer in (model.conv, model.dense):
        names = [w.path for w in model.weights]
        kernel_before = before[names.index(layer.unmasked_kernel.path)]
        logits_before = before[names.index(layer.mask_logits.path)]
        assert not np.allclose(to_numpy(layer.unmasked_kernel), kernel_before)
        logits = to_numpy(layer.mask_logits)
        assert not np.allclose(logits, logits_before)
        # The positive penalty dominates: the logits go down on average.
        assert logits.mean() < logits_before.mean()
        assert float(to_numpy(layer.beta)) == 1.0  # not trainable


def functional_model():
    inputs = keras.Input((6, 6, 2))
    x = MaskedConv2D(4, 3, activation="relu", name="masked_conv")(inputs)
    x = keras.layers.BatchNormalization(name="norm")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = MaskedDense(8, activation="relu", name="masked_hidden")(x)
    outputs = keras.layers.Dense(3, name="logits")(x)
    return keras.Model(inputs, outputs, name="masked_net")


def sequential_model():
    return keras.Sequential(
        [
            keras.Input((6, 6, 2)),
            MaskedConv2D(4, 3, use_bias=False, name="masked_conv"),
            keras.layers.Flatten(name="flatten"),
            MaskedDense(3, name="masked_logits"),
        ],
        name="masked_sequential",
    )


def randomize(model, beta, zero_logits=False):
    """Random weights, logits of +-[0.5, 2] (the first one 0 if asked), beta."""
    rng = np.random.default_rng(2)
    for layer in model.layers:
        weights = [rng.uniform(0.5, 1.5, w.shape).astype("float32") for w in layer.weights]
        layer.set_weights(weights)
        if isinstance(layer, MaskedKernelMixin):
            shape = layer.mask_logits.shape
            logits = rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
            if zero_logits:
                logits[(0,) * len(shape)] = 0.0
            layer.mask_logits.assign(logits.astype("float32"))
            layer.beta.assign(beta)


@pytest.mark.parametrize("build", [functional_model, sequential_model])
def test_export_pruned_matches_at_large_beta(build):
    model = build()
    randomize(model, beta=1000.0)  # every |s| >= 0.5: sigmoid(beta * s) is 0 or 1
    exported = export_pruned(model)
    assert type(exported) is type(model)
    assert exported.name == model.name
    assert [layer.name for layer in exported.layers] == [layer.name for layer in model.layers]
    for layer, plain in zip(model.layers, exported.layers):
        if isinstance(layer, MaskedKernelMixin):
            assert type(plain) in (keras.layers.Dense, keras.layers.Conv2D)
            assert isinstance(layer, type(plain))
        else:
            assert type(plain) is type(layer)
    x = random_inputs(model.input_shape[1:])
    np.testing.assert_allclose(to_numpy(exported(x)), to_numpy(model(x)), atol=1e-5, rtol=0)


@pytest.mark.parametrize("build", [functional_model, sequential_model])
def test_export_pruned_zeroes_nonpositive_logits(build):
    model = build()
    randomize(model, beta=1.0, zero_logits=True)
    exported = export_pruned(model)
    zeros = total = 0
    for layer, plain in zip(model.layers, exported.layers):
        if isinstance(layer, MaskedKernelMixin):
            kernel = to_numpy(plain.kernel)
            logits = to_numpy(layer.mask_logits)
            assert (logits == 0).any()
            np.testing.assert_array_equal(kernel[logits <= 0], 0.0)
            np.testing.assert_array_equal(kernel[logits > 0], to_numpy(layer.unmasked_kernel)[logits > 0])
            zeros += int((logits <= 0).sum())
            total += logits.size
            if layer.use_bias:
                np.testing.assert_array_equal(to_numpy(plain.bias), to_numpy(layer.bias))
        elif hasattr(layer, "kernel"):
            total += int(np.prod(layer.kernel.shape))
        else:
            for weight, copied in zip(layer.weights, plain.weights):
                np.testing.assert_array_equal(to_numpy(copied), to_numpy(weight))
    assert count_zero_weights(model) == (zeros, total)
    assert count_zero_weights(exported) == (zeros, total)


def test_export_keeps_the_original_untouched():
    model = sequential_model()
    randomize(model, beta=1000.0)
    weights = [to_numpy(w) for w in model.weights]
    export_pruned(model)
    for weight, value in zip(model.weights, weights):
        np.testing.assert_array_equal(to_numpy(weight), value)


@pytest.mark.parametrize("case", sorted(CASES))
def test_config_round_trip(case):
    masked_class, _, kwargs, _ = CASES[case]
    layer = masked_class(**kwargs, mask_init=-0.25, beta=3.0, gate_scale=2.0, granularity="channel")
    config = layer.get_config()
    assert config["mask_init"] == -0.25
    assert config["beta"] == 3.0 and config["gate_scale"] == 2.0 and config["granularity"] == "channel"
    rebuilt = assert_config_round_trip(layer)
    assert rebuilt.mask_init == -0.25 and rebuilt.initial_beta == 3.0 and rebuilt.gate_scale == 2.0
    assert rebuilt.granularity == "channel"
    # A config saved before the options existed: the equations' gate, one per weight.
    config.pop("gate_scale")
    config.pop("granularity")
    old = masked_class.from_config(config)
    assert old.gate_scale == 1.0 and old.granularity == "weight"


def test_gate_scale_scales_gate_penalty_and_pruned_kernel(tmp_path):
    inputs = keras.Input((3,))
    model = keras.Model(inputs, MaskedDense(2, gate_scale=2.0, name="gated")(inputs))
    layer = model.get_layer("gated")
    layer.mask_logits.assign(np.array([[1.0, -1.0]] * 3, dtype="float32"))
    layer.beta.assign(50.0)
    gate = to_numpy(layer.mask())
    np.testing.assert_allclose(gate, 2.0 / (1.0 + np.exp(-50.0 * to_numpy(layer.mask_logits))), rtol=1e-6)
    np.testing.assert_allclose(to_numpy(layer.sparsity_penalty()), gate.sum(), rtol=1e-6)
    np.testing.assert_allclose(to_numpy(layer.pruned_kernel()), 2.0 * to_numpy(layer.unmasked_kernel) * [1.0, 0.0])
    x = random_inputs((3,))
    np.testing.assert_allclose(to_numpy(export_pruned(model)(x)), to_numpy(model(x)), atol=1e-5)
    loaded = assert_saved_model_round_trip(model, x, tmp_path)
    assert loaded.get_layer("gated").gate_scale == 2.0


def test_saved_model_round_trip_keeps_logits_and_beta(tmp_path):
    model = functional_model()
    randomize(model, beta=7.0)
    x = random_inputs(model.input_shape[1:])
    loaded = assert_saved_model_round_trip(model, x, tmp_path)
    for name in ("masked_conv", "masked_hidden"):
        layer, restored = model.get_layer(name), loaded.get_layer(name)
        assert type(restored) is type(layer)
        for attribute in ("unmasked_kernel", "bias", "mask_logits", "beta"):
            np.testing.assert_array_equal(
                to_numpy(getattr(restored, attribute)),
                to_numpy(getattr(layer, attribute)),
            )
    assert float(to_numpy(loaded.get_layer("masked_hidden").beta)) == 7.0


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize(
    "bad",
    [
        {"mask_init": "0"},
        {"mask_init": None},
        {"mask_init": True},
        {"mask_init": float("nan")},
        {"beta": 0.0},
        {"beta": -1.0},
        {"beta": "1"},
        {"beta": float("inf")},
        {"gate_scale": 0.0},
        {"gate_scale": "2"},
        {"granularity": "filter"},
        {"granularity": None},
    ],
)
def test_bad_arguments_raise(case, bad):
    masked_class, _, kwargs, _ = CASES[case]
    with pytest.raises(ValueError, match="Received:"):
        masked_class(**kwargs, **bad)


@pytest.mark.parametrize("case", sorted(CASES))
def test_lora_and_quantization_are_rejected(case):
    masked_class, _, kwargs, shape = CASES[case]
    with pytest.raises(ValueError, match="Received: lora_rank=2"):
        masked_class(**kwargs, lora_rank=2)
    layer = masked_class(**kwargs)
    layer.build((None, *shape))
    with pytest.raises(NotImplementedError):
        layer.enable_lora(2)
    with pytest.raises(NotImplementedError):
        layer.quantize("int8")


def test_to_masked_keeps_predictions_at_open_gates_and_export_inverts_it():
    from hdl_keras.layers import to_masked
    from hdl_keras.models import small_cnn

    model = small_cnn(filters=(4, 8), dense_units=8)
    x = np.random.default_rng(0).random((3, 28, 28, 1), dtype=np.float32)
    masked = to_masked(model, mask_init=10.0, gate_scale=1.0)
    kinds = {type(layer).__name__ for layer in masked.layers}
    assert {"MaskedConv2D", "MaskedDense"} <= kinds and not {"Conv2D", "Dense"} & kinds
    for layer in masked.layers:
        if hasattr(layer, "beta"):
            layer.beta.assign(10.0)
    expected = keras.ops.convert_to_numpy(model(x))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(masked(x)), expected, atol=1e-4)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(export_pruned(masked)(x)), expected, atol=1e-5)
    # The default gate scale 1 / sigmoid(s0) makes fresh gates exactly 1 (s0 = 0: at any beta).
    fresh = to_masked(model)
    assert all(layer.gate_scale == 2.0 for layer in fresh.layers if hasattr(layer, "beta"))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(fresh(x)), expected, atol=1e-5)
