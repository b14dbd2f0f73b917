"""HDL's gates per weight or per output channel: accuracy, sparsity, and what `shrink` gains.

Usage: python benchmarks/channel_gates.py [--weight-lambdas 1e-6] [--channel-lambdas 1e-7,1e-6,1e-5]
       [--train N] [--epochs E] [--out DIR]
       python benchmarks/channel_gates.py --report [--out DIR]

MNIST, the small CNN (`hdl_keras.models.small_cnn`), a seeded stratified subset of `--train`
training images (default 4096) plus 1000 validation images, 2000 test images, Adam 1e-3,
batch 128, seed 0. Arms: `dl` (no gates), and at each lambda of its list the sparse
objective (cross-entropy + `lambda * sum of the gates`, the sparsity term of Bertsimas et al.
(2023) eq. 4) with one gate per kernel entry (`weight`, the paper's) or one per output
channel (`channel`: `hdl_keras.layers.to_masked(..., granularity="channel")`), trained by
`hdl_keras.recipes.train` in 2 rounds of `--epochs` epochs (one annealing to beta_bar 200,
one at the fixed mask: the zoo's image HDL schedule; the validation split is evaluated each
epoch, logged, not selected on); `dl` trains as many epochs.

Per arm, after `harden_gates`: clean accuracy of the hard-pruned network, its zero weights,
the channels (filters and units) kept, the parameters of `shrink(export_pruned(model))`
and its onnxruntime CPU latency at batch 1 and 128 over the dense `dl` network's (median of
interleaved repeats, `hdl_keras.deploy.export`, files in `--files`). Run it alone on the
machine (the latencies are timed).

Resumable: one JSON record per arm in `--out`/records (an arm with a record is skipped);
`--report` writes `--out`/results.md. Cost line: each arm's training time over `dl`'s.
Last line: one JSON object, arm -> clean accuracy, zero weights, kept channels and latency ratio.
"""

import argparse
import json
import os
import pathlib
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from deploy_check import onnx_latency  # noqa: E402

BETA_BAR = 200.0
ROUNDS = 2


def arms(weight_lambdas, channel_lambdas):
    """`{arm name: (granularity or None, lambda)}`: `dl`, then each granularity at each of its lambdas."""
    named = {"dl": (None, 0.0)}
    for granularity, lambdas in (("weight", weight_lambdas), ("channel", channel_lambdas)):
        for value in lambdas:
            named[f"{granularity}_{value:g}"] = (granularity, value)
    return named


def floats(text):
    return [float(value) for value in text.split(",") if value]


def data(args):
    from hdl_keras.experiments import prepare_data

    (x_pool, y_pool), (x_test, y_test) = prepare_data("mnist", train_subset=args.train + 1000, test_subset=2000, seed=0)
    return (x_pool[1000:], y_pool[1000:]), (x_pool[:1000], y_pool[:1000]), (x_test, y_test)


def channels(model):
    """Output channels of every `Conv2D`/`Dense` of `model` (the logits layer included), by layer name."""
    from hdl_keras.measure import sparsity_report

    return {row["name"]: row["channels"] for row in sparsity_report(model)}


def train_arm(name, granularity, sparsity_lambda, splits, args):
    """Trains one arm; returns (its record without latency, the shrunk plain network)."""
    import keras
    import numpy as np

    from hdl_keras import recipes
    from hdl_keras.experiments import harden_gates
    from hdl_keras.layers import export_pruned
    from hdl_keras.measure import count_zero_weights
    from hdl_keras.pruning import shrink
    from hdl_keras.recipes.holistic import build_model

    (x_train, y_train), validation, (x_test, y_test) = splits
    keras.utils.set_random_seed(0)
    method = "DL" if granularity is None else "Sparse"
    config = {"lr": 1e-3, "sparsity_lambda": sparsity_lambda, "gate_granularity": granularity or "weight"}
    model = build_model(method, config, (28, 28, 1), 10, network="small_cnn")
    start = time.perf_counter()
    if granularity is None:
        recipes.train(model, x_train, y_train, epochs=ROUNDS * args.epochs, batch_size=128, verbose=0)
    else:
        recipes.train(
            model,
            x_train,
            y_train,
            epochs=args.epochs,
            rounds=ROUNDS,
            beta_bar=BETA_BAR,
            batch_size=128,
            validation_data=validation,
            verbose=0,
        )
    seconds = time.perf_counter() - start
    harden_gates(model)
    plain = export_pruned(keras.Model(model.inputs, model.outputs))
    small = shrink(plain)
    accuracy = float(np.mean(np.argmax(keras.ops.convert_to_numpy(small.predict(x_test, verbose=0)), -1) == y_test))
    zeros, total = count_zero_weights(plain)
    record = {
        "arm": name,
        "granularity": granularity,
        "sparsity_lambda": sparsity_lambda,
        "clean_accuracy": round(accuracy, 4),
        "zero_weights": round(zeros / total, 4),
        "channels_dense": channels(plain),
        "channels_kept": channels(small),
        "shrunk_parameters": int(small.count_params()),
        "dense_parameters": int(plain.count_params()),
        "train_seconds": round(seconds, 1),
        "setting": {"train": args.train, "val": 1000, "test": 2000, "epochs_per_round": args.epochs, "rounds": ROUNDS},
    }
    return record, small


