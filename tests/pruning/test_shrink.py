import os

import keras
import numpy as np
import pytest

from hdl_keras import models
from hdl_keras.layers import ConstantChannelsBias
from hdl_keras.layers import export_pruned
from hdl_keras.measure import count_flops
from hdl_keras.measure import count_parameters
from hdl_keras.measure import model_summary
from hdl_keras.layers import to_masked
from hdl_keras.pruning import shrink
from hdl_keras.testing import assert_config_round_trip
from hdl_keras.testing import assert_saved_model_round_trip

pytestmark = pytest.mark.backend_suite

SMALL_CNN = {"input_shape": (8, 8, 1), "filters": (8, 16, 16), "dense_units": 16}

# Zoo architectures at the smallest sizes their builders allow (one size per
# architecture, so that jax compiles each shape once). vgg16 (no width
# argument: 15 M parameters) and en2_resnet20 have their own tests below.
ZOO = {
    "mlp": ({"input_shape": (12,), "hidden_units": (16, 16)}, (12,)),
    "small_cnn": (SMALL_CNN, (8, 8, 1)),
    "alexnet": (
        {"input_shape": (8, 8, 1), "width": 0.125, "dense_units": (16, 16)},
        (8, 8, 1),
    ),
    "resnet20": ({"input_shape": (8, 8, 3)}, (8, 8, 3)),
}


def numpy(value):
    return keras.ops.convert_to_numpy(value)


def predictions(model, x):
    return numpy(model(x, training=False))


def randomize_batch_norm(model, rng):
    """Random BN statistics: a zero filter's BN output is then a nonzero constant."""
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            gamma, beta, mean, variance = layer.get_weights()
            layer.set_weights(
                [
                    rng.normal(1.0, 0.3, gamma.shape),
                    rng.normal(0.0, 0.5, beta.shape),
                    rng.normal(0.0, 0.5, mean.shape),
                    rng.uniform(0.5, 2.0, variance.shape),
                ]
            )


def zero_filters(layer, indices, rng=None):
    """Zeroes the given output channels of a kernel; random nonzero biases."""
    weights = layer.get_weights()
    weights[0][..., indices] = 0.0
    if rng is not None and len(weights) > 1:
        weights[1] = rng.normal(0.0, 0.5, weights[1].shape)
    layer.set_weights(weights)


def prune_randomly(model, fraction, rng):
    """Zeroes `fraction` of the filters of every Dense/Conv2D but the logits."""
    for layer in model.layers:
        if isinstance(layer, (keras.layers.Dense, keras.layers.Conv2D)):
            if layer.name.endswith("logits"):
                continue
            channels = layer.get_weights()[0].shape[-1]
            count = int(channels * fraction)
            zero_filters(layer, rng.choice(channels, count, replace=False), rng)


def check_shrink_preserves_predictions(model, input_shape, seed=0):
    """Prunes half of the channels at random, shrinks, compares predictions."""
    rng = np.random.default_rng(seed)
    randomize_batch_norm(model, rng)
    prune_randomly(model, 0.5, rng)
    x = rng.uniform(size=(3, *input_shape)).astype("float32")

    shrunk = shrink(model)

    np.testing.assert_allclose(predictions(shrunk, x), predictions(model, x), atol=1e-5, rtol=0)
    assert shrunk.name == model.name
    assert count_parameters(shrunk) < 0.75 * count_parameters(model)
    assert count_flops(shrunk) < 0.75 * count_flops(model)
    return shrunk


@pytest.mark.parametrize("name", list(ZOO))
def test_shrink_preserves_predictions_on_the_zoo(name):
    kwargs, input_shape = ZOO[name]
    check_shrink_preserves_predictions(models.get(name, **kwargs), input_shape)


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="15 M parameters: tested in the tensorflow run (the layers are "
    "those of resnet20 and small_cnn, tested on every backend)",
)
def test_shrink_preserves_predictions_on_vgg16():
    shrunk = check_shrink_preserves_predictions(models.vgg16(dense_units=16), (32, 32, 3))
    assert shrunk.get_layer("block5_conv3").filters == 256


