"""File formats of hdl_keras beyond Keras' own `.keras`.

Packed quantized models (`hdl_keras.saving.packed`; Li, Wang and Xin 2020):
    export_packed, load_packed: one file holding the architecture, the
        bit-packed 1-, 2- and k-bit kernel codes with their scales, and the
        float tensors; the loaded model predicts as the exported one.
    pack_bits, unpack_bits: the bit packing of integer codes.
"""

from hdl_keras.saving.packed import export_packed
from hdl_keras.saving.packed import load_packed
from hdl_keras.saving.packed import pack_bits
from hdl_keras.saving.packed import unpack_bits

__all__ = ["export_packed", "load_packed", "pack_bits", "unpack_bits"]
