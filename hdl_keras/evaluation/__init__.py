"""Evaluations that combine the attack suite with the other floors.

Quantized nets (`hdl_keras.evaluation.quantized`; Li, Wang and Xin 2020):
    evaluate_quantized: white-box PGD through the straight-through path,
        BPDA, transfer from a float surrogate and Square, with the masking
        flags of `hdl_keras.attacks.evaluate` and a gradient check.
    float_twin: the same network with Keras Dense/Conv2D and float kernels
        (`q(w)` or the shadow `w`).
    gradient_check: input gradients through the STE path vs the exact ones.
Weight statistics (zero weights, zero channels, bits per weight) are in
`hdl_keras.measure`.
"""

from hdl_keras.evaluation.quantized import evaluate_quantized
from hdl_keras.evaluation.quantized import float_twin
from hdl_keras.evaluation.quantized import gradient_check

__all__ = ["evaluate_quantized", "float_twin", "gradient_check"]
