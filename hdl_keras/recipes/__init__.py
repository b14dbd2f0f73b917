"""Training: the one `train` function, the recipes, and evaluation like the papers' tables.

`train(model, x, y, epochs=...)` trains any objective model of
`hdl_keras.objectives` with `model.fit` (rounds for the sparse HDL
objectives, best-validation restore); every trainer of the package calls it.

`train_recipe(name, model_name, dataset, objective, ...)` trains a model of
the zoo with an adversarial objective on a named recipe: `"paper"` (Dinh et al.
2020, Li et al. 2020: 200 epochs of SGD, lr 0.1 decayed x0.1 at epochs 80/120/160, weight
decay 5e-4, random crop and flip, PGD-10) or `"fast"` (FGSM with random
start on a one-cycle schedule, Wong et al. 2020); runs resume from
`keras.callbacks.BackupAndRestore`. `evaluate_like_paper` measures the
natural, FGSM, IFGSM^20, C&W, NAttack and EoT-PGD accuracies with the attack
suite. The `hdl-train` command runs both.
"""

# The old module path `hdl_keras.recipes.augmentation` (a deprecation alias) is loaded first: loading
# it later would rebind `hdl_keras.recipes.augmentation`, the function below, to the module.
from hdl_keras.recipes import augmentation as _augmentation_module  # noqa: F401
from hdl_keras.preprocessing.augmentation import AugmentedBatches
from hdl_keras.preprocessing.augmentation import augmentation
from hdl_keras.recipes.evaluation import PAPER_EVALUATION
from hdl_keras.recipes.evaluation import PAPER_TARGETS
from hdl_keras.recipes.evaluation import SEED_EVALUATION as SEED_EVALUATION  # deprecated alias, one release
from hdl_keras.recipes.evaluation import SEED_TARGETS as SEED_TARGETS  # deprecated alias, one release
from hdl_keras.recipes.evaluation import evaluate_like_paper
from hdl_keras.recipes.evaluation import evaluate_like_seed as evaluate_like_seed  # deprecated alias, one release
from hdl_keras.recipes.evaluation import paper_table_markdown
from hdl_keras.recipes.evaluation import seed_table_markdown as seed_table_markdown  # deprecated alias, one release
from hdl_keras.recipes.recipes import OBJECTIVES
from hdl_keras.recipes.recipes import PAPER_THREAT_MODEL
from hdl_keras.recipes.recipes import RECIPES
from hdl_keras.recipes.recipes import SEED_THREAT_MODEL as SEED_THREAT_MODEL  # deprecated alias, one release
from hdl_keras.recipes.recipes import Recipe
from hdl_keras.recipes.recipes import add_weight_decay
from hdl_keras.recipes.recipes import available_recipes
from hdl_keras.recipes.recipes import train_recipe
from hdl_keras.recipes.schedules import OneCycle
from hdl_keras.recipes.schedules import paper_schedule
from hdl_keras.recipes.schedules import seed_schedule as seed_schedule  # deprecated alias, one release
from hdl_keras.recipes.training import train

__all__ = [
    "OBJECTIVES",
    "RECIPES",
    "PAPER_EVALUATION",
    "PAPER_TARGETS",
    "PAPER_THREAT_MODEL",
    "AugmentedBatches",
    "OneCycle",
    "Recipe",
    "add_weight_decay",
    "augmentation",
    "available_recipes",
    "evaluate_like_paper",
    "paper_table_markdown",
    "paper_schedule",
    "train",
    "train_recipe",
]
