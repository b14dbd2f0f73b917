"""Weight quantizers (binary, ternary, k-bit) and the BinaryRelax relaxation (Li, Wang and Xin 2020).

Quantizers (registered, serializable; resolve by name with `get`):
    BinaryQuantizer: `mean(|w|) * sign(w)` (1 bit).
    TernaryQuantizer: TWN threshold `0.7 * mean(|w|)`, levels `{-1, 0, +1}`
        (2 bits).
    KBitQuantizer: uniform symmetric `k`-bit grid, `scale = max(|w|) / L`
        with `L = 2**(k-1) - 1`.
    Each has `q(w)` (straight-through gradient), `encode`/`decode` (integer
    codes and scales) and `bits`; `WeightQuantizer` is their base class.
    get, serialize, deserialize: larq/Keras-style resolution.

Relaxation (`hdl_keras.layers.QuantDense`/`QuantConv2D` compute with
`u = (lambda * q(w) + w) / (lambda + 1)`, `lambda` a non-trainable weight):
    relaxed_kernel, set_relax_lambda, relaxable_layers: the pieces; without a
    callback the layers train with BinaryConnect (`lambda = inf`), and
    `hdl_keras.callbacks.BinaryRelax` schedules `lambda`.

Moved (the old names here warn and are removed in the next release):
`BinaryRelax` to `hdl_keras.callbacks`; `export_packed`, `load_packed`,
`pack_bits`, `unpack_bits` to `hdl_keras.saving`; the evaluation module to
`hdl_keras.evaluation.quantized` and `weight_statistics` to `hdl_keras.measure`.
"""

from hdl_keras.quantizers.quantizers import BinaryQuantizer
from hdl_keras.quantizers.quantizers import KBitQuantizer
from hdl_keras.quantizers.quantizers import TernaryQuantizer
from hdl_keras.quantizers.quantizers import WeightQuantizer
from hdl_keras.quantizers.quantizers import deserialize
from hdl_keras.quantizers.quantizers import get
from hdl_keras.quantizers.quantizers import serialize
from hdl_keras.quantizers.relax import relaxable_layers
from hdl_keras.quantizers.relax import relaxed_kernel
from hdl_keras.quantizers.relax import set_relax_lambda
from hdl_keras.utils.deprecation import moved_names

__getattr__ = moved_names(
    __name__,
    {
        "BinaryRelax": "hdl_keras.callbacks",
        "export_packed": "hdl_keras.saving",
        "load_packed": "hdl_keras.saving",
        "pack_bits": "hdl_keras.saving",
        "unpack_bits": "hdl_keras.saving",
    },
)

__all__ = [
    "BinaryQuantizer",
    "KBitQuantizer",
    "TernaryQuantizer",
    "WeightQuantizer",
    "deserialize",
    "get",
    "relaxable_layers",
    "relaxed_kernel",
    "serialize",
    "set_relax_lambda",
]
