"""The HDL sparse collapse: a controlled experiment, one change per arm, same budget.

Usage: python benchmarks/hdl_collapse.py [--arms a,b,...] [--out DIR] [--train N] [--epochs E] [--rounds R]

MNIST, the small CNN (`hdl_keras.models.small_cnn`) with masked layers, a seeded
stratified subset of `--train` training images (default 8192) and 2000 test
images, batch 64, `--rounds` rounds of `--epochs` epochs (every arm trains
`rounds * epochs` epochs; "DL" arms the same number in one `fit`). Each arm
changes one thing against `baseline` (the library's procedure before the fix:
Adam, gates `sigmoid(beta s)`, reset `s <- min(beta_bar s, 0)`, last weights);
`paper` combines the authors' code's choices; `fixed` is the library's default
after the fix (gates `2 sigmoid(beta s)`, fixed-mask round from weights rewound
to epoch min(2, epochs - 1) of the first round); `fixed_keep` adds the reset
the library uses now between annealing rounds (`gate_reset="keep"`: gates kept,
`beta` back to 1). After training, gates are
hardened (`harden_gates`) and the clean accuracy of the pruned network, its
zero-weight fraction and per-layer sparsity are recorded.

Resumable: one JSON record per arm in `--out`/records (an arm whose record exists
is skipped); `--report` writes `--out`/results.md from the records. Cost is
printed as the ratio of each arm's wall time to the DL arm's. Last line: one
JSON object (arm -> accuracy, zero fraction).
"""

import argparse
import json
import os
import sys
import time

# The library's procedure before the fix; every arm states its changes to it.
BASELINE = {"gate_scale": 1.0, "gate_reset": "beta_bar", "fixed_mask_round": False, "rewind_epoch": None}
# The library's defaults after the fix (to_masked's gate scale, fit_sparse_rounds' defaults).
FIXED = {"gate_scale": 2.0, "fixed_mask_round": True, "rewind_epoch": "auto"}
# Each arm: (method, optimizer, changes to BASELINE).
ARMS = {
    "dl": ("DL", "adam", {}),
    "baseline": ("Sparse", "adam", {}),
    "sgd": ("Sparse", "sgd", {}),
    "dl_sgd": ("DL", "sgd", {}),
    "reset_keep": ("Sparse", "adam", {"gate_reset": "keep"}),
    "reset_clip": ("Sparse", "adam", {"gate_reset": "clip"}),
    "gate_scale2": ("Sparse", "adam", {"gate_scale": 2.0}),
    "rewind_fixed": ("Sparse", "adam", {"fixed_mask_round": True, "rewind_epoch": 1}),
    "best_val": ("Sparse", "adam", {"restore_best": "val_sparse_categorical_accuracy"}),
    "paper": (
        "Sparse",
        "adam",
        {
            "gate_scale": 2.0,
            "gate_reset": "clip",
            "fixed_mask_round": True,
            "rewind_epoch": 1,
            "restore_best": "val_sparse_categorical_accuracy",
        },
    ),
    "fixed": ("Sparse", "adam", FIXED),
    "fixed_keep": ("Sparse", "adam", {**FIXED, "gate_reset": "keep"}),
}

LEARNING_RATES = {"adam": 1e-3, "sgd": 0.05}


def run_arm(name, args):
    import keras
    import numpy as np

    from hdl_keras import layers
    from hdl_keras.experiments import harden_gates
    from hdl_keras.experiments import prepare_data
    from hdl_keras.models import small_cnn
    from hdl_keras.objectives import HolisticModel
    from hdl_keras.objectives import fit_sparse_rounds
    from hdl_keras.objectives import masked_layers

    method, optimizer_name, options = ARMS[name]
    options = {**BASELINE, **options}
    if args.method_override and method != "DL":
        method = args.method_override
    gate_scale = options.pop("gate_scale", 1.0)
    (x_pool, y_pool), (x_test, y_test) = prepare_data(
        "mnist", train_subset=args.train + args.val, test_subset=2000, seed=0
    )
    x_val, y_val = x_pool[: args.val], y_pool[: args.val]
    x_train, y_train = x_pool[args.val :], y_pool[args.val :]
    keras.utils.set_random_seed(args.seed)
    base = small_cnn((28, 28, 1), 10)
    if method != "DL":
        base = layers.to_masked(base, gate_scale=gate_scale)
    model = HolisticModel(
        base.input,
        base.output,
        method=method,
        sparsity_lambda=args.sparsity_lambda,
        rho=0.1,
    )
    optimizer = (
        keras.optimizers.Adam(LEARNING_RATES["adam"])
        if optimizer_name == "adam"
        else keras.optimizers.SGD(LEARNING_RATES["sgd"], momentum=0.9)
    )
    model.compile(optimizer=optimizer, metrics=["sparse_categorical_accuracy"])
    fit_kwargs = dict(batch_size=64, verbose=0, validation_data=(x_val, y_val))
    start = time.perf_counter()
    if method == "DL":
        model.fit(x_train, y_train, epochs=args.rounds * args.epochs, **fit_kwargs)
    else:
        fit_sparse_rounds(
            model,
            x_train,
            y_train,
            rounds=args.rounds,
            epochs=args.epochs,
            beta_bar=200.0,
            **options,
            **fit_kwargs,
        )
    seconds = time.perf_counter() - start
    soft = model.evaluate(x_test, y_test, batch_size=500, verbose=0, return_dict=True)
    harden_gates(model)
    hard = model.evaluate(x_test, y_test, batch_size=500, verbose=0, return_dict=True)
    per_layer = {layer.name: round(layer.sparsity(), 4) for layer in masked_layers(model)} if method != "DL" else {}
    weights = sum(int(np.prod(layer.unmasked_kernel.shape)) for layer in masked_layers(model))
    zero = sum(layer.sparsity() * np.prod(layer.unmasked_kernel.shape) for layer in masked_layers(model))
    return {
        "arm": name,
        "method": method,
        "optimizer": f"{optimizer_name} lr {LEARNING_RATES[optimizer_name]}",
        "options": {} if method == "DL" else {**options, "gate_scale": gate_scale},
        "clean_accuracy": round(float(hard["sparse_categorical_accuracy"]), 4),
        "soft_gate_accuracy": round(float(soft["sparse_categorical_accuracy"]), 4),
        "zero_weights": round(float(zero / weights), 4) if weights else 0.0,
        "per_layer_zero": per_layer,
        "seconds": round(seconds, 1),
        "setting": {
            "train": args.train,
            "val": args.val,
            "test": 2000,
            "epochs_per_round": args.epochs,
            "rounds": args.rounds,
            "sparsity_lambda": args.sparsity_lambda,
            "seed": args.seed,
            "beta_bar": 200.0,
            "batch_size": 64,
        },
    }


