"""Bit-packed export of quantized models: `pack_bits`, `export_packed`, `load_packed`.

A quantized kernel of `n` weights with `k` bits each (binary `k = 1`, ternary
`k = 2`, k-bit `k`) is stored in `ceil(n * k / 8)` bytes plus its float32
scale (one per layer, or one per output channel), against `4 n` bytes in
float32: the size ratio tends to `32 / k` (Li, Wang and Xin 2020, Section III: binary
weights `mean|w| * sign(w)`; Section V: ternary and 4-bit weights).

`export_packed(model, path)` writes one file holding the model's
architecture (its Keras config, with `QuantDense`/`QuantConv2D` kept), the
packed codes and scales of every quantized kernel, and the float tensors
that are not quantized (biases, batch normalization, float layers).
`load_packed(path)` rebuilds the model: each kernel is
`kernel_quantizer.decode(codes, scale)`, bit for bit the quantized kernel the
training model computes with, so both models predict the same.

File layout (all integers little-endian):

    magic       8 bytes   b"HDLKPACK"
    version     uint16    FORMAT_VERSION
    header_size uint32    bytes of the compressed header
    checksum    uint32    CRC-32 of header and payload
    header      zlib-compressed UTF-8 JSON: {"model": serialized model,
                "tensors": one entry per variable of `model.weights`}
    payload     the tensors, in header order, back to back: a quantized
                kernel is its float32 scale then its packed codes; any other
                variable is its raw bytes in its own dtype.

Only the header is compressed: the JSON config shrinks about tenfold under
zlib, while the packed codes of binary weights are incompressible bits and
compressing the float tensors (biases, batch statistics) gains little; a raw
payload keeps each tensor at its bit budget and decodes with one slice.
"""

import json
import math
import struct
import zlib

import keras
import numpy as np

from hdl_keras.quantizers.relax import relaxable_layers

MAGIC = b"HDLKPACK"
FORMAT_VERSION = 1
_PREFIX = struct.Struct("<8sHII")


def _check_bits(bits):
    if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)):
        raise ValueError(f"`bits` must be an integer from 1 to 8. Received: bits={bits!r}")
    if not 1 <= bits <= 8:
        raise ValueError(f"`bits` must be from 1 to 8. Received: bits={bits}")
    return int(bits)


def pack_bits(codes, bits):
    """Packs unsigned integer codes of `bits` bits each into bytes.

    Code `i` of the flattened `codes` occupies the bits `i * bits` to
    `(i + 1) * bits - 1` of the output stream, least significant bit first
    (within a byte, bit 0 is the least significant), so 8 binary codes fill
    one byte, 4 ternary (2-bit) codes one byte, and 3-bit codes straddle byte
    boundaries. The last byte is padded with zero bits.

    Args:
        codes: array-like of integers in `[0, 2**bits)`, any shape (it is
            flattened in C order).
        bits: bits per code, an integer from 1 to 8.

    Returns:
        A 1-D `np.uint8` array of `ceil(codes.size * bits / 8)` bytes.

    Examples:
        >>> pack_bits([1, 0, 1, 1], bits=1)
        array([13], dtype=uint8)
        >>> pack_bits([2, 1, 0, 3], bits=2)
        array([198], dtype=uint8)
    """
    bits = _check_bits(bits)
    codes = np.asarray(codes)
    if codes.size and not np.issubdtype(codes.dtype, np.integer):
        raise ValueError(f"`codes` must hold integers. Received: codes.dtype={codes.dtype}")
    codes = codes.reshape(-1)
    if codes.size and (codes.min() < 0 or codes.max() >= 2**bits):
        raise ValueError(
            f"`codes` must lie in [0, {2**bits - 1}] for bits={bits}. Received: codes in [{codes.min()}, {codes.max()}]"
        )
    codes = codes.astype(np.uint8)
    if bits == 8:
        return codes.copy()
    # One row of `bits` bits (least significant first) per code, then the bit
    # stream, 8 bits to a byte.
    planes = (codes[:, None] >> np.arange(bits, dtype=np.uint8)) & 1
    return np.packbits(planes.reshape(-1), bitorder="little")


