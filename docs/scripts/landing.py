"""Runs the one-minute example of the landing page and writes its output under it.

Usage: python docs/scripts/landing.py

The example is the python block between `<!-- example:start -->` and `<!-- example:end -->`
in docs/index.md. This script executes it as pasted, then writes the printed report between
`<!-- output:start -->` and `<!-- output:end -->`, and copies example and output into the
same markers of README.md, so that the two pages show the same code and its real output.
tests/test_docs_examples.py executes the same block at a reduced size.
"""

import contextlib
import io
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGES = (ROOT / "docs" / "index.md", ROOT / "README.md")
EXAMPLE = re.compile(r"<!-- example:start -->\n```python\n(.*?)```\n<!-- example:end -->", re.DOTALL)
OUTPUT = re.compile(r"<!-- output:start -->\n.*?<!-- output:end -->", re.DOTALL)


def example_code(text):
    """The python source of the landing example in a page's text."""
    match = EXAMPLE.search(text)
    if match is None:
        raise ValueError("No <!-- example:start --> python block found.")
    return match.group(1)


def run(code):
    """Executes `code` as a fresh module and returns what it printed."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, "landing-example", "exec"), {"__name__": "__landing__"})  # noqa: S102 (the page's own example)
    return printed.getvalue()


def main():
    index = PAGES[0].read_text()
    code = example_code(index)
    output = run(code)
    block = (
        "<!-- output:start -->\nOutput (`python docs/scripts/landing.py`, tensorflow, CPU):\n\n"
        + output.rstrip()
        + "\n<!-- output:end -->"
    )
    for page in PAGES:
        text = page.read_text()
        text = EXAMPLE.sub(lambda _: f"<!-- example:start -->\n```python\n{code}```\n<!-- example:end -->", text)
        page.write_text(OUTPUT.sub(lambda _: block, text))
        print(f"wrote {page.relative_to(ROOT)}")
    print(output)


if __name__ == "__main__":
    main()
