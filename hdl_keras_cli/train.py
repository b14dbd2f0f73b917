"""`hdl train` (also `hdl-train`): train a model on a recipe, then evaluate it like the papers' tables.

Example (a reduced CPU run; the report says so):

```
hdl train paper --model en2_resnet20 --dataset fashion_mnist --objective pgd --epochs 3 \
    --train-subset 4096 --attack-steps 3 --evaluate 500 --out runs/fmnist
```

Writes the outputs of `hdl_keras.recipes.train_recipe` into `--out`
(resumable: rerun the same command after an interruption), and with
`--evaluate N` also `evaluation.json` and `evaluation.md`
(`evaluate_like_paper` on the first N test images, with the kernels' channel
sparsity and bits per weight). Progress: a bar per epoch (one line per epoch
when the output is not a terminal), then a bar per evaluation pass.

Quantized nets (Li, Wang and Xin 2020): `--kernel-quantizer binary|ternary|4bit` trains the
model's quantized twin (`to_quantized`) with `--scheme binaryconnect` or
`--scheme binaryrelax` (`--relax-rho`, `--relax-switch-epoch`), with any
`--objective`, and also writes the packed `model.hdlpack`:

```
hdl train paper --model small_cnn --dataset mnist --kernel-quantizer binary \
    --scheme binaryrelax --relax-rho 2 --epochs 3 --train-subset 8192 --evaluate 500 --out runs/br
```

Robust, channel-sparse and low-bit at once (`train_deployable`): `--sparsify-epochs N`
trains N epochs of the objective with RGSM channel sparsity (`--rgsm-lam1`,
`--rgsm-beta`) or, with `--channel-sparsity F`, ADMM pruning the fraction F of
each hidden layer's channels, shrinks the network, then fine-tunes its
quantized twin for `--epochs` (`--float-layers conv1` keeps the stem float,
`--quantize-learning-rate` sets that phase's rate); writes `model.keras`,
`model.hdlpack` and `model.onnx`:

```
hdl train paper --model small_cnn --dataset mnist --objective pgd --sparsify-epochs 5 \
    --channel-sparsity 0.5 --kernel-quantizer binary --float-layers conv1 --scheme binaryrelax \
    --epochs 3 --eps 0.3 --learning-rate 0.01 --quantize-learning-rate 0.001 --train-subset 8192 \
    --evaluate 500 --out runs/deployable
```

The parser and the checks of recipe, objective and scheme names run without
Keras (`--help` and a misspelt name answer at once); the rest runs in
`hdl_keras_cli.train_run`, imported when training starts.
"""

import shlex
import sys

from hdl_keras_cli.backend import load_library_or_exit
from hdl_keras_cli.errors import ArgumentParser

# The names of hdl_keras.recipes.recipes (RECIPES, DEPRECATED_RECIPE_NAMES,
# OBJECTIVES, SCHEMES), kept here so that `--help` needs no Keras;
# tests/cli/test_names.py checks that they agree.
RECIPES = {
    "paper": "Dinh et al. 2020 / Li et al. 2020: 200 epochs, SGD 0.9, lr 0.1 x0.1 at 80/120/160, wd 5e-4, "
    "PGD-10 (2/255, eps 8/255)",
    "fast": "Wong et al. 2020: 15 epochs, one-cycle lr 0 -> 0.2 -> 0, FGSM with random start (step 1.25 eps)",
}
DEPRECATED_RECIPE_NAMES = {"seed": "paper"}
OBJECTIVES = ("pgd", "trades", "tradeoff")
SCHEMES = ("binaryconnect", "binaryrelax")