def unpack_bits(packed, bits, count):
    """Unpacks `count` codes of `bits` bits each written by `pack_bits`.

    Args:
        packed: bytes, or a 1-D `np.uint8` array, of exactly
            `ceil(count * bits / 8)` bytes.
        bits: bits per code, an integer from 1 to 8.
        count: number of codes, a non-negative integer.

    Returns:
        A 1-D `np.uint8` array of `count` codes in `[0, 2**bits)`.

    Examples:
        >>> unpack_bits(pack_bits([5, 0, 7, 3, 6], bits=3), bits=3, count=5)
        array([5, 0, 7, 3, 6], dtype=uint8)
    """
    bits = _check_bits(bits)
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 0:
        raise ValueError(f"`count` must be a non-negative integer. Received: count={count!r}")
    if isinstance(packed, (bytes, bytearray, memoryview)):
        packed = np.frombuffer(packed, dtype=np.uint8)
    packed = np.asarray(packed)
    if packed.dtype != np.uint8 or packed.ndim != 1:
        raise ValueError(
            f"`packed` must be bytes or a 1-D uint8 array. Received: dtype={packed.dtype}, shape={packed.shape}"
        )
    expected = -(-count * bits // 8)
    if packed.size != expected:
        raise ValueError(f"{count} codes of {bits} bits take {expected} bytes. Received: {packed.size} bytes")
    if bits == 8:
        return packed.copy()
    planes = np.unpackbits(packed, count=count * bits, bitorder="little")
    weights = (1 << np.arange(bits, dtype=np.uint8)).astype(np.uint8)
    return (planes.reshape(count, bits) * weights).sum(axis=1, dtype=np.uint8)


def _kernel_ids(model):
    """`id` of each quantized layer's float kernel variable -> the layer.

    Quantized layers are those carrying a `relax_lambda` weight
    (`QuantDense`, `QuantConv2D`, nested ones included).
    """
    return {id(layer.float_kernel): layer for layer in relaxable_layers(model)}


def _check_not_relaxed(model):
    """Raises if a layer computes with a BinaryRelax-relaxed (not quantized) kernel."""
    for layer in relaxable_layers(model):
        value = float(keras.ops.convert_to_numpy(layer.relax_lambda))
        if not math.isinf(value):
            raise ValueError(
                f"Layer '{layer.name}' computes with a relaxed kernel "
                f"(relax_lambda={value}): a packed file stores quantized kernels "
                "only. Train past BinaryRelax's switch_epoch or call "
                "hdl_keras.quantizers.set_relax_lambda(model, None) first."
            )


def _little_endian(value):
    return np.asarray(value, dtype=value.dtype.newbyteorder("<"), order="C")


def export_packed(model, path):
    """Writes `model` with its quantized kernels bit-packed to one file.

    Every `QuantDense`/`QuantConv2D` kernel is stored as
    `kernel_quantizer.encode(kernel)`: its codes packed at
    `kernel_quantizer.bits` bits per weight (`pack_bits`) and its float32
    scale; every other variable of `model.weights` (biases, batch
    normalization, float layers) is stored as it is. The architecture is the
    model's Keras config, compile state and optimizer left out. See the module
    docstring for the file layout.

    Args:
        model: a built `keras.Model` (`Sequential` or functional; nested
            models are walked) whose layers are Keras or registered
            serializable layers.
        path: the file to write (str or path-like); `.hdlpack` is the
            suggested extension.

    Returns:
        The number of bytes written.

    Examples:
        >>> from hdl_keras.layers import QuantDense
        >>> model = keras.Sequential([keras.Input((64,)), QuantDense(10)])
        >>> size = export_packed(model, "model.hdlpack")  # kernel: 640 bits, 80 bytes
    """
    if not isinstance(model, keras.Model):
        raise ValueError(f"Expected a keras.Model. Received: model={type(model).__name__}")
    if not model.built:
        raise ValueError(f"Model '{model.name}' must be built before export_packed.")
    _check_not_relaxed(model)
    serialized = keras.saving.serialize_keras_object(model)
    serialized.pop("compile_config", None)
    kernels = _kernel_ids(model)
    entries = []
    chunks = []
    for variable in model.weights:
        value = np.asarray(keras.ops.convert_to_numpy(variable))
        entry = {"path": variable.path, "shape": list(value.shape)}
        layer = kernels.get(id(variable))
        if layer is None:
            value = _little_endian(value)
            entry["dtype"] = value.dtype.str
            chunks.append(value.tobytes())
        else:
            quantizer = layer.kernel_quantizer
            codes, scale = quantizer.encode(value)
            scale = _little_endian(np.asarray(scale, dtype=np.float32))
            entry["bits"] = int(quantizer.bits)
            entry["scale_shape"] = list(scale.shape)
            chunks.append(scale.tobytes())
            chunks.append(pack_bits(codes, quantizer.bits).tobytes())
        entries.append(entry)
    header = json.dumps({"model": serialized, "tensors": entries}, separators=(",", ":")).encode("utf-8")
    header = zlib.compress(header, 9)
    payload = b"".join(chunks)
    checksum = zlib.crc32(payload, zlib.crc32(header))
    prefix = _PREFIX.pack(MAGIC, FORMAT_VERSION, len(header), checksum)
    with open(path, "wb") as file:
        file.write(prefix)
        file.write(header)
        file.write(payload)
    return len(prefix) + len(header) + len(payload)


def _read(path):
    """The header (parsed) and payload of a packed file, after every check."""
    with open(path, "rb") as file:
        data = file.read()
    if len(data) < _PREFIX.size or not data.startswith(MAGIC):
        raise ValueError(
            f"'{path}' is not a packed hdl_keras model: it does not start with "
            f"{MAGIC!r}. Write one with hdl_keras.saving.export_packed."
        )
    _, version, header_size, checksum = _PREFIX.unpack_from(data)
    if version != FORMAT_VERSION:
        raise ValueError(
            f"'{path}' uses packed format version {version}; this hdl_keras "
            f"reads version {FORMAT_VERSION}. Export the model again."
        )
    body = memoryview(data)[_PREFIX.size :]
    if len(body) < header_size or zlib.crc32(body) != checksum:
        raise ValueError(
            f"'{path}' is corrupt or truncated: its checksum does not match its content. Export the model again."
        )
    header = json.loads(zlib.decompress(body[:header_size]).decode("utf-8"))
    return header, body[header_size:]


class _PayloadReader:
    """Reads the payload's tensors in order, with a clear error past its end."""

    def __init__(self, payload, path):
        self.payload = payload
        self.path = path
        self.offset = 0

    def _take(self, nbytes):
        if self.offset + nbytes > len(self.payload):
            raise ValueError(f"'{self.path}' holds fewer bytes than its tensors need.")
        chunk = self.payload[self.offset : self.offset + nbytes]
        self.offset += nbytes
        return chunk

    def array(self, dtype, shape):
        dtype = np.dtype(dtype)
        count = int(np.prod(shape, dtype=np.int64))
        return np.frombuffer(self._take(count * dtype.itemsize), dtype=dtype).reshape(shape)

    def codes(self, bits, shape):
        count = int(np.prod(shape, dtype=np.int64))
        packed = self._take(-(-count * bits // 8))
        return unpack_bits(packed, bits, count).reshape(shape)

    def check_consumed(self):
        if self.offset != len(self.payload):
            raise ValueError(
                f"'{self.path}' holds {len(self.payload) - self.offset} bytes more than its tensors describe."
            )


def load_packed(path):
    """Rebuilds the model written by `export_packed`, ready to predict.

    The model is deserialized from its config (so `QuantDense`/`QuantConv2D`
    layers come back with their quantizers), then each quantized kernel is set
    to `kernel_quantizer.decode(codes, scale)`, the quantized kernel of the
    exported model bit for bit, and every other variable to its stored value.
    The model is not compiled.

    Args:
        path: a file written by `export_packed` (str or path-like).

    Returns:
        The rebuilt `keras.Model`; its predictions equal the exported model's.

    Raises:
        ValueError: if the file is not a packed model, has another format
            version, is corrupt or truncated, or does not match the
            architecture it describes.

    Examples:
        >>> model = load_packed("model.hdlpack")
        >>> logits = model.predict(x)
    """
    header, payload = _read(path)
    model = keras.saving.deserialize_keras_object(header["model"])
    variables = model.weights
    entries = header["tensors"]
    if len(variables) != len(entries):
        raise ValueError(
            f"'{path}' stores {len(entries)} tensors but its model rebuilds with {len(variables)} variables."
        )
    kernels = _kernel_ids(model)
    reader = _PayloadReader(payload, path)
    for variable, entry in zip(variables, entries):
        shape = tuple(entry["shape"])
        if tuple(variable.shape) != shape:
            raise ValueError(
                f"'{path}' stores '{entry['path']}' with shape {shape}; the "
                f"rebuilt variable '{variable.path}' has shape {variable.shape}."
            )
        if "bits" in entry:
            layer = kernels.get(id(variable))
            if layer is None or layer.kernel_quantizer.bits != entry["bits"]:
                raise ValueError(
                    f"'{path}' stores '{entry['path']}' as {entry['bits']}-bit "
                    f"codes; the rebuilt variable '{variable.path}' is not a "
                    "kernel quantized with that many bits."
                )
            scale = reader.array("<f4", tuple(entry["scale_shape"]))
            codes = reader.codes(entry["bits"], shape)
            value = layer.kernel_quantizer.decode(codes, scale.astype(np.float32))
        else:
            value = reader.array(entry["dtype"], shape)
        variable.assign(value)
    reader.check_consumed()
    return model
