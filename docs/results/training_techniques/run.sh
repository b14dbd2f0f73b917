#!/usr/bin/env bash
# Reruns the training-techniques study (Li, Narey, Gauher, Appachi Senthilkumar, course report)
# and rewrites index.md. Resumable: every finished run leaves records/<key>.json and is skipped
# on the next call (run.py --redo recomputes). Usage, from the repository root:
#   bash docs/results/training_techniques/run.sh
# Environment: PYTHON (default .venv/bin/python), KERAS_BACKEND (default tensorflow),
# NICE (default 19).
set -euo pipefail
cd "$(dirname "$0")/../../.."
export KERAS_BACKEND="${KERAS_BACKEND:-tensorflow}"
PYTHON="${PYTHON:-.venv/bin/python}"
RUN=(nice -n "${NICE:-19}" "$PYTHON" docs/results/training_techniques/run.py)

"${RUN[@]}" measure
# Gaussian mixtures: PCA table, baseline, adversarially trained (Square on a fifth of the
# training set); Square, APGD-CE and APGD-DLR on the 2,000 test images.
"${RUN[@]}" gmm
# MNIST: the eight configurations, standard training, then the report's exact PGD-20 on FFF
# and the FGSM-RS sweep (its equivalence with PGD-20 is read off the FFF pair).
"${RUN[@]}" cnn --dataset mnist --method standard
"${RUN[@]}" cnn --dataset mnist --method pgd20 --codes FFF
"${RUN[@]}" cnn --dataset mnist --method fgsm_rs
# Noise sensitivity: sigma 0.3 besides the default 0.1.
"${RUN[@]}" cnn --dataset mnist --method standard --codes FFT --noise 0.3
# Fashion-MNIST, the stand-in for the report's CIFAR-10 columns.
"${RUN[@]}" cnn --dataset fashion_mnist --method standard
"${RUN[@]}" cnn --dataset fashion_mnist --method fgsm_rs
"$PYTHON" docs/results/training_techniques/report.py
