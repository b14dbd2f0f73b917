"""The zoo's entries: where they live, their validated cards, and loading by name.

An entry is a folder `<zoo root>/<name>/` holding `card.json` (validated against
`card.schema.json`) and, when shipped, the model file the card names: one
`.keras` file, config and weights together, so one sha256 covers everything
`keras.saving.load_model` needs; or, for a quantized model, one `.hdlpack` file
(`hdl_keras.saving.export_packed`: config and bit-packed weights, read by
`load_packed`). Names read `<dataset>-<architecture>-<method>`,
e.g. `mnist-small_cnn-pgd_at`.
"""

import difflib
import functools
import json
import os
import pathlib
import warnings

import jsonschema
import keras

# The imports register every custom class a zoo model may be saved with.
import hdl_keras.layers  # noqa: F401
import hdl_keras.models
import hdl_keras.objectives
from hdl_keras import data
from hdl_keras.saving import load_packed
from hdl_keras.zoo import download
from hdl_keras.zoo.errors import UnknownEntryError
from hdl_keras.zoo.errors import ZooError

SCHEMA_PATH = pathlib.Path(__file__).with_name("card.schema.json")
# The extension of packed quantized model files (`hdl_keras.saving.export_packed`).
PACKED_SUFFIX = ".hdlpack"

_FIX_HINT = (
    "Fix the card to match hdl_keras/zoo/card.schema.json (cards are written by "
    "`hdl-zoo train` and `hdl-zoo eval --update-card`)."
)


def zoo_root():
    """Returns the folder holding the zoo entries.

    In order: `$HDL_KERAS_ZOO_DIR` when set; the `zoo/` folder of a source
    checkout (next to `pyproject.toml`); the copy packaged in the wheel
    (`hdl_keras/_zoo_entries`).

    Returns:
        A `pathlib.Path` to an existing folder.

    Raises:
        ZooError: `$HDL_KERAS_ZOO_DIR` is not a folder, or no zoo folder exists.
    """
    override = os.environ.get("HDL_KERAS_ZOO_DIR")
    if override:
        root = pathlib.Path(override).expanduser()
        if not root.is_dir():
            raise ZooError(
                f"HDL_KERAS_ZOO_DIR={override!r} is not a folder. Point it at a folder of "
                "zoo entries (<name>/card.json) or unset it to use the zoo of hdl_keras."
            )
        return root
    package = pathlib.Path(__file__).resolve().parents[1]
    checkout = package.parent / "zoo"
    if checkout.is_dir() and (package.parent / "pyproject.toml").is_file():
        return checkout
    packaged = package / "_zoo_entries"
    if packaged.is_dir():
        return packaged
    raise ZooError(
        f"No zoo folder found: neither a source checkout's zoo/ ({checkout}) nor the copy "
        f"packaged with hdl_keras ({packaged}). Reinstall hdl_keras or set HDL_KERAS_ZOO_DIR."
    )


def validate_card(card, source="card"):
    """Checks a card against `card.schema.json` and the library's registries.

    Beyond the schema: `dataset` must be a name of `hdl_keras.data`,
    `architecture` a name of `hdl_keras.models`, and `name` must start with
    `<dataset>-<architecture>-`.

    Args:
        card: the card, as loaded from JSON.
        source: what the card is called in error messages, e.g. its path.

    Raises:
        ZooError: naming `source`, the first failing field and what to do.

    Examples:

        ```python
        validate_card({"name": "iris-mlp-hdl"})
        # ZooError: card: invalid zoo card at (top level): 'dataset' is a required property. ...
        ```
    """
    error = jsonschema.exceptions.best_match(_validator().iter_errors(card))
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "(top level)"
        raise ZooError(f"{source}: invalid zoo card at {where}: {error.message}. {_FIX_HINT}")
    if card["dataset"] not in data.available_datasets():
        raise ZooError(
            f"{source}: invalid zoo card at dataset: {card['dataset']!r} is not a dataset of "
            f"hdl_keras.data (one of {data.available_datasets()}). {_FIX_HINT}"
        )
    if card["architecture"] not in hdl_keras.models.available_models():
        raise ZooError(
            f"{source}: invalid zoo card at architecture: {card['architecture']!r} is not a "
            f"model of hdl_keras.models (one of {hdl_keras.models.available_models()}). "
            f"{_FIX_HINT}"
        )
    prefix = f"{card['dataset']}-{card['architecture']}-"
    if not card["name"].startswith(prefix):
        raise ZooError(
            f"{source}: invalid zoo card at name: {card['name']!r} does not read "
            f"<dataset>-<architecture>-<method>; expected it to start with {prefix!r}. "
            f"{_FIX_HINT}"
        )


