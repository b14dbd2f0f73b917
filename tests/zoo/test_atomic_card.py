"""Card updates are atomic: a failure mid-write leaves the card as it was."""

import pytest

from hdl_keras.utils import files
from hdl_keras.zoo import evaluation


def test_a_card_update_failing_mid_write_leaves_the_card_intact(tiny_zoo, monkeypatch):
    card_path = tiny_zoo / "iris-mlp-dl" / "card.json"
    before = card_path.read_bytes()
    result = {
        "num_examples": 10,
        "clean_accuracy": 0.9,
        "attacks": {"pgd": 0.5},
        "worst_case_accuracy": 0.5,
        "eps": 0.1,
        "zero_weights": 0.0,
        "zero_channels": 0.0,
        "bits_per_weight": 32.0,
        "gradient_masking_flags": [],
    }
    written = []

    def crash(path):  # the new card is fully written to its temporary file, then the process "dies"
        written.append(path.read_text())
        raise OSError("No space left on device")

    monkeypatch.setattr(files, "_fsync", crash)
    with pytest.raises(OSError, match="No space left"):
        evaluation.update_card("iris-mlp-dl", result, command="hdl-zoo eval iris-mlp-dl")
    assert '"clean_accuracy": 0.9' in written[0]
    assert card_path.read_bytes() == before
    assert sorted(p.name for p in card_path.parent.iterdir()) == ["card.json", "model.keras"]
