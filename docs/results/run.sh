#!/usr/bin/env bash
# Reruns every HDL protocol result under docs/results/ (reduced settings, labelled in
# each results.md). Usage, from the repository root: bash docs/results/run.sh [name ...]
# Runs are resumable: an interrupted run continues where it stopped.
set -euo pipefail
cd "$(dirname "$0")/../.."
PROTOCOL=".venv/bin/hdl-protocol"
export KERAS_BACKEND="${KERAS_BACKEND:-tensorflow}"

# UCI tables (paper: MLP 2x128, batch 32, 150 epochs, 5 rounds, full grid).
# Reduced: 30 epochs, 2 rounds, lr 1e-2, rho {1e-1, 1e-2}, lambda 1e-6, beta_bar 200, alpha 0.7.
uci() {
  "$PROTOCOL" --dataset "$1" --lr 1e-2 --rho 1e-1 1e-2 --lambda 1e-6 --beta-bar 200 --alpha 0.7 \
    --epochs 30 --rounds 2 --splits 10 --quiet --out "docs/results/$1"
}

# Images (paper: AlexNet, batch 64, 50 epochs, 5 rounds, 10 splits, full grid). Reduced to
# what a 2-core CPU trains in minutes: the small CNN instead of AlexNet (16x fewer
# multiply-adds), 4096 training and 1000 test images, 3 epochs, 2 rounds, 2 splits, one
# configuration per method. The full runs need a GPU.
images() {
  "$PROTOCOL" --dataset "$1" --network small_cnn --lr 1e-3 --rho "$2" --lambda 1e-6 \
    --beta-bar 200 --alpha 0.7 --epochs 3 --rounds 2 --splits 2 --train-subset 4096 \
    --test-subset 1000 --quiet --out "docs/results/$1"
}

# UCI tables at the paper's setting (docs/results/paper_scaling/<dataset>): the authors'
# feature scaling and attack (--scaling paper), 150 epochs, 5 rounds; DL and HDL only, a
# reduced grid: lr 1e-2, rho {1e-3, 1e-4}, lambda {1e-6, 1e-8}, 3 splits (30 s to 2.5 min per
# HDL configuration and split on 2 cores). The zoo's table entries take HDL's rank-selected
# configuration from here.
uci_paper() {
  "$PROTOCOL" --dataset "$1" --methods DL HDL --lr 1e-2 --rho 1e-3 1e-4 --lambda 1e-6 1e-8 \
    --beta-bar 200 --alpha 0.7 --epochs 150 --rounds 5 --splits 3 --scaling paper --quiet \
    --out "docs/results/paper_scaling/$1"
}

run() {
  case "$1" in
    iris|wine|breast_cancer|digits) uci "$1" ;;
    mnist) images mnist 1e-1 ;;
    fashion_mnist) images fashion_mnist 1e-2 ;;
    paper_scaling) for table in iris wine breast_cancer digits; do uci_paper "$table"; done ;;
    *) echo "unknown result: $1 (known: iris wine breast_cancer digits mnist fashion_mnist paper_scaling)" >&2; exit 2 ;;
  esac
}

for name in "${@:-iris wine breast_cancer digits mnist fashion_mnist}"; do
  for one in $name; do run "$one"; done
done