def test_zero_units_of_an_mlp_are_removed_and_their_bias_folded():
    rng = np.random.default_rng(1)
    model = models.mlp((20,), num_classes=3, hidden_units=(8, 8))
    zero_filters(model.get_layer("dense1"), [0, 2, 4, 6], rng)
    zero_filters(model.get_layer("dense2"), [1, 3, 5, 7], rng)
    x = rng.normal(size=(5, 20)).astype("float32")

    shrunk = shrink(model)

    assert shrunk.get_layer("dense1").units == 4
    assert shrunk.get_layer("dense2").units == 4
    # Multiply-adds: 20*8 + 8*8 + 8*3 = 248 before, 20*4 + 4*4 + 4*3 = 108 after.
    assert count_flops(model) == 248
    assert count_flops(shrunk) == 108
    np.testing.assert_allclose(predictions(shrunk, x), predictions(model, x), atol=1e-5, rtol=0)


def test_channels_no_layer_reads_are_removed():
    model = models.mlp((6,), num_classes=2, hidden_units=(5,))
    logits = model.get_layer("logits")
    kernel, bias = logits.get_weights()
    kernel[[1, 2], :] = 0.0  # Hidden units 1 and 2 feed nothing.
    logits.set_weights([kernel, bias])
    x = np.random.default_rng(2).normal(size=(4, 6)).astype("float32")

    shrunk = shrink(model)

    assert shrunk.get_layer("dense1").units == 3
    np.testing.assert_allclose(predictions(shrunk, x), predictions(model, x), atol=1e-5, rtol=0)


def test_softmax_units_are_not_constant():
    inputs = keras.Input((4,))
    hidden = keras.layers.Dense(3, activation="softmax", name="gate")(inputs)
    outputs = keras.layers.Activation("softmax", name="probs")(keras.layers.Dense(2, name="logits")(hidden))
    model = keras.Model(inputs, outputs)
    zero_filters(model.get_layer("gate"), [0])  # softmax: still input-dependent
    x = np.random.default_rng(10).normal(size=(4, 4)).astype("float32")

    shrunk = shrink(model)

    assert shrunk.get_layer("gate").units == 3
    np.testing.assert_allclose(predictions(shrunk, x), predictions(model, x), atol=1e-6, rtol=0)


def test_a_layer_with_only_zero_units_keeps_one():
    rng = np.random.default_rng(3)
    model = models.mlp((6,), num_classes=2, hidden_units=(4, 4))
    zero_filters(model.get_layer("dense2"), [0, 1, 2, 3], rng)
    x = rng.normal(size=(4, 6)).astype("float32")

    shrunk = shrink(model)

    assert shrunk.get_layer("dense2").units == 1
    np.testing.assert_allclose(predictions(shrunk, x), predictions(model, x), atol=1e-5, rtol=0)


def test_unpruned_model_is_unchanged():
    model = models.small_cnn(**SMALL_CNN)
    x = np.random.default_rng(4).uniform(size=(2, 8, 8, 1)).astype("float32")

    shrunk = shrink(model)

    for original, rebuilt in zip(model.layers, shrunk.layers, strict=True):
        assert rebuilt.get_config() == original.get_config()  # initializers too
    assert count_parameters(shrunk) == count_parameters(model)
    np.testing.assert_allclose(predictions(shrunk, x), predictions(model, x), atol=1e-6, rtol=0)


def _conv_bn_net(padding):
    inputs = keras.Input((6, 6, 2))
    x = keras.layers.Conv2D(4, 3, padding=padding, use_bias=False, name="conv1")(inputs)
    x = keras.layers.BatchNormalization(name="bn1")(x)
    x = keras.layers.Activation("relu", name="relu1")(x)
    x = keras.layers.Conv2D(3, 3, padding=padding, name="conv2")(x)
    x = keras.layers.AveragePooling2D(2, padding="same", name="pool")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    return keras.Model(inputs, keras.layers.Dense(2, name="logits")(x))


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_batch_norm_constant_of_a_removed_channel_is_folded(padding):
    rng = np.random.default_rng(5)
    model = _conv_bn_net(padding)
    randomize_batch_norm(model, rng)
    bn = model.get_layer("bn1")
    gamma, beta, mean, variance = bn.get_weights()
    beta[:] = 1.0 + gamma * mean / np.sqrt(variance + bn.epsilon)  # relu(bn(0)) = 1
    bn.set_weights([gamma, beta, mean, variance])
    zero_filters(model.get_layer("conv1"), [1, 3])
    x = rng.normal(size=(3, 6, 6, 2)).astype("float32")

    shrunk = shrink(model)

    assert shrunk.get_layer("conv1").filters == 2
    np.testing.assert_allclose(shrunk.get_layer("bn1").get_weights()[1], beta[[0, 2]])
    np.testing.assert_allclose(predictions(shrunk, x), predictions(model, x), atol=1e-5, rtol=0)
    bias_layers = [layer for layer in shrunk.layers if isinstance(layer, ConstantChannelsBias)]
    if padding == "valid":  # Folded into conv2's bias: 1 * sum of the removed slices.
        assert not bias_layers
        kernel, bias = model.get_layer("conv2").get_weights()
        np.testing.assert_allclose(
            shrunk.get_layer("conv2").get_weights()[1],
            bias + kernel[:, :, [1, 3], :].sum(axis=(0, 1, 2)),
            rtol=1e-6,
        )
    else:  # The border sees fewer taps: a position-aware bias.
        assert [layer.name for layer in bias_layers] == ["conv2_constant_channels"]


