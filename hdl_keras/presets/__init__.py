"""Presets as data: threat models, attack suites and the papers' reported numbers.

The package ships four JSON files, keyed by the BibTeX keys of the papers
(`bertsimas2023`, `dinh2020enresnet`, `li2020binaryrelax`, `sehwag2020`,
`madry2018`, `wong2020fast`, `croce2020autoattack`, `techniques_report`):

- `papers.json`: authors, year, title and the "Authors (year), Title"
  text that model cards cite (`citation(key)`);
- `threat_models.json`: named l_inf threat models, `<key>-<setting>`
  (`threat_model(name)`, `pgd_settings(name)`);
- `attack_suites.json`: the evaluation suites of `hdl-zoo eval`
  (`"standard"`, `"full"`, `"autoattack"`; `attack_suite(name)`);
- `paper_values.json`: the numbers the papers report, by paper, table and
  row, as printed (`paper_values(key, table, row)`).

A radius such as `"8/255"` is stored as that text and read as the float
`8 / 255`, so a value equals the literal it replaced bit for bit.

Examples:

    ```python
    from hdl_keras import presets

    presets.threat_model("dinh2020enresnet-pgd10")
    # {'norm': 'linf', 'eps': 0.0313..., 'step_size': 0.0078..., 'steps': 10}
    presets.paper_values("bertsimas2023", "table_3", "HDL")["adversarial"]  # 76.0
    presets.citation("li2020binaryrelax")
    ```
"""

import copy
import difflib
import fractions
import functools
import json
import re
from importlib import resources

_FILES = ("papers", "threat_models", "attack_suites", "paper_values")
# Keys of a threat model's settings that are PGD arguments.
_PGD_KEYS = ("eps", "step_size", "steps")
# A radius written as a fraction, e.g. "8/255".
_FRACTION = re.compile(r"\d+/\d+")


@functools.cache
def _load(file):
    """The parsed JSON file `<file>.json` of this package (cached; callers get copies)."""
    text = resources.files(__package__).joinpath(f"{file}.json").read_text(encoding="utf-8")
    return json.loads(text)


def _number(value):
    """`"8/255"` -> `8 / 255` (the float division, as the literals computed it); other values unchanged."""
    if isinstance(value, str) and _FRACTION.fullmatch(value):
        ratio = fractions.Fraction(value)
        return ratio.numerator / ratio.denominator
    return value


def _numbers(tree):
    """A deep copy of `tree` with every fraction text turned into its float."""
    if isinstance(tree, dict):
        return {key: _numbers(value) for key, value in tree.items()}
    if isinstance(tree, list):
        return [_numbers(value) for value in tree]
    return _number(tree)


def _lookup(table, name, what):
    """`table[name]`, or a ValueError naming the known names and the closest ones."""
    if isinstance(name, str) and name in table:
        return table[name]
    close = difflib.get_close_matches(str(name), list(table), n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise ValueError(f"Unknown {what}. Expected one of {sorted(table)}. Received: {name!r}.{hint}")


def papers():
    """The citation keys of `papers.json`, sorted."""
    return sorted(_load("papers"))


def paper(key):
    """The bibliographic record of paper `key`: `authors`, `year`, `title`, `venue`, `citation`."""
    return copy.deepcopy(_lookup(_load("papers"), key, "paper key"))


def citation(key):
    """The "Authors (year), Title" text of paper `key`, as model cards cite it."""
    return paper(key)["citation"]


def threat_models():
    """The names `threat_model` accepts, sorted."""
    return sorted(_load("threat_models"))


def threat_model(name):
    """The settings of threat model `name`.

    Args:
        name: one of `threat_models()`, e.g. `"bertsimas2023-tables"`.

    Returns:
        A new dict: `norm` (`"linf"`), `eps`, and where the paper fixes
        them `step_size` and `steps` (its PGD) or `scaling` (the input units
        of `hdl_keras.experiments.prepare_data`).
    """
    return _numbers(_lookup(_load("threat_models"), name, "threat model")["settings"])


def threat_model_source(name):
    """`(citation key, where in the paper)` of threat model `name`."""
    entry = _lookup(_load("threat_models"), name, "threat model")
    return entry["citation"], entry["source"]


def pgd_settings(name):
    """`{"eps", "step_size", "steps"}` of threat model `name`: keyword arguments of `hdl_keras.attacks.PGD`."""
    settings = threat_model(name)
    missing = [key for key in _PGD_KEYS if key not in settings]
    if missing:
        raise ValueError(
            f"Threat model {name!r} fixes no PGD {', '.join(missing)}: it has {sorted(settings)}. "
            f"Use one with step_size and steps, e.g. 'dinh2020enresnet-pgd10'."
        )
    return {key: settings[key] for key in _PGD_KEYS}


def attack_suites():
    """The names `attack_suite` accepts, in their order of strength."""
    return list(_load("attack_suites"))


def attack_suite(name):
    """The attack suite `name` of `hdl-zoo eval`.

    Returns:
        A new dict: `description`, `attacks` (attack name -> `{"attack": a
        name of `hdl_keras.attacks`, its keyword arguments, and the flags
        `step_ratio` (step size as a multiple of eps), `seeded` (gets the
        run's seed), `images_only`}`, in run order) and, for
        `"autoattack"`, `autoattack: True` and its `citation`.
    """
    return _numbers(_lookup(_load("attack_suites"), name, "attack suite"))


def paper_values(key, table=None, row=None):
    """Numbers paper `key` reports, as printed (percent where the paper prints percent).

    Args:
        key: a citation key with values, e.g. `"bertsimas2023"`.
        table: a table of that paper, e.g. `"table_3"`; None lists them.
        row: a row of that table, e.g. `"HDL"`; None returns the whole table
            (`source`, `unit`, `rows` and the table's own fields).

    Returns:
        A new dict (or, with `table=None`, the sorted table names).

    Examples:

        ```python
        paper_values("bertsimas2023")                      # ['table_2', 'table_3', 'tables_8_11']
        paper_values("li2020binaryrelax", "table_8_float", "mnist")["natural"]  # 99.21
        ```
    """
    tables = _lookup(_load("paper_values"), key, "paper with reported values")
    if table is None:
        return sorted(tables)
    values = _lookup(tables, table, f"table of {key}")
    if row is None:
        return _numbers(values)
    return _numbers(_lookup(values["rows"], row, f"row of {key} {table}"))


__all__ = [
    "attack_suite",
    "attack_suites",
    "citation",
    "paper",
    "paper_values",
    "papers",
    "pgd_settings",
    "threat_model",
    "threat_model_source",
    "threat_models",
]
