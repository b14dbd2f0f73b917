"""The click group class of the `typer` apps: usage errors in the package's one-line style."""

import sys

import click
import typer.core

from hdl_keras_cli.errors import EXIT_USAGE
from hdl_keras_cli.errors import fail
from hdl_keras_cli.errors import help_hint


class OneLineErrors(typer.core.TyperGroup):
    """A `TyperGroup` whose usage errors print `<command>: error: <message> Run '<command> --help' ...`.

    click's own style (a usage line, a hint, then the error, boxed by rich)
    differs from the argparse commands'; this one is the same everywhere.
    """

    def main(self, args=None, prog_name=None, standalone_mode=True, **extra):
        try:
            code = super().main(args=args, prog_name=prog_name, standalone_mode=False, **extra)
        except click.exceptions.NoArgsIsHelpError as error:
            print(error.ctx.get_help())
            code = EXIT_USAGE
        except click.UsageError as error:
            command = error.ctx.command_path if error.ctx is not None else (prog_name or self.name)
            program = error.ctx.parent.command_path if error.ctx is not None and error.ctx.parent else command
            message = error.format_message().rstrip(".")
            fail(program, f"{message}. {help_hint(command)}", EXIT_USAGE)
        except click.ClickException as error:
            fail(prog_name or self.name, error.format_message(), error.exit_code)
        except click.Abort:
            fail(prog_name or self.name, "aborted.", 1)
        code = code if isinstance(code, int) else 0
        if standalone_mode:
            sys.exit(code)
        return code
