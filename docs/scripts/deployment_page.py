"""Writes docs/deployment.md and docs/img/deployment_pareto.png from the cards and the deploy check.

Usage: python docs/scripts/deployment_page.py [--check] [--out docs/deployment.md]
       [--img docs/img/deployment_pareto.png] [--results docs/results/deployment/results.json]

The guide's text is fixed (below); its tables and figure come from the zoo's cards
(`hdl_keras.zoo.list_entries()`: worst-case robust accuracy, the attacks and number of
test points behind it) and from `results.json` of `benchmarks/deploy_check.py` (copied
to docs/results/deployment/: bytes of each exported file, parity with the Keras model
in onnxruntime and LiteRT, robustness of the file, onnxruntime latency). The figure
plots each entry's worst-case accuracy (card) against its deployed bytes (the smaller
of its ONNX and LiteRT files) and against its onnxruntime latency at batch 1. `--check`
writes nothing and exits 1 when the page differs from what the inputs give, or the
figure is missing.
"""

import argparse
import json
import pathlib
import sys

from hdl_keras.deploy.targets import BUDGET_BYTES
from hdl_keras.deploy.targets import deployed_bytes
from hdl_keras.deploy.targets import deployment_targets
from hdl_keras.zoo import list_entries

DOCS = pathlib.Path(__file__).resolve().parents[1]
DEFAULT_PAGE = DOCS / "deployment.md"
DEFAULT_FIGURE = DOCS / "img" / "deployment_pareto.png"
DEFAULT_RESULTS = DOCS / "results" / "deployment" / "results.json"

