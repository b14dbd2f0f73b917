"""`hdl-protocol`: run the HDL protocol from the command line.

Example (a reduced run; the report says so):

```
hdl-protocol --dataset iris --methods DL Robust HDL --lr 1e-2 --epochs 20 --splits 3 --out runs/iris
hdl-protocol --dataset mnist --grid image --train-subset 2000 --test-subset 500 --epochs 2 --out runs/mnist
```

Writes `runs.jsonl` (one line per finished run; a rerun with the same
`--out` resumes), `results.json` and `results.md` into `--out`, and prints the
markdown report.
"""

import argparse
import shlex
import sys

from hdl_keras import data
from hdl_keras.experiments.grids import PAPER_GRIDS
from hdl_keras.experiments.grids import reduced_grid
from hdl_keras.experiments.protocol import SCALINGS
from hdl_keras.experiments.protocol import grid_kind
from hdl_keras.experiments.protocol import run_protocol
from hdl_keras.experiments.training import NETWORKS
from hdl_keras.objectives import METHODS

# Command-line option -> grid key of the searched hyper-parameters.
_GRID_OPTIONS = {
    "lr": "lr",
    "rho": "rho",
    "lambda": "sparsity_lambda",
    "beta_bar": "beta_bar",
    "alpha": "stability_alpha",
}


def build_parser():
    """The argument parser of `hdl-protocol`."""
    parser = argparse.ArgumentParser(
        prog="hdl-protocol",
        description="Holistic Deep Learning protocol (Bertsimas et al. 2023, sec. 4): every method x "
        "hyper-parameter configuration x train/validation split; natural and PGD accuracy, "
        "stability and sparsity; selection on validation; markdown tables.",
    )
    parser.add_argument("--dataset", required=True, help=f"one of: {', '.join(data.available_datasets())}")
    parser.add_argument("--methods", nargs="+", metavar="NAME", help=f"default all: {' '.join(METHODS)}")
    parser.add_argument("--grid", choices=list(PAPER_GRIDS), help="paper grid; default uci for tables, image for images")
    for option, key in _GRID_OPTIONS.items():
        parser.add_argument(f"--{option.replace('_', '-')}", dest=key, nargs="+", type=float,
                            metavar="VALUE", help=f"override the grid's {key} values")
    parser.add_argument("--splits", type=int, default=10, help="train/validation splits (default 10)")
    parser.add_argument("--epochs", type=int, help="epochs per round (paper: 150 UCI, 50 images)")
    parser.add_argument("--rounds", type=int, help="rounds of the sparse methods (paper: 5)")
    parser.add_argument("--batch-size", type=int, help="batch size (paper: 32 UCI, 64 images)")
    parser.add_argument("--train-subset", type=int, help="train on a stratified subset of N pool rows")
    parser.add_argument("--test-subset", type=int, help="evaluate on a stratified subset of N test rows")
    parser.add_argument("--attack-eps", type=float,
                        help="PGD radius (paper: 0.1 UCI/MNIST, 0.01 Fashion-MNIST/CIFAR-10)")
    parser.add_argument("--attack-steps", type=int, help="PGD steps (default 10; 40 with --scaling paper)")
    parser.add_argument("--scaling", choices=list(SCALINGS), default="minmax",
                        help="minmax (default: tables in [0, 1], PGD clipped to [0, 1]) or paper (the authors' "
                             "code: tables standardised then divided by 255, PGD-40 of 0.01, unclipped on tables)")
    parser.add_argument("--seed", type=int, default=0, help="seed of splits, initialisation and attack")
    parser.add_argument("--network", choices=list(NETWORKS),
                        help="default the paper's: mlp for tables, alexnet for images")
    parser.add_argument("--out", help="output folder (runs.jsonl, results.json, results.md); resumable")
    parser.add_argument("--quiet", action="store_true", help="no line per finished run")
    return parser


def main(argv=None):
    """Runs `hdl-protocol` with `argv` (default `sys.argv[1:]`); returns the exit code 0.

    Unknown datasets or methods and invalid values exit with code 2 and a
    message naming the accepted values.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.dataset not in data.available_datasets():
        parser.error(f"unknown dataset {args.dataset!r}; known datasets: {', '.join(data.available_datasets())}")
    unknown = [method for method in args.methods or () if method not in METHODS]
    if unknown:
        parser.error(f"unknown method(s) {', '.join(unknown)}; known methods: {', '.join(METHODS)}")
    overrides = {key: getattr(args, key) for key in _GRID_OPTIONS.values() if getattr(args, key) is not None}
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

