"""Runs one bad-input case and classifies its outcome (see `hdl_keras.testing.bad_inputs`)."""

import hashlib
import os
import pathlib
import threading
import warnings

from hdl_keras.testing.bad_inputs.fixtures import scratch_zoo


def _snapshot(folder):
    """sha256 of every card under `folder` (no case may change one)."""
    return {
        path: hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(pathlib.Path(folder).rglob("*.json"))
    }


def run_case(case, folder):
    """Runs `case` in the scratch `folder`; returns `(outcome, detail)` (see the module doc)."""
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    saved_zoo = os.environ.get("HDL_KERAS_ZOO_DIR")
    outcome = {}

    def target():
        try:
            with warnings.catch_warnings():
                if issubclass(case.error, Warning):
                    warnings.simplefilter("error", case.error)
                case.run(folder)
            outcome["error"] = None
        except BaseException as error:  # noqa: BLE001  (classified below)
            outcome["error"] = error

    try:
        before = None
        if case.area == "zoo" or case.area == "cli":
            scratch_zoo(folder, broken=case.name.endswith("broken_card"))
            before = _snapshot(folder / "zoo")
        thread = threading.Thread(target=target, daemon=True)
        thread.start()
        thread.join(case.timeout)
        if thread.is_alive():
            return "hangs", f"still running after {case.timeout:g} s"
        if before is not None and _snapshot(folder / "zoo") != before:
            return "corrupted", "a file of the scratch zoo changed"
    finally:
        if saved_zoo is None:
            os.environ.pop("HDL_KERAS_ZOO_DIR", None)
        else:
            os.environ["HDL_KERAS_ZOO_DIR"] = saved_zoo
    error = outcome["error"]
    if error is None:
        return "silent", "no error"
    message = " ".join(str(error).split())
    if isinstance(error, case.error) and case.phrase in message:
        return "clear_error", message
    return "raw_traceback", f"{type(error).__name__}: {message[:500]}"
