"""The training and evaluation behind `hdl train`, imported once the arguments are checked.

`hdl_keras_cli.train` parses and checks the command line without Keras; this
module imports the library (Keras and the backend, loaded quietly by
`hdl_keras_cli.backend.load_library` before) and runs the recipe.
"""

import json
import os
import time

import keras
import numpy as np

from hdl_keras import data
from hdl_keras import deploy
from hdl_keras import models
from hdl_keras import quantizers
from hdl_keras.measure import weight_statistics
from hdl_keras.recipes.deployable import ADMM_RHO
from hdl_keras.recipes.deployable import train_deployable
from hdl_keras.recipes.evaluation import PAPER_EVALUATION
from hdl_keras.recipes.evaluation import evaluate_like_paper
from hdl_keras.recipes.evaluation import paper_table_markdown
from hdl_keras.recipes.recipes import RECIPES
from hdl_keras.recipes.recipes import train_recipe
from hdl_keras_cli.backend import progress_verbosity
from hdl_keras_cli.tables import bits


def run(args, parser, command):
    """Trains (and with `--evaluate N` evaluates) as the parsed `args` say; returns the exit code 0.

    Args:
        args: the namespace of `hdl_keras_cli.train.build_parser()`, with
            recipe, objective and scheme names already checked.
        parser: that parser, for errors naming the accepted values (exit code 2).
        command: the command line recorded in `log.json` and `evaluation.md`.
    """
    for value, known, what in (
        (args.model, models.available_models(), "model"),
        (args.dataset, [d for d in PAPER_EVALUATION if d in data.available_datasets()], "dataset"),
    ):
        if value not in known:
            parser.error(f"unknown {what} {value!r}; known: {', '.join(known)}")
    if args.kernel_quantizer is not None:
        try:
            quantizers.get(args.kernel_quantizer)
        except ValueError:
            parser.error(
                f"unknown kernel quantizer {args.kernel_quantizer!r}; known: binary, ternary, 4bit (2bit..8bit)"
            )
    verbose = 0 if args.quiet else progress_verbosity()
    try:
        if args.sparsify_epochs is not None:
            model = _train_deployable(args, command, verbose)
        else:
            model = _train_recipe(args, command, verbose)
        if args.evaluate:
            _evaluate(model, args, command, verbose)
    except ValueError as error:
        parser.error(str(error))
    return 0


def _evaluate(model, args, command, verbose):
    """`evaluate_like_paper` on the first `--evaluate` test images; writes evaluation.json and .md."""
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
    """`train_deployable` (robust + RGSM or ADMM, shrink, quantized fine-tuning); writes its files and log.json."""
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
    quantize_learning_rate = (
        args.quantize_learning_rate if args.quantize_learning_rate is not None else learning_rate / 10
    )
    start = time.perf_counter()
    model, summary = train_deployable(
        base,
        x_train,
        y_train,
        objective=args.objective,
        eps=attack["eps"],
        attack_steps=attack["steps"],
        step_size=attack["step_size"],
        sparsify_epochs=args.sparsify_epochs,
        quantize_epochs=epochs,
        rgsm_beta=args.rgsm_beta,
        rgsm_lam1=args.rgsm_lam1,
        channel_sparsity=args.channel_sparsity,
        kernel_quantizer=args.kernel_quantizer,
        float_layers=tuple(args.float_layers),
        scheme=args.scheme,
        relax_rho=args.relax_rho if args.relax_rho is not None else 2.0,
        learning_rate=learning_rate,
        quantize_learning_rate=quantize_learning_rate,
        batch_size=args.batch_size or 128,
        seed=args.seed,
        verbose=verbose,
    )
    seconds = time.perf_counter() - start
    os.makedirs(args.out, exist_ok=True)
    model.save(os.path.join(args.out, "model.keras"))
    packed_size = quantizers.export_packed(model, os.path.join(args.out, "model.hdlpack"))
    files = {"packed_file": "model.hdlpack", "packed_size_bytes": packed_size}
    try:
        files["onnx_bytes"] = deploy.export(model, os.path.join(args.out, "model.onnx"))
    except ImportError as error:  # the [export] extra is optional
        files["onnx_skipped"] = str(error)
    quantizer = quantizers.get(args.kernel_quantizer)
    log = {
        "recipe": "deployable (train_deployable: robust + channel pruning, shrink, quantized fine-tuning)",
        "model": args.model,
        "dataset": args.dataset,
        "objective": args.objective,
        "sparsify_epochs": args.sparsify_epochs,
        "quantize_epochs": epochs,
        "learning_rate": learning_rate,
        "quantize_learning_rate": quantize_learning_rate,
        "train_examples": len(x_train),
        "attack": attack,
        "channel_pruning": (
            {"rgsm": {"beta": args.rgsm_beta, "lam1": args.rgsm_lam1}}
            if args.channel_sparsity is None
            else {"admm": {"channel_sparsity": args.channel_sparsity, "rho": ADMM_RHO}}
        ),
        "shrink": {key: summary[key] for key in ("parameters", "channels")},
        "quantization": {
            "kernel_quantizer": quantizers.serialize(quantizer),
            "bits": int(quantizer.bits),
            "float_layers": list(args.float_layers),
            "scheme": args.scheme,
            **files,
        },
        "wall_time_seconds": seconds,
        "command": command,
    }
    with open(os.path.join(args.out, "log.json"), "w") as f:
        json.dump(log, f, indent=2)
    return model


def _weights_line(result):
    """One line: the kernels' channel sparsity, zero weights, bits per weight and packed size."""
    weights = result["weights"]
    line = (
        f"Kernels: channel sparsity {100 * weights['zero_channels']:.2f} % (l2 norm < 1e-15), zero weights "
        f"{100 * weights['zero_weights']:.2f} %, {bits(weights['bits_per_weight'])} bits per weight"
    )
    quantization = result["training"].get("quantization")
    if quantization:
        line += f"; packed file {quantization['packed_file']}: {quantization['packed_size_bytes']:,} bytes"
    return line + "."