GUIDE = """\
# Deployment: ONNX and LiteRT

`hdl_keras.deploy.export` (also `hdl_keras.export_model`) writes a model as one file that
stock runtimes run, without Keras and without custom operators:

```python
import hdl_keras
from hdl_keras import deploy, zoo

model = zoo.load("mnist-small_cnn-binaryrelax")          # quantized: 1-bit kernels
deploy.export(model, "mnist.onnx", format="onnx")         # any backend
deploy.export(model, "mnist.tflite", format="litert")     # tensorflow backend
logits = deploy.predict_onnx("mnist.onnx", x_test)        # onnxruntime, CPU
logits = deploy.predict_litert("mnist.tflite", x_test)    # the LiteRT interpreter
```

Install the runtimes and exporters with the `export` extra:
`pip install -c constraints.txt -e '.[export]'` (onnx, onnxruntime, ai-edge-litert,
ai-edge-quantizer; LiteRT export also needs the `tensorflow` extra).

## What is exported

| Model | What the file holds |
|---|---|
| float | the layers as they are, float32 weights |
| masked (HDL gates, `MaskedDense`/`MaskedConv2D`) | the hard-pruned network `W * 1[s > 0]` (`hdl_keras.layers.export_pruned`): plain Conv/Dense with exact zeros, the limit `beta -> inf` of the gates |
| shrunk (`hdl_keras.pruning.shrink`) | the smaller network: fewer filters and units, constant channels folded into biases or, after zero-padded convolutions, into the convolution (`ConstantChannelsBias`); in ONNX, convolutions padded to whole 16-channel blocks for onnxruntime's blocked kernels |
| quantized (`QuantDense`/`QuantConv2D`) | each kernel as integer levels plus its scale (per tensor or per output channel) and a dequantize operator; no float copy of the kernel |

Supported layers: `Conv2D` (channels last, `groups=1`), `Dense`, their masked and
quantized versions, `BatchNormalization`, `Activation`/`ReLU`/`LeakyReLU` (relu, sigmoid,
tanh, elu, softplus, softmax), 2D max/average/global pooling, `Flatten`, `Add`,
`Dropout`/`Identity`, `ZeroPadChannels`, `ConstantChannelsBias`: every architecture of
`hdl_keras.models` except `ResidualNoise` with noise (EnResNet draws noise at inference).
Any other layer raises an error naming it.

## Integer weights: what each format supports

| Levels | Quantizer | ONNX (opset 21, onnxruntime 1.32) | LiteRT (ai-edge-quantizer 0.10, ai-edge-litert 2.3) |
|---|---|---|---|
| `+-1` | binary (BinaryConnect, BinaryRelax) | UINT8 bits, 8 weights per byte, decoded by stock operators (1 bit/weight) | INT4 + `DEQUANTIZE` |
| `-1, 0, +1` | ternary | INT4 + `DequantizeLinear` | INT4 + `DEQUANTIZE` |
| `-7..7` | 4-bit (`-L..L`, `L = 2^(k-1) - 1`, k = 2..4) | INT4 + `DequantizeLinear` | INT4 + `DEQUANTIZE` |
| `-127..127` | 5- to 8-bit | INT8 + `DequantizeLinear` | INT8 + `DEQUANTIZE` |

Neither format has a 1-bit tensor type for its standard operators: ONNX defines INT2 since
opset 25, but onnxruntime 1.32's CPU `DequantizeLinear` decoded an INT2 tensor wrongly in our
check (the rows after the first repeated the first), and LiteRT's builtin operators take INT4
at the smallest. In ONNX a binary kernel therefore leaves as its signs packed eight to a
UINT8 byte (`np.packbits`), decoded in the graph by stock operators: `BitShift` right by
7..0 and `BitwiseAnd 1` give the bits, `Reshape`/`Slice`/`Reshape` the kernel's shape,
`Cast` and `2 b - 1` the levels, a `Mul` the scale. Every input of that subgraph is constant,
so onnxruntime folds it once when it loads the file (constant folding, from its "basic"
level): 1 bit per weight on disk, float kernels in the session, as fast as the float network
of the same shape. Ternary and 4-bit kernels leave as INT4 (4 bits per weight), LiteRT's
binary kernels too. The ONNX levels are the quantizer's own
(`hdl_keras.deploy.integer_kernel`); LiteRT's quantizer recomputes a scale `max|q(w)| / 7`
at the quantizer's granularity, which represents binary, ternary, 4-bit and 8-bit levels
exactly.

onnxruntime's default graph optimizations (`optimization="all"` of `predict_onnx`) fuse a
`DequantizeLinear` of an INT4 `(in, out)` kernel feeding `Gemm`/`MatMul` into `MatMulNBits`,
whose default accuracy level quantizes the activations to int8: logits change by rounding (the
earlier `python benchmarks/deploy_check.py --quick` run, before the change below, measured 99.7 %
argmax agreement for the binary `fashion_mnist-small_cnn-binaryrelax`). The exporter therefore stores
integer Dense kernels as `(out, in)` for `Gemm(transB=1)`, a pattern the fusion leaves alone,
so the default session computes in float like `optimization="basic"` (constant folding only)
and like the Keras model (max logit difference about 1e-6). LiteRT's weight-only files
compute in float.

## Robust, channel-sparse and low-bit: the composed recipe

Two zoo entries are trained by it: `hdl-zoo train mnist-small_cnn-robust_sparse_binary`
(l_inf 16/255) and `hdl-zoo train fashion_mnist-small_cnn-robust_sparse_binary` (8/255), on
all training images less the 6,000-image validation split:

1. **Sparsify** (6 epochs): the small CNN, float, trained by Li, Wang and Xin's trade-off loss
   (`alpha = 1, beta = 8`) at FGSM examples from a random start (fast adversarial training,
   Wong et al. 2020; Adam on a one-cycle rate), with ADMM channel pruning (Dinh et al.'s
   2020 baseline, `apply_admm(..., structure="channel", sparsity=0.5)`) on every hidden
   Dense/Conv2D layer: half of their output channels are projected to zero, and hard-pruned
   when the phase ends.
2. **Shrink**: `hdl_keras.pruning.shrink` rebuilds the network without them (32/32/64/64
   channels left of 32/64/128/128: about 66,000 weights of 241,546).
3. **Binarize** (10 epochs on MNIST, 12 on Fashion-MNIST): the shrunk network with 1-bit
   kernels, but for the stem convolution (`to_quantized(..., float_layers=["conv1"])`: its
   288 weights, 9 per filter, stay float, 392 more bytes of ONNX), and the same objective
   under BinaryRelax (relaxed for the first half of the epochs, then BinaryConnect), Adam on
   a one-cycle rate peaking at 1e-3 (a fifth of the float phase's); `RobustValidation` keeps
   the BinaryConnect epoch of best PGD-10 accuracy on 1,000 validation images. On MNIST the
   float stem lifted the best validation PGD-10 accuracy from 0.953 to 0.965 and the lower
   rate to 0.975 (one change at a time, `python benchmarks/recipe_variant.py`, whose docstring
   gives each variant's command; the card's `reference.tried` lists these and the changes
   that did not help).
4. **Export**: the entry is written packed (`model.hdlpack`); `deploy.export` gives the ONNX
   file with 1-bit kernels.

RGSM (Dinh et al.'s own relaxed group sparsity) is the library's other channel-sparse
regularizer, but its channel threshold `sqrt(2 lam1 / beta)` is one number for all layers:
in short MNIST probes (`python benchmarks/channel_pruning_probe.py`: 3 epochs on 12,000
images) `lam1 = 0.3` kept 95-98 % of each hidden layer's channels and `lam1 = 0.5` none of
conv2 and conv3 (clean accuracy 11.7 %), so the zoo recipe uses ADMM's projection,
which prunes a chosen fraction per layer. `train_deployable` below composes either:
`channel_sparsity=0.5` (command line `--channel-sparsity 0.5`) for ADMM's projection, or RGSM
with a tuned `rgsm_lam1`.

`hdl_keras.recipes.deployable.train_deployable` (command line: `hdl-train --sparsify-epochs`)
composes the library's pieces on one model, one `model.fit` per phase, in this order:

1. **Sparsify**: the robust objective (`pgd`: PGD adversarial training, [Madry et al. 2018](references.md#madry2018);
   `trades`; `tradeoff`: Li, Wang, Xin's `alpha L_nat + beta L_rob`) with RGSM (Dinh et al.,
   relaxed group sparsity on output channels); at the end of every epoch `ReplaceWithU` sets
   each kernel to its sparse copy, so channels whose l2 norm is below
   `sqrt(2 lam1 / beta)` are exact zeros.
2. **Shrink**: `hdl_keras.pruning.shrink` rebuilds the network without them.
3. **Quantize and fine-tune**: `to_quantized` (binary, ternary or 4-bit kernels), then the
   same objective with BinaryRelax (Li, Wang, Xin, Algorithm 1: relaxed epochs, exact
   quantization from the last one) or BinaryConnect, at a tenth of the learning rate.
4. **Export**: `deploy.export(model, "model.onnx")` (and `"litert"`).

Shrinking comes before quantizing: a binary kernel has no zero level (`mean|w| * sign(w)`), so
binarizing first would give every pruned channel weights again.

```python
from hdl_keras import data, deploy, models
from hdl_keras.recipes.deployable import train_deployable

(x, y), _ = data.load("mnist")
model, summary = train_deployable(
    models.small_cnn(), x, y, objective="pgd", eps=16 / 255, attack_steps=10,
    sparsify_epochs=10, channel_sparsity=0.5, kernel_quantizer="binary", float_layers=["conv1"],
    scheme="binaryrelax", quantize_epochs=5, learning_rate=0.01, quantize_learning_rate=1e-3,
)
print(summary["channels"])            # channels before and after shrinking
deploy.export(model, "mnist.onnx")    # 1 bit per binary weight
```

```
hdl-train seed --model small_cnn --dataset mnist --objective pgd --sparsify-epochs 10 \\
    --channel-sparsity 0.5 --kernel-quantizer binary --float-layers conv1 --scheme binaryrelax \\
    --epochs 5 --eps 0.0627451 --learning-rate 0.01 --quantize-learning-rate 0.001 \\
    --evaluate 1000 --out runs/deployable
```

writes `model.keras`, `model.hdlpack`, `model.onnx` and `log.json` (channels and parameters
before and after shrinking, the packed and ONNX sizes) into `--out`, and with `--evaluate N`
the papers' evaluation table.

## The deploy check

`python benchmarks/deploy_check.py` exports every zoo entry (and, for entries
with zero channels, the shrunk network) to both formats and compares the runtimes with the
Keras model: parity on every test point, APGD-CE (100 steps) and Square (1000 queries) on the
first 500 test images, 200 latency repeats. The results below come from that full check, run
in three groups that `--merge` joins (the tables, then
`--merge --entries` the MNIST entries, then the Fashion-MNIST ones: about an hour on 2 cores);
after retraining an entry, `--merge --entries NAME` reruns it and its dense entry and keeps the
other rows. `--quick` (1000 test points, 100 attacked with 20 APGD steps and 100 Square
queries, 30 latency repeats: minutes) is its reduced version. The last line is one JSON object:
`exported_entries`, `onnx_max_logit_diff`, `litert_max_logit_diff` (float, hard-pruned and
shrunk files), `quant_argmax_agreement` (quantized files, both runtimes), `smallest_mnist_bytes`,
`smallest_mnist_autoattack`, the targets (`targets_met`) and `shrunk_latency_ratio_b1` (the files
of recipes that remove channels; `weight_sparse_shrunk_latency_ratio_b1` for the shrunk files of
weight-sparse entries). Robustness is checked on the file
itself: APGD-CE examples of the Keras model (the first attack of AutoAttack, Croce & Hein
2020) replayed on the ONNX file, and the black-box Square attack (Andriushchenko et al.
2020) run on the ONNX file's logits through onnxruntime.
"""


