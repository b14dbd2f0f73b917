"""The command line of hdl_keras: `hdl zoo ...`, `hdl train ...`, `hdl protocol ...`.

The console scripts `hdl`, `hdl-zoo`, `hdl-train` and `hdl-protocol` run the
code of this package: `hdl-zoo ARGS` is `hdl zoo ARGS`, `hdl-train ARGS` is
`hdl train ARGS`, `hdl-protocol ARGS` is `hdl protocol ARGS` (same options,
same output, same one-line errors with exit code 2 for bad usage).

Why a package of its own, next to `hdl_keras` in the same wheel:
`import hdl_keras` registers every Keras object of the library (saved models
load without `custom_objects`), so it imports Keras and the backend: 10 to 25
s on a 2-core machine, with TensorFlow's start-up lines on stderr. Python runs
a package's `__init__` before any of its submodules, so a command line inside
`hdl_keras` would pay that on every `--help`. Making `hdl_keras/__init__` lazy
(PEP 562 `__getattr__`) would break the promise that a bare `import hdl_keras`
registers everything, unless a hook re-registered on every Keras entry point.
A separate top-level package keeps `import hdl_keras` as it is and imports
nothing of Keras, TensorFlow, jax or torch at import time:

- `--help` of every command, and `hdl zoo list`, `card`, `compare` (which read
  the cards, JSON, through `hdl_keras_cli.cards`), start without the library;
- `hdl zoo eval`, `hdl zoo train`, `hdl train` and `hdl protocol` load
  `hdl_keras` once their arguments are checked, through
  `hdl_keras_cli.backend.load_library`, which sets `TF_CPP_MIN_LOG_LEVEL=3`
  (unless set) and drops TensorFlow's start-up notices, written before
  TensorFlow reads that variable.

The commands are `argparse` parsers (standard library), not typer: typer 0.29
validates options through pydantic, 0.5 to 1 s more per start on a loaded
2-core machine, and argparse gives every command the same one-line errors
(`hdl_keras_cli.errors.ArgumentParser`).

Measured (`python benchmarks/docs_check.py`, tensorflow backend, the 2-core
development machine with both cores busy with other jobs, load average
about 15): the slowest `--help` (of `hdl`, `hdl zoo`, `hdl-zoo`, `hdl-train`,
`hdl-protocol`) answered in 0.54 s and 1.14 s (two runs), `hdl zoo list` in
0.68 s, with no backend log line; `python -m hdl_keras.zoo --help` (it
imports `hdl_keras`, so Keras and TensorFlow, first) took 37.9 s in the same
minute, about 35 to 70 times longer.
"""

from hdl_keras_cli.app import main
from hdl_keras_cli.protocol import main as protocol_main
from hdl_keras_cli.train import main as train_main
from hdl_keras_cli.zoo import main as zoo_main

__all__ = ["main", "protocol_main", "train_main", "zoo_main"]
