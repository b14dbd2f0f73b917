"""Running a command-line `main(argv)` in-process, as tests need it: exit code, stdout, stderr."""

import contextlib
import dataclasses
import io
import os


@dataclasses.dataclass
class CliResult:
    """What one run printed and how it ended."""

    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self):
        return self.stdout + self.stderr


@contextlib.contextmanager
def environment(env):
    """Sets the variables of `env` (a dict of strings) for the block, then restores the old values."""
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def invoke(main, args, env=None):
    """Calls `main(args)` with stdout and stderr captured and `env` set (restored after).

    Args:
        main: a command's `main(argv)`, e.g. `hdl_keras_cli.zoo.main`; it
            returns an exit code or raises `SystemExit`.
        args: the arguments, converted with `str`.
        env: environment variables set during the call, e.g. `{"COLUMNS": "80"}`.

    Returns:
        A `CliResult`.
    """
    stdout, stderr = io.StringIO(), io.StringIO()
    with environment(env or {}), contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            code = main([str(arg) for arg in args])
        except SystemExit as exit:
            code = exit.code
    code = 0 if code is None else code
    return CliResult(code if isinstance(code, int) else 1, stdout.getvalue(), stderr.getvalue())