def percent(value):
    return "-" if value is None else f"{100 * value:.1f}"


def kib(value):
    return f"{value / 1024:.1f}"


def load_results(path):
    path = pathlib.Path(path)
    if not path.exists():
        return None
    return json.loads(path.read_text())


def targets_section(rows, cards):
    """The markdown table of the deployment targets (`hdl_keras.deploy.targets`), measured."""
    targets = deployment_targets(rows, cards)
    met = {True: "met", False: "**not met**"}
    lines = [
        "### Targets\n",
        f"Decided from the cards and the files above (`hdl_keras.deploy.targets`); a budget of {BUDGET_BYTES:,} "
        "bytes is the deployed file, the smaller of ONNX and LiteRT.\n",
        "| Target | Best file | Measured | |",
        "|---|---|---|---|",
    ]

    def named(best):
        return "-" if best is None else f"`{best['file']}` ({best['bytes']:,} bytes)"

    mnist = targets["mnist_budget"]
    best = mnist["best"]
    measured = "-" if best is None else f"clean {percent(best['clean'])} %, AutoAttack {percent(best['autoattack'])} %"
    lines.append(
        f"| MNIST, at most {BUDGET_BYTES:,} bytes: clean >= 98.5 %, AutoAttack (16/255) >= 95 % "
        f"| {named(best)} | {measured} | {met[mnist['met']]} |"
    )
    fashion = targets["fashion_mnist_budget"]
    best = fashion["best"]
    measured = (
        "-"
        if fashion["gap"] is None
        else f"robust {percent(best['robust'])} % against {percent(fashion['float_robust'])} % "
        f"(float small CNN, same objective): {100 * fashion['gap']:.1f} points"
    )
    lines.append(
        f"| Fashion-MNIST, at most {BUDGET_BYTES:,} bytes: robust (8/255) within 3 points of the float "
        f"small CNN trained by the same objective | {named(best)} | {measured} | {met[fashion['met']]} |"
    )
    latency = targets["shrunk_latency"]
    measured = "-" if latency["worst_ratio"] is None else f"slowest: {latency['worst_ratio']:.2f} x its dense entry"
    lines.append(
        "| every file of a recipe that removes channels at most 0.5 x its dense float entry's onnxruntime "
        f"latency, batch 1 | `{latency['worst_file']}` | {measured} | {met[latency['met']]} |\n"
    )
    if latency["weight_sparse_worst_ratio"] is not None:
        floors = [
            row["floor_ratio_vs_dense"]["1"]
            for row in rows
            if row["kind"] == "shrunk" and "floor_ratio_vs_dense" in row
        ]
        floor = (
            f" The MLPs' calls are mostly onnxruntime's per-call cost (an empty ONNX graph's call alone: up to "
            f"{max(floors):.2f} x)."
            if floors
            else ""
        )
        by_name = {card["name"]: card for card in cards}
        kept = [
            1 - by_name[row["entry"]]["metrics"]["zero_channels"]
            for row in rows
            if row["kind"] == "shrunk" and row["architecture"] != "mlp"
        ]
        kept = f" ({percent(min(kept))}-{percent(max(kept))} % of them, by their cards)" if kept else ""
        lines.append(
            "Not decided on: the shrunk files of the weight-sparse HDL entries, slowest "
            f"`{latency['weight_sparse_worst_file']}` at {latency['weight_sparse_worst_ratio']:.2f} x its dense "
            "entry. HDL's gates zero single weights (Bertsimas et al. 2023), so `shrink` removes only the units "
            f"left without any weight: the small CNNs keep most channels{kept}, and onnxruntime's dense kernels compute "
            f'the zeros.{floor} Gates per output channel (`granularity="channel"`, '
            "[Holistic Deep Learning](holistic.md#gates-per-channel-sparsity-that-shrink-removes)) make "
            "HDL's sparsity structured, so that `shrink` removes it; no zoo entry uses them yet.\n"
        )
    return lines


