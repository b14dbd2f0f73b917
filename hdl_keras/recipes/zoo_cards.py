"""Writes measurements into zoo cards: `update_card` (`hdl-zoo eval --update-card`) and the paper run's cost.

`hdl_keras.zoo.evaluation.evaluate_entry` measures an entry; `update_card`
is the only path by which its numbers enter a card. `set_paper_run_cost`
writes what the paper's run would cost here (`benchmarks/paper_compute.py
--update-cards`), and `refresh_reference` rewrites a card's `reference` from
its recipe (the paper row, the paper's run, what else was tried).
"""

import datetime
import json

import keras

from hdl_keras.utils.files import atomic_write_text
from hdl_keras.zoo import registry
from hdl_keras.zoo.evaluation import check_preset


def update_card(name, result, command, attacks=None):
    """Writes an evaluation into the card of entry `name`, atomically.

    Replaces `metrics`, `gradient_masking_flags` and `evaluation` (command,
    today's date, attack preset, backend); validates the card
    (`hdl_keras.zoo.validate_card`) and writes it under a temporary name in
    the entry folder before renaming it over `card.json`. The only path by
    which numbers enter a card.

    Args:
        name: the entry name.
        result: the dict `evaluate_entry` returned.
        command: the command line that produced `result`.
        attacks: the preset used; default inferred from `result["attacks"]`
            (`"autoattack"` when AutoAttack ran, `"full"` when APGD ran,
            `"bertsimas2023"` when its PGD-40 ran).

    Returns:
        The new card (dict).
    """
    card = registry.card(name)
    metrics = {key: value for key, value in result.items() if key != "gradient_masking_flags"}
    if attacks is None:
        ran = metrics.get("attacks", {})
        attacks = (
            "autoattack"
            if "autoattack" in ran
            else "full"
            if "apgd" in ran
            else "bertsimas2023"
            if "pgd40" in ran
            else "standard"
        )
    check_preset(attacks)
    card["metrics"] = metrics
    card["gradient_masking_flags"] = list(result.get("gradient_masking_flags", []))
    card["evaluation"] = {
        "command": command,
        "date": datetime.date.today().isoformat(),
        "attacks": attacks,
        "backend": keras.backend.backend(),
    }
    return _write(name, card)


def set_paper_run_cost(name, cost):
    """Writes the measured cost of the paper's run into `reference.paper_run` of entry `name`, atomically.

    Args:
        name: the entry name; its card must have a `reference.paper_run`.
        cost: dict: `hours` and `seconds_per_epoch` (images) or
            `seconds_per_run` (tables: one configuration and split), and
            `measured_by` (the command and what it timed).

    Returns:
        The new card (dict).
    """
    card = registry.card(name)
    if not card["reference"].get("paper_run"):
        raise ValueError(
            f"The card of {name!r} has no reference.paper_run: run refresh_reference({name!r}) first "
            "(it copies the recipe's), or train the entry again."
        )
    card["reference"]["paper_run"].update(cost)
    return _write(name, card)


def refresh_reference(name):
    """Rewrites the `reference` of entry `name` from its recipe, keeping a measured paper-run cost.

    The recipe's reference (`hdl_keras.recipes.zoo_entries.card_reference`: the
    paper row, `paper_run`, `tried`) replaces the card's; the cost keys that
    `set_paper_run_cost` wrote stay while the paper run is unchanged.

    Returns:
        The new card (dict).
    """
    from hdl_keras.recipes.zoo_entries import card_reference
    from hdl_keras.recipes.zoo_entries import get_recipe

    card = registry.card(name)
    card["reference"] = card_reference(get_recipe(name), card["reference"])
    return _write(name, card)


def _write(name, card):
    registry.validate_card(card, source=f"new card of {name!r}")
    atomic_write_text(registry.zoo_root() / name / "card.json", json.dumps(card, indent=2) + "\n")
    return card
