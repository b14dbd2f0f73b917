import keras
import numpy as np
import pytest

from hdl_keras.layers import QuantConv2D
from hdl_keras.layers import QuantDense
from hdl_keras.measure import count_zero_weights
from hdl_keras.layers import to_quantized
from hdl_keras.layers.quantized import first_and_last_layers
from hdl_keras.quantizers import BinaryQuantizer
from hdl_keras.quantizers import KBitQuantizer
from hdl_keras.quantizers import TernaryQuantizer
from hdl_keras.testing import assert_config_round_trip
from hdl_keras.testing import assert_saved_model_round_trip

pytestmark = pytest.mark.backend_suite

# (quantized class, float class, constructor kwargs, input shape without batch).
CASES = {
    "dense": (QuantDense, keras.layers.Dense, {"units": 3}, (5,)),
    "conv": (
        QuantConv2D,
        keras.layers.Conv2D,
        {"filters": 3, "kernel_size": 2, "padding": "same"},
        (4, 4, 2),
    ),
}

QUANTIZERS = [
    "binary",
    "ternary",
    "4bit",
    {"class_name": "KBitQuantizer", "config": {"bits": 3, "per_channel": True}},
]


def to_numpy(value):
    return keras.ops.convert_to_numpy(value)


def random_inputs(shape, seed=0):
    return np.random.default_rng(seed).normal(size=(2, *shape)).astype("float32")


def build_pair(case, kernel_quantizer="binary"):
    """A built quantized layer with random weights and a built float layer."""
    quant_class, float_class, kwargs, shape = CASES[case]
    layer = quant_class(**kwargs, kernel_quantizer=kernel_quantizer)
    layer.build((None, *shape))
    rng = np.random.default_rng(1)
    layer.float_kernel.assign(rng.normal(size=layer.float_kernel.shape).astype("float32"))
    layer.bias.assign(rng.normal(size=layer.bias.shape).astype("float32"))
    plain = float_class(**kwargs)
    plain.build((None, *shape))
    return layer, plain, shape