def render(cards, results, figure_name="img/deployment_pareto.png"):
    """The page's markdown for the cards and the deploy check's results (or None)."""
    lines = [GUIDE]
    if not results or not results.get("rows"):
        lines.append(
            "## Results\n\nThe deploy check has not been run yet "
            "(`python benchmarks/deploy_check.py`, then copy its `results.json` to "
            "docs/results/deployment/).\n"
        )
        return "\n".join(lines)
    by_name = {card["name"]: card for card in cards}
    rows = [row for row in results["rows"] if row["entry"] in by_name]
    lines.append("## Results\n")
    lines.append(
        f"Measured by `{results['command']}` ({results['backend']} backend, 2-core CPU"
        + (
            ", REDUCED: 1000 test points for parity, 100 attacked with APGD-CE 20 steps and Square 100 "
            "queries, 30 latency repeats (at batch 1 each times 50 calls)"
            if "--quick" in results["command"]
            else ": every test point for parity, the first 500 attacked with APGD-CE 100 steps and Square 1000 "
            "queries, 200 latency repeats (at batch 1 each times 50 calls)"
        )
        + '). Robust accuracy of each entry ("card worst case") is its card\'s worst case over '
        "the attacks `hdl-zoo eval` ran (the card's `evaluation.command`); a shrunk file computes "
        "the same function as its entry, so it carries the entry's card value. "
        'ONNX: onnxruntime with its default optimizations; ONNX basic: `optimization="basic"`. '
        "Latency: onnxruntime, CPU, median milliseconds per call; ratio to the dense float `-dl` entry "
        "of the same dataset and architecture, timed in alternation with it.\n"
    )
    lines += targets_section(rows, cards)
    lines.append(f"![Robust accuracy against deployed bytes and onnxruntime latency]({figure_name})\n")
    lines.append(
        "| File | Kind | Card worst case % | ONNX KiB | LiteRT KiB | .keras/.hdlpack KiB "
        "| Max logit diff ONNX / LiteRT | Argmax agreement % ONNX / ONNX basic / LiteRT | Latency b1 ms (ratio) "
        "| Latency b128 ms (ratio) |"
    )
    lines.append("|---|---|---|---|---|---|---|---|---|---|")
    for row in sorted(rows, key=lambda row: (row["dataset"], deployed_bytes(row))):
        card = by_name[row["entry"]]
        latency = row.get("onnx_latency_s", {})
        ratio = row.get("latency_ratio_vs_dense", {})

        def timing(batch):
            if str(batch) not in latency:
                return "-"
            return f"{1000 * latency[str(batch)]:.2f} ({ratio[str(batch)]:.2f})"

        agreement = " / ".join(
            percent(row.get(key))
            for key in ("onnx_argmax_agreement", "onnx_basic_argmax_agreement", "litert_argmax_agreement")
        )
        lines.append(
            f"| `{row['file']}` | {row['kind']} | {percent(card['metrics']['worst_case_accuracy'])} "
            f"| {kib(row['onnx_bytes'])} | {kib(row['litert_bytes'])} | {kib(card['file_size_bytes'])} "
            f"| {row['onnx_max_logit_diff']:.1e} / {row['litert_max_logit_diff']:.1e} "
            f"| {agreement} | {timing(1)} | {timing(128)} |"
        )
    robust_rows = [row for row in rows if row.get("robustness")]
    if robust_rows:
        lines.append("\n### Robustness survives export\n")
        lines.append(
            "Accuracy (%) of the Keras model and of its ONNX file on the same attacked points: "
            "APGD-CE examples found on the Keras model, replayed on the file; Square run "
            "black-box on each. SE: the binomial standard error of the Keras APGD-CE accuracy.\n"
        )
        lines.append("| File | n | eps | APGD-CE Keras | APGD-CE on file | Square Keras | Square on file | SE |")
        lines.append("|---|---|---|---|---|---|---|---|")
        for row in robust_rows:
            robust = row["robustness"]
            lines.append(
                f"| `{row['file']}` | {robust['n']} | {row['eps']:.4g} | {percent(robust['apgd_ce_keras'])} "
                f"| {percent(robust['apgd_ce_transfer_file'])} | {percent(robust['square_keras'])} "
                f"| {percent(robust['square_file'])} | {percent(robust['standard_error'])} |"
            )
    return "\n".join(lines) + "\n"


