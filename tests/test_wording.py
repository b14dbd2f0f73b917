"""Users read papers by authors and year: no "seed 00N" file numbers and no issue numbers in what ships."""

import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
FORBIDDEN = re.compile(r"\bseeds? 00[0-4]\b|\bissue [0-9]+\b", re.IGNORECASE)


def shipped_text_files():
    files = [
        *ROOT.glob("hdl_keras/**/*.py"),
        *ROOT.glob("hdl_keras/**/*.json"),
        *ROOT.glob("docs/**/*.md"),
        *ROOT.glob("docs/**/*.py"),
        *ROOT.glob("zoo/*/card.json"),
        ROOT / "README.md",
        *ROOT.glob("hdl_keras_cli/*.py"),
    ]
    return sorted(path for path in files if path.is_file())


def test_the_wording_check_sees_the_package_docs_and_cards():
    names = {path.relative_to(ROOT).as_posix() for path in shipped_text_files()}
    assert "README.md" in names and "hdl_keras/__init__.py" in names and "hdl_keras_cli/zoo.py" in names
    assert any(name.startswith("docs/") and name.endswith(".md") for name in names)
    assert any(name.startswith("zoo/") and name.endswith("card.json") for name in names)


# Built from parts so that this file passes the same grep the project runs on its sources.
SEED, ISSUE = "seed", "issue"


@pytest.mark.parametrize(
    "text", [f"see {SEED} 003, Table VIII", f"{SEED.title()}s 001 and 002", f"({ISSUE} 7)", f"{ISSUE.title()} 12 fixed"]
)
def test_the_pattern_catches_file_numbers_and_issue_numbers(text):
    assert FORBIDDEN.search(text)


@pytest.mark.parametrize("text", ["random seed 0", "seed=3", "Li et al. (2020)", "an issue with 3 layers"])
def test_the_pattern_leaves_random_seeds_and_citations_alone(text):
    assert not FORBIDDEN.search(text)


def test_no_seed_file_numbers_or_issue_numbers_in_package_docs_cards_or_readme():
    hits = [
        f"{path.relative_to(ROOT).as_posix()}:{number}: {line.strip()}"
        for path in shipped_text_files()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if FORBIDDEN.search(line)
    ]
    assert not hits, "cite papers by authors and year, without issue numbers:\n" + "\n".join(hits)
