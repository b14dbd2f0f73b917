"""Training callbacks of the papers' schemes, registered for `.keras` configs under package "hdl_keras".

BetaAnnealing: raises the sparsity gates' `beta` from 1 to `beta_bar` over a
    round (Bertsimas et al. 2023, sec. 3.3; `hdl_keras.objectives` runs the rounds).
BinaryRelax: the relaxation `lambda` of the quantized layers, growing each
    epoch, then BinaryConnect (Li, Wang and Xin 2020, Algorithm 1).
ReplaceWithU, ADMMUpdate: the between-epoch steps of RVSM / RGSM and ADMM
    (Dinh et al. 2020, sec. 4; `hdl_keras.pruning.apply_rvsm` etc. attach the
    regularizers and return these).
ResumableBackup, EpochSeeds: exact resumption of a killed `fit` (weights,
    optimizer and epoch after every epoch; per-epoch random seeds).
"""

from hdl_keras.callbacks.beta_annealing import BetaAnnealing
from hdl_keras.callbacks.binary_relax import BinaryRelax
from hdl_keras.callbacks.resume import EpochSeeds
from hdl_keras.callbacks.resume import ResumableBackup
from hdl_keras.callbacks.splitting import ADMMUpdate
from hdl_keras.callbacks.splitting import ReplaceWithU

__all__ = ["ADMMUpdate", "BetaAnnealing", "BinaryRelax", "EpochSeeds", "ReplaceWithU", "ResumableBackup"]
