"""The landing example runs as pasted, and README and the landing page show the same code."""

import contextlib
import importlib.util
import io
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]
SPEC = importlib.util.spec_from_file_location("landing", ROOT / "docs" / "scripts" / "landing.py")
landing = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(landing)


def test_readme_and_landing_page_show_the_same_example_and_output():
    index, readme = ((ROOT / name).read_text() for name in ("docs/index.md", "README.md"))
    assert landing.example_code(index) == landing.example_code(readme)
    assert landing.OUTPUT.search(index).group(0) == landing.OUTPUT.search(readme).group(0)
    assert "| PGD-20 |" in landing.OUTPUT.search(index).group(0)


def test_the_landing_example_runs_as_pasted_at_a_reduced_size():
    code = landing.example_code((ROOT / "docs" / "index.md").read_text())
    assert code.count("[:1000]") == 2  # the two slices this test reduces
    output = landing.run(code.replace("[:1000]", "[:32]"))
    lines = output.splitlines()
    assert lines[0].startswith("| attack | accuracy |")
    assert any(line.startswith("| FGSM |") for line in lines)
    assert any(line.startswith("| PGD-20 |") for line in lines)
    assert any(line.startswith("| worst case |") for line in lines)


def test_run_returns_what_the_code_printed():
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert landing.run("print(6 * 7)") == "42\n"
    assert printed.getvalue() == ""
