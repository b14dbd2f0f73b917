"""Writes evaluations into zoo cards: `update_card`, the producer side of `hdl-zoo eval --update-card`.

`hdl_keras.zoo.evaluation.evaluate_entry` measures an entry; `update_card`
is the only path by which numbers enter a card.
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
            (`"autoattack"` when AutoAttack ran, `"full"` when APGD ran).

    Returns:
        The new card (dict).
    """
    card = registry.card(name)
    metrics = {key: value for key, value in result.items() if key != "gradient_masking_flags"}
    if attacks is None:
        ran = metrics.get("attacks", {})
        attacks = "autoattack" if "autoattack" in ran else "full" if "apgd" in ran else "standard"
    check_preset(attacks)
    card["metrics"] = metrics
    card["gradient_masking_flags"] = list(result.get("gradient_masking_flags", []))
    card["evaluation"] = {
        "command": command,
        "date": datetime.date.today().isoformat(),
        "attacks": attacks,
        "backend": keras.backend.backend(),
    }
    registry.validate_card(card, source=f"new card of {name!r}")
    atomic_write_text(registry.zoo_root() / name / "card.json", json.dumps(card, indent=2) + "\n")
    return card
