"""Deployment check: every zoo entry exported to ONNX and LiteRT, run by the stock runtimes.

Usage: python benchmarks/deploy_check.py [--quick] [--out DIR] [--entries NAME ...]

For each zoo entry (`hdl_keras.zoo.load`), and for each float or masked entry with
zero channels also its shrunk network (`hdl_keras.pruning.shrink`), the deployable model
(`hdl_keras.deploy.deployable`: masks hard-pruned, `1[s > 0]`) is written with
`hdl_keras.deploy.export` as `.onnx` and `.tflite` (tensorflow backend), then

- parity: logits of onnxruntime (its default optimizations, and `"basic"`: constant
  folding only, no integer fusion) and of the LiteRT interpreter against the deployable
  Keras model on the test set (the first 1000 points with
  --quick, the whole test set without): `max |logit diff|` for float, masked (hard-pruned)
  and shrunk files (target 1e-4), argmax agreement for quantized ones (target 99.9 %);
- robustness (image entries, the entry's own eps): on the first 100 test points (500
  without --quick), APGD-CE (the first attack of AutoAttack, Croce & Hein 2020; 20
  steps with --quick, 100 without) is run on the Keras model and its examples are
  replayed on the ONNX file (transfer of the Keras model's white-box examples), and
  Square (Andriushchenko et al. 2020; 100 queries with --quick, 1000 without) is run
  black-box on the ONNX file itself (its logits through onnxruntime) and on the Keras
  model with the same seed; the accuracies of the file and of the model are reported
  with the binomial standard error `sqrt(p (1 - p) / n)`;
- latency: onnxruntime CPU time per call at batch 1 and 128 (median of 30 interleaved
  repeats with --quick, 200 without; a batch-1 repeat times 50 calls) of every file, and its ratio to the dense float
  entry of the same dataset and architecture (`-dl`) timed in alternation with it and with
  a graph that only returns its input (onnxruntime's per-call floor).

Runs on the tensorflow backend (the LiteRT converter and the Square wrapper need it).
Writes `results.json` in --out (default `runs/deploy_check`) with one row per exported
file; `--merge --entries NAME ...` reruns those entries (and the dense `-dl` entries they are
timed against) and replaces their rows; the other rows keep their timings. The cost line gives the export time over the Keras prediction time. Last line:
one JSON object with `exported_entries`, `onnx_max_logit_diff`,
`litert_max_logit_diff`, `quant_argmax_agreement` (onnxruntime default and LiteRT),
`quant_argmax_agreement_onnx_basic`, `smallest_mnist_bytes`,
`smallest_mnist_autoattack` (the smallest MNIST file's accuracy under the transferred
APGD-CE examples), `mnist_16kb_file`, `mnist_16kb_clean` and `mnist_16kb_autoattack` (the most
robust MNIST file of at most 16,000 bytes at 16/255, with its card's clean accuracy on all test
images and AutoAttack accuracy), `fashion_mnist_16kb_gap` (the float small CNN's robust accuracy
less that of the most robust Fashion-MNIST file of at most 16,000 bytes at 8/255),
`targets_met` (`hdl_keras.deploy.targets.deployment_targets`), `shrunk_latency_ratio_b1` and
`_b128` (the largest over the files of entries whose recipe removed channels, the composed
robust + channel-sparse + 1-bit recipe `RobustSparseBinary`: the target is at most 0.5 at
batch 1), `weight_sparse_shrunk_latency_ratio_b1` (the largest over the shrunk files of the
weight-sparse HDL entries, whose shrink removes only units left without weights) and
`weight_sparse_shrunk_floor_ratio_b1` (the largest ratio of an empty ONNX graph's call to
those files' dense entries: the share of the call no smaller network removes).
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

from _common import interleaved_medians  # noqa: E402

IMAGE_DATASETS = ("mnist", "fashion_mnist", "cifar10")


def kind_of(model):
    from hdl_keras.layers.masking import MaskedKernelMixin
    from hdl_keras.layers.quantized import QuantizedKernelMixin

    layers = list(model._flatten_layers())
    if any(isinstance(layer, QuantizedKernelMixin) for layer in layers):
        return "quantized"
    if any(isinstance(layer, MaskedKernelMixin) for layer in layers):
        return "masked"
    return "float"


def variants(name, model):
    """`(label, kind, deployable model)` of an entry: itself, and shrunk when that removes channels."""
    from hdl_keras import deploy
    from hdl_keras.pruning import shrink

    kind = kind_of(model)
    plain = deploy.deployable(model)
    yield name, kind, plain
    if kind != "quantized":
        shrunk = shrink(plain)
        if shrunk.count_params() < plain.count_params():
            yield f"{name} (shrunk)", "shrunk", shrunk


def onnx_model(path):
    """A Keras model whose logits come from onnxruntime (tensorflow backend, for Square)."""
    import keras
    import tensorflow as tf

    from hdl_keras import deploy

    session = deploy.onnx_session(path)
    input_name = session.get_inputs()[0].name

    class OnnxRuntimeLogits(keras.Model):
        def call(self, x, training=False):
            logits = tf.numpy_function(lambda batch: session.run(None, {input_name: batch})[0], [x], tf.float32)
            return tf.ensure_shape(logits, [None, session.get_outputs()[0].shape[-1]])

    return OnnxRuntimeLogits()


def accuracy(logits, y):
    import numpy as np

    return float(np.mean(np.argmax(logits, axis=1) == y))


def robustness(plain, onnx_path, x, y, eps, quick):
    import keras
    import numpy as np

    from hdl_keras import attacks
    from hdl_keras import deploy

    keras.utils.set_random_seed(0)
    apgd = attacks.APGD(plain, eps=eps, steps=20 if quick else 100, loss="ce", seed=0)
    x_apgd = keras.ops.convert_to_numpy(apgd(x, y))
    queries = 100 if quick else 1000
    square_keras = attacks.Square(plain, eps=eps, n_queries=queries, seed=0)
    square_onnx = attacks.Square(onnx_model(onnx_path), eps=eps, n_queries=queries, seed=0)
    x_square_keras = keras.ops.convert_to_numpy(square_keras(x, y))
    x_square_onnx = keras.ops.convert_to_numpy(square_onnx(x, y))
    keras_logits = lambda inputs: keras.ops.convert_to_numpy(plain(inputs, training=False))  # noqa: E731
    result = {
        "n": int(len(x)),
        "apgd_ce_keras": accuracy(keras_logits(x_apgd), y),
        "apgd_ce_transfer_file": accuracy(deploy.predict_onnx(onnx_path, x_apgd), y),
        "square_keras": accuracy(keras_logits(x_square_keras), y),
        "square_file": accuracy(deploy.predict_onnx(onnx_path, x_square_onnx), y),
    }
    p = result["apgd_ce_keras"]
    result["standard_error"] = float(np.sqrt(max(p * (1 - p), 1e-12) / len(x)))
    return result


# Calls per timing: a batch-1 call takes about 0.1 ms, so one call per timing measured the
# scheduler (a dense file against itself read 0.72 and 1.38); 50 in a row average it out.
CALLS_PER_TIMING = {1: 50, 128: 1}


def onnx_latency(paths, x, repeats):
    """Median seconds per call of each ONNX file at batch 1 and 128 (interleaved; `CALLS_PER_TIMING` calls per timing)."""
    from hdl_keras import deploy

    sessions = [deploy.onnx_session(path) for path in paths]
    latencies = {}
    for batch, calls_per_timing in CALLS_PER_TIMING.items():
        inputs = x[:batch]

        def timed(session):
            feed = {session.get_inputs()[0].name: inputs}
            return lambda: [session.run(None, feed) for _ in range(calls_per_timing)]

        calls = [timed(session) for session in sessions]
        for call in calls:
            call()  # warm-up
        medians = interleaved_medians(calls, repeats=repeats)
        latencies[batch] = [seconds / calls_per_timing for seconds in medians]
    return latencies


def check_entry(name, out, quick, rows):
    import keras
    import numpy as np

    from hdl_keras import deploy
    from hdl_keras import zoo
    from hdl_keras.zoo.evaluation import evaluation_data

    card = zoo.card(name)
    dataset = card["dataset"]
    scaling = card["threat_model"].get("scaling", "minmax")
    x, y = evaluation_data(dataset, 1000 if quick else 10**6, scaling=scaling)
    model = zoo.load(name)
    for label, kind, plain in variants(name, model):
        stem = out / label.replace(" (shrunk)", "-shrunk")
        start = time.perf_counter()
        reference = plain.predict(x, batch_size=256, verbose=0)
        keras_seconds = time.perf_counter() - start
        start = time.perf_counter()
        onnx_bytes = deploy.export(plain, stem.with_suffix(".onnx"), format="onnx")
        litert_bytes = deploy.export(plain, stem.with_suffix(".tflite"), format="litert")
        export_seconds = time.perf_counter() - start
        onnx_logits = deploy.predict_onnx(stem.with_suffix(".onnx"), x)
        onnx_basic_logits = deploy.predict_onnx(stem.with_suffix(".onnx"), x, optimization="basic")
        litert_logits = deploy.predict_litert(stem.with_suffix(".tflite"), x)
        row = {
            "entry": name,
            "file": label,
            "kind": kind,
            "path": stem.with_suffix(".onnx").name,
            "dataset": dataset,
            "scaling": scaling,
            "architecture": card["architecture"],
            "method": card["method"]["name"],
            "eps": card["threat_model"]["eps"],
            "n": int(len(x)),
            "onnx_bytes": onnx_bytes,
            "litert_bytes": litert_bytes,
            "keras_file_bytes": card["file_size_bytes"],
            "keras_accuracy": accuracy(reference, y),
            "onnx_accuracy": accuracy(onnx_logits, y),
            "litert_accuracy": accuracy(litert_logits, y),
            "onnx_max_logit_diff": float(np.abs(onnx_logits - reference).max()),
            "litert_max_logit_diff": float(np.abs(litert_logits - reference).max()),
            "onnx_argmax_agreement": float(np.mean(onnx_logits.argmax(1) == reference.argmax(1))),
            "onnx_basic_max_logit_diff": float(np.abs(onnx_basic_logits - reference).max()),
            "onnx_basic_argmax_agreement": float(np.mean(onnx_basic_logits.argmax(1) == reference.argmax(1))),
            "litert_argmax_agreement": float(np.mean(litert_logits.argmax(1) == reference.argmax(1))),
            "export_over_predict": export_seconds / keras_seconds,
            "card_worst_case_accuracy": card["metrics"]["worst_case_accuracy"],
        }
        if dataset in IMAGE_DATASETS:
            n = 100 if quick else 500
            row["robustness"] = robustness(
                plain, stem.with_suffix(".onnx"), x[:n], y[:n], float(card["threat_model"]["eps"]), quick
            )
        rows.append(row)
        print(json.dumps(row), flush=True)
        keras.backend.clear_session()


def dense_reference(entry):
    """The dense float `-dl` entry of the dataset and architecture of `entry` (a card or a row)."""
    return f"{entry['dataset']}-{entry['architecture']}-dl"


def call_floor_file(path, input_shape):
    """Writes an ONNX graph that returns its input (one `Identity` node): onnxruntime's per-call floor."""
    import onnx
    from onnx import helper

    dims = ["batch", *input_shape]
    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])],
        "call_floor",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, dims)],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, dims)],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


