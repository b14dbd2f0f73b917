#!/usr/bin/env bash
# Reruns the pruning results (reduced CPU settings, labelled in results.md).
# Usage, from the repository root: bash docs/results/pruning/run.sh
# Resumable: finished parts are read back from results.json and skipped
# (`run.py --redo KEY` or `--fresh` to recompute). Smoke test: run.py --tiny.
set -euo pipefail
cd "$(dirname "$0")/../../.."
export KERAS_BACKEND="${KERAS_BACKEND:-tensorflow}"
PYTHON="${PYTHON:-.venv/bin/python}"
# Part C's tuning runs (RVSM lambda, RGSM lambda1), reported in results.md.
"$PYTHON" docs/results/pruning/run.py --parts C --tune
# A (Sehwag et al. 2019, adversarial), B (Sehwag et al. 2019, verified / IBP), C (Dinh et al. 2020, Table 4), D (shrink).
"$PYTHON" docs/results/pruning/run.py --parts A B C D
