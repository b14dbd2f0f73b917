"""The attack suite: every attack maps `(x, y)` to adversarial `x` in [0, 1]."""

from hdl_keras.attacks.base import Attack
from hdl_keras.attacks.fgsm import FGSM
from hdl_keras.attacks.pgd import PGD

__all__ = ["Attack", "FGSM", "PGD"]