def latency_ratios(rows, out, quick, entries):
    """The onnxruntime latency of each file of `entries` and its ratio to the dense float `-dl`
    entry of its dataset and architecture, timed in alternation with it (batch 1 and 128), and
    that of an empty graph (`call_floor_file`: what no smaller network can go below) as
    `floor_ratio_vs_dense`. Rows of other entries (kept by --merge) keep their earlier timing."""
    from hdl_keras.zoo.evaluation import evaluation_data

    for row in rows:
        dense = dense_reference(row)
        if row["entry"] not in entries or not (out / f"{dense}.onnx").exists():
            continue
        x, _ = evaluation_data(row["dataset"], 128, scaling=row.get("scaling", "minmax"))
        floor = out / f"call_floor-{row['dataset']}.onnx"
        if not floor.exists():
            call_floor_file(floor, x.shape[1:])
        latencies = onnx_latency([out / f"{dense}.onnx", out / row["path"], floor], x, 30 if quick else 200)
        row["onnx_latency_s"] = {str(batch): times[1] for batch, times in latencies.items()}
        row["latency_ratio_vs_dense"] = {str(batch): times[1] / times[0] for batch, times in latencies.items()}
        row["floor_ratio_vs_dense"] = {str(batch): times[2] / times[0] for batch, times in latencies.items()}
        print(json.dumps({"file": row["file"], "vs": dense, **row["latency_ratio_vs_dense"]}), flush=True)


