"""Helpers shared by the benchmark scripts: subprocess per backend, timing."""

import json
import os
import subprocess
import sys
import time


def run_per_backend(script, backends, extra_args=(), timeout=900):
    """Runs `script --worker` once per backend; returns backend -> parsed JSON.

    The worker prints one JSON object as its last stdout line. A backend that
    fails maps to `{"error": <last lines of stderr>}`.
    """
    results = {}
    for name in backends:
        env = {**os.environ, "KERAS_BACKEND": name, "TF_CPP_MIN_LOG_LEVEL": "2"}
        completed = subprocess.run(
            [sys.executable, script, "--worker", *extra_args],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        lines = completed.stdout.strip().splitlines()
        if completed.returncode == 0 and lines:
            results[name] = json.loads(lines[-1])
        else:
            results[name] = {"error": "\n".join(completed.stderr.strip().splitlines()[-5:])}
    return results


def best_time(fn, repeats=3):
    """The fastest of `repeats` wall-clock timings of `fn()`, in seconds."""
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        timings.append(time.perf_counter() - start)
    return min(timings)


def interleaved_medians(functions, repeats=5):
    """Median wall-clock seconds of each function, timed in alternation.

    Alternating the candidates spreads the machine's load changes over all of
    them, so their ratio is steadier than one of separately timed minima.
    """
    timings = [[] for _ in functions]
    for _ in range(repeats):
        for fn, times in zip(functions, timings):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
    return [sorted(times)[len(times) // 2] for times in timings]