def write_report(out, command):
    records = [
        json.load(open(os.path.join(out, "records", f))) for f in sorted(os.listdir(os.path.join(out, "records")))
    ]
    order = list(ARMS)
    records.sort(
        key=lambda r: (
            r["setting"]["sparsity_lambda"],
            r["method"] != "DL",
            order.index(r["arm"]) if r["arm"] in order else 99,
        )
    )
    lines = [
        "# The HDL sparse collapse: controlled experiment (REDUCED CPU run)",
        "",
        "Generated by `python benchmarks/hdl_collapse.py --report` from the JSON records in `records/`.",
        "MNIST, small CNN, seeded stratified subset (training images / validation images / 2000 test images",
        "as in the setting column), batch 64, beta_bar 200, same epochs for every arm. Accuracy: the",
        "hard-pruned network (gates hardened to `1[s > 0]`) on the 2000 test images; soft: the gated network",
        "before hardening. One change per arm against `baseline` (options: the changes to the library's",
        f"procedure before the fix, {BASELINE}; `fixed` is the procedure after the fix).",
        "",
        f"Command: `{command}`",
        "",
        "| arm | method | optimizer | options | clean acc. (pruned) | soft-gate acc. | zero weights | per-layer zero | setting | time / DL time |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]

    def same_budget(a, b):
        keys = ("train", "epochs_per_round", "rounds")
        return all(a["setting"][k] == b["setting"][k] for k in keys)

    dl_seconds = {
        id(r): next((d["seconds"] for d in records if d["method"] == "DL" and same_budget(d, r)), None) for r in records
    }
    for r in records:
        s = r["setting"]
        setting = f"{s['train']}/{s['val']} imgs, {s['rounds']}x{s['epochs_per_round']} ep, lambda {s['sparsity_lambda']:g}, seed {s['seed']}"
        per_layer = ", ".join(f"{v:.2f}" for v in r["per_layer_zero"].values()) or "-"
        changes = {k: v for k, v in r["options"].items() if k not in BASELINE or BASELINE[k] != v}
        options = ", ".join(f"{k}={v}" for k, v in changes.items()) or "-"
        lines.append(
            f"| {r['arm']} | {r['method']} | {r['optimizer']} | {options} | {r['clean_accuracy']:.4f} | "
            f"{r['soft_gate_accuracy']:.4f} | {r['zero_weights']:.3f} | {per_layer} | {setting} | "
            + (f"{r['seconds'] / dl_seconds[id(r)]:.2f} |" if dl_seconds[id(r)] else "- |")
        )
    lines += ["", "Commands of the records (each record also holds its own):", ""]
    lines += [f"- `{command}`" for command in dict.fromkeys(r.get("command", "") for r in records)]
    lines += ["", "Wall times are on a shared 2-core CPU: compare them only as ratios within a budget."]
    with open(os.path.join(out, "results.md"), "w") as handle:
        handle.write("\n".join(lines) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arms", default=",".join(ARMS))
    parser.add_argument("--out", default="docs/results/hdl_collapse")
    parser.add_argument("--train", type=int, default=8192)
    parser.add_argument("--val", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sparsity-lambda", type=float, default=1e-6)
    parser.add_argument("--method-override", default=None, help="e.g. HDL: the sparse arms train this method")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tag", default="", help="suffix of the record names")
    parser.add_argument("--report", action="store_true")
    args = parser.parse_args()
    os.makedirs(os.path.join(args.out, "records"), exist_ok=True)
    if args.report:
        write_report(
            args.out,
            "python benchmarks/hdl_collapse.py --arms ARMS [options in the setting column]; python benchmarks/hdl_collapse.py --report",
        )
        return
    summary = {}
    for name in args.arms.split(","):
        path = os.path.join(args.out, "records", f"{name}{args.tag}.json")
        if os.path.exists(path):
            record = json.load(open(path))
        else:
            record = run_arm(name, args)
            record["arm"] = name + args.tag
            record["command"] = "python benchmarks/hdl_collapse.py " + " ".join(sys.argv[1:])
            with open(path, "w") as handle:
                json.dump(record, handle, indent=1)
        summary[record["arm"]] = [record["clean_accuracy"], record["zero_weights"]]
        print(json.dumps(record), flush=True)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