@pytest.mark.parametrize("quantizer", QUANTIZERS, ids=["binary", "ternary", "4bit", "3bit_pc"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_forward_is_the_float_layer_with_the_quantized_kernel(case, quantizer):
    layer, plain, shape = build_pair(case, quantizer)
    quantized = to_numpy(layer.kernel_quantizer(layer.float_kernel))
    np.testing.assert_array_equal(to_numpy(layer.kernel), quantized)
    np.testing.assert_array_equal(to_numpy(layer.quantized_kernel()), quantized)
    plain.set_weights([quantized, to_numpy(layer.bias)])
    x = random_inputs(shape)
    np.testing.assert_allclose(to_numpy(layer(x)), to_numpy(plain(x)), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("case", sorted(CASES))
def test_already_quantized_weights_give_the_float_layer(case):
    # A kernel of +-0.5 is its own binary projection: both layers agree exactly.
    layer, plain, shape = build_pair(case, "binary")
    signs = np.where(np.random.default_rng(2).normal(size=layer.float_kernel.shape) > 0, 0.5, -0.5)
    layer.float_kernel.assign(signs.astype("float32"))
    plain.set_weights([signs.astype("float32"), to_numpy(layer.bias)])
    x = random_inputs(shape)
    np.testing.assert_array_equal(to_numpy(layer(x)), to_numpy(plain(x)))


def test_dense_hand_computed_output():
    layer = QuantDense(2, kernel_quantizer="ternary", use_bias=False)
    layer.build((None, 3))
    # mean|w| = 1, delta = 0.7: kept 2, -1.5, 1.5, -1 (scale 1.5).
    layer.float_kernel.assign([[2.0, 0.5], [-1.5, 0.0], [1.5, -1.0]])
    outputs = layer(np.array([[1.0, 2.0, 3.0]], "float32"))
    np.testing.assert_allclose(to_numpy(outputs), [[3.0, -4.5]])


@pytest.mark.parametrize("case", sorted(CASES))
def test_weights_and_relax_lambda(case):
    layer, _, _ = build_pair(case)
    assert layer.trainable_weights == [layer.float_kernel, layer.bias]
    assert layer.non_trainable_weights == [layer.relax_lambda]
    assert tuple(layer.relax_lambda.shape) == ()
    assert np.isinf(to_numpy(layer.relax_lambda))
    # lambda = 1: the kernel is the midpoint of w and q(w).
    layer.relax_lambda.assign(1.0)
    w = to_numpy(layer.float_kernel)
    expected = 0.5 * (to_numpy(layer.quantized_kernel()) + w)
    np.testing.assert_allclose(to_numpy(layer.kernel), expected, rtol=1e-6)
    layer.relax_lambda.assign(0.0)
    np.testing.assert_array_equal(to_numpy(layer.kernel), w)


def test_zero_channels_of_the_quantized_conv_kernel_are_counted():
    layer = QuantConv2D(4, 2, kernel_quantizer=TernaryQuantizer(), use_bias=False)
    layer.build((None, 4, 4, 1))
    kernel = np.random.default_rng(0).uniform(1.0, 2.0, size=(2, 2, 1, 4)).astype("float32")
    kernel[..., 1] = 0.05  # far below 0.7 * mean|w|: a zero output channel
    layer.float_kernel.assign(kernel)
    quantized = to_numpy(layer.quantized_kernel())
    zero_channels = np.all(quantized.reshape(-1, 4) == 0, axis=0)
    np.testing.assert_array_equal(zero_channels, [False, True, False, False])
    model = keras.Sequential([keras.Input((4, 4, 1)), layer])
    assert count_zero_weights(model) == (4, 16)


@pytest.mark.parametrize("case", sorted(CASES))
def test_config_round_trip(case):
    quant_class, _, kwargs, _ = CASES[case]
    layer = quant_class(**kwargs, kernel_quantizer=KBitQuantizer(bits=3, per_channel=True))
    rebuilt = assert_config_round_trip(layer)
    assert isinstance(rebuilt.kernel_quantizer, KBitQuantizer)
    assert rebuilt.kernel_quantizer.get_config() == {"bits": 3, "per_channel": True}


@pytest.mark.parametrize("case", sorted(CASES))
def test_saved_model_round_trip_keeps_float_kernel_and_lambda(case, tmp_path):
    quant_class, _, kwargs, shape = CASES[case]
    layer = quant_class(**kwargs, kernel_quantizer="ternary")
    model = keras.Sequential([keras.Input(shape), layer])
    layer.relax_lambda.assign(2.5)
    loaded = assert_saved_model_round_trip(model, random_inputs(shape), tmp_path)
    loaded_layer = loaded.layers[0]
    assert type(loaded_layer) is quant_class
    np.testing.assert_array_equal(to_numpy(loaded_layer.float_kernel), to_numpy(layer.float_kernel))
    assert float(to_numpy(loaded_layer.relax_lambda)) == 2.5


def test_bad_arguments():
    with pytest.raises(ValueError, match="kernel_quantizer=None"):
        QuantDense(2, kernel_quantizer=None)
    with pytest.raises(ValueError, match="Unknown quantizer"):
        QuantConv2D(2, 3, kernel_quantizer="quinary")
    with pytest.raises(ValueError, match="LoRA"):
        QuantDense(2, lora_rank=2)
    layer = QuantDense(2)
    layer.build((None, 3))
    with pytest.raises(NotImplementedError, match="already quantized"):
        layer.quantize("int8")


def small_cnn():
    inputs = keras.Input((6, 6, 1))
    x = keras.layers.Conv2D(2, 3, name="stem")(inputs)
    x = keras.layers.BatchNormalization(name="bn")(x)
    x = keras.layers.Conv2D(2, 3, name="middle")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    outputs = keras.layers.Dense(3, name="head")(x)
    return keras.Model(inputs, outputs)


def test_to_quantized_converts_and_copies_weights():
    model = small_cnn()
    quantized = to_quantized(model, "ternary")
    assert [type(layer).__name__ for layer in quantized.layers] == [
        "InputLayer",
        "QuantConv2D",
        "BatchNormalization",
        "QuantConv2D",
        "Flatten",
        "QuantDense",
    ]
    # The quantized model is the float model with every kernel w replaced by q(w).
    reference = keras.models.clone_model(model)
    for source, target in zip(quantized.layers, reference.layers):
        weights = source.get_weights()
        if hasattr(source, "quantized_kernel"):
            np.testing.assert_array_equal(weights[0], to_numpy(model.get_layer(source.name).kernel))
            weights = [to_numpy(source.quantized_kernel()), weights[1]]
        target.set_weights(weights)
    x = random_inputs((6, 6, 1))
    np.testing.assert_allclose(to_numpy(quantized(x)), to_numpy(reference(x)), rtol=1e-5, atol=1e-6)


def test_to_quantized_skips_first_and_last():
    quantized = to_quantized(small_cnn(), "binary", skip_first_last=True)
    classes = {layer.name: type(layer).__name__ for layer in quantized.layers}
    assert classes["stem"] == "Conv2D" and classes["head"] == "Dense"
    assert classes["middle"] == "QuantConv2D"


def test_to_quantized_keeps_the_named_float_layers():
    model = small_cnn()
    quantized = to_quantized(model, "binary", float_layers=["stem"])
    classes = {layer.name: type(layer).__name__ for layer in quantized.layers}
    assert classes["stem"] == "Conv2D" and classes["middle"] == "QuantConv2D" and classes["head"] == "QuantDense"
    np.testing.assert_array_equal(
        to_numpy(quantized.get_layer("stem").kernel), to_numpy(model.get_layer("stem").kernel)
    )  # the float layer keeps its weights
    with pytest.raises(ValueError, match=r"not Dense/Conv2D layers of the model: \['nope'\].*'stem'"):
        to_quantized(model, "binary", float_layers=["nope"])
    with pytest.raises(ValueError, match="list of layer names"):
        to_quantized(model, "binary", float_layers="stem")


def test_first_and_last_layers_of_an_ensemble_are_every_members_stem_and_head():
    # Two members, as in an EnResNet: stem conv -> conv (+ residual) -> head, averaged.
    inputs = keras.Input((6, 6, 1), name="inputs")
    heads = []
    for member in (1, 2):
        stem = keras.layers.Conv2D(2, 3, padding="same", name=f"m{member}_stem")(inputs)
        x = keras.layers.BatchNormalization(name=f"m{member}_bn")(stem)
        x = keras.layers.Conv2D(2, 3, padding="same", name=f"m{member}_conv")(x)
        x = keras.layers.Add(name=f"m{member}_add")([x, stem])
        x = keras.layers.GlobalAveragePooling2D(name=f"m{member}_pool")(x)
        heads.append(keras.layers.Dense(3, name=f"m{member}_head")(x))
    model = keras.Model(inputs, keras.layers.Average(name="average")(heads))
    names = first_and_last_layers(keras.saving.serialize_keras_object(model))
    assert names == {"m1_stem", "m2_stem", "m1_head", "m2_head"}
    quantized = to_quantized(model, "4bit", skip_first_last=True)
    assert [layer.name for layer in quantized.layers if isinstance(layer, QuantConv2D)] == [
        "m1_conv",
        "m2_conv",
    ]


def test_to_quantized_sequential_and_errors():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.Dense(3), keras.layers.Dense(2)])
    quantized = to_quantized(model, BinaryQuantizer(per_channel=True), skip_first_last=True)
    assert [type(layer).__name__ for layer in quantized.layers] == ["Dense", "QuantDense", "Dense"]
    assert quantized.layers[1].kernel_quantizer.per_channel
    with pytest.raises(ValueError, match="built keras.Model"):
        to_quantized(keras.layers.Dense(2))
    with pytest.raises(ValueError, match="kernel quantizer"):
        to_quantized(model, None)


def test_the_layers_module_serves_the_conversion_names():
    from hdl_keras.layers import quantized
    from hdl_keras.layers import quantized_conversion

    assert quantized.to_quantized is to_quantized is quantized_conversion.to_quantized
    assert first_and_last_layers is quantized_conversion.first_and_last_layers
    with pytest.raises(AttributeError, match="no attribute 'not_there'"):
        quantized.not_there  # noqa: B018
