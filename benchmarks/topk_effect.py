"""Effect of the top-k robust term (`robust_top_k=k`) on the bound and on accuracy.

Usage: python benchmarks/topk_effect.py [--dataset digits] [--epochs 30] [--rho 0.1] [--ks 1 2 4]
       [--network small_cnn --train-examples 8192 --test-examples 1000 --batch-size 128 --lr 1e-3]

Trains the paper's MLP (2 x 128) with the "Robust" method on a 10-class set, once with the
exact term (K - 1 = 9 vector-Jacobian products) and once per `k` with only the k most
competing classes, on the same split and initialisation (`hdl_keras.experiments`
data preparation: features in [0, 1], the fixed 20 % test set). For each model it reports:
- `test_accuracy`, `pgd_accuracy` (PGD-20 at `rho` on the test set, robust = correct
  clean and attacked);
- `bound_ratio`: the top-k loss over the exact loss of the same trained model, averaged
  over the test set (1.0 = the top-k term lost nothing of the bound it approximates).
The cost of a top-k step is in `benchmarks/hdl_cost.py` (`robust_topk2_ratio_cnn_c10`).
Last line: one JSON object.
"""

import argparse
import json
import time

import numpy as np


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--rho", type=float, default=0.1)
    parser.add_argument("--ks", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--network", default=None, help="mlp, small_cnn or alexnet; default the paper's for the data")
    parser.add_argument("--train-examples", type=int, default=None, help="stratified training subset size")
    parser.add_argument("--test-examples", type=int, default=None, help="first N test examples")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-2)
    args = parser.parse_args()

    import keras
    from keras import ops

    from hdl_keras.attacks import PGD
    from hdl_keras.experiments import build_model
    from hdl_keras.experiments import prepare_data
    from hdl_keras.experiments.protocol import stratified_subset
    from hdl_keras.objectives import robust_cross_entropy

    (x_train, y_train), (x_test, y_test) = prepare_data(args.dataset)
    if args.train_examples is not None:
        rows = stratified_subset(y_train, args.train_examples, 0)
        x_train, y_train = x_train[rows], y_train[rows]
    if args.test_examples is not None:
        x_test, y_test = x_test[: args.test_examples], y_test[: args.test_examples]
    num_classes = int(y_train.max()) + 1
    rows = []
    for k in [None, *args.ks]:
        keras.utils.set_random_seed(0)
        model = build_model(
            "Robust", {"lr": args.lr, "rho": args.rho}, x_train.shape[1:], num_classes, network=args.network
        )
        if k is not None:
            model.robust_top_k = k
        start = time.perf_counter()
        model.fit(x_train, y_train, epochs=args.epochs, batch_size=args.batch_size, verbose=0)
        seconds = time.perf_counter() - start
        clean = np.argmax(ops.convert_to_numpy(model(x_test)), axis=1) == y_test
        x_adv = PGD(model, eps=args.rho, step_size=2.5 * args.rho / 20, steps=20, seed=0)(x_test, y_test)
        attacked = np.argmax(ops.convert_to_numpy(model(x_adv)), axis=1) == y_test
        exact = ops.convert_to_numpy(robust_cross_entropy(model, x_test, y_test, args.rho))
        row = {
            "top_k": k,
            "test_accuracy": round(100 * clean.mean(), 1),
            "pgd_accuracy": round(100 * (clean & attacked).mean(), 1),
            "train_seconds": round(seconds, 1),
        }
        if k is not None:
            approx = ops.convert_to_numpy(robust_cross_entropy(model, x_test, y_test, args.rho, top_k=k))
            row["bound_ratio"] = round(float(approx.mean() / exact.mean()), 4)
        print(json.dumps(row), flush=True)
        rows.append(row)
    result = {
        "dataset": args.dataset,
        "network": args.network,
        "train_examples": int(len(y_train)),
        "epochs": args.epochs,
        "rho": args.rho,
        "runs": rows,
        "backend": keras.backend.backend(),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
