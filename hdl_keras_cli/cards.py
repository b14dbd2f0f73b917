"""Reading the zoo's cards without Keras: what `hdl zoo list`, `card` and `compare` need.

`hdl_keras.zoo.registry` imports Keras (and so the backend) to load models;
these commands only read JSON, so they read the cards here: the same zoo
folder (`hdl_keras.zoo.zoo_root`'s rules), the same schema
(`hdl_keras/zoo/card.schema.json`), the same error messages. The checks that
need the library's registries (the dataset is a name of `hdl_keras.data`,
the architecture one of `hdl_keras.models`) run when an entry is loaded.
"""

import difflib
import functools
import importlib.util
import json
import os
import pathlib
import warnings

_FIX_HINT = (
    "Fix the card to match hdl_keras/zoo/card.schema.json (cards are written by "
    "`hdl-zoo train` and `hdl-zoo eval --update-card`)."
)


class CardError(Exception):
    """A card is missing, unreadable or invalid; the message says what to do."""


def package_dir():
    """The folder of the installed `hdl_keras` package, found without importing it."""
    spec = importlib.util.find_spec("hdl_keras")
    if spec is None or spec.origin is None:
        raise CardError("hdl_keras is not installed: install it (pip install -e .) and rerun.")
    return pathlib.Path(spec.origin).resolve().parent


def zoo_root():
    """The zoo folder: `$HDL_KERAS_ZOO_DIR`, a source checkout's `zoo/`, or the copy in the wheel."""
    override = os.environ.get("HDL_KERAS_ZOO_DIR")
    if override:
        root = pathlib.Path(override).expanduser()
        if not root.is_dir():
            raise CardError(
                f"HDL_KERAS_ZOO_DIR={override!r} is not a folder. Point it at a folder of "
                "zoo entries (<name>/card.json) or unset it to use the zoo of hdl_keras."
            )
        return root
    package = package_dir()
    checkout = package.parent / "zoo"
    if checkout.is_dir() and (package.parent / "pyproject.toml").is_file():
        return checkout
    packaged = package / "_zoo_entries"
    if packaged.is_dir():
        return packaged
    raise CardError(
        f"No zoo folder found: neither a source checkout's zoo/ ({checkout}) nor the copy "
        f"packaged with hdl_keras ({packaged}). Reinstall hdl_keras or set HDL_KERAS_ZOO_DIR."
    )


def list_cards(dataset=None, method=None):
    """The valid cards sorted by name, filtered like `hdl_keras.zoo.list_entries`.

    A broken card is skipped with a `UserWarning` naming it. An unknown
    `dataset` (no entry is trained on it) raises `CardError` naming the
    zoo's datasets.
    """
    cards = []
    for folder in _entry_folders(zoo_root()):
        try:
            cards.append(_read_card(folder))
        except CardError as error:
            warnings.warn(f"Skipped the broken zoo entry {folder.name!r}: {error}", stacklevel=2)
    if dataset is not None:
        datasets = sorted({card["dataset"] for card in cards})
        if dataset not in datasets:
            raise CardError(
                f"Unknown dataset {dataset!r}: no zoo entry is trained on it. Expected one of {', '.join(datasets)}."
            )
        cards = [card for card in cards if card["dataset"] == dataset]
    if method is not None:
        wanted = _method_key(method)
        cards = [
            card
            for card in cards
            if wanted in (_method_key(card["method"]["name"]), _method_key(card["name"].split("-", 2)[2]))
        ]
    return cards


def card(name):
    """The card of entry `name`; an unknown name raises `CardError` suggesting close names."""
    folders = {folder.name: folder for folder in _entry_folders(zoo_root())}
    if name not in folders:
        suggestions = _suggestions(name, list(folders))
        hint = f" Did you mean {', '.join(map(repr, suggestions))}?" if suggestions else ""
        raise CardError(
            f"Unknown zoo entry {name!r}.{hint} The zoo holds {len(folders)} "
            f"entr{'y' if len(folders) == 1 else 'ies'}: list them with `hdl-zoo list` or "
            "`hdl_keras.zoo.list_entries()`."
        )
    return _read_card(folders[name])


@functools.cache
def _validator():
    import jsonschema  # 0.2 s: imported by the commands that read cards, not by every --help

    schema = json.loads((package_dir() / "zoo" / "card.schema.json").read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def _entry_folders(root):
    return sorted(
        (folder for folder in root.iterdir() if (folder / "card.json").is_file()),
        key=lambda folder: folder.name,
    )


def _suggestions(name, names):
    """Up to 3 close names (difflib ratio >= 0.75), then names containing `name`; 5 at most."""
    close = difflib.get_close_matches(name.lower(), names, n=3, cutoff=0.75)
    containing = [n for n in names if name and name.lower() in n and n not in close]
    return (close + containing)[:5]


def _read_card(folder):
    path = folder / "card.json"
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise CardError(
            f"Cannot read zoo card {path} ({exc}). Restore it from version control or "
            f"rebuild the entry with `hdl-zoo train {folder.name}`."
        ) from exc
    except json.JSONDecodeError as exc:
        raise CardError(
            f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}). {_FIX_HINT}"
        ) from exc
    validator = _validator()
    from jsonschema.exceptions import best_match  # loaded by _validator()

    error = best_match(validator.iter_errors(loaded))
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "(top level)"
        raise CardError(f"{path}: invalid zoo card at {where}: {error.message}. {_FIX_HINT}")
    if loaded["name"] != folder.name:
        raise CardError(
            f"{path}: the card's name {loaded['name']!r} differs from its folder {folder.name!r}; "
            "entries live in <zoo root>/<name>/card.json. Rename one of them."
        )
    return loaded


def _method_key(text):
    return text.lower().replace("-", "_")
