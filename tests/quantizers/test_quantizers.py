import keras
import numpy as np
import pytest

from hdl_keras import backend
from hdl_keras import quantizers
from hdl_keras.quantizers import BinaryQuantizer
from hdl_keras.quantizers import KBitQuantizer
from hdl_keras.quantizers import TernaryQuantizer
from hdl_keras.testing import assert_config_round_trip

pytestmark = pytest.mark.backend_suite

ALL = {
    "binary": BinaryQuantizer(),
    "binary_per_channel": BinaryQuantizer(per_channel=True),
    "ternary": TernaryQuantizer(),
    "ternary_per_channel": TernaryQuantizer(threshold_factor=0.5, per_channel=True),
    "4bit": KBitQuantizer(),
    "3bit_per_channel": KBitQuantizer(bits=3, per_channel=True),
    "8bit": KBitQuantizer(bits=8),
}


def quantize(quantizer, w):
    return keras.ops.convert_to_numpy(quantizer(np.asarray(w, dtype="float32")))


def kernel(shape=(3, 3, 2, 4), seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def test_binary_is_mean_abs_times_sign():
    w = [0.5, -1.0, 0.0, 2.5, -2.0]  # mean |w| = 6 / 5
    expected = [1.2, -1.2, 1.2, 1.2, -1.2]
    np.testing.assert_allclose(quantize(BinaryQuantizer(), w), expected, rtol=1e-6)


def test_binary_per_channel_scales_each_column():
    w = np.array([[1.0, -4.0], [-3.0, 2.0]], "float32")  # columns: mean|w| 2 and 3
    np.testing.assert_allclose(quantize(BinaryQuantizer(per_channel=True), w), [[2.0, -3.0], [-2.0, 3.0]], rtol=1e-6)


def test_ternary_threshold_and_scale():
    # mean|w| = 1.5, delta = 0.7 * 1.5 = 1.05: keeps 2, -3, 1.5 (scale = 6.5 / 3).
    w = [2.0, -3.0, 1.0, 0.5, 1.5, -1.0]
    scale = 6.5 / 3
    expected = [scale, -scale, 0.0, 0.0, scale, 0.0]
    np.testing.assert_allclose(quantize(TernaryQuantizer(), w), expected, rtol=1e-6)
    # threshold_factor 0.5 lowers delta to 0.75: 1 and -1 are kept too.
    scale = 8.5 / 5
    expected = [scale, -scale, scale, 0.0, scale, -scale]
    np.testing.assert_allclose(quantize(TernaryQuantizer(0.5), w), expected, rtol=1e-6)


def test_ternary_per_channel():
    w = np.array([[1.0, 0.1], [0.1, -4.0], [-1.0, 0.1]], "float32")
    # column 0: mean 0.7, delta 0.49 -> +-1 kept, scale 1; column 1: mean 1.4, delta 0.98 -> -4.
    expected = [[1.0, 0.0], [0.0, -4.0], [-1.0, 0.0]]
    np.testing.assert_allclose(quantize(TernaryQuantizer(per_channel=True), w), expected, rtol=1e-6)


def test_kbit_levels():
    # 4 bits: L = 7, scale = 3.5 / 7 = 0.5; w / scale = 7, -2.6, 0.4, 1.5, -7.
    w = [3.5, -1.3, 0.2, 0.75, -3.5]
    expected = [3.5, -1.5, 0.0, 1.0, -3.5]  # round(1.5) = 2 (half to even)
    np.testing.assert_allclose(quantize(KBitQuantizer(bits=4), w), expected, rtol=1e-6)
    # 2 bits: L = 1, levels -1, 0, 1 times max|w|.
    np.testing.assert_allclose(quantize(KBitQuantizer(bits=2), w), [3.5, 0.0, 0.0, 0.0, -3.5], rtol=1e-6)


def test_kbit_per_channel_and_zero_channel():
    w = np.array([[3.0, 0.0], [-1.0, 0.0], [1.6, 0.0]], "float32")  # second channel all zeros
    q = KBitQuantizer(bits=3, per_channel=True)  # L = 3, scales 1 and 0
    np.testing.assert_allclose(quantize(q, w), [[3.0, 0.0], [-1.0, 0.0], [2.0, 0.0]], rtol=1e-6)
    codes, scale = q.encode(w)
    np.testing.assert_array_equal(scale, [1.0, 0.0])
    np.testing.assert_array_equal(codes, [[6, 3], [2, 3], [5, 3]])


@pytest.mark.parametrize("name", sorted(ALL))
def test_projection_is_idempotent_and_uses_the_level_set(name):
    quantizer = ALL[name]
    w = kernel()
    q = quantize(quantizer, w)
    np.testing.assert_allclose(quantize(quantizer, q), q, rtol=1e-6, atol=1e-7)
    codes, scale = quantizer.encode(w)
    assert codes.dtype == np.uint8 and codes.shape == w.shape
    assert codes.max() <= quantizer.max_code < 2**quantizer.bits
    assert scale.dtype == np.float32
    assert scale.shape == ((4,) if quantizer.per_channel else ())


@pytest.mark.parametrize("name", sorted(ALL))
def test_decode_of_encode_equals_the_forward_bit_for_bit(name):
    quantizer = ALL[name]
    w = kernel(seed=3)
    decoded = quantizer.decode(*quantizer.encode(w))
    assert decoded.dtype == np.float32
    np.testing.assert_array_equal(decoded, quantize(quantizer, w))


def test_codes_and_bits():
    w = np.array([-2.0, 0.01, 2.0], "float32")
    assert BinaryQuantizer().bits == 1
    np.testing.assert_array_equal(BinaryQuantizer().encode(w)[0], [0, 1, 1])
    assert TernaryQuantizer().bits == 2
    np.testing.assert_array_equal(TernaryQuantizer().encode(w)[0], [0, 1, 2])
    assert KBitQuantizer(bits=4).bits == 4
    np.testing.assert_array_equal(KBitQuantizer(bits=4).encode(w)[0], [0, 7, 14])


@pytest.mark.parametrize("name", sorted(ALL))
def test_straight_through_gradient_is_the_identity(name):
    quantizer = ALL[name]
    w = kernel(seed=1)
    upstream = kernel(seed=2)

    def fn(weights):
        return keras.ops.multiply(quantizer(weights), upstream)

    value, grad = backend.value_and_input_grad(fn, keras.ops.convert_to_tensor(w))
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(grad), upstream)
    # Compiled (jax) the scale may round differently in the last bit.
    np.testing.assert_allclose(keras.ops.convert_to_numpy(value), quantize(quantizer, w) * upstream, rtol=1e-6)


