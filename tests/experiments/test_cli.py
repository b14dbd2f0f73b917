"""hdl-protocol: errors naming the known values, a tiny run end to end."""

import json
import subprocess
import sys

import pytest

from hdl_keras_cli.protocol import main

pytest.importorskip("sklearn")


def test_unknown_dataset_and_method_exit_with_code_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--dataset", "imagenet"])
    assert exit_info.value.code == 2
    assert "unknown dataset 'imagenet'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["--dataset", "iris", "--methods", "DL", "Robustest"])
    assert exit_info.value.code == 2
    message = capsys.readouterr().err
    assert "Robustest" in message and "Stable+Robust" in message
    with pytest.raises(SystemExit) as exit_info:
        main(["--dataset", "iris", "--methods", "DL", "--alpha", "2"])
    assert exit_info.value.code == 2


def test_module_entry_point_reports_known_datasets():
    completed = subprocess.run(
        [sys.executable, "-m", "hdl_keras.experiments", "--dataset", "imagenet"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 2
    assert "fashion_mnist" in completed.stderr


def test_cli_runs_a_tiny_protocol(tmp_path, capsys):
    argv = [
        "--dataset",
        "iris",
        "--methods",
        "DL",
        "--lr",
        "1e-2",
        "--splits",
        "2",
        "--epochs",
        "1",
        "--quiet",
        "--out",
        str(tmp_path),
    ]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "REDUCED" in printed and "## Average-rank selection" in printed
    settings = json.loads((tmp_path / "results.json").read_text())["settings"]
    assert settings["command"] == "hdl-protocol " + " ".join(argv)
    assert settings["epochs"] == 1 and settings["grid"]["lr"] == [0.01]
    assert (tmp_path / "results.md").read_text() in printed
