"""One bad input (`Case`), the outcomes a run of it can have, and the errors of command lines."""

import dataclasses

OUTCOMES = ("clear_error", "silent", "raw_traceback", "corrupted", "hangs")


class CliError(Exception):
    """A command-line tool exited with a non-zero code; the message is its stderr."""


class CliWarning(Exception):
    """A command-line tool succeeded but warned on stderr; the message is its stderr."""


@dataclasses.dataclass(frozen=True)
class Case:
    """One bad input: `run(folder)` must raise `error` with `phrase` in its message."""

    name: str
    area: str
    run: object
    error: type
    phrase: str
    timeout: float = 120.0