def summary(rows, cards):
    from hdl_keras.deploy.targets import channel_pruned_by_recipe
    from hdl_keras.deploy.targets import deployed_bytes
    from hdl_keras.deploy.targets import deployment_targets

    targets = deployment_targets(rows, cards)
    latency = targets["shrunk_latency"]
    by_name = {card["name"]: card for card in cards}
    pruned = [
        row
        for row in rows
        if channel_pruned_by_recipe(by_name.get(row["entry"], {})) and "latency_ratio_vs_dense" in row
    ]
    weight_sparse = [row for row in rows if row["kind"] == "shrunk" and "floor_ratio_vs_dense" in row]
    mnist_budget = targets["mnist_budget"]["best"] or {}
    exact = [row for row in rows if row["kind"] != "quantized"]
    quantized = [row for row in rows if row["kind"] == "quantized"]
    mnist = [row for row in rows if row["dataset"] == "mnist"]
    smallest = min(mnist, key=deployed_bytes, default=None)
    robust = smallest.get("robustness") if smallest else None
    return {
        "exported_entries": len(rows),
        "onnx_max_logit_diff": max((row["onnx_max_logit_diff"] for row in exact), default=None),
        "litert_max_logit_diff": max((row["litert_max_logit_diff"] for row in exact), default=None),
        "quant_argmax_agreement": min(
            (min(row["onnx_argmax_agreement"], row["litert_argmax_agreement"]) for row in quantized),
            default=None,
        ),
        "quant_argmax_agreement_onnx_basic": min(
            (row["onnx_basic_argmax_agreement"] for row in quantized if "onnx_basic_argmax_agreement" in row),
            default=None,
        ),
        "smallest_mnist_bytes": deployed_bytes(smallest) if smallest else None,
        "smallest_mnist_file": smallest["file"] if smallest else None,
        "smallest_mnist_autoattack": robust["apgd_ce_transfer_file"] if robust else None,
        "mnist_16kb_file": mnist_budget.get("file"),
        "mnist_16kb_clean": mnist_budget.get("clean"),
        "mnist_16kb_autoattack": mnist_budget.get("autoattack"),
        "fashion_mnist_16kb_gap": targets["fashion_mnist_budget"]["gap"],
        "targets_met": {name: target["met"] for name, target in targets.items()},
        "robust_max_gap_in_se": max(
            (
                max(
                    abs(r["apgd_ce_transfer_file"] - r["apgd_ce_keras"]),
                    abs(r["square_file"] - r["square_keras"]),
                )
                / max(r["standard_error"], 1.0 / r["n"])
                for r in (row.get("robustness") for row in rows)
                if r
            ),
            default=None,
        ),
        "shrunk_latency_ratio_b1": latency["worst_ratio"],
        "shrunk_latency_ratio_b128": max((row["latency_ratio_vs_dense"]["128"] for row in pruned), default=None),
        "weight_sparse_shrunk_latency_ratio_b1": latency["weight_sparse_worst_ratio"],
        "weight_sparse_shrunk_floor_ratio_b1": max(
            (row["floor_ratio_vs_dense"]["1"] for row in weight_sparse), default=None
        ),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1000 test points, 100 attacked")
    parser.add_argument("--out", default="runs/deploy_check", help="folder of the exported files")
    parser.add_argument("--entries", nargs="*", help="zoo entries (default: all)")
    parser.add_argument(
        "--merge", action="store_true", help="replace only these entries' rows in an existing --out/results.json"
    )
    args = parser.parse_args()

    import keras

    from hdl_keras import zoo

    if keras.backend.backend() != "tensorflow":
        sys.exit("deploy_check runs on KERAS_BACKEND=tensorflow (the LiteRT converter needs it).")
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    known = [card["name"] for card in zoo.list_entries()]
    names = list(args.entries or known)
    # The dense entries the named ones are timed against, so that their files are in --out.
    names += [
        dense
        for dense in dict.fromkeys(dense_reference(zoo.card(name)) for name in names)
        if dense in known and dense not in names
    ]
    rows = []
    for name in names:
        try:
            check_entry(name, out, args.quick, rows)
        except ValueError as error:  # a layer the exporters do not write (e.g. the Gaussian-mixture scores)
            print(json.dumps({"entry": name, "skipped": str(error)}), flush=True)
    command = "python benchmarks/deploy_check.py" + (" --quick" if args.quick else "")
    if args.merge:
        previous = json.loads((out / "results.json").read_text())
        if previous["command"] != command:
            sys.exit(f"--merge: {out / 'results.json'} comes from {previous['command']!r}, not {command!r}")
        rows = [row for row in previous["rows"] if row["entry"] not in names] + rows
        rows.sort(key=lambda row: row["file"])
    latency_ratios(rows, out, args.quick, names)
    (out / "results.json").write_text(
        json.dumps({"command": command, "backend": keras.backend.backend(), "rows": rows}, indent=1) + "\n"
    )
    export_cost = sorted(row["export_over_predict"] for row in rows)
    print(
        json.dumps(
            {
                "cost": "export (ONNX + LiteRT) time over Keras prediction time, median",
                "ratio": export_cost[len(export_cost) // 2],
            }
        )
    )
    print(json.dumps(summary(rows, zoo.list_entries(skip_broken=True))))


if __name__ == "__main__":
    main()
