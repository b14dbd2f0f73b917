"""One error style for every command: `<program>: error: <one sentence>` on stderr, then exit.

Exit codes: 1 for a failure (unknown entry, unreadable card, failed run), 2 for
bad usage (unknown option, bad option value, unknown name). Messages the
command line itself builds (an unknown option, a value that is not a number)
end with what to do: run the command's `--help`.
"""

import argparse
import sys

# Exit codes: a failure (unknown entry, unreadable card, failed run), bad usage.
EXIT_FAILURE = 1
EXIT_USAGE = 2


class UsageError(Exception):
    """A bad option value (exit code 2)."""


def fail(program, message, code=EXIT_FAILURE):
    """Prints `<program>: error: <message>` (one line) on stderr and exits with `code`."""
    print(f"{program}: error: {one_line(message)}", file=sys.stderr)
    raise SystemExit(code)


def warn(program, message):
    """Prints `<program>: warning: <message>` (one line) on stderr."""
    print(f"{program}: warning: {one_line(message)}", file=sys.stderr)


def one_line(message):
    return " ".join(str(message).split())


def help_hint(command):
    return f"Run '{command} --help' for the options."


class ArgumentParser(argparse.ArgumentParser):
    """`argparse.ArgumentParser` whose errors are one line in the style above (exit code 2).

    Args:
        program: the name errors start with (default `prog`); a subcommand's
            parser gets its parent's (`hdl zoo`), while the help hint names
            the subcommand (`hdl zoo eval --help`).
        *args, **kwargs: those of `argparse.ArgumentParser`.
    """

    def __init__(self, *args, program=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.program = program or self.prog

    def add_subparsers(self, **kwargs):
        kwargs.setdefault("parser_class", type(self))
        return super().add_subparsers(**kwargs)

    def error(self, message):
        message = one_line(message)
        if not message.endswith((".", "?")):
            message += "."
        fail(self.program, f"{message} {help_hint(self.prog)}", EXIT_USAGE)
