"""Weight statistics and model cost, computed once for the whole package.

Zero weights, zero channels and bits per weight (`hdl_keras.measure.weights`):
    prunable_layers, kernel_layers: the layers counted (Dense/Conv2D and
        subclasses; every layer with a kernel).
    effective_kernel: the kernel a layer applies (masked layers: hard-pruned).
    count_zero_weights: `(zeros, total)` kernel entries (the HDL paper's
        sparsity, Bertsimas et al. 2023).
    sparsity_report, zero_weight_fraction, zero_channel_fraction: per layer
        and overall (Dinh et al. 2020's "Sp" and "Ch. Sp").
    forward_bits, weight_statistics: bits per weight of quantized nets (Li,
        Wang and Xin 2020) with the zero fractions, as the zoo cards report.
    ZERO_CHANNEL_TOLERANCE: `1e-15`, the l2 norm under which a channel is zero.

Cost (`hdl_keras.measure.flops`):
    count_flops, count_parameters, model_summary.
"""

from hdl_keras.measure.flops import count_flops
from hdl_keras.measure.flops import count_parameters
from hdl_keras.measure.flops import model_summary
from hdl_keras.measure.weights import PRUNABLE_LAYER_TYPES
from hdl_keras.measure.weights import ZERO_CHANNEL_TOLERANCE
from hdl_keras.measure.weights import count_zero_weights
from hdl_keras.measure.weights import effective_kernel
from hdl_keras.measure.weights import forward_bits
from hdl_keras.measure.weights import kernel_layers
from hdl_keras.measure.weights import prunable_layers
from hdl_keras.measure.weights import sparsity_report
from hdl_keras.measure.weights import weight_statistics
from hdl_keras.measure.weights import zero_channel_fraction
from hdl_keras.measure.weights import zero_weight_fraction

__all__ = [
    "PRUNABLE_LAYER_TYPES",
    "ZERO_CHANNEL_TOLERANCE",
    "count_flops",
    "count_parameters",
    "count_zero_weights",
    "effective_kernel",
    "forward_bits",
    "kernel_layers",
    "model_summary",
    "prunable_layers",
    "sparsity_report",
    "weight_statistics",
    "zero_channel_fraction",
    "zero_weight_fraction",
]
