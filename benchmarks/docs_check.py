"""What a reader of the documentation gets: executed notebooks, figures, runnable guides, a quiet CLI.

Usage: python benchmarks/docs_check.py [--site site] [--no-build]

Measures, from the repository as it is:
- notebooks: the tutorial notebooks under notebooks/, and how many have an
  output in every code cell and no error output (committed executed);
- figures: PNG/SVG files under docs/img/ and docs/results/ that a page links;
- pages_without_runnable_example: guide pages of the mkdocs nav (not results,
  API or notebook pages) with no ```python block;
- cli_help_seconds: wall time of the slowest `--help` of the command-line
  tools (`hdl`, `hdl zoo`, `hdl-zoo`, `hdl-train`, `hdl-protocol`), each
  started as its console script starts it (the entry point of
  pyproject.toml's [project.scripts]);
- backend_log_lines: lines from TensorFlow/absl/XLA/oneDNN on those `--help`
  outputs and on `hdl zoo list`;
- api_signatures: signatures rendered on the API pages of the built site
  (`mkdocs build` runs first unless --no-build).
The last line is one JSON object with these numbers.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Console script -> its entry point in pyproject.toml; the commands measured.
CLI_ENTRY_POINTS = {
    "hdl": "hdl_keras_cli.app:main",
    "hdl-zoo": "hdl_keras_cli.zoo:main",
    "hdl-train": "hdl_keras_cli.train:main",
    "hdl-protocol": "hdl_keras_cli.protocol:main",
}
HELP_COMMANDS = (
    ["hdl", "--help"],
    ["hdl", "zoo", "--help"],
    ["hdl-zoo", "--help"],
    ["hdl-train", "--help"],
    ["hdl-protocol", "--help"],
)
# Lines a backend prints on its own (TensorFlow C++ logging, absl, XLA, oneDNN, CUDA probes).
BACKEND_LOG = re.compile(
    r"absl::InitializeLog|oneDNN|cpu_feature_guard|tensorflow/|TF_ENABLE_ONEDNN_OPTS|"
    r"^[IWEF]\d{4} \d\d:\d\d:\d\d|XLA|cuda|rebuild TensorFlow",
    re.IGNORECASE,
)


def notebook_status(path):
    """(every code cell has an output, no cell has an error output) of one notebook."""
    cells = [cell for cell in json.loads(path.read_text())["cells"] if cell["cell_type"] == "code"]
    with_output = all(cell.get("outputs") for cell in cells if cell["source"])
    errors = any(out.get("output_type") == "error" for cell in cells for out in cell.get("outputs", []))
    return with_output, not errors


def nav_pages(mkdocs_yml):
    """Markdown pages listed in the mkdocs nav (paths relative to docs/)."""
    return re.findall(r":\s*([\w./-]+\.md)\s*$", mkdocs_yml.read_text(), flags=re.MULTILINE)


def is_guide(page):
    return not page.startswith(("api/", "results/")) and page not in ("zoo.md", "leaderboard.md", "references.md")


def linked_figures(docs):
    """Image files under docs/ that some page links."""
    linked = set()
    for page in docs.rglob("*.md"):
        for target in re.findall(r"!\[[^\]]*\]\(([^)\s]+)", page.read_text()):
            figure = (page.parent / target).resolve()
            if figure.suffix.lower() in (".png", ".svg") and figure.exists():
                linked.add(figure)
    return linked


def run_cli(script, *args):
    """(seconds, combined output) of console script `script` with `args`, in a fresh process.

    Runs what the installed wrapper runs (`sys.argv[0]` is the script's name,
    then its entry point is imported and called), from this checkout.
    """
    module, function = CLI_ENTRY_POINTS[script].split(":")
    code = f"import sys; sys.argv[0] = {script!r}; from {module} import {function}; sys.exit({function}())"
    env = dict(os.environ)
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)  # measure what a user sees by default
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    start = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=600,
        check=False,
    )
    return time.perf_counter() - start, completed.stdout + completed.stderr


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", default="site", help="built site folder (default: site)")
    parser.add_argument("--no-build", action="store_true", help="use the built site as it is")
    args = parser.parse_args()

    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    statuses = {path.name: notebook_status(path) for path in notebooks}
    executed = [name for name, (outputs, clean) in statuses.items() if outputs and clean]
    print(f"notebooks: {len(notebooks)}, executed with outputs and no error: {executed}")

    figures = linked_figures(ROOT / "docs")
    print(f"figures linked from pages: {len(figures)}")

    guides = [page for page in nav_pages(ROOT / "mkdocs.yml") if is_guide(page)]
    without = [p for p in guides if "```python" not in (ROOT / "docs" / p).read_text()]
    print(f"guide pages: {len(guides)}, without a python example: {without}")

    help_seconds, log_lines = 0.0, 0
    for command in HELP_COMMANDS:
        seconds, output = run_cli(*command)
        noise = [line for line in output.splitlines() if BACKEND_LOG.search(line)]
        print(f"{' '.join(command)}: {seconds:.2f} s, {len(noise)} backend log lines")
        help_seconds, log_lines = max(help_seconds, seconds), log_lines + len(noise)
    seconds, output = run_cli("hdl", "zoo", "list")
    noise = [line for line in output.splitlines() if BACKEND_LOG.search(line)]
    print(f"hdl zoo list: {seconds:.2f} s, {len(noise)} backend log lines")
    log_lines += len(noise)

    site = ROOT / args.site
    if not args.no_build:
        subprocess.run(
            [sys.executable, "-m", "mkdocs", "build", "--quiet", "--site-dir", str(site)], cwd=ROOT, check=True
        )
    signatures = sum(page.read_text().count('class="doc-signature') for page in (site / "api").rglob("*.html"))
    print(f"API signatures rendered: {signatures}")

    print(
        json.dumps(
            {
                "notebooks": len(notebooks),
                "notebooks_with_outputs": len(executed),
                "figures": len(figures),
                "pages_without_runnable_example": len(without),
                "cli_help_seconds": round(help_seconds, 2),
                "backend_log_lines": log_lines,
                "api_signatures": signatures,
            }
        )
    )


if __name__ == "__main__":
    main()
