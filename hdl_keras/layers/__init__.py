"""Layers of hdl_keras, registered for `.keras` saving under package "hdl_keras".

Sparsity (continuous sparsification, Savarese et al. 2020, as used by the
Holistic Deep Learning paper):
    MaskedDense, MaskedConv2D: Keras `Dense`/`Conv2D` whose kernel is gated by
        `sigmoid(beta * s)`, one gate per kernel entry or, with
        `granularity="channel"`, per output channel; with
        `sparsity_penalty()`, `hard_mask()`, `pruned_kernel()` and `sparsity()`.
    MaskedKernelMixin: the shared mask logic (`isinstance` check for any
        masked layer).
    export_pruned: a copy of a model with masked layers replaced by plain
        Keras layers carrying the hard-pruned kernel; to_masked: the inverse.
    ConstantChannelsBias: what the constant input channels that
        `hdl_keras.pruning.shrink` removed gave a convolution.
    (`count_zero_weights` moved to `hdl_keras.measure`; the old name here
    warns and is removed in the next release.)

EnResNets (ResNets ensemble via the Feynman-Kac formalism, Wang et al. 2019):
    ResidualNoise: seeded Gaussian noise injected into a residual block's
        `shortcut + F(x)`, on at inference too by default.
    Ensemble: the average of the members' softmax outputs, returned as
        logits `log(mean_i softmax(z_i))`.

Quantized nets (BinaryConnect/BinaryRelax; Li, Wang and Xin 2020):
    QuantDense, QuantConv2D: Keras `Dense`/`Conv2D` with a float shadow
        kernel and a `kernel_quantizer`, computing with the quantized (or
        relaxed) kernel; `quantized_kernel()`, `float_kernel`.
    QuantizedKernelMixin: the shared quantization logic.
    to_quantized: a copy of a float model with quantized Dense/Conv2D layers.
"""

from hdl_keras.layers.constant_bias import ConstantChannelsBias
from hdl_keras.layers.ensemble import Ensemble
from hdl_keras.layers.export import export_pruned
from hdl_keras.layers.export import to_masked
from hdl_keras.layers.masked_conv import MaskedConv2D
from hdl_keras.layers.masked_dense import MaskedDense
from hdl_keras.layers.masking import MaskedKernelMixin
from hdl_keras.layers.noisy_residual import ResidualNoise
from hdl_keras.layers.quantized import QuantConv2D
from hdl_keras.layers.quantized import QuantDense
from hdl_keras.layers.quantized import QuantizedKernelMixin
from hdl_keras.layers.quantized_conversion import to_quantized
from hdl_keras.utils.deprecation import moved_names

__getattr__ = moved_names(__name__, {"count_zero_weights": "hdl_keras.measure"})

__all__ = [
    "ConstantChannelsBias",
    "Ensemble",
    "MaskedConv2D",
    "MaskedDense",
    "MaskedKernelMixin",
    "QuantConv2D",
    "QuantDense",
    "QuantizedKernelMixin",
    "ResidualNoise",
    "export_pruned",
    "to_masked",
    "to_quantized",
]
