"""`hdl-train`: train a model of the zoo on a recipe, then evaluate it like the papers' tables.

Example (a reduced CPU run; the report says so):

```
hdl-train paper --model en2_resnet20 --dataset fashion_mnist --objective pgd --epochs 3 \
    --train-subset 4096 --attack-steps 3 --evaluate 500 --out runs/fmnist
```

Writes the outputs of `train_recipe` into `--out` (resumable: rerun the same
command after an interruption), and with `--evaluate N` also
`evaluation.json` and `evaluation.md` (`evaluate_like_paper` on the first N
test images, with the kernels' channel sparsity and bits per weight).

Quantized nets (Li, Wang and Xin 2020): `--kernel-quantizer binary|ternary|4bit` trains the
model's quantized twin (`to_quantized`) with `--scheme binaryconnect` or
`--scheme binaryrelax` (`--relax-rho`, `--relax-switch-epoch`), with any
`--objective`, and also writes the packed `model.hdlpack`:

```
hdl-train paper --model small_cnn --dataset mnist --kernel-quantizer binary \
    --scheme binaryrelax --relax-rho 2 --epochs 3 --train-subset 8192 --evaluate 500 --out runs/br
```

Robust, channel-sparse and low-bit at once (`train_deployable`): `--sparsify-epochs N`
trains N epochs of the objective with RGSM channel sparsity (`--rgsm-lam1`,
`--rgsm-beta`), shrinks the network, then fine-tunes its quantized twin for
`--epochs`; writes `model.keras`, `model.hdlpack` and `model.onnx`:

```
hdl-train seed --model small_cnn --dataset mnist --objective pgd --sparsify-epochs 5 \
    --rgsm-lam1 0.05 --kernel-quantizer binary --scheme binaryrelax --epochs 3 --eps 0.3 \
    --learning-rate 0.01 --train-subset 8192 --evaluate 500 --out runs/deployable
```
"""

import argparse
import json
import os
import shlex
import sys
import time

import keras
import numpy as np

from hdl_keras import data
from hdl_keras import deploy
from hdl_keras import models
from hdl_keras import quantizers
from hdl_keras import saving
from hdl_keras.measure import weight_statistics
from hdl_keras.recipes.evaluation import PAPER_EVALUATION
from hdl_keras.recipes.evaluation import evaluate_like_paper
from hdl_keras.recipes.evaluation import paper_table_markdown
from hdl_keras.recipes.recipes import DEPRECATED_RECIPE_NAMES
from hdl_keras.recipes.recipes import OBJECTIVES
from hdl_keras.recipes.recipes import RECIPES
from hdl_keras.recipes.recipes import SCHEMES
from hdl_keras.recipes.deployable import train_deployable
from hdl_keras.recipes.recipes import train_recipe


