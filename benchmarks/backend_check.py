"""Backend check: same weights give the same logits and gradients everywhere.

Usage: python benchmarks/backend_check.py

Runs the reference CNN of `hdl_keras.testing.parity` on jax, tensorflow and
torch (one subprocess each) and prints, as its last line, one JSON object:
{"backends_ok": [...], "max_logit_diff": ..., "max_grad_diff": ...,
 "double_backprop_rel_err": ...}
"""

import json
import sys

from hdl_keras.testing.parity import run_parity


def main():
    report = run_parity()
    for name, error in report.pop("errors").items():
        print(f"{name} failed:\n{error}", file=sys.stderr)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
