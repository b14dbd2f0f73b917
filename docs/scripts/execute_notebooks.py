"""Executes the tutorial notebooks and saves their outputs (what GitHub and the site show).

Usage: python docs/scripts/execute_notebooks.py [NAME ...] [--clean-only]

Runs each notebook of notebooks/ (or the NAMEs given, without `.ipynb`) top to bottom at its
full size (HDL_KERAS_TUTORIAL_SIZE unset), one at a time, and writes it back with its outputs.
Lines that a backend prints on its own (TensorFlow's C++ and absl start-up lines, tf.function
retracing warnings) are removed from the saved stream outputs; results and errors are kept.
`--clean-only` removes those lines from the saved notebooks without executing them.
tests/test_notebooks_saved.py checks the result; `make test` executes the notebooks again
at the reduced size (HDL_KERAS_TUTORIAL_SIZE=ci).
"""

import argparse
import os
import re
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
BACKEND_LOG = re.compile(
    r"absl::InitializeLog|oneDNN|cpu_feature_guard|TF_ENABLE_ONEDNN_OPTS|^[IWEF]\d{4} \d\d:\d\d:\d\d|"
    r"^WARNING:tensorflow:|rebuild TensorFlow"
)


def clean(book):
    """Removes backend log lines from the stream outputs of `book`, in place."""
    for cell in book.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for output in cell.outputs:
            if output.output_type == "stream":
                lines = output.text.splitlines(keepends=True)
                output.text = "".join(line for line in lines if not BACKEND_LOG.search(line))
                if not output.text.strip():
                    continue
            kept.append(output)
        cell.outputs = kept
    return book


def execute(path):
    """Runs the notebook at `path` in its folder and returns it with outputs."""
    from nbclient import NotebookClient

    book = nbformat.read(path, as_version=4)
    env = dict(os.environ)
    env.pop("HDL_KERAS_TUTORIAL_SIZE", None)
    NotebookClient(
        book, timeout=1800, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute(env=env)
    return book


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="notebook names (default: all)")
    parser.add_argument("--clean-only", action="store_true", help="only remove backend log lines")
    args = parser.parse_args()
    paths = [NOTEBOOKS / f"{name}.ipynb" for name in args.names] or sorted(NOTEBOOKS.glob("*.ipynb"))
    for path in paths:
        start = time.perf_counter()
        book = nbformat.read(path, as_version=4) if args.clean_only else execute(path)
        nbformat.write(clean(book), path)
        print(f"{path.name}: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
