"""`hdl`: the one command-line app, with `hdl zoo ...`, `hdl train ...` and `hdl protocol ...`.

Each subcommand is the `main` of its module, called with the arguments after
its name: `hdl zoo ARGS` runs `hdl_keras_cli.zoo.main(ARGS)` as `hdl-zoo ARGS`
does, `hdl train` is `hdl-train`, `hdl protocol` is `hdl-protocol`; so every
command has the same options and the same output under both names.
"""

import sys

from hdl_keras_cli import protocol
from hdl_keras_cli import train
from hdl_keras_cli import zoo
from hdl_keras_cli.errors import EXIT_USAGE
from hdl_keras_cli.errors import ArgumentParser

# Subcommand -> (its main, one line of help).
COMMANDS = {
    "zoo": (zoo.main, "the model zoo: list, card, compare, eval, train (as hdl-zoo)"),
    "train": (train.main, "train on a recipe, evaluate like the papers (as hdl-train)"),
    "protocol": (protocol.main, "the Holistic Deep Learning protocol (as hdl-protocol)"),
}


def build_parser(prog="hdl"):
    """The parser of `hdl` itself: its help lists the subcommands; their options are theirs."""
    parser = ArgumentParser(
        prog=prog,
        description="hdl_keras: robust, sparse and quantized deep learning for Keras 3.",
        epilog=f"Run '{prog} COMMAND --help' for a command's options.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (_, help_line) in COMMANDS.items():
        commands.add_parser(name, help=help_line, add_help=False, program=prog)
    return parser


def main(argv=None, prog="hdl"):
    """Runs `hdl` with `argv` (default `sys.argv[1:]`); returns the exit code (0, or 2 with no command)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in COMMANDS:
        command, *rest = argv
        return COMMANDS[command][0](rest, prog=f"{prog} {command}")
    parser = build_parser(prog)
    if not argv:
        parser.print_help()
        return EXIT_USAGE
    parser.parse_args(argv)  # --help, or an error naming the known commands
    return EXIT_USAGE
