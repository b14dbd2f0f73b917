"""A corpus of bad inputs across the package, each with the error it must raise.

Shared by `tests/bad_inputs/test_corpus.py` (one test per case) and
`benchmarks/bad_input_check.py` (runs them all and counts the outcomes).

Each `Case` is a callable taking a scratch folder, the exception class it must
raise and a phrase of its message. `run_case` classifies the outcome:

- `"clear_error"`: the expected class, with the phrase in the message;
- `"silent"`: no error at all (a meaningless result was returned);
- `"raw_traceback"`: another exception, or the expected class without the
  phrase (a message that does not say what went wrong);
- `"hangs"`: still running after the case's timeout;
- `"corrupted"`: a file of the scratch folder that the case must not touch
  changed (e.g. a zoo card after a refused update).

Warnings that a case expects (legal values that are almost surely a
mistake) are turned into errors for that case only.

Modules: `case` (the `Case` record, the outcomes, the CLI errors),
`fixtures` (tiny models, batches, files, a scratch zoo, a silent server),
`corpus` (the cases, by area of the package; `cases()`) and `runner`
(`run_case`).
"""

from hdl_keras.testing.bad_inputs.case import OUTCOMES
from hdl_keras.testing.bad_inputs.case import Case
from hdl_keras.testing.bad_inputs.case import CliError
from hdl_keras.testing.bad_inputs.case import CliWarning
from hdl_keras.testing.bad_inputs.corpus import cases
from hdl_keras.testing.bad_inputs.runner import run_case

__all__ = ["Case", "CliError", "CliWarning", "OUTCOMES", "cases", "run_case"]
