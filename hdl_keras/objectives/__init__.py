"""Training objectives that plug into `model.fit`.

Holistic Deep Learning (Bertsimas et al. 2023): `robust_cross_entropy` (eq. 7),
`worst_subset_loss` (stability, sec. 3.4), `sparsity_penalty` with
`BetaAnnealing` / `start_new_round` / `fit_sparse_rounds` (sec. 3.3), and
`HolisticModel`, which combines them into the 8 methods of Table 1.
"""

from hdl_keras.objectives.holistic import METHODS
from hdl_keras.objectives.holistic import HolisticModel
from hdl_keras.objectives.robust import robust_cross_entropy
from hdl_keras.objectives.sparse import BetaAnnealing
from hdl_keras.objectives.sparse import fit_sparse_rounds
from hdl_keras.objectives.sparse import masked_layers
from hdl_keras.objectives.sparse import sparsity_penalty
from hdl_keras.objectives.sparse import start_new_round
from hdl_keras.objectives.stable import worst_subset_loss

__all__ = [
    "METHODS",
    "BetaAnnealing",
    "HolisticModel",
    "fit_sparse_rounds",
    "masked_layers",
    "robust_cross_entropy",
    "sparsity_penalty",
    "start_new_round",
    "worst_subset_loss",
]