def write_figure(cards, results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    by_name = {card["name"]: card for card in cards}
    rows = [row for row in (results or {}).get("rows", []) if row["entry"] in by_name]
    markers = {"float": "o", "masked": "s", "shrunk": "D", "quantized": "^"}
    colours = {}
    figure, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    for row in rows:
        colour = colours.setdefault(row["dataset"], f"C{len(colours)}")
        robust = by_name[row["entry"]]["metrics"]["worst_case_accuracy"]
        if robust is None:
            continue
        style = {"marker": markers.get(row["kind"], "o"), "color": colour, "linestyle": ""}
        axes[0].plot(deployed_bytes(row) / 1024, 100 * robust, **style)
        if "onnx_latency_s" in row:
            axes[1].plot(1000 * row["onnx_latency_s"]["1"], 100 * robust, **style)
    axes[0].set_xscale("log")
    axes[0].set_xlabel("deployed file (KiB, smaller of ONNX and LiteRT)")
    axes[1].set_xlabel("onnxruntime latency, batch 1 (ms)")
    axes[0].set_ylabel("worst-case robust accuracy (%, card)")
    handles = [plt.Line2D([], [], marker=m, linestyle="", color="gray", label=k) for k, m in markers.items()]
    handles += [plt.Line2D([], [], marker="o", linestyle="", color=c, label=d) for d, c in colours.items()]
    axes[1].legend(handles=handles, fontsize=8, loc="lower right")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main(argv=None):
    """Writes (or with `--check`, checks) the page and the figure; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the page is not up to date")
    parser.add_argument("--out", default=str(DEFAULT_PAGE))
    parser.add_argument("--img", default=str(DEFAULT_FIGURE))
    parser.add_argument("--results", default=str(DEFAULT_RESULTS))
    args = parser.parse_args(argv)
    out, img = pathlib.Path(args.out), pathlib.Path(args.img)
    cards = list_entries(skip_broken=True)
    results = load_results(args.results)
    page = render(cards, results, figure_name=f"img/{img.name}")
    if args.check:
        stale = not out.exists() or out.read_text() != page or not img.exists()
        if stale:
            print(f"{out} is stale: run python docs/scripts/deployment_page.py", file=sys.stderr)
        return int(stale)
    out.write_text(page)
    write_figure(cards, results, img)
    return 0


if __name__ == "__main__":
    sys.exit(main())