def latency_over_dense(small, path, dense_path, repeats):
    """onnxruntime seconds per call of the shrunk network (written to `path`) and its ratio to the dense `dl` file."""
    import numpy as np

    from hdl_keras import deploy

    deploy.export(small, path, format="onnx")
    x = np.random.default_rng(0).random((128, 28, 28, 1), dtype=np.float32)
    seconds = onnx_latency([dense_path, path], x, repeats)
    return {str(batch): {"seconds": arm, "ratio_vs_dl": arm / dense} for batch, (dense, arm) in seconds.items()}


def write_report(out):
    records = [json.loads(path.read_text()) for path in sorted((out / "records").glob("*.json"))]
    records.sort(key=lambda record: (record["granularity"] or "", record["sparsity_lambda"]))
    lines = [
        "# Gates per weight or per channel (REDUCED CPU run)\n",
        "`python benchmarks/channel_gates.py` (tensorflow backend, 2-core CPU): MNIST small CNN, "
        f"{records[0]['setting']['train']} training images, 2000 test images, {ROUNDS} rounds of "
        f"{records[0]['setting']['epochs_per_round']} epochs. Channels: output channels of each hidden layer "
        f"({', '.join(list(records[0]['channels_dense'])[:-1])}), as trained -> after `shrink`. Latency: onnxruntime, CPU, the shrunk file "
        "over the dense `dl` file.\n",
        "| arm | gates | lambda | clean acc. pruned (%) | zero weights (%) | channels kept | parameters | "
        "latency b1 (x dl) | latency b128 (x dl) | train s |",
        "| --- | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    for record in records:
        kept = ", ".join(
            f"{record['channels_dense'][layer]}->{record['channels_kept'].get(layer, 0)}"
            for layer in list(record["channels_dense"])[:-1]
        )
        latency = record["latency"]
        lines.append(
            f"| `{record['arm']}` | {record['granularity'] or '-'} | {record['sparsity_lambda']:g} "
            f"| {100 * record['clean_accuracy']:.2f} | {100 * record['zero_weights']:.1f} | {kept} "
            f"| {record['shrunk_parameters']:,} | {latency['1']['ratio_vs_dl']:.2f} "
            f"| {latency['128']['ratio_vs_dl']:.2f} | {record['train_seconds']:.0f} |"
        )
    (out / "results.md").write_text("\n".join(lines) + "\n")
    return records


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--weight-lambdas", default="1e-6", help="sparsity weights of the weight gates (comma-separated)"
    )
    parser.add_argument("--channel-lambdas", default="1e-7,1e-6,1e-5", help="sparsity weights of the channel gates")
    parser.add_argument("--train", type=int, default=4096)
    parser.add_argument("--epochs", type=int, default=3, help="epochs per round")
    parser.add_argument("--repeats", type=int, default=30, help="interleaved latency repeats")
    parser.add_argument("--out", default="docs/results/channel_gates")
    parser.add_argument("--files", default="runs/channel_gates", help="folder of the ONNX files")
    parser.add_argument("--report", action="store_true", help="only write results.md from the records")
    args = parser.parse_args()
    out = pathlib.Path(args.out)
    (out / "records").mkdir(parents=True, exist_ok=True)
    if not args.report:
        from hdl_keras import deploy

        splits = data(args)
        files = pathlib.Path(args.files)
        files.mkdir(parents=True, exist_ok=True)
        dense_path = files / "dl.onnx"
        for name, (granularity, value) in arms(floats(args.weight_lambdas), floats(args.channel_lambdas)).items():
            path = out / "records" / f"{name}.json"
            if path.exists():
                continue
            if granularity is not None and not dense_path.exists():
                sys.exit(f"{dense_path} (the dense dl network's file) is missing: delete {out / 'records'}/dl.json")
            record, small = train_arm(name, granularity, value, splits, args)
            if granularity is None:
                deploy.export(small, dense_path, format="onnx")
            record["latency"] = latency_over_dense(small, files / f"{name}.onnx", dense_path, args.repeats)
            path.write_text(json.dumps(record, indent=1) + "\n")
            print(json.dumps(record), flush=True)
    records = write_report(out)
    dl_seconds = next(record["train_seconds"] for record in records if record["granularity"] is None)
    print(
        json.dumps({"cost": "training time over DL's", **{r["arm"]: r["train_seconds"] / dl_seconds for r in records}})
    )
    print(
        json.dumps(
            {
                record["arm"]: {
                    "clean_accuracy": record["clean_accuracy"],
                    "zero_weights": record["zero_weights"],
                    "channels_kept": record["channels_kept"],
                    "latency_ratio_b1": round(record["latency"]["1"]["ratio_vs_dl"], 3),
                }
                for record in records
            }
        )
    )


if __name__ == "__main__":
    main()
