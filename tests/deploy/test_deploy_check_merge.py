"""benchmarks/deploy_check.py: `--merge` re-times only the entries it reruns."""

import importlib.util
import pathlib
import sys

import pytest

pytest.importorskip("onnx", reason="the deploy check writes ONNX graphs: the [export] extra (onnx)")
pytest.importorskip("onnxruntime", reason="the deploy check times ONNX files: the [export] extra (onnxruntime)")

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "deploy_check.py"


@pytest.fixture(scope="module")
def deploy_check():
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        spec = importlib.util.spec_from_file_location("deploy_check", SCRIPT)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(SCRIPT.parent))
    return module


def test_latency_ratios_time_only_the_merged_entries(deploy_check, tmp_path):
    # Graphs that return their input stand in for exported networks of the iris table (4 features).
    for name in ("iris-mlp-dl", "iris-mlp-hdl", "iris-mlp-robust"):
        deploy_check.call_floor_file(tmp_path / f"{name}.onnx", (4,))
    earlier = {"1": 0.25, "128": 0.5}

    def row(entry):
        return {
            "entry": entry,
            "file": entry,
            "path": f"{entry}.onnx",
            "dataset": "iris",
            "architecture": "mlp",
            "scaling": "paper",
            "latency_ratio_vs_dense": dict(earlier),
        }

    rerun, kept = row("iris-mlp-hdl"), row("iris-mlp-robust")
    deploy_check.latency_ratios([rerun, kept], tmp_path, quick=True, entries=["iris-mlp-hdl"])

    assert kept["latency_ratio_vs_dense"] == earlier and "onnx_latency_s" not in kept
    assert set(rerun["onnx_latency_s"]) == {"1", "128"}
    assert all(seconds > 0 for seconds in rerun["onnx_latency_s"].values())
    assert rerun["latency_ratio_vs_dense"] != earlier
