"""Layers of hdl_keras, registered for `.keras` saving under package "hdl_keras".

Sparsity (continuous sparsification, Savarese et al. 2020, as used by the
Holistic Deep Learning paper):
    MaskedDense, MaskedConv2D: Keras `Dense`/`Conv2D` whose kernel is gated by
        `sigmoid(beta * s)`, with `sparsity_penalty()`, `hard_mask()`,
        `pruned_kernel()` and `sparsity()`.
    MaskedKernelMixin: the shared mask logic (`isinstance` check for any
        masked layer).
    export_pruned: a copy of a model with masked layers replaced by plain
        Keras layers carrying the hard-pruned kernel.
    count_zero_weights: `(zeros, total)` kernel entries of a model.
"""

from hdl_keras.layers.export import count_zero_weights
from hdl_keras.layers.export import export_pruned
from hdl_keras.layers.export import to_masked
from hdl_keras.layers.masked_conv import MaskedConv2D
from hdl_keras.layers.masked_dense import MaskedDense
from hdl_keras.layers.masking import MaskedKernelMixin

__all__ = [
    "MaskedConv2D",
    "MaskedDense",
    "MaskedKernelMixin",
    "count_zero_weights",
    "export_pruned",
    "to_masked",
]
