"""The attack suite: every attack maps `(x, y)` to adversarial `x` in [0, 1].

White-box: `FGSM`, `PGD` (IFGSM, l_inf / l_2, restarts), `cw_linf` (PGD on the
Carlini-Wagner margin), `CarliniWagner` (l_2 minimum norm), `APGD` (CE, DLR,
targeted), `FAB` (minimal l_inf / l_2 perturbations, FAB-T). Black-box: `Square`, `NAttack`. Model wrappers that
every attack accepts in place of the model: `EoT` (randomized models, input
gradients averaged over draws), `BPDA` (non-differentiable preprocessing or
layers, a differentiable approximation backward); `Transfer` (attack a
surrogate). `evaluate` runs a set
of attacks and returns a `RobustnessReport` with gradient-masking flags and
confusion matrices (`most_confused_pairs`, `plot_confusion_matrix`);
`AutoAttack` runs the ensemble of Croce & Hein (2020) as RobustBench does.
"""

from hdl_keras.attacks import losses
from hdl_keras.attacks.apgd import APGD
from hdl_keras.attacks.autoattack import AutoAttack
from hdl_keras.attacks.base import Attack
from hdl_keras.attacks.bpda import BPDA
from hdl_keras.attacks.confusion import most_confused_pairs
from hdl_keras.attacks.confusion import plot_confusion_matrix
from hdl_keras.attacks.cw import CarliniWagner
from hdl_keras.attacks.cw import cw_linf
from hdl_keras.attacks.eot import EoT
from hdl_keras.attacks.evaluate import evaluate
from hdl_keras.attacks.fab import FAB
from hdl_keras.attacks.fgsm import FGSM
from hdl_keras.attacks.nattack import NAttack
from hdl_keras.attacks.pgd import PGD
from hdl_keras.attacks.report import AttackResult
from hdl_keras.attacks.report import RobustnessReport
from hdl_keras.attacks.square import Square
from hdl_keras.attacks.transfer import Transfer

__all__ = [
    "APGD",
    "Attack",
    "AutoAttack",
    "AttackResult",
    "BPDA",
    "CarliniWagner",
    "EoT",
    "FAB",
    "FGSM",
    "NAttack",
    "PGD",
    "RobustnessReport",
    "Square",
    "Transfer",
    "cw_linf",
    "evaluate",
    "losses",
    "most_confused_pairs",
    "plot_confusion_matrix",
]
