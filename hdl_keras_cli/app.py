"""`hdl`: the one command-line app, with `hdl zoo ...`, `hdl train ...` and `hdl protocol ...`.

`hdl zoo` is the `hdl-zoo` app (`hdl_keras_cli.zoo`); `hdl train` and
`hdl protocol` hand their arguments, `--help` included, to the parsers of
`hdl-train` and `hdl-protocol`, so each command has the same options and the
same output under both names.
"""


import typer

from hdl_keras_cli import protocol
from hdl_keras_cli import train
from hdl_keras_cli import zoo
from hdl_keras_cli.group import OneLineErrors

app = typer.Typer(
    name="hdl",
    cls=OneLineErrors,
    help="hdl_keras: robust, sparse and quantized deep learning for Keras 3. "
    "Run 'hdl COMMAND --help' for a command's options.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(zoo.app, name="zoo")

# The arguments go to the command's own parser untouched (`--help` too).
_PASS_THROUGH = {"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []}


@app.command("train", context_settings=_PASS_THROUGH, add_help_option=False)
def train_command(context: typer.Context):
    """Train a model on a recipe (Dinh et al. 2020, Li et al. 2020, Wong et al. 2020), evaluate it like the papers."""
    raise typer.Exit(train.main(context.args, prog=context.command_path))


@app.command("protocol", context_settings=_PASS_THROUGH, add_help_option=False)
def protocol_command(context: typer.Context):
    """Run the Holistic Deep Learning protocol (Bertsimas et al. 2023): grids, splits, the four metrics, tables."""
    raise typer.Exit(protocol.main(context.args, prog=context.command_path))


def main(argv: list | None = None):
    """Runs `hdl` (the console script) on `argv` (default `sys.argv[1:]`)."""
    app(args=argv, prog_name="hdl")