@pytest.mark.parametrize("name", sorted(ALL))
def test_config_round_trip(name):
    rebuilt = assert_config_round_trip(ALL[name])
    w = kernel()
    np.testing.assert_array_equal(quantize(rebuilt, w), quantize(ALL[name], w))
    deserialized = quantizers.deserialize(quantizers.serialize(ALL[name]))
    assert deserialized.get_config() == ALL[name].get_config()


@pytest.mark.parametrize(
    "identifier, cls, config",
    [
        ("binary", BinaryQuantizer, {"per_channel": False}),
        ("ternary", TernaryQuantizer, {"threshold_factor": 0.7, "per_channel": False}),
        ("4bit", KBitQuantizer, {"bits": 4, "per_channel": False}),
        ("kbit", KBitQuantizer, {"bits": 4, "per_channel": False}),
        ("2bit", KBitQuantizer, {"bits": 2, "per_channel": False}),
        ("TernaryQuantizer", TernaryQuantizer, {"threshold_factor": 0.7, "per_channel": False}),
        (
            {"class_name": "KBitQuantizer", "config": {"bits": 3, "per_channel": True}},
            KBitQuantizer,
            {"bits": 3, "per_channel": True},
        ),
    ],
)
def test_get_resolves_names_and_dicts(identifier, cls, config):
    quantizer = quantizers.get(identifier)
    assert type(quantizer) is cls
    assert quantizer.get_config() == config


def test_get_passes_instances_and_none():
    quantizer = TernaryQuantizer(0.5)
    assert quantizers.get(quantizer) is quantizer
    assert quantizers.get(None) is None


@pytest.mark.parametrize("identifier", ["quinary", "9bit", "1bit", 3, keras.layers.Dense])
def test_get_rejects_unknown_identifiers(identifier):
    with pytest.raises(ValueError, match="Received"):
        quantizers.get(identifier)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: KBitQuantizer(bits=1), "bits"),
        (lambda: KBitQuantizer(bits=9), "bits"),
        (lambda: KBitQuantizer(bits=4.0), "bits"),
        (lambda: TernaryQuantizer(threshold_factor=1.0), "threshold_factor"),
        (lambda: TernaryQuantizer(threshold_factor=-0.1), "threshold_factor"),
        (lambda: BinaryQuantizer(per_channel=1), "per_channel"),
    ],
)
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_decode_rejects_bad_codes_and_scales():
    quantizer = TernaryQuantizer(per_channel=True)
    codes, scale = quantizer.encode(kernel((3, 2)))
    with pytest.raises(ValueError, match="codes in 0..2"):
        quantizer.decode(codes + 1, scale)
    with pytest.raises(ValueError, match="scale of shape"):
        quantizer.decode(codes, np.float32(1.0))
    with pytest.raises(ValueError, match="integer codes"):
        quantizer.decode(codes.astype("float32"), scale)
