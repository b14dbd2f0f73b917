"""The click group class of the `typer` apps: usage errors in the package's one-line style."""

import sys

import typer
import typer.core

from hdl_keras_cli.errors import EXIT_USAGE
from hdl_keras_cli.errors import fail
from hdl_keras_cli.errors import help_hint


class OneLineErrors(typer.core.TyperGroup):
    """A `TyperGroup` whose usage errors print `<command>: error: <message> Run '<command> --help' ...`.

    click's own style (a usage line, a hint, then the error, boxed by rich)
    differs from the argparse commands'; this one is the same everywhere.
    click's exceptions are recognised by their interface (`format_message`,
    `exit_code`, and `ctx` for usage errors), the same whether typer uses
    click or its own copy of it (typer >= 0.2x).
    """

    def main(self, args=None, prog_name=None, standalone_mode=True, **extra):
        program = prog_name or self.name
        try:
            code = super().main(args=args, prog_name=prog_name, standalone_mode=False, **extra)
        except typer.Abort:
            fail(program, "aborted.", 1)
        except Exception as error:
            if not (hasattr(error, "format_message") and hasattr(error, "exit_code")):
                raise
            context = getattr(error, "ctx", None)
            if type(error).__name__ == "NoArgsIsHelpError":
                print(context.get_help())
                code = EXIT_USAGE
            elif context is not None:  # a usage error: named by the group it happened in
                in_group = hasattr(context.command, "commands") or context.parent is None
                program = context.command_path if in_group else context.parent.command_path
                message = error.format_message()
                message += "" if message.endswith((".", "?")) else "."
                fail(program, f"{message} {help_hint(context.command_path)}", EXIT_USAGE)
            else:
                fail(program, error.format_message(), error.exit_code)
        code = code if isinstance(code, int) else 0
        if standalone_mode:
            sys.exit(code)
        return code
