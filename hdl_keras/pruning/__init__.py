"""Sparsity for robust nets: splitting methods, magnitude pruning, measurement.

RVSM, RGSM and ADMM (Dinh et al. 2020, sec. 4) run inside `model.fit` as kernel
regularizers plus callbacks (`apply_rvsm`, `apply_rgsm`, `apply_admm`); the
operators they use are in `hdl_keras.pruning.operators`; `zero_weight_fraction`,
`zero_channel_fraction` and `sparsity_report` measure the result.
"""

from hdl_keras.pruning.constant_bias import ConstantChannelsBias
from hdl_keras.pruning.flops import count_flops
from hdl_keras.pruning.flops import count_parameters
from hdl_keras.pruning.flops import model_summary
from hdl_keras.pruning.magnitude import MaskConstraint
from hdl_keras.pruning.magnitude import apply_masks
from hdl_keras.pruning.magnitude import magnitude_masks
from hdl_keras.pruning.magnitude import masks_from_zeros
from hdl_keras.pruning.measure import prunable_layers
from hdl_keras.pruning.measure import sparsity_report
from hdl_keras.pruning.measure import zero_channel_fraction
from hdl_keras.pruning.measure import zero_weight_fraction
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
from hdl_keras.pruning.splitting import ADMMUpdate
from hdl_keras.pruning.splitting import RegularizerSum
from hdl_keras.pruning.splitting import ReplaceWithU
from hdl_keras.pruning.splitting import apply_admm
from hdl_keras.pruning.splitting import apply_rgsm
from hdl_keras.pruning.splitting import apply_rvsm
from hdl_keras.pruning.splitting import remove_splitting

__all__ = [
    "ADMM",
    "ADMMUpdate",
    "ConstantChannelsBias",
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
    "count_flops",
    "count_parameters",
    "group_hard_threshold",
    "group_soft_threshold",
    "hard_threshold",
    "magnitude_masks",
    "masks_from_zeros",
    "model_summary",
    "prunable_layers",
    "prune_and_finetune",
    "remove_splitting",
    "rgsm_prox",
    "shrink",
    "soft_threshold",
    "sparsity_projection",
    "sparsity_report",
    "train_from_scratch",
    "zero_channel_fraction",
    "zero_weight_fraction",
]