def list_entries(dataset=None, method=None, *, skip_broken=False):
    """Returns the cards of the zoo entries, sorted by name.

    Args:
        dataset: keep only entries trained on this dataset (a name of
            `hdl_keras.data`). Defaults to `None` (all).
        method: keep only entries of this method, matched case-insensitively
            (`-` and `_` alike) against the card's `method.name` and the
            method part of the entry name, e.g. `"hdl"` or `"pgd_at"`.
            Defaults to `None` (all).
        skip_broken: if True, an unreadable or invalid card is skipped with
            a `UserWarning` naming its file and the problem (what `hdl-zoo
            list` and the docs generators do); default False (a `ZooError`).

    Returns:
        A list of card dicts.

    Raises:
        ValueError: `dataset` is not a dataset name, or a filter is not a str.
        ZooError: a card is unreadable or invalid (unless `skip_broken`).

    Examples:

        ```python
        [c["name"] for c in list_entries(dataset="iris")]  # ['iris-mlp-dl', 'iris-mlp-hdl']
        ```
    """
    for label, value in (("dataset", dataset), ("method", method)):
        if value is not None and not isinstance(value, str):
            raise ValueError(f"{label} must be a str or None. Received: {label}={value!r}")
    if dataset is not None and dataset not in data.available_datasets():
        raise ValueError(f"Unknown dataset. Expected one of {data.available_datasets()}. Received: dataset={dataset!r}")
    cards = []
    for folder in _entry_folders(zoo_root()):
        try:
            cards.append(_read_card(folder))
        except ZooError as error:
            if not skip_broken:
                raise
            warnings.warn(f"Skipped the broken zoo entry {folder.name!r}: {error}", stacklevel=2)
    if dataset is not None:
        cards = [c for c in cards if c["dataset"] == dataset]
    if method is not None:
        wanted = _method_key(method)
        cards = [
            c for c in cards if wanted in (_method_key(c["method"]["name"]), _method_key(c["name"].split("-", 2)[2]))
        ]
    return cards


def card(name):
    """Returns the validated card of entry `name`.

    Args:
        name: an entry name, e.g. `"mnist-small_cnn-hdl"`.

    Returns:
        The card as a dict (a fresh copy on every call).

    Raises:
        UnknownEntryError: no such entry; the message suggests close names.
        ZooError: the card is unreadable or invalid.
    """
    return _read_card(_entry_folder(name))


def entry_path(name, *, cache_dir=None):
    """Returns the local, hash-checked model file of entry `name`.

    Resolution: user cache, then the file shipped in the zoo, then a download
    into the cache (see `hdl_keras.zoo.download`).

    Args:
        name: an entry name.
        cache_dir: cache root; defaults to `$HDL_KERAS_ZOO_CACHE` or
            `~/.keras/hdl_keras/zoo`.

    Returns:
        A `pathlib.Path` whose sha256 equals the card's.

    Raises:
        UnknownEntryError: no such entry.
        ZooError: invalid card, corrupt shipped file, or failed download.
    """
    folder = _entry_folder(name)
    return download.resolve(_read_card(folder), folder, cache_dir=cache_dir)