def _stage3_conv2_layers(model):
    return [model.get_layer(f"stage3_block{block}_conv2") for block in (1, 2, 3)]


def test_residual_stream_channels_go_when_constant_in_every_contributor():
    rng = np.random.default_rng(6)
    model = models.resnet20(input_shape=(8, 8, 3))
    randomize_batch_norm(model, rng)
    # Stage 3 (64 channels) starts from a shortcut padding 32 channels with
    # 16 zeros on each side: channels 0-15 and 48-63 come only from conv2s.
    stream = [0, 3, 7, 50, 63]
    for layer in _stage3_conv2_layers(model):
        zero_filters(layer, stream)
    x = rng.uniform(size=(2, 8, 8, 3)).astype("float32")

    shrunk = shrink(model)

    for block in (1, 2, 3):
        assert shrunk.get_layer(f"stage3_block{block}_add").output.shape[-1] == 59
    assert shrunk.get_layer("stage3_block1_shortcut_pad").padding == (13, 14)
    assert shrunk.get_layer("logits").get_weights()[0].shape == (59, 10)
    np.testing.assert_allclose(predictions(shrunk, x), predictions(model, x), atol=1e-5, rtol=0)


def test_residual_stream_channel_stays_when_one_contributor_uses_it():
    model = models.resnet20(input_shape=(8, 8, 3))
    for layer in _stage3_conv2_layers(model)[:2]:  # Not block 3.
        zero_filters(layer, [0, 3])
    zero_filters(model.get_layer("stage2_block3_conv2"), [5])  # Stage 2 too.

    shrunk = shrink(model)

    assert shrunk.get_layer("stage3_block1_add").output.shape[-1] == 64
    assert shrunk.get_layer("stage2_block3_add").output.shape[-1] == 32
    assert shrunk.get_layer("stage3_block1_conv2").filters == 64


def test_en2_resnet20_keeps_its_noisy_streams_and_draws_the_same_noise():
    rng = np.random.default_rng(7)
    model = models.en2_resnet20(input_shape=(8, 8, 3), seed=5)
    randomize_batch_norm(model, rng)
    prune_randomly(model, 0.5, rng)
    for member in ("member1_", "member2_"):
        for block in (1, 2, 3):  # A constant stream channel: noise reads it.
            zero_filters(model.get_layer(f"{member}stage3_block{block}_conv2"), [0])
    x = rng.uniform(size=(2, 8, 8, 3)).astype("float32")

    shrunk = shrink(model)

    assert shrunk.get_layer("member1_stage3_block1_add").output.shape[-1] == 64
    assert shrunk.get_layer("member2_stage3_block2_conv1").filters == 32
    assert count_parameters(shrunk) < 0.75 * count_parameters(model)
    np.testing.assert_allclose(predictions(shrunk, x), predictions(model, x), atol=1e-5, rtol=0)


def test_masked_layers_become_plain_layers_with_their_effective_kernel():
    rng = np.random.default_rng(8)
    plain = models.small_cnn(**SMALL_CNN)
    prune_randomly(plain, 0.5, rng)
    model = to_masked(plain, mask_init=0.5)
    x = rng.uniform(size=(2, 8, 8, 1)).astype("float32")

    shrunk = shrink(model)

    assert {type(layer).__name__ for layer in shrunk.layers} >= {"Conv2D", "Dense"}
    assert not any("Masked" in type(layer).__name__ for layer in shrunk.layers)
    assert shrunk.get_layer("conv1").filters == 4
    np.testing.assert_allclose(predictions(shrunk, x), predictions(model, x), atol=1e-5, rtol=0)
    # The hard-pruned export shrinks the same way.
    assert shrink(export_pruned(model)).get_layer("conv1").filters == 4


