"""Loading hdl_keras (and so Keras and its backend) quietly, only in the commands that need a model.

Nothing in `hdl_keras_cli` imports `hdl_keras`, Keras or a backend at module
level: `load_library()` is called inside the commands that build, load,
train or attack a model. It first sets `TF_CPP_MIN_LOG_LEVEL=3` (unless the
user set a value), then imports `hdl_keras` with file descriptor 2 redirected
to a temporary file and replays every captured line except TensorFlow's
start-up notices ("WARNING: All log messages before absl::InitializeLog() is
called", the oneDNN and `cpu_feature_guard` lines), which C++ code writes
before TensorFlow reads `TF_CPP_MIN_LOG_LEVEL`. TensorFlow is loaded this way
on every backend when it is installed: `keras.utils.set_random_seed`, which
every command that trains or evaluates calls, imports it to seed it too.
"""

import importlib.util
import os
import re
import sys
import tempfile

# TensorFlow's start-up notices, dropped from the captured stderr.
_NOTICES = re.compile(
    r"WARNING: All log messages before absl::InitializeLog\(\) is called"
    r"|^[IW]\d{4} [\d:. ]+\d+ (port|cpu_feature_guard)\.cc:\d+\]"
    r"|oneDNN custom operations are on"
    r"|^To enable the following instructions:"
    r"|^To turn them off, set the environment variable `TF_ENABLE_ONEDNN_OPTS=0`"
)


def load_library():
    """Imports `hdl_keras` (registering every Keras object) without TensorFlow's start-up lines.

    Returns:
        The `hdl_keras` module.

    Raises:
        ImportError: `KERAS_BACKEND` names no backend hdl_keras runs on
            (`hdl_keras`'s `BackendError`, one sentence), or a backend is
            not installed.
    """
    if "hdl_keras" in sys.modules and "keras" in sys.modules:
        return sys.modules["hdl_keras"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import_quietly("hdl_keras")
    if "tensorflow" not in sys.modules and importlib.util.find_spec("tensorflow") is not None:
        import_quietly("tensorflow")  # keras.utils.set_random_seed would import it, loudly
    return sys.modules["hdl_keras"]


def load_library_or_exit(program):
    """`load_library()`; an import failure is one line `<program>: error: ...` (exit code 2 for `KERAS_BACKEND`)."""
    from hdl_keras_cli.errors import EXIT_FAILURE
    from hdl_keras_cli.errors import EXIT_USAGE
    from hdl_keras_cli.errors import fail

    try:
        return load_library()
    except ImportError as error:
        fail(program, error, EXIT_USAGE if type(error).__name__ == "BackendError" else EXIT_FAILURE)


def import_quietly(module):
    """Imports `module` with fd 2 captured, then replays the captured lines but TensorFlow's notices."""
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


def progress_verbosity(stream=None):
    """Keras verbosity for progress on `stream` (default stdout): 1 (a live bar) on a terminal, else 2.

    Keras' `Progbar` redraws its bar in place on any POSIX system, so piped
    to a file a 1 leaves one redraw per batch; 2 writes one line per bar
    (per epoch in `model.fit`, per evaluation pass), as `verbose="auto"`
    intends.
    """
    stream = sys.stdout if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    return 1 if isatty is not None and isatty() else 2
