"""Every committed tutorial notebook is executed: an output in every code cell, no error, no
progress bar dumped line by line."""

import json
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
# A Keras progress-bar line (`12/469 ━━━━ 3s 7ms/step - loss: ...`) or a tqdm bar.
PROGRESS_LINE = re.compile(r"^\s*\d+/\d+ +[━\[=]|\d+%\|")
MAX_PROGRESS_LINES = 10


def code_cells(path):
    return [
        cell
        for cell in json.loads(path.read_text())["cells"]
        if cell["cell_type"] == "code" and "".join(cell["source"]).strip()
    ]


def stream_text(cell):
    return "".join(
        "".join(out.get("text", "")) for out in cell.get("outputs", []) if out.get("output_type") == "stream"
    )


def test_the_tutorials_are_there():
    names = {path.stem for path in NOTEBOOKS}
    assert {"quickstart", "evaluate", "holistic", "adversarial_training", "pruning", "quantization"} <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_every_code_cell_has_an_output_and_none_is_an_error(path):
    cells = code_cells(path)
    assert cells
    empty = [i for i, cell in enumerate(cells) if not cell.get("outputs")]
    assert not empty, f"{path.name}: code cells {empty} have no output; execute the notebook and save it"
    errors = [out.get("ename") for cell in cells for out in cell["outputs"] if out.get("output_type") == "error"]
    assert not errors, f"{path.name}: error outputs {errors}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_progress_bars_are_not_dumped_line_by_line(path):
    for index, cell in enumerate(code_cells(path)):
        progress = [line for line in stream_text(cell).replace("\r", "\n").splitlines() if PROGRESS_LINE.search(line)]
        assert len(progress) <= MAX_PROGRESS_LINES, (
            f"{path.name}, code cell {index}: {len(progress)} progress-bar lines; use verbose=2 or 0"
        )


@pytest.mark.parametrize("line", ["12/469 ━━━━━━━━━━ 3s 7ms/step - loss: 0.5", " 40%|████      | 4/10"])
def test_the_progress_pattern_catches_keras_and_tqdm_bars(line):
    assert PROGRESS_LINE.search(line)


@pytest.mark.parametrize("line", ["Epoch 1/2", "63/63 - 2s - 30ms/step - accuracy: 0.9 - loss: 0.3"])
def test_the_progress_pattern_leaves_epoch_summaries_alone(line):
    assert not PROGRESS_LINE.search(line)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_no_tutorial_calls_a_deprecated_name(path):
    warned = [index for index, cell in enumerate(code_cells(path)) if "DeprecationWarning" in stream_text(cell)]
    assert not warned, (
        f"{path.name}: code cells {warned} print a DeprecationWarning; import the names from their new place"
    )
