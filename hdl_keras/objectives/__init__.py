"""Training objectives that plug into `model.fit`.

Holistic Deep Learning (Bertsimas et al. 2023): `robust_cross_entropy` (eq. 7),
`worst_subset_loss` (stability, sec. 3.4), `sparsity_penalty` with
`BetaAnnealing` / `start_new_round` / `fit_sparse_rounds` (sec. 3.3), and
`HolisticModel`, which combines them into the 8 methods of Table 1.

Adversarial training (models that attack their own batches with the attack
suite's PGD inside the train step): `PGDAdversarialTraining` (Madry et al.
2018; Dinh et al. (2020) and the training-techniques report), `TRADES` (Zhang et al. 2019) and `TradeOff`
(Li, Wang and Xin's (2020) `alpha * L_nat + beta * L_rob`), on the shared base
`AdversarialModel`; `ATTACK_PRESETS` holds the papers' PGD settings and
`fast_at_settings(eps)` the FGSM-with-random-start attack of fast adversarial
training (Wong, Rice, Kolter 2020). `RobustValidation` is the callback that
selects the epoch with the best validation PGD accuracy and flags catastrophic
overfitting (Rice, Wong, Kolter 2020).

Verified training: `IBPTraining` (interval bound propagation, Gowal et al.
2018, with its eps and kappa ramps), Sehwag et al.'s (2019) verified objective.

All of them derive from `ObjectiveModel` (`from_model`, `sample_weight`,
`unwrap()` to the plain logits network) and are found by name:
`get("hdl")`, `get("pgd")`, `get("trades")`, `get("tradeoff")`, `get("ibp")`;
`available_objectives()` lists the names.
"""

from hdl_keras.objectives.adversarial import ATTACK_PRESETS
from hdl_keras.objectives.adversarial import AdversarialModel
from hdl_keras.objectives.adversarial import FAST_STEP_RATIO
from hdl_keras.objectives.adversarial import PGDAdversarialTraining
from hdl_keras.objectives.adversarial import fast_at_settings
from hdl_keras.objectives.base import ObjectiveModel
from hdl_keras.objectives.base import available_objectives
from hdl_keras.objectives.base import get
from hdl_keras.objectives.holistic import METHODS
from hdl_keras.objectives.holistic import HolisticModel
from hdl_keras.objectives.ibp import IBPTraining
from hdl_keras.objectives.ibp import worst_case_logits
from hdl_keras.objectives.robust import robust_cross_entropy
from hdl_keras.objectives.robust_selection import RobustValidation
from hdl_keras.objectives.sparse import BetaAnnealing
from hdl_keras.objectives.sparse import fit_sparse_rounds
from hdl_keras.objectives.sparse import masked_layers
from hdl_keras.objectives.sparse import sparsity_penalty
from hdl_keras.objectives.sparse import start_new_round
from hdl_keras.objectives.stable import worst_subset_loss
from hdl_keras.objectives.tradeoff import TradeOff
from hdl_keras.objectives.trades import TRADES
from hdl_keras.objectives.trades import kl_divergence

__all__ = [
    "ATTACK_PRESETS",
    "FAST_STEP_RATIO",
    "METHODS",
    "TRADES",
    "AdversarialModel",
    "BetaAnnealing",
    "HolisticModel",
    "IBPTraining",
    "ObjectiveModel",
    "PGDAdversarialTraining",
    "RobustValidation",
    "TradeOff",
    "available_objectives",
    "fast_at_settings",
    "fit_sparse_rounds",
    "get",
    "kl_divergence",
    "masked_layers",
    "robust_cross_entropy",
    "sparsity_penalty",
    "start_new_round",
    "worst_case_logits",
    "worst_subset_loss",
]
