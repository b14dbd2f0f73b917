"""Backend checks and quiet backend loading, run before Keras is imported.

`prepare()` runs first in `hdl_keras/__init__.py`:

- an unknown `KERAS_BACKEND` is one clear sentence (an `ImportError`; in the
  command-line tools one line on stderr and exit code 2) instead of Keras'
  26-line traceback;
- in the command-line tools, TensorFlow's start-up notices ("WARNING: All log
  messages before absl::InitializeLog() ...", the oneDNN and CPU-feature
  lines) are dropped. They are written by C++ code before TensorFlow reads
  `TF_CPP_MIN_LOG_LEVEL` (measured: levels 2 and 3 leave them), so the tools
  import Keras with file descriptor 2 redirected to a temporary file and
  replay every other line it received. `TF_CPP_MIN_LOG_LEVEL` defaults to 2
  for the later C++ log lines (a value the user set is kept).
"""

import os
import re
import sys
import tempfile

BACKENDS = ("jax", "tensorflow", "torch")
# Keras also knows these; hdl_keras does not support them (no input gradients).
OTHER_KERAS_BACKENDS = ("numpy", "openvino")
# The console scripts of hdl_keras_cli (hdl, hdl-zoo, hdl-train, hdl-protocol) are not
# listed: they load hdl_keras through hdl_keras_cli.backend, which quiets TensorFlow and
# reports a bad KERAS_BACKEND in their own error style.
CLI_NAMES = ("hdl-keras-demo",)
# TensorFlow's start-up notices, dropped in the command-line tools.
_NOTICES = re.compile(
    r"WARNING: All log messages before absl::InitializeLog\(\) is called"
    r"|^[IW]\d{4} [\d:. ]+\d+ (port|cpu_feature_guard)\.cc:\d+\]"
    r"|^To enable the following instructions:"
)


class BackendError(ImportError):
    """`KERAS_BACKEND` names no backend hdl_keras runs on."""


def prepare():
    """Checks `KERAS_BACKEND`; in the command-line tools, loads Keras quietly."""
    cli = is_cli()
    try:
        check_backend()
    except BackendError as error:
        if cli:
            print(f"hdl_keras: error: {error}", file=sys.stderr)
            raise SystemExit(2) from None
        raise
    if cli and "keras" not in sys.modules:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        import_quietly("keras")


def check_backend(value=None):
    """Raises `BackendError` unless `KERAS_BACKEND` (or `value`) is jax, tensorflow or torch.

    An unset variable passes (Keras then reads `~/.keras/keras.json`).
    """
    value = os.environ.get("KERAS_BACKEND") if value is None else value
    if not value or value in BACKENDS:
        return
    hint = (
        f" Keras supports it, hdl_keras does not (input gradients exist for {', '.join(BACKENDS)} only)."
        if value in OTHER_KERAS_BACKENDS
        else ""
    )
    raise BackendError(
        f"KERAS_BACKEND={value!r} is not a backend hdl_keras runs on; expected one of "
        f"{', '.join(BACKENDS)}.{hint} Set it, e.g. `export KERAS_BACKEND=tensorflow`, or unset it."
    )


def is_cli():
    """Whether this process is one of the package's command-line tools."""
    program = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    # `python -m hdl_keras.zoo`: argv[0] is "-m" while the package itself is imported.
    return program in CLI_NAMES or program == "-m"


def import_quietly(module):
    """Imports `module` with fd 2 captured, then replays the captured lines but TF's notices."""
    try:
        saved = os.dup(2)
    except OSError:  # no file descriptor 2 (some embedded interpreters)
        __import__(module)
        return
    with tempfile.TemporaryFile(mode="w+b") as capture:
        sys.stderr.flush()
        os.dup2(capture.fileno(), 2)
        try:
            __import__(module)
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            kept = [
                line
                for line in capture.read().decode("utf-8", "replace").splitlines(keepends=True)
                if not _NOTICES.search(line)
            ]
            sys.stderr.write("".join(kept))
