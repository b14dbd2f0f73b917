"""`hdl protocol` (also `hdl-protocol`): run the HDL protocol (Bertsimas et al. 2023) from the command line.

Example (a reduced run; the report says so):

```
hdl protocol --dataset iris --methods DL Robust HDL --lr 1e-2 --epochs 20 --splits 3 --out runs/iris
hdl protocol --dataset mnist --grid image --train-subset 2000 --test-subset 500 --epochs 2 --out runs/mnist
```

Writes `runs.jsonl` (one line per finished run; a rerun with the same
`--out` resumes), `results.json` and `results.md` into `--out`, and prints the
markdown report. Progress: one line per finished run (method, configuration,
split, its metrics), unless `--quiet`.

The parser and the checks of dataset, method, grid, scaling and network names
run without Keras (`--help` and a misspelt name answer at once); Keras and the
backend load, quietly, when the protocol starts.
"""

import shlex
import sys

from hdl_keras_cli.backend import load_library_or_exit
from hdl_keras_cli.errors import ArgumentParser

# The names of hdl_keras.data.available_datasets(), hdl_keras.objectives.METHODS,
# hdl_keras.experiments (PAPER_GRIDS, SCALINGS, NETWORKS), kept here so that
# `--help` needs no Keras; tests/cli/test_names.py checks that they agree.
DATASETS = ("mnist", "fashion_mnist", "cifar10", "iris", "wine", "breast_cancer", "digits")
METHODS = ("DL", "Robust", "Stable", "Sparse", "Robust+Sparse", "Stable+Sparse", "Stable+Robust", "HDL")
GRIDS = ("uci", "image")
SCALINGS = ("minmax", "paper")
NETWORKS = ("mlp", "alexnet", "small_cnn")

# Command-line option -> grid key of the searched hyper-parameters.
_GRID_OPTIONS = {
    "lr": "lr",
    "rho": "rho",
    "lambda": "sparsity_lambda",
    "beta_bar": "beta_bar",
    "alpha": "stability_alpha",
}


def build_parser(prog="hdl-protocol"):
    """The argument parser of `hdl protocol` / `hdl-protocol`."""
    parser = ArgumentParser(
        prog=prog,
        description="Holistic Deep Learning protocol (Bertsimas et al. 2023, sec. 4): every method x "
        "hyper-parameter configuration x train/validation split; natural and PGD accuracy, "
        "stability and sparsity; selection on validation; markdown tables.",
    )
    parser.add_argument("--dataset", required=True, help=f"one of: {', '.join(DATASETS)}")
    parser.add_argument("--methods", nargs="+", metavar="NAME", help=f"default all: {' '.join(METHODS)}")
    parser.add_argument("--grid", choices=GRIDS, help="paper grid; default uci for tables, image for images")
    for option, key in _GRID_OPTIONS.items():
        parser.add_argument(
            f"--{option.replace('_', '-')}",
            dest=key,
            nargs="+",
            type=float,
            metavar="VALUE",
            help=f"override the grid's {key} values",
        )
    parser.add_argument("--splits", type=int, default=10, help="train/validation splits (default 10)")
    parser.add_argument("--epochs", type=int, help="epochs per round (paper: 150 UCI, 50 images)")
    parser.add_argument("--rounds", type=int, help="rounds of the sparse methods (paper: 5)")
    parser.add_argument("--batch-size", type=int, help="batch size (paper: 32 UCI, 64 images)")
    parser.add_argument("--train-subset", type=int, help="train on a stratified subset of N pool rows")
    parser.add_argument("--test-subset", type=int, help="evaluate on a stratified subset of N test rows")
    parser.add_argument(
        "--attack-eps", type=float, help="PGD radius (paper: 0.1 UCI/MNIST, 0.01 Fashion-MNIST/CIFAR-10)"
    )
    parser.add_argument("--attack-steps", type=int, help="PGD steps (default 10; 40 with --scaling paper)")
    parser.add_argument(
        "--scaling",
        choices=SCALINGS,
        default="minmax",
        help="minmax (default: tables in [0, 1], PGD clipped to [0, 1]) or paper (the authors' "
        "code: tables standardised then divided by 255, PGD-40 of 0.01, unclipped on tables)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of splits, initialisation and attack")
    parser.add_argument("--network", choices=NETWORKS, help="default the paper's: mlp for tables, alexnet for images")
    parser.add_argument("--out", help="output folder (runs.jsonl, results.json, results.md); resumable")
    parser.add_argument("--quiet", action="store_true", help="no line per finished run")
    return parser


def main(argv=None, prog="hdl-protocol"):
    """Runs `hdl protocol` with `argv` (default `sys.argv[1:]`); returns the exit code 0.

    Unknown datasets or methods and invalid values exit with code 2 and a
    message naming the accepted values.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    if args.dataset not in DATASETS:
        parser.error(f"unknown dataset {args.dataset!r}; known datasets: {', '.join(DATASETS)}")
    unknown = [method for method in args.methods or () if method not in METHODS]
    if unknown:
        parser.error(f"unknown method(s) {', '.join(unknown)}; known methods: {', '.join(METHODS)}")
    overrides = {key: getattr(args, key) for key in _GRID_OPTIONS.values() if getattr(args, key) is not None}
    load_library_or_exit(prog)
    from hdl_keras.experiments.grids import reduced_grid
    from hdl_keras.experiments.protocol import grid_kind
    from hdl_keras.experiments.protocol import run_protocol

    try:
        grid = args.grid
        if overrides:
            grid = reduced_grid(grid or grid_kind(args.dataset), **overrides)
        result = run_protocol(
            args.dataset,
            methods=args.methods,
            grid=grid,
            num_splits=args.splits,
            epochs=args.epochs,
            rounds=args.rounds,
            batch_size=args.batch_size,
            train_subset=args.train_subset,
            test_subset=args.test_subset,
            attack_eps=args.attack_eps,
            attack_steps=args.attack_steps,
            seed=args.seed,
            output_dir=args.out,
            verbose=0 if args.quiet else 1,
            command=shlex.join(["hdl-protocol", *argv]),
            network=args.network,
            scaling=args.scaling,
        )
    except ValueError as error:
        parser.error(str(error))
    print(result.to_markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main())