def load(name, *, cache_dir=None):
    """Loads zoo entry `name` as a Keras model compiled for evaluation.

    The model file is resolved by `entry_path` and loaded with
    `keras.saving.load_model(path, compile=False)`, or with
    `hdl_keras.saving.load_packed(path)` when the card's `file` is a
    packed `.hdlpack` file (a quantized model). A model saved as one of
    the training wrappers (`HolisticModel`, `AdversarialModel` and its
    subclasses such as `PGDAdversarialTraining`) is returned as the plain
    functional model of the same layers and weights, so `evaluate` measures
    plain cross-entropy instead of the training objective (load the file
    of `entry_path` yourself to resume training with the objective). The model
    is compiled with `SparseCategoricalCrossentropy(from_logits=True)` and the
    `sparse_categorical_accuracy` metric.

    Args:
        name: an entry name, e.g. `"iris-mlp-hdl"`.
        cache_dir: cache root; defaults to `$HDL_KERAS_ZOO_CACHE` or
            `~/.keras/hdl_keras/zoo`.

    Returns:
        A compiled `keras.Model` mapping inputs to logits.

    Raises:
        UnknownEntryError: no such entry.
        ZooError: invalid card, corrupt or unloadable file, failed download.

    Examples:

        ```python
        from hdl_keras import zoo

        model = zoo.load("iris-mlp-hdl")
        loss, accuracy = model.evaluate(x_test, y_test)
        ```
    """
    path = entry_path(name, cache_dir=cache_dir)
    try:
        model = load_packed(path) if path.suffix == PACKED_SUFFIX else keras.saving.load_model(path, compile=False)
    except Exception as exc:
        raise ZooError(
            f"Keras could not load zoo entry {name!r} from {path} ({type(exc).__name__}: "
            f"{exc}). The file matches its card's sha256, so it needs classes or Keras "
            "features this installation lacks: upgrade hdl_keras and keras."
        ) from exc
    wrappers = (hdl_keras.objectives.HolisticModel, hdl_keras.objectives.AdversarialModel)
    if isinstance(model, wrappers):
        model = keras.Model(model.inputs, model.outputs, name=model.name)
    model.compile(
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["sparse_categorical_accuracy"],
    )
    return model


@functools.cache
def _validator():
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def _entry_folders(root):
    return sorted(
        (folder for folder in root.iterdir() if (folder / "card.json").is_file()),
        key=lambda folder: folder.name,
    )


def _entry_folder(name):
    if not isinstance(name, str):
        raise ValueError(f"A zoo entry name must be a str. Received: name={name!r}")
    folders = {folder.name: folder for folder in _entry_folders(zoo_root())}
    if name not in folders:
        suggestions = _suggestions(name, list(folders))
        hint = f" Did you mean {', '.join(map(repr, suggestions))}?" if suggestions else ""
        raise UnknownEntryError(
            f"Unknown zoo entry {name!r}.{hint} The zoo holds {len(folders)} "
            f"entr{'y' if len(folders) == 1 else 'ies'}: list them with `hdl-zoo list` or "
            "`hdl_keras.zoo.list_entries()`.",
            name=name,
            suggestions=suggestions,
        )
    return folders[name]


def _suggestions(name, names):
    """Up to 3 close names (difflib ratio >= 0.75), then names containing `name`; 5 at most."""
    close = difflib.get_close_matches(name.lower(), names, n=3, cutoff=0.75)
    containing = [n for n in names if name and name.lower() in n and n not in close]
    return (close + containing)[:5]


def _read_card(folder):
    path = folder / "card.json"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ZooError(
            f"Cannot read zoo card {path} ({exc}). Restore it from version control or "
            f"rebuild the entry with `hdl-zoo train {folder.name}`."
        ) from exc
    try:
        loaded = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ZooError(
            f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}). {_FIX_HINT}"
        ) from exc
    validate_card(loaded, source=str(path))
    if loaded["name"] != folder.name:
        raise ZooError(
            f"{path}: the card's name {loaded['name']!r} differs from its folder "
            f"{folder.name!r}; entries live in <zoo root>/<name>/card.json. Rename one "
            "of them."
        )
    return loaded


def _method_key(text):
    return text.lower().replace("-", "_")
