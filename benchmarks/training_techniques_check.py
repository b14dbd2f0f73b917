"""Checks the training-techniques study's saved run records and prints their summary.

Reads docs/results/training_techniques/records/*.json (written by
docs/results/training_techniques/run.py); trains nothing. Prints the cost of
adversarial training as a ratio to standard training when `run.py measure` ran,
then, as its last line, one JSON object: how many of the 16 MNIST and 16
Fashion-MNIST runs (8 configurations x {standard, adversarial}) have a record,
the Gaussian-mixture numbers (agreement of the Keras export's argmax with
scikit-learn's prediction, clean and Square accuracy before and after
adversarial training), and how many of the report's cells we match or beat.

Usage: python benchmarks/training_techniques_check.py
"""

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "docs" / "results" / "training_techniques" / "report.py"


def main():
    spec = importlib.util.spec_from_file_location("training_techniques_report", REPORT)
    report = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(report)
    found = report.records()
    measure = found.get("measure")
    if measure is not None:
        print(
            f"cost per epoch relative to standard training: PGD-20 {measure['pgd20_ratio']:.1f} x, "
            f"FGSM-RS {measure['fgsm_rs_ratio']:.1f} x"
        )
    summary = report.summary(found)
    for key in ("gmm_sklearn_agreement", "gmm_clean", "gmm_square", "gmm_at_clean", "gmm_at_square"):
        if summary[key] is not None:
            summary[key] = round(summary[key], 4)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
