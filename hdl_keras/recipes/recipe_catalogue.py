"""The named training recipes of `train_recipe`: `Recipe`, `RECIPES` and the papers' threat model.

`"paper"`: the 200-epoch schedule of Dinh et al. 2020 and Li et al. 2020
(SGD 0.9, lr 0.1 decayed x0.1 at epochs 80/120/160, weight decay 5e-4,
PGD-10); `"fast"`: fast adversarial training of Wong et al. 2020 (15 epochs,
one-cycle lr, FGSM with random start).
"""

import dataclasses
import warnings

from hdl_keras import presets

# The l_inf threat model of the papers' training and tables. Dinh et al. (2020) (CIFAR): IFGSM^10,
# step 2/255, eps 8/255, random start. Li et al. (2020) state no other eps for their Table VIII
# (MNIST, Fashion-MNIST): its models come from the same EnResNet code, eps 8/255.
PAPER_THREAT_MODEL = presets.pgd_settings("dinh2020enresnet-pgd10")
# Deprecated alias of `PAPER_THREAT_MODEL`, kept for one release.
SEED_THREAT_MODEL = PAPER_THREAT_MODEL


@dataclasses.dataclass(frozen=True)
class Recipe:
    """One training recipe: optimizer, schedule, epochs and attack of the train step.

    Attributes:
        name: registry name.
        epochs: default number of epochs.
        batch_size: default batch size.
        schedule: `"paper"` (step decay at `decay_epochs`) or `"one_cycle"`;
            `"seed"` is a deprecated alias of `"paper"`.
        learning_rate: initial (paper) or peak (one-cycle) learning rate.
        decay_epochs: epochs of the x0.1 decays of the paper schedule, as
            fractions of the run when `epochs` is changed.
        momentum: SGD momentum.
        weight_decay: L2 weight decay coefficient (see `train_recipe`).
        attack: the training attack's settings (`eps`, `step_size`, `steps`,
            `random_start`), or None for `PAPER_THREAT_MODEL`.
        description: one line for the CLI and the docs.
    """

    name: str
    epochs: int
    batch_size: int
    schedule: str
    learning_rate: float
    momentum: float
    weight_decay: float
    decay_epochs: tuple = ()
    attack: dict | None = None
    description: str = ""

    def __post_init__(self):
        if self.schedule == "seed":
            warnings.warn(
                'Recipe(schedule="seed") is deprecated; use schedule="paper" (the same step decay).',
                DeprecationWarning,
                stacklevel=3,
            )
            object.__setattr__(self, "schedule", "paper")

    def attack_settings(self, eps=None, steps=None, step_size=None):
        """The training attack's `PGD` settings, with `eps`, `steps`, `step_size` overridden.

        The step size follows `eps` (`step_ratio * eps`: 1/4 for the paper's
        2/255 at 8/255, 1.25 for fast FGSM) unless given.
        """
        settings = {**PAPER_THREAT_MODEL, "random_start": True, **(self.attack or {})}
        ratio = settings.pop("step_ratio", PAPER_THREAT_MODEL["step_size"] / PAPER_THREAT_MODEL["eps"])
        if eps is not None:
            settings["eps"] = float(eps)
        settings["step_size"] = float(step_size) if step_size is not None else ratio * settings["eps"]
        if steps is not None:
            settings["steps"] = int(steps)
        return settings

    def scaled_decay_epochs(self, epochs):
        """The paper schedule's decay epochs for a run of `epochs` (scaled from `self.epochs`)."""
        if epochs == self.epochs:
            return tuple(self.decay_epochs)
        scaled = sorted({max(1, round(e * epochs / self.epochs)) for e in self.decay_epochs})
        return tuple(e for e in scaled if e < epochs)


RECIPES = {
    "paper": Recipe(
        name="paper",
        epochs=200,
        batch_size=128,
        schedule="paper",
        learning_rate=0.1,
        decay_epochs=(80, 120, 160),
        momentum=0.9,
        weight_decay=5e-4,
        description="Dinh et al. 2020 / Li et al. 2020: 200 epochs, SGD 0.9, lr 0.1 x0.1 at 80/120/160, wd 5e-4, "
        "PGD-10 (2/255, eps 8/255)",
    ),
    "fast": Recipe(
        name="fast",
        epochs=15,
        batch_size=128,
        schedule="one_cycle",
        learning_rate=0.2,
        momentum=0.9,
        weight_decay=5e-4,
        attack={"steps": 1, "step_ratio": 1.25, "random_start": True},
        description="Wong et al. 2020: 15 epochs, one-cycle lr 0 -> 0.2 -> 0, FGSM with random start (step 1.25 eps)",
    ),
}


# Recipe names kept for one release: old name -> current name.
DEPRECATED_RECIPE_NAMES = {"seed": "paper"}


def available_recipes():
    """The names `train_recipe` accepts."""
    return list(RECIPES)


def resolve_recipe_name(name):
    """`name`, or the current name of a deprecated recipe name (with a `DeprecationWarning`)."""
    if name in DEPRECATED_RECIPE_NAMES:
        current = DEPRECATED_RECIPE_NAMES[name]
        warnings.warn(
            f"The recipe name {name!r} is deprecated; use {current!r} (the same recipe).",
            DeprecationWarning,
            stacklevel=3,
        )
        return current
    return name
