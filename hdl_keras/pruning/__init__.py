"""Sparsity for robust nets: splitting methods, magnitude pruning, measurement.

RVSM, RGSM and ADMM (Dinh et al. 2020, sec. 4) run inside `model.fit` as kernel
regularizers plus callbacks (`apply_rvsm`, `apply_rgsm`, `apply_admm`); the
operators they use are in `hdl_keras.pruning.operators`, the callbacks in
`hdl_keras.callbacks`; `hdl_keras.measure` (`zero_weight_fraction`,
`zero_channel_fraction`, `sparsity_report`, `count_flops`) measures the result.

Moved (the old names here warn and are removed in the next release):
`ConstantChannelsBias` to `hdl_keras.layers`; the measures to
`hdl_keras.measure`. `ReplaceWithU` and `ADMMUpdate` live in
`hdl_keras.callbacks` and are re-exported here.
"""

from hdl_keras.callbacks import ADMMUpdate
from hdl_keras.callbacks import ReplaceWithU
from hdl_keras.pruning.magnitude import MaskConstraint
from hdl_keras.pruning.magnitude import apply_masks
from hdl_keras.pruning.magnitude import magnitude_masks
from hdl_keras.pruning.magnitude import masks_from_zeros
from hdl_keras.pruning.operators import channel_norms
from hdl_keras.pruning.operators import channel_sparsity_projection
from hdl_keras.pruning.operators import group_hard_threshold
from hdl_keras.pruning.operators import group_soft_threshold
from hdl_keras.pruning.operators import hard_threshold
from hdl_keras.pruning.operators import rgsm_prox
from hdl_keras.pruning.operators import soft_threshold
from hdl_keras.pruning.operators import sparsity_projection
from hdl_keras.pruning.schedule import prune_and_finetune
from hdl_keras.pruning.schedule import train_from_scratch
from hdl_keras.pruning.shrink import shrink
from hdl_keras.pruning.splitting import ADMM
from hdl_keras.pruning.splitting import RGSM
from hdl_keras.pruning.splitting import RVSM
from hdl_keras.pruning.splitting import RegularizerSum
from hdl_keras.pruning.splitting import apply_admm
from hdl_keras.pruning.splitting import apply_rgsm
from hdl_keras.pruning.splitting import apply_rvsm
from hdl_keras.pruning.splitting import remove_splitting
from hdl_keras.utils.deprecation import moved_names

__getattr__ = moved_names(
    __name__,
    {
        "ConstantChannelsBias": "hdl_keras.layers",
        "count_flops": "hdl_keras.measure",
        "count_parameters": "hdl_keras.measure",
        "model_summary": "hdl_keras.measure",
        "prunable_layers": "hdl_keras.measure",
        "sparsity_report": "hdl_keras.measure",
        "zero_channel_fraction": "hdl_keras.measure",
        "zero_weight_fraction": "hdl_keras.measure",
    },
)

__all__ = [
    "ADMM",
    "ADMMUpdate",
    "MaskConstraint",
    "RGSM",
    "RVSM",
    "RegularizerSum",
    "ReplaceWithU",
    "apply_admm",
    "apply_masks",
    "apply_rgsm",
    "apply_rvsm",
    "channel_norms",
    "channel_sparsity_projection",
    "group_hard_threshold",
    "group_soft_threshold",
    "hard_threshold",
    "magnitude_masks",
    "masks_from_zeros",
    "prune_and_finetune",
    "remove_splitting",
    "rgsm_prox",
    "shrink",
    "soft_threshold",
    "sparsity_projection",
    "train_from_scratch",
]
