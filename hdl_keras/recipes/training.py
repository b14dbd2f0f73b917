"""`train`, the one training function, re-exported where the recipes use it.

It lives in `hdl_keras.objectives.training`, on the objectives' floor, so the
pruning schedules (a floor below the recipes) train through it too.
"""

from hdl_keras.objectives.training import train

__all__ = ["train"]