def build_parser(prog="hdl-train"):
    """The argument parser of `hdl train` / `hdl-train`."""
    parser = ArgumentParser(
        prog=prog,
        description="Adversarial training recipes (the schedule of Dinh et al. 2020 and Li et al. 2020, fast FGSM "
        "training) and evaluation like the papers' tables (natural, FGSM, IFGSM20, C&W, NAttack, EoT-PGD).",
    )
    parser.add_argument("recipe", help="; ".join(f"{name}: {text}" for name, text in RECIPES.items()))
    parser.add_argument("--model", default="en2_resnet20", help="a model of hdl_keras.models (default en2_resnet20)")
    parser.add_argument("--dataset", default="cifar10", help="cifar10, mnist or fashion_mnist (default cifar10)")
    parser.add_argument("--objective", default="pgd", help=f"one of {', '.join(OBJECTIVES)} (default pgd)")
    parser.add_argument("--epochs", type=int, help="default the recipe's (paper 200, fast 15)")
    parser.add_argument("--batch-size", type=int, help="default 128")
    parser.add_argument("--train-subset", type=int, help="train on N images of the training set")
    parser.add_argument("--eps", type=float, help="training attack radius (default 8/255)")
    parser.add_argument("--attack-steps", type=int, help="training attack steps (paper 10, fast 1)")
    parser.add_argument("--weight-decay", type=float, help="coupled L2 weight decay (default 5e-4)")
    parser.add_argument(
        "--learning-rate",
        type=float,
        help="initial (paper) or peak (fast) learning rate (default the recipe's: 0.1, 0.2)",
    )
    parser.add_argument("--no-augment", action="store_true", help="no random crop / flip")
    parser.add_argument("--seed", type=int, default=0, help="seed of data order, noise and attacks")
    parser.add_argument(
        "--kernel-quantizer",
        metavar="Q",
        help="quantize the Dense/Conv2D kernels: binary, ternary, 4bit (or 2bit..8bit); default: float",
    )
    parser.add_argument(
        "--scheme", default="binaryconnect", help=f"quantized training: {' or '.join(SCHEMES)} (default binaryconnect)"
    )
    parser.add_argument("--relax-rho", type=float, help="BinaryRelax: growth of lambda per epoch (default 2)")
    parser.add_argument(
        "--relax-switch-epoch",
        type=int,
        metavar="M",
        help="BinaryRelax: first BinaryConnect epoch, 1-based (default: the last epoch)",
    )
    parser.add_argument(
        "--skip-first-last", action="store_true", help="keep the first and last Dense/Conv2D layers float"
    )
    parser.add_argument(
        "--sparsify-epochs",
        type=int,
        metavar="N",
        help="composed deployable recipe (train_deployable): N epochs of the objective with "
        "RGSM channel sparsity, shrink, then --epochs of quantized fine-tuning "
        "(needs --kernel-quantizer); writes model.keras, model.hdlpack, model.onnx",
    )
    parser.add_argument(
        "--rgsm-lam1",
        type=float,
        default=5e-2,
        help="RGSM channel penalty lam1 (threshold sqrt(2 lam1 / beta) on a channel's l2 norm; default 0.05)",
    )
    parser.add_argument("--rgsm-beta", type=float, default=1.0, help="RGSM coupling beta (default 1)")
    parser.add_argument(
        "--channel-sparsity",
        type=float,
        metavar="F",
        help="prune the fraction F of each hidden layer's channels by ADMM instead of RGSM (e.g. 0.5)",
    )
    parser.add_argument(
        "--float-layers",
        nargs="+",
        default=(),
        metavar="NAME",
        help="with --sparsify-epochs: Dense/Conv2D layers kept float in the quantized phase (e.g. conv1)",
    )
    parser.add_argument(
        "--quantize-learning-rate",
        type=float,
        metavar="LR",
        help="with --sparsify-epochs: learning rate of the quantized phase (default: --learning-rate / 10)",
    )
    parser.add_argument("--out", required=True, help="output folder (resumable)")
    parser.add_argument(
        "--evaluate",
        type=int,
        default=0,
        metavar="N",
        help="evaluate like the papers' tables on the first N test images",
    )
    parser.add_argument("--nattack-examples", type=int, default=100, help="NAttack images (default 100)")
    parser.add_argument("--nattack-population", type=int, default=300, help="NAttack population (default 300)")
    parser.add_argument("--nattack-iterations", type=int, default=500, help="NAttack iterations (default 500)")
    parser.add_argument("--eot-samples", type=int, default=10, help="EoT draws per step (default 10)")
    parser.add_argument("--eot-steps", type=int, default=20, help="EoT-PGD steps (default 20)")
    parser.add_argument("--title", help="heading of evaluation.md")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser


def main(argv=None, prog="hdl-train"):
    """Runs `hdl train` with `argv` (default `sys.argv[1:]`); returns the exit code 0.

    Unknown recipes, models, datasets or objectives exit with code 2 and a
    message naming the accepted values.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    if args.recipe in DEPRECATED_RECIPE_NAMES:
        current = DEPRECATED_RECIPE_NAMES[args.recipe]
        print(
            f"{prog}: the recipe name {args.recipe!r} is deprecated; use {current!r} (the same recipe).",
            file=sys.stderr,
        )
        args.recipe = current
    for value, known, what in (
        (args.recipe, list(RECIPES), "recipe"),
        (args.objective, list(OBJECTIVES), "objective"),
        (args.scheme, list(SCHEMES), "scheme"),
    ):
        if value not in known:
            parser.error(f"unknown {what} {value!r}; known: {', '.join(known)}")
    if args.sparsify_epochs is not None and args.kernel_quantizer is None:
        parser.error(
            "--sparsify-epochs runs the composed recipe, which ends quantized: pass "
            "--kernel-quantizer (binary, ternary, 4bit)"
        )
    composed_only = [
        flag
        for flag, value in (
            ("--float-layers", args.float_layers),
            ("--quantize-learning-rate", args.quantize_learning_rate),
        )
        if value
    ]
    if composed_only and args.sparsify_epochs is None:
        parser.error(f"{' and '.join(composed_only)} set the composed recipe's quantized phase: pass --sparsify-epochs")
    load_library_or_exit(prog)
    from hdl_keras_cli import train_run

    return train_run.run(args, parser, command=shlex.join(["hdl-train", *argv]))


if __name__ == "__main__":
    sys.exit(main())
