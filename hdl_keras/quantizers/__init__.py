"""Weight quantizers and the BinaryConnect/BinaryRelax training schemes (Li, Wang and Xin 2020).

Quantizers (registered, serializable; resolve by name with `get`):
    BinaryQuantizer: `mean(|w|) * sign(w)` (1 bit).
    TernaryQuantizer: TWN threshold `0.7 * mean(|w|)`, levels `{-1, 0, +1}`
        (2 bits).
    KBitQuantizer: uniform symmetric `k`-bit grid, `scale = max(|w|) / L`
        with `L = 2**(k-1) - 1`.
    Each has `q(w)` (straight-through gradient), `encode`/`decode` (integer
    codes and scales) and `bits`; `WeightQuantizer` is their base class.
    get, serialize, deserialize: larq/Keras-style resolution.

Training schemes (`hdl_keras.layers.QuantDense`/`QuantConv2D` compute with
`u = (lambda * q(w) + w) / (lambda + 1)`, `lambda` a non-trainable weight):
    BinaryConnect: the quantized layers with no callback (`lambda = inf`).
    BinaryRelax: a callback growing `lambda` by `rho` per epoch, then
        BinaryConnect from epoch `switch_epoch`.
    relaxed_kernel, set_relax_lambda, relaxable_layers: the pieces.

Packed export (1-, 2- and k-bit codes bit-packed with their scales):
    export_packed, load_packed: one file holding the architecture, packed
        quantized kernels and float tensors; the loaded model predicts as the
        exported one.
    pack_bits, unpack_bits: the bit packing of integer codes.

Evaluation, in `hdl_keras.quantizers.evaluation` (imported on its own: it
uses the attack suite and the pruning measures, which import the layers,
which import this package):
    evaluate_quantized: white-box PGD through the straight-through path,
        BPDA, transfer from a float surrogate and Square, with the masking
        flags of `hdl_keras.attacks.evaluate` and a gradient check.
    float_twin: the same network with Keras Dense/Conv2D and float kernels
        (`q(w)` or the shadow `w`).
    gradient_check: input gradients through the STE path vs the exact ones.
    weight_statistics: zero weights, zero channels, bits per weight.
"""

from hdl_keras.quantizers.packing import export_packed
from hdl_keras.quantizers.packing import load_packed
from hdl_keras.quantizers.packing import pack_bits
from hdl_keras.quantizers.packing import unpack_bits
from hdl_keras.quantizers.quantizers import BinaryQuantizer
from hdl_keras.quantizers.quantizers import KBitQuantizer
from hdl_keras.quantizers.quantizers import TernaryQuantizer
from hdl_keras.quantizers.quantizers import WeightQuantizer
from hdl_keras.quantizers.quantizers import deserialize
from hdl_keras.quantizers.quantizers import get
from hdl_keras.quantizers.quantizers import serialize
from hdl_keras.quantizers.relax import BinaryRelax
from hdl_keras.quantizers.relax import relaxable_layers
from hdl_keras.quantizers.relax import relaxed_kernel
from hdl_keras.quantizers.relax import set_relax_lambda

__all__ = [
    "BinaryQuantizer",
    "BinaryRelax",
    "KBitQuantizer",
    "TernaryQuantizer",
    "WeightQuantizer",
    "deserialize",
    "export_packed",
    "get",
    "load_packed",
    "pack_bits",
    "relaxable_layers",
    "relaxed_kernel",
    "serialize",
    "set_relax_lambda",
    "unpack_bits",
]
