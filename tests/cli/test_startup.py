"""`hdl --help`, `hdl zoo --help`, `hdl-zoo --help` and `hdl zoo list`: fast, and no backend log line.

Each command runs in a fresh interpreter, as a user's shell would start it,
with `TF_CPP_MIN_LOG_LEVEL` unset (what a user sees by default). Measured on
the 2-core development machine: 0.6 to 0.9 s idle, 1.5 to 2 s while other
jobs load both cores; asserted below 5 s to leave that margin.
"""

import os
import re
import subprocess
import sys
import time

import pytest

# Lines a backend prints on its own (TensorFlow C++ logging, absl, XLA, oneDNN).
BACKEND_LOG = re.compile(
    r"absl::InitializeLog|oneDNN|cpu_feature_guard|tensorflow/|TF_ENABLE_ONEDNN_OPTS|"
    r"^[IWEF]\d{4} \d\d:\d\d:\d\d|XLA|rebuild TensorFlow|WARNING: All log messages",
    re.IGNORECASE,
)
SECONDS = 5.0
# The console scripts of pyproject.toml, started as their wrappers start them.
COMMANDS = {
    "hdl --help": ("hdl_keras_cli.app", "hdl", ["--help"]),
    "hdl zoo --help": ("hdl_keras_cli.app", "hdl", ["zoo", "--help"]),
    "hdl zoo list": ("hdl_keras_cli.app", "hdl", ["zoo", "list"]),
    "hdl-zoo --help": ("hdl_keras_cli.zoo", "hdl-zoo", ["--help"]),
    "hdl-zoo list": ("hdl_keras_cli.zoo", "hdl-zoo", ["list"]),
    "hdl train --help": ("hdl_keras_cli.app", "hdl", ["train", "--help"]),
    "hdl-protocol --help": ("hdl_keras_cli.protocol", "hdl-protocol", ["--help"]),
}
HEAVY_MODULES = ("hdl_keras", "keras", "tensorflow", "jax", "torch")


def run_console_script(module, program, args):
    """(seconds, exit code, stdout + stderr, heavy modules imported) of `program args` in a new process."""
    code = (
        "import sys\n"
        f"sys.argv = [{program!r}, *sys.argv[1:]]\n"
        f"from {module} import main\n"
        "try:\n"
        "    code = main()\n"
        "except SystemExit as exit:\n"
        "    code = exit.code\n"
        f"print('HEAVY', [m for m in {HEAVY_MODULES!r} if m in sys.modules], file=sys.stderr)\n"
        "sys.exit(code)\n"
    )
    env = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    env["COLUMNS"] = "100"
    start = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    seconds = time.perf_counter() - start
    heavy = re.search(r"^HEAVY (.*)$", completed.stderr, flags=re.MULTILINE).group(1)
    return seconds, completed.returncode, completed.stdout + completed.stderr, heavy


@pytest.mark.parametrize("command", list(COMMANDS))
def test_answers_fast_without_backend(command):
    seconds, returncode, output, heavy = run_console_script(*COMMANDS[command])
    assert returncode == 0, output
    assert heavy == "[]", f"{command} imported {heavy}"
    noise = [line for line in output.splitlines() if BACKEND_LOG.search(line)]
    assert noise == [], noise
    assert seconds < SECONDS, f"{command} took {seconds:.2f} s"


def test_list_prints_the_zoo():
    _, _, output, _ = run_console_script(*COMMANDS["hdl zoo list"])
    assert "hdl_keras zoo:" in output and "mnist-small_cnn-pgd_at" in output


@pytest.mark.backend_suite
def test_a_command_that_loads_the_backend_prints_no_backend_line():
    # keras.utils.set_random_seed imports TensorFlow on every backend when it is installed.
    _, returncode, output, heavy = run_console_script(
        "hdl_keras_cli.app", "hdl", ["zoo", "eval", "iris-mlp-dl", "--n", "10", "--batch-size", "10"]
    )
    assert returncode == 0, output
    assert "keras" in heavy and "iris-mlp-dl: 10 test points" in output
    noise = [line for line in output.splitlines() if BACKEND_LOG.search(line)]
    assert noise == [], noise
