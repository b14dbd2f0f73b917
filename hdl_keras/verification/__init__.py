"""Verification: certified bounds of a model's outputs over an input box.

`interval_bounds(model, x, eps)` bounds the logits over the L-inf ball by
interval bound propagation (Gowal et al. 2018); `verified_accuracy` is the
fraction of examples it proves robust.
"""

from hdl_keras.verification.ibp import SUPPORTED_LAYERS
from hdl_keras.verification.ibp import interval_bounds
from hdl_keras.verification.ibp import verified_accuracy

__all__ = ["SUPPORTED_LAYERS", "interval_bounds", "verified_accuracy"]