def test_sequential_model_is_shrunk_to_a_functional_one():
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(4, name="hidden"), keras.layers.Dense(2)])
    zero_filters(model.get_layer("hidden"), [0])

    shrunk = shrink(model)

    assert shrunk.get_layer("hidden").units == 3
    x = np.ones((2, 5), "float32")
    np.testing.assert_allclose(predictions(shrunk, x), predictions(model, x), atol=1e-6)


def test_shrunk_model_saves_to_a_smaller_keras_file(tmp_path):
    rng = np.random.default_rng(9)
    model = models.small_cnn(**SMALL_CNN)
    prune_randomly(model, 0.5, rng)
    shrunk = shrink(model)
    assert any(isinstance(layer, ConstantChannelsBias) for layer in shrunk.layers)
    x = rng.uniform(size=(2, 8, 8, 1)).astype("float32")

    assert_saved_model_round_trip(shrunk, x, tmp_path)
    model.save(tmp_path / "original.keras")
    assert os.path.getsize(tmp_path / "round_trip.keras") < os.path.getsize(tmp_path / "original.keras")


def test_constant_channels_bias_adds_the_zero_padded_response():
    layer = ConstantChannelsBias((3, 3), 3, activation="relu")
    layer.build((None, 3, 3, 2))
    kernel = np.zeros((3, 3, 2), "float32")
    kernel[..., 0] = 1.0
    kernel[..., 1] = -1.0
    layer.set_weights([kernel])

    outputs = numpy(layer(np.full((1, 3, 3, 2), 0.5, "float32")))

    # Taps inside a 3x3 image under a 3x3 "same" kernel, plus 0.5.
    taps = np.array([[4, 6, 4], [6, 9, 6], [4, 6, 4]], "float32")
    np.testing.assert_allclose(outputs[0, ..., 0], taps + 0.5)
    np.testing.assert_allclose(outputs[0, ..., 1], np.zeros((3, 3)))  # relu
    assert_config_round_trip(layer)


def test_constant_channels_bias_validates_its_arguments():
    with pytest.raises(ValueError, match="padding"):
        ConstantChannelsBias((3, 3), 3, padding="causal")
    with pytest.raises(ValueError, match="input_size"):
        ConstantChannelsBias((3, 0), 3)


def test_unsupported_layer_is_named():
    inputs = keras.Input((4, 3))
    x = keras.layers.Dense(3, name="proj")(inputs)
    x = keras.layers.LayerNormalization(name="norm")(x)
    model = keras.Model(inputs, x)
    with pytest.raises(ValueError, match="'norm' of type LayerNormalization"):
        shrink(model)


def test_shared_layers_and_bad_arguments_are_rejected():
    model = models.mlp((4,), hidden_units=(3,))
    with pytest.raises(ValueError, match="tol"):
        shrink(model, tol=0.0)
    with pytest.raises(ValueError, match="keras.Model"):
        shrink("mlp")
    inputs = keras.Input((4,))
    shared = keras.layers.Dense(4, name="shared")
    with pytest.raises(ValueError, match="shared layers"):
        shrink(keras.Model(inputs, shared(shared(inputs))))


def test_counts_on_a_tiny_network_match_hand_computed_values():
    inputs = keras.Input((6, 6, 2))
    x = keras.layers.Conv2D(4, 3, name="conv")(inputs)  # valid: 4x4 positions
    x = keras.layers.Flatten()(x)
    model = keras.Model(inputs, keras.layers.Dense(3, name="dense")(x))
    zero_filters(model.get_layer("conv"), [2])

    summary = model_summary(model)

    # conv: 4*4 * 3*3*2 * 4 = 1152, dense: 64 * 3 = 192.
    assert count_flops(model) == 1152 + 192
    # conv: 3*3*2*4 + 4 = 76, dense: 64*3 + 3 = 195.
    assert count_parameters(model) == 76 + 195
    assert summary["parameters"] == 271 and summary["flops"] == 1344
    assert summary["zero_weights"] == 18 and summary["total_weights"] == 72 + 192
    assert summary["zero_channels"] == 1 and summary["total_channels"] == 7
    assert summary["zero_channel_fraction"] == pytest.approx(1 / 7)
    # Shrunk: conv 4*4 * 18 * 3 = 864, dense 48 * 3 = 144.
    assert count_flops(shrink(model)) == 864 + 144


def test_count_flops_rejects_unknown_weighted_layers():
    inputs = keras.Input((8, 2))
    model = keras.Model(inputs, keras.layers.Conv1D(3, 3, name="conv1d")(inputs))
    with pytest.raises(ValueError, match="conv1d"):
        count_flops(model)
