"""The model zoo: pretrained robust, sparse and quantized models with model cards.

Each entry is a folder of the top-level `zoo/` (packaged in the wheel) with a
`card.json`, validated against `card.schema.json`, and one model file whose
sha256 the card records: a `.keras` file, or a packed `.hdlpack` file for a
quantized model. `load(name)` resolves the file (user cache, shipped copy,
then a hash-checked download) and returns a Keras model compiled for
evaluation; `hdl_keras.models.get(architecture, weights=name)` does the same
from the model registry.

This package only reads entries (cards, registry, download, evaluation). The
producers, which train entries and write model files and cards, live in
`hdl_keras.recipes`: `zoo_entries.train_entry` (`hdl-zoo train`),
`packed_entries.add_packed_entry` and `zoo_cards.update_card`
(`hdl-zoo eval --update-card`). The command line imports them only inside
those commands.

Entry layout (decision): one `.keras` file per entry, not the keras-hub preset
layout (a folder of `config.json`, `model.weights.h5`, `metadata.json`,
loaded by `keras_hub.models.Backbone.from_preset`). That layout would give a
Keras user nothing the single file does not: the float entries are plain
functional networks of Keras layers, which `keras.saving.load_model` already
reads without this package (and from `hf://` handles, which Keras resolves
itself), while keras-hub's `from_preset` only builds its own `Backbone` and
`Task` classes, so a preset of our networks would still need a registered
class to load. Keeping one file keeps one sha256 per entry in its card,
checked on every load (a folder would need one per file).

Environment variables:
    HDL_KERAS_ZOO_DIR: folder of entries to use instead of the shipped zoo.
    HDL_KERAS_ZOO_CACHE: cache of downloaded files (default
        `~/.keras/hdl_keras/zoo`).
    HDL_KERAS_ZOO_URL: download URL, a pattern with `{name}` or a base URL
        (default: the project's release URL).
    HDL_KERAS_OFFLINE: `"1"` forbids downloads.

Examples:

    ```python
    from hdl_keras import zoo

    [c["name"] for c in zoo.list_entries(dataset="mnist")]
    model = zoo.load("mnist-small_cnn-pgd_at")
    print(zoo.card("mnist-small_cnn-pgd_at")["metrics"]["clean_accuracy"])
    ```
"""

from hdl_keras.zoo.errors import UnknownEntryError
from hdl_keras.zoo.errors import ZooError
from hdl_keras.zoo.registry import card
from hdl_keras.zoo.registry import entry_path
from hdl_keras.zoo.registry import list_entries
from hdl_keras.zoo.registry import load
from hdl_keras.zoo.registry import validate_card
from hdl_keras.zoo.registry import zoo_root

__all__ = [
    "UnknownEntryError",
    "ZooError",
    "card",
    "entry_path",
    "list_entries",
    "load",
    "validate_card",
    "zoo_root",
]
