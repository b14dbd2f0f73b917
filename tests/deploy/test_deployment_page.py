"""docs/scripts/deployment_page.py: the deployment guide from the cards and the deploy check, its staleness check."""

import importlib.util
import json
import pathlib

import pytest

from hdl_keras import zoo

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "docs" / "scripts" / "deployment_page.py"


@pytest.fixture(scope="module")
def deployment_page():
    spec = importlib.util.spec_from_file_location("deployment_page", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def result_row(entry, **changes):
    row = {
        "entry": entry,
        "file": entry,
        "kind": "float",
        "dataset": "mnist",
        "architecture": "small_cnn",
        "eps": 0.1,
        "onnx_bytes": 2048,
        "litert_bytes": 3072,
        "onnx_max_logit_diff": 2e-6,
        "litert_max_logit_diff": 4e-6,
        "onnx_argmax_agreement": 0.997,
        "onnx_basic_argmax_agreement": 1.0,
        "litert_argmax_agreement": 0.999,
        "onnx_latency_s": {"1": 0.002, "128": 0.01},
        "latency_ratio_vs_dense": {"1": 0.5, "128": 0.25},
        "robustness": {
            "n": 100,
            "apgd_ce_keras": 0.7,
            "apgd_ce_transfer_file": 0.7,
            "square_keras": 0.8,
            "square_file": 0.79,
            "standard_error": 0.046,
        },
    }
    return {**row, **changes}


def test_page_rows_come_from_cards_and_results(deployment_page):
    cards = zoo.list_entries(dataset="mnist")
    name = cards[0]["name"]
    results = {
        "command": "python benchmarks/deploy_check.py --quick",
        "backend": "tensorflow",
        "rows": [result_row(name), result_row(name, file=f"{name} (shrunk)", kind="shrunk", onnx_bytes=1024)],
    }
    page = deployment_page.render(cards, results)
    worst = 100 * cards[0]["metrics"]["worst_case_accuracy"]
    assert (
        f"| `{name} (shrunk)` | shrunk | {worst:.1f} | 1.0 | 3.0 | "
        f"{cards[0]['file_size_bytes'] / 1024:.1f} | 2.0e-06 / 4.0e-06 | 99.7 / 100.0 / 99.9 | 2.00 (0.50) | 10.00 (0.25) |"
    ) in page
    assert "REDUCED" in page
    assert f"| `{name}` | 100 | 0.1 | 70.0 | 70.0 | 80.0 | 79.0 | 4.6 |" in page
    assert "deploy check has not been run" in deployment_page.render(cards, None)
    full = deployment_page.render(cards, {**results, "command": "python benchmarks/deploy_check.py"})
    assert "REDUCED" not in full and "every test point for parity, the first 500 attacked" in full


def test_write_then_check_detects_staleness(deployment_page, tmp_path):
    name = zoo.list_entries(dataset="mnist")[0]["name"]
    results = tmp_path / "results.json"
    results.write_text(
        json.dumps(
            {"command": "python benchmarks/deploy_check.py", "backend": "tensorflow", "rows": [result_row(name)]}
        )
    )
    out, img = tmp_path / "deployment.md", tmp_path / "img" / "pareto.png"
    options = ["--out", str(out), "--img", str(img), "--results", str(results)]
    assert deployment_page.main(["--check", *options]) == 1  # nothing written yet
    assert deployment_page.main(options) == 0
    assert img.read_bytes().startswith(b"\x89PNG")
    assert deployment_page.main(["--check", *options]) == 0
    results.write_text(
        json.dumps(
            {
                "command": "python benchmarks/deploy_check.py",
                "backend": "tensorflow",
                "rows": [result_row(name, onnx_bytes=4096)],
            }
        )
    )
    assert deployment_page.main(["--check", *options]) == 1  # a result changed


def test_committed_deployment_page_is_up_to_date(deployment_page, monkeypatch):
    monkeypatch.delenv("HDL_KERAS_ZOO_DIR", raising=False)
    assert deployment_page.main(["--check"]) == 0, "run python docs/scripts/deployment_page.py"