def build_parser():
    """The argument parser of `hdl-train`."""
    parser = argparse.ArgumentParser(
        prog="hdl-train",
        description="Adversarial training recipes (the schedule of Dinh et al. 2020 and Li et al. 2020, fast FGSM "
        "training) and "
        "evaluation like the papers' tables (natural, FGSM, IFGSM20, C&W, NAttack, EoT-PGD).",
    )
    parser.add_argument("recipe", help="; ".join(f"{r.name}: {r.description}" for r in RECIPES.values()))
    parser.add_argument("--model", default="en2_resnet20", help="a model of hdl_keras.models (default en2_resnet20)")
    parser.add_argument("--dataset", default="cifar10", help="cifar10, mnist or fashion_mnist (default cifar10)")
    parser.add_argument("--objective", default="pgd", help=f"one of {', '.join(OBJECTIVES)} (default pgd)")
    parser.add_argument("--epochs", type=int, help="default the recipe's (paper 200, fast 15)")
    parser.add_argument("--batch-size", type=int, help="default 128")
    parser.add_argument("--train-subset", type=int, help="train on N images of the training set")
    parser.add_argument("--eps", type=float, help="training attack radius (default 8/255)")
    parser.add_argument("--attack-steps", type=int, help="training attack steps (paper 10, fast 1)")
    parser.add_argument("--weight-decay", type=float, help="coupled L2 weight decay (default 5e-4)")
    parser.add_argument("--learning-rate", type=float,
                        help="initial (paper) or peak (fast) learning rate (default the recipe's: 0.1, 0.2)")
    parser.add_argument("--no-augment", action="store_true", help="no random crop / flip")
    parser.add_argument("--seed", type=int, default=0, help="seed of data order, noise and attacks")
    parser.add_argument("--kernel-quantizer", metavar="Q",
                        help="quantize the Dense/Conv2D kernels: binary, ternary, 4bit (or 2bit..8bit); "
                        "default: float")
    parser.add_argument("--scheme", default="binaryconnect",
                        help=f"quantized training: {' or '.join(SCHEMES)} (default binaryconnect)")
    parser.add_argument("--relax-rho", type=float,
                        help="BinaryRelax: growth of lambda per epoch (default 2)")
    parser.add_argument("--relax-switch-epoch", type=int, metavar="M",
                        help="BinaryRelax: first BinaryConnect epoch, 1-based (default: the last epoch)")
    parser.add_argument("--skip-first-last", action="store_true",
                        help="keep the first and last Dense/Conv2D layers float")
    parser.add_argument("--sparsify-epochs", type=int, metavar="N",
                        help="composed deployable recipe (train_deployable): N epochs of the objective with "
                        "RGSM channel sparsity, shrink, then --epochs of quantized fine-tuning "
                        "(needs --kernel-quantizer); writes model.keras, model.hdlpack, model.onnx")
    parser.add_argument("--rgsm-lam1", type=float, default=5e-2,
                        help="RGSM channel penalty lam1 (threshold sqrt(2 lam1 / beta) on a channel's l2 "
                        "norm; default 0.05)")
    parser.add_argument("--rgsm-beta", type=float, default=1.0, help="RGSM coupling beta (default 1)")
    parser.add_argument("--out", required=True, help="output folder (resumable)")
    parser.add_argument("--evaluate", type=int, default=0, metavar="N",
                        help="evaluate like the papers' tables on the first N test images")
    parser.add_argument("--nattack-examples", type=int, default=100, help="NAttack images (default 100)")
    parser.add_argument("--nattack-population", type=int, default=300, help="NAttack population (default 300)")
    parser.add_argument("--nattack-iterations", type=int, default=500, help="NAttack iterations (default 500)")
    parser.add_argument("--eot-samples", type=int, default=10, help="EoT draws per step (default 10)")
    parser.add_argument("--eot-steps", type=int, default=20, help="EoT-PGD steps (default 20)")
    parser.add_argument("--title", help="heading of evaluation.md")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser


def main(argv=None):
    """Runs `hdl-train` with `argv` (default `sys.argv[1:]`); returns the exit code 0.

    Unknown recipes, models, datasets or objectives exit with code 2 and a
    message naming the accepted values.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.recipe in DEPRECATED_RECIPE_NAMES:
        current = DEPRECATED_RECIPE_NAMES[args.recipe]
        print(f"hdl-train: the recipe name {args.recipe!r} is deprecated; use {current!r} (the same recipe).",
              file=sys.stderr)
        args.recipe = current
    for value, known, what in (
        (args.recipe, list(RECIPES), "recipe"),
        (args.model, models.available_models(), "model"),
        (args.dataset, [d for d in PAPER_EVALUATION if d in data.available_datasets()], "dataset"),
        (args.objective, list(OBJECTIVES), "objective"),
        (args.scheme, list(SCHEMES), "scheme"),
    ):
        if value not in known:
            parser.error(f"unknown {what} {value!r}; known: {', '.join(known)}")
    if args.kernel_quantizer is not None:
        try:
            quantizers.get(args.kernel_quantizer)
        except ValueError:
            parser.error(f"unknown kernel quantizer {args.kernel_quantizer!r}; known: binary, ternary, "
                         "4bit (2bit..8bit)")
    command = shlex.join(["hdl-train", *argv])
    verbose = 0 if args.quiet else 1
    if args.sparsify_epochs is not None and args.kernel_quantizer is None:
        parser.error("--sparsify-epochs runs the composed recipe, which ends quantized: pass "
                     "--kernel-quantizer (binary, ternary, 4bit)")
    try:
        if args.sparsify_epochs is not None:
            model = _train_deployable(args, command, verbose)
        else:
            model = _train_recipe(args, command, verbose)
        if args.evaluate:
            _, (x_test, y_test) = data.load(args.dataset)
            result = evaluate_like_paper(
                model,
                x_test[: args.evaluate],
                y_test[: args.evaluate],
                args.dataset,
                eot_samples=args.eot_samples,
                eot_steps=args.eot_steps,
                nattack_examples=args.nattack_examples,
                nattack_population=args.nattack_population,
                nattack_iterations=args.nattack_iterations,
                seed=args.seed,
                verbose=verbose,
            )
            with open(os.path.join(args.out, "log.json")) as f:
                result["training"] = json.load(f)
            result["weights"] = weight_statistics(model)
            result["command"] = command
            with open(os.path.join(args.out, "evaluation.json"), "w") as f:
                json.dump(result, f, indent=2)
            title = args.title or f"{args.model} on {args.dataset}, recipe {args.recipe}"
            note = f"Command: `{command}`\n\n{_weights_line(result)}"
            markdown = paper_table_markdown(result, title, model_label=args.model, note=note)
            with open(os.path.join(args.out, "evaluation.md"), "w") as f:
                f.write(markdown)
            print(markdown)
    except ValueError as error:
        parser.error(str(error))
    return 0


def _train_recipe(args, command, verbose):
    """`train_recipe` with the command line's settings."""
    return train_recipe(
        args.recipe,
        model_name=args.model,
        dataset=args.dataset,
        objective=args.objective,
        epochs=args.epochs,
        train_subset=args.train_subset,
        batch_size=args.batch_size,
        output_dir=args.out,
        eps=args.eps,
        attack_steps=args.attack_steps,
        weight_decay=args.weight_decay,
        learning_rate=args.learning_rate,
        augment=not args.no_augment,
        seed=args.seed,
        kernel_quantizer=args.kernel_quantizer,
        scheme=args.scheme,
        relax_rho=args.relax_rho,
        relax_switch_epoch=args.relax_switch_epoch,
        skip_first_last=args.skip_first_last,
        command=command,
        verbose=verbose,
    )


