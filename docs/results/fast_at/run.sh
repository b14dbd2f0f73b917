#!/usr/bin/env bash
# Reruns the fast adversarial training soundness check (MNIST, l_inf 16/255; reduced CPU
# settings, labelled in results.md): fast AT and PGD-10 AT of the same small CNN, and the
# zoo entry mnist-small_cnn-pgd_at, evaluated with FGSM, PGD-20 and APGD-CE.
# Usage, from the repository root: bash docs/results/fast_at/run.sh   (smoke test: run.py --tiny)
set -euo pipefail
cd "$(dirname "$0")/../../.."
export KERAS_BACKEND="${KERAS_BACKEND:-tensorflow}"
PYTHON="${PYTHON:-.venv/bin/python}"
"$PYTHON" docs/results/fast_at/run.py
