"""Runs the bad-input corpus and counts the outcomes (clear error, silent, raw traceback, ...).

Every case of `hdl_keras.testing.bad_inputs` (the CLI, the zoo, data loading,
attacks, layers, objectives, pruning, quantization and export) runs once in a
scratch folder; one line per case that is not a clear error, then the cost as
a ratio (corpus time per case over one FGSM call on a tiny model) and, last,
one JSON object with the counts.

    python benchmarks/bad_input_check.py
"""

import json
import pathlib
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from hdl_keras.attacks import FGSM  # noqa: E402
from hdl_keras.testing import bad_inputs  # noqa: E402
from hdl_keras.testing.bad_inputs import fixtures  # noqa: E402


def _reference_seconds():
    """Seconds of one FGSM call on a tiny model (traced once before timing)."""
    model = fixtures.mlp()
    x, y = fixtures.table_batch()
    attack = FGSM(model)
    attack(x, y)
    start = time.perf_counter()
    for _ in range(5):
        attack(x, y)
    return (time.perf_counter() - start) / 5


def main():
    counts = dict.fromkeys(bad_inputs.OUTCOMES, 0)
    corpus = bad_inputs.cases()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        for index, case in enumerate(corpus):
            outcome, detail = bad_inputs.run_case(case, pathlib.Path(scratch) / f"{index:03d}")
            counts[outcome] += 1
            if outcome != "clear_error":
                print(f"{case.area}/{case.name}: {outcome}: {detail}")
    per_case = (time.perf_counter() - start) / len(corpus)
    print(f"cost: {per_case / _reference_seconds():.1f} FGSM calls on a tiny model per case")
    print(
        json.dumps(
            {
                "cases": len(corpus),
                "clear_error": counts["clear_error"],
                "silent": counts["silent"],
                "raw_traceback": counts["raw_traceback"],
                "corrupted": counts["corrupted"],
                "hangs": counts["hangs"],
            }
        )
    )


if __name__ == "__main__":
    main()
