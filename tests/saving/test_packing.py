"""Bit packing of quantized codes and the packed model file (export / load)."""

import struct

import keras
import numpy as np
import pytest
from keras import ops

from hdl_keras.layers import QuantConv2D
from hdl_keras.layers import QuantDense
from hdl_keras.quantizers import KBitQuantizer
from hdl_keras.quantizers import TernaryQuantizer
from hdl_keras.quantizers import set_relax_lambda
from hdl_keras.saving import export_packed
from hdl_keras.saving import load_packed
from hdl_keras.saving import pack_bits
from hdl_keras.saving import unpack_bits

pytestmark = pytest.mark.backend_suite


# ---------------------------------------------------------------- bit packing


@pytest.mark.parametrize("bits", [1, 2, 3, 4, 5, 6, 7, 8])
def test_pack_unpack_round_trip_is_exact(bits):
    rng = np.random.default_rng(bits)
    # Counts that fill whole bytes and counts that leave a partial last byte.
    for count in (0, 1, 7, 8, 9, 13, 1001):
        codes = rng.integers(0, 2**bits, count)
        packed = pack_bits(codes, bits)
        assert packed.dtype == np.uint8
        assert packed.shape == (-(-count * bits // 8),)
        np.testing.assert_array_equal(unpack_bits(packed, bits, count), codes)
        np.testing.assert_array_equal(unpack_bits(packed.tobytes(), bits, count), codes)


def test_pack_bits_layout_is_least_significant_bit_first():
    # 1 bit: code i is bit i of the byte.
    np.testing.assert_array_equal(pack_bits([1, 0, 1, 1], 1), [0b00001101])
    np.testing.assert_array_equal(pack_bits([1, 1, 1, 1, 1, 1, 1, 1, 1], 1), [0b11111111, 0b00000001])
    # 2 bits (ternary): code i in bits 2i and 2i + 1.
    np.testing.assert_array_equal(pack_bits([2, 1, 0, 3], 2), [0b11000110])
    # 3 bits straddle bytes: 5 = 101, 6 = 110, 7 = 111 -> stream 101 011 111.
    np.testing.assert_array_equal(pack_bits([5, 6, 7], 3), [0b11110101, 0b00000001])
    # 4 bits: two codes a byte, the first in the low nibble.
    np.testing.assert_array_equal(pack_bits([0x3, 0xA, 0xF], 4), [0xA3, 0x0F])


def test_pack_bits_flattens_any_shape_in_c_order():
    codes = np.array([[1, 0], [1, 1]])
    np.testing.assert_array_equal(pack_bits(codes, 1), pack_bits([1, 0, 1, 1], 1))


@pytest.mark.parametrize(
    "codes, bits, match",
    [
        ([0, 2], 1, r"\[0, 1\] for bits=1"),
        ([-1, 0], 4, r"\[0, 15\]"),
        ([0.0, 1.0], 1, "must hold integers"),
        ([0, 1], 0, "from 1 to 8"),
        ([0, 1], 9, "from 1 to 8"),
        ([0, 1], 2.0, "integer from 1 to 8"),
    ],
)
def test_pack_bits_rejects_bad_input(codes, bits, match):
    with pytest.raises(ValueError, match=match):
        pack_bits(codes, bits)


def test_unpack_bits_rejects_a_wrong_byte_count():
    packed = pack_bits(np.ones(9, dtype=int), 3)  # 27 bits -> 4 bytes
    with pytest.raises(ValueError, match="take 4 bytes. Received: 3"):
        unpack_bits(packed[:3], 3, 9)
    with pytest.raises(ValueError, match="non-negative integer"):
        unpack_bits(packed, 3, -1)
    with pytest.raises(ValueError, match="1-D uint8"):
        unpack_bits(packed.astype(np.int32), 3, 9)


# ---------------------------------------------------------------- packed files


def _tiny_model(quantizer):
    """QuantConv2D -> BatchNormalization -> QuantDense -> float Dense."""
    inputs = keras.Input((6, 6, 2))
    x = QuantConv2D(4, 3, kernel_quantizer=quantizer, name="qconv")(inputs)
    x = keras.layers.BatchNormalization(name="bn")(x)
    x = keras.layers.Flatten()(x)
    x = QuantDense(3, activation="relu", kernel_quantizer=quantizer, name="qdense")(x)
    outputs = keras.layers.Dense(2, name="head")(x)
    model = keras.Model(inputs, outputs, name="tiny")
    rng = np.random.default_rng(0)
    # Non-trivial biases and batch statistics, so every stored tensor matters.
    for variable in model.weights:
        if variable.path.endswith(("bias", "beta", "gamma", "moving_mean")):
            variable.assign(rng.normal(size=variable.shape).astype("float32"))
        elif variable.path.endswith("moving_variance"):
            variable.assign(rng.uniform(0.5, 2.0, size=variable.shape).astype("float32"))
    return model


QUANTIZERS = [
    "binary",
    "ternary",
    "4bit",
    KBitQuantizer(bits=3, per_channel=True),
    TernaryQuantizer(per_channel=True),
]


@pytest.mark.parametrize("quantizer", QUANTIZERS, ids=str)
def test_export_load_round_trip_predicts_like_the_quantized_model(quantizer, tmp_path):
    model = _tiny_model(quantizer)
    x = np.random.default_rng(1).random((5, 6, 6, 2)).astype("float32")
    path = tmp_path / "tiny.hdlpack"
    written = export_packed(model, path)
    assert written == path.stat().st_size
    loaded = load_packed(path)

    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in model.layers]
    for name in ("qconv", "qdense"):
        source, target = model.get_layer(name), loaded.get_layer(name)
        assert target.kernel_quantizer.get_config() == source.kernel_quantizer.get_config()
        # The stored kernel is the training model's quantized kernel, bit for bit.
        np.testing.assert_array_equal(
            ops.convert_to_numpy(target.float_kernel),
            ops.convert_to_numpy(source.quantized_kernel()),
        )
    for source, target in zip(model.weights, loaded.weights):
        if not source.path.endswith("kernel") or source.path.startswith("head"):
            np.testing.assert_array_equal(ops.convert_to_numpy(target), ops.convert_to_numpy(source))
    np.testing.assert_allclose(ops.convert_to_numpy(loaded(x)), ops.convert_to_numpy(model(x)), rtol=0, atol=1e-5)


def test_packed_file_size_is_the_bit_budget(tmp_path):
    """File = prefix + header + per kernel (scale + ceil(n * bits / 8)) + float tensors."""
    sizes = {}
    for quantizer, bits in (("binary", 1), ("ternary", 2), ("4bit", 4)):
        model = _tiny_model(quantizer)
        path = tmp_path / f"{quantizer}.hdlpack"
        written = export_packed(model, path)
        with open(path, "rb") as file:
            header_size = struct.unpack("<8sHII", file.read(18))[2]
        conv_weights, dense_weights = 3 * 3 * 2 * 4, 4 * 4 * 4 * 3
        floats = (
            4
            + 4 * 4  # conv bias, batch normalization (gamma, beta, mean, variance)
            + 3  # dense bias
            + 3 * 2
            + 2  # float head: kernel and bias
            + 2  # relax_lambda of the two quantized layers
        )
        expected = (
            18
            + header_size
            + 2 * 4  # one float32 scale per quantized kernel
            + -(-conv_weights * bits // 8)
            + -(-dense_weights * bits // 8)
            + 4 * floats
        )
        assert written == expected
        sizes[bits] = written - header_size
    # Payload grows with the bits per weight: 1 < 2 < 4.
    assert sizes[1] < sizes[2] < sizes[4]


def test_packed_file_is_much_smaller_than_float32(tmp_path):
    inputs = keras.Input((256,))
    outputs = QuantDense(128, use_bias=False, kernel_quantizer="binary")(inputs)
    model = keras.Model(inputs, outputs)
    written = export_packed(model, tmp_path / "dense.hdlpack")
    # 32768 weights: 4096 bytes of codes against 131072 bytes of float32.
    assert 4096 < written < 4096 * 1.25


def test_load_rejects_a_file_that_is_not_packed(tmp_path):
    path = tmp_path / "model.weights.h5"
    path.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(64))
    with pytest.raises(ValueError, match="not a packed hdl_keras model"):
        load_packed(path)
    empty = tmp_path / "empty.hdlpack"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match="not a packed hdl_keras model"):
        load_packed(empty)


def test_load_rejects_another_format_version(tmp_path):
    path = tmp_path / "tiny.hdlpack"
    export_packed(_tiny_model("binary"), path)
    data = bytearray(path.read_bytes())
    data[8:10] = struct.pack("<H", 99)
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="format version 99"):
        load_packed(path)


@pytest.mark.parametrize("damage", ["flip_payload_byte", "flip_header_byte", "truncate"])
def test_load_rejects_a_corrupt_file(damage, tmp_path):
    path = tmp_path / "tiny.hdlpack"
    export_packed(_tiny_model("ternary"), path)
    data = bytearray(path.read_bytes())
    if damage == "flip_payload_byte":
        data[-3] ^= 0x10
    elif damage == "flip_header_byte":
        data[20] ^= 0x01
    else:
        data = data[:-5]
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="corrupt or truncated"):
        load_packed(path)


def test_export_rejects_a_relaxed_model_and_bad_input(tmp_path):
    model = _tiny_model("binary")
    set_relax_lambda(model, 4.0)
    with pytest.raises(ValueError, match="relaxed kernel"):
        export_packed(model, tmp_path / "relaxed.hdlpack")
    set_relax_lambda(model, None)
    export_packed(model, tmp_path / "quantized.hdlpack")
    with pytest.raises(ValueError, match="Expected a keras.Model"):
        export_packed(QuantDense(2), tmp_path / "layer.hdlpack")
    with pytest.raises(ValueError, match="must be built"):
        export_packed(keras.Sequential([QuantDense(2)]), tmp_path / "unbuilt.hdlpack")