def _train_deployable(args, command, verbose):
    """`train_deployable` (robust + RGSM, shrink, quantized fine-tuning); writes its files and log.json."""
    (x_train, y_train), _ = data.load(args.dataset)
    if args.train_subset is not None:
        rows = np.random.default_rng(args.seed).permutation(len(x_train))[: args.train_subset]
        x_train, y_train = x_train[rows], y_train[rows]
    recipe = RECIPES[args.recipe]
    keras.utils.set_random_seed(args.seed)
    base = models.get(args.model, input_shape=tuple(x_train.shape[1:]), num_classes=10)
    attack = recipe.attack_settings(eps=args.eps, steps=args.attack_steps)
    epochs = args.epochs if args.epochs is not None else 5
    learning_rate = args.learning_rate if args.learning_rate is not None else 0.01
    start = time.perf_counter()
    model, summary = train_deployable(
        base, x_train, y_train, objective=args.objective, eps=attack["eps"], attack_steps=attack["steps"],
        step_size=attack["step_size"], sparsify_epochs=args.sparsify_epochs, quantize_epochs=epochs,
        rgsm_beta=args.rgsm_beta, rgsm_lam1=args.rgsm_lam1, kernel_quantizer=args.kernel_quantizer,
        scheme=args.scheme, relax_rho=args.relax_rho if args.relax_rho is not None else 2.0,
        learning_rate=learning_rate, batch_size=args.batch_size or 128, seed=args.seed, verbose=verbose,
    )
    seconds = time.perf_counter() - start
    os.makedirs(args.out, exist_ok=True)
    model.save(os.path.join(args.out, "model.keras"))
    packed_size = saving.export_packed(model, os.path.join(args.out, "model.hdlpack"))
    files = {"packed_file": "model.hdlpack", "packed_size_bytes": packed_size}
    try:
        files["onnx_bytes"] = deploy.export(model, os.path.join(args.out, "model.onnx"))
    except ImportError as error:  # the [export] extra is optional
        files["onnx_skipped"] = str(error)
    quantizer = quantizers.get(args.kernel_quantizer)
    log = {
        "recipe": "deployable (train_deployable: robust + RGSM, shrink, quantized fine-tuning)",
        "model": args.model, "dataset": args.dataset, "objective": args.objective,
        "sparsify_epochs": args.sparsify_epochs, "quantize_epochs": epochs, "learning_rate": learning_rate,
        "train_examples": int(len(x_train)), "attack": attack,
        "rgsm": {"beta": args.rgsm_beta, "lam1": args.rgsm_lam1},
        "shrink": {key: summary[key] for key in ("parameters", "channels")},
        "quantization": {"kernel_quantizer": quantizers.serialize(quantizer), "bits": int(quantizer.bits),
                         "scheme": args.scheme, **files},
        "wall_time_seconds": seconds, "command": command,
    }
    with open(os.path.join(args.out, "log.json"), "w") as f:
        json.dump(log, f, indent=2)
    return model


def _weights_line(result):
    """One line: the kernels' channel sparsity, zero weights, bits per weight and packed size."""
    weights = result["weights"]
    line = (
        f"Kernels: channel sparsity {100 * weights['zero_channels']:.2f} % (l2 norm < 1e-15), zero weights "
        f"{100 * weights['zero_weights']:.2f} %, {weights['bits_per_weight']:g} bits per weight"
    )
    quantization = result["training"].get("quantization")
    if quantization:
        line += f"; packed file {quantization['packed_file']}: {quantization['packed_size_bytes']:,} bytes"
    return line + "."


if __name__ == "__main__":
    sys.exit(main())
