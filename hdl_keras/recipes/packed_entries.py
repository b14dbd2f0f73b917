"""Zoo entries of quantized models, shipped as packed files (`model.hdlpack`): the producer.

A quantized `hdl-train` run (`--kernel-quantizer ...`) writes `model.hdlpack`
(`hdl_keras.quantizers.export_packed`: the architecture and the bit-packed
kernels, 1 bit per weight for binary nets) and `log.json`. `add_packed_entry`
turns such a run into a zoo entry: it copies the packed file into
`<zoo>/<name>/model.hdlpack` and writes a validated card (method and training
sections from the run's log, the paper's values from `PACKED_ENTRIES`, read from
`hdl_keras.presets`;
`metrics` null until `hdl-zoo eval NAME --update-card`). `hdl_keras.zoo.load`
reads the entry with `load_packed`, hash-checked like every entry.

The shipped BinaryRelax entries are trained by their zoo recipes
(`hdl-zoo train mnist-small_cnn-binaryrelax`,
`hdl_keras.recipes.zoo_catalogue`), which write the packed file and card
directly; `add_packed_entry` makes an entry of any other quantized run, e.g.
of `docs/results/quantization`:

```
bash docs/results/quantization/run.sh           # trains runs/quantization/<dataset>/br_binary
python -m hdl_keras.recipes.packed_entries mnist-small_cnn-binaryrelax runs/quantization/mnist/br_binary
hdl-zoo eval mnist-small_cnn-binaryrelax --attacks autoattack --n 1000 --update-card
```
"""

import argparse
import json
import pathlib
import shutil
import sys

from hdl_keras.saving import load_packed
from hdl_keras.recipes.recipes import DEPRECATED_RECIPE_NAMES
from hdl_keras.recipes.zoo_catalogue import table_viii_reference
from hdl_keras.recipes.zoo_entries import hardware
from hdl_keras.utils.files import atomic_path
from hdl_keras.utils.files import atomic_write_text
from hdl_keras.zoo.download import sha256_file
from hdl_keras.zoo.errors import ZooError
from hdl_keras.zoo.registry import validate_card
from hdl_keras.zoo.registry import zoo_root

PACKED_MODEL_FILE = "model.hdlpack"
_PAPER_SETTING = (
    "Li et al. 2020, Table VIII: En2ResNet20, all 60000 training images, 200 epochs, trade-off loss (6) "
    "alpha = 1, beta = 8, IFGSM^10 training attack"
)


# Entries built from quantized runs, with the paper's values they are compared with.
PACKED_ENTRIES = {
    "fashion_mnist-small_cnn-binaryrelax": table_viii_reference("fashion_mnist"),
    "mnist-small_cnn-binaryrelax": table_viii_reference("mnist"),
}
_SCHEME_NAMES = {"binaryconnect": "BinaryConnect", "binaryrelax": "BinaryRelax"}
_OBJECTIVE_DESCRIPTIONS = {
    "pgd": "adversarial: cross-entropy at PGD examples (Madry et al. 2018)",
    "trades": "TRADES (Zhang et al. 2019)",
    "tradeoff": "trade-off loss (6) of Li et al. (2020): alpha * CE(x) + beta * CE(PGD(x))",
}


def add_packed_entry(name, run_dir, zoo_dir=None, reference=None):
    """Makes zoo entry `name` from a quantized `hdl-train` run; returns its card.

    Reads `run_dir/log.json` and `run_dir/model.hdlpack` (written by
    `hdl_keras.recipes.train_recipe` with a `kernel_quantizer`), checks that
    the packed file loads, and writes `<zoo_dir>/<name>/model.hdlpack` and
    `card.json` (validated; `metrics` and `evaluation` null, as a new file
    invalidates an earlier evaluation). Both are written under temporary
    names and renamed over the old ones, so a failure leaves an existing
    entry as it was.

    Args:
        name: the entry name, `<dataset>-<architecture>-<method>`, matching
            the run's dataset and model.
        run_dir: the run's output folder.
        zoo_dir: the folder of entries, default `hdl_keras.zoo.zoo_root()`.
        reference: the card's `reference` (paper, table, figure, values);
            default `PACKED_ENTRIES[name]`, or no reference for other names.

    Returns:
        The card (dict).

    Raises:
        ValueError: the run is not a finished quantized run, or does not
            match `name`.
        ZooError: the card does not validate.

    Examples:

        ```python
        card = add_packed_entry("mnist-small_cnn-binaryrelax", "runs/quantization/mnist/br_binary")
        print(card["file"], card["file_size_bytes"])  # model.hdlpack 32700
        ```
    """
    run_dir = pathlib.Path(run_dir)
    log_path = run_dir / "log.json"
    if not log_path.is_file():
        raise ValueError(f"{run_dir} holds no log.json: pass the output folder of a finished hdl-train run.")
    log = json.loads(log_path.read_text())
    quantization = log.get("quantization")
    if not quantization:
        raise ValueError(
            f"{run_dir} is a float run; a packed zoo entry needs a quantized one (hdl-train --kernel-quantizer)."
        )
    packed = run_dir / quantization["packed_file"]
    prefix = f"{log['dataset']}-{log['model']}-"
    if not name.startswith(prefix):
        raise ValueError(
            f"The run trained {log['model']} on {log['dataset']}: its entry name must start with "
            f"{prefix!r}. Received: name={name!r}"
        )
    model = load_packed(packed)
    if reference is None:
        reference = PACKED_ENTRIES.get(name, {"paper": None, "table": None, "figure": None, "values": {}})
    card = {
        "name": name,
        "dataset": log["dataset"],
        "architecture": log["model"],
        "parameters": int(model.count_params()),
        "method": _method(log),
        "threat_model": {"norm": "linf", "eps": log["attack"]["eps"]},
        "training": {
            "recipe": f"hdl-train {DEPRECATED_RECIPE_NAMES.get(log['recipe']['name'], log['recipe']['name'])}",
            "command": log["command"],
            "epochs": log["epochs"],
            "train_examples": log["train_examples"],
            "backend": log["backend"],
            "hardware": hardware(),
            "wall_time_seconds": round(sum(epoch["seconds"] for epoch in log["history"]), 1),
            "reduced": _reduced(log),
        },
        "metrics": None,
        "gradient_masking_flags": [],
        "file": PACKED_MODEL_FILE,
        "file_size_bytes": packed.stat().st_size,
        "sha256": sha256_file(packed),
        "reference": json.loads(json.dumps(reference)),
        "evaluation": None,
    }
    validate_card(card, source=f"new card of {name!r}")
    folder = (zoo_root() if zoo_dir is None else pathlib.Path(zoo_dir)) / name
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_path(folder / PACKED_MODEL_FILE) as model_tmp:
        shutil.copyfile(packed, model_tmp)
    atomic_write_text(folder / "card.json", json.dumps(card, indent=2) + "\n")
    return card


def _method(log):
    quantization = log["quantization"]
    quantizer = quantization["kernel_quantizer"]
    hyperparameters = {
        "kernel_quantizer": quantizer["class_name"],
        **quantizer["config"],
        "bits": quantization["bits"],
        "scheme": quantization["scheme"],
        **(quantization["relax"] or {}),
        "skip_first_last": quantization["skip_first_last"],
        "objective_kwargs": log["objective_kwargs"],
        **{key: log["attack"][key] for key in ("eps", "step_size", "steps")},
        "lr": log["schedule"].get("max_learning_rate", log["schedule"].get("initial_learning_rate")),
        "momentum": log["momentum"],
        "weight_decay": log["weight_decay"],
        "batch_size": log["batch_size"],
    }
    return {
        "name": _SCHEME_NAMES[quantization["scheme"]],
        "objective": f"{_OBJECTIVE_DESCRIPTIONS[log['objective']]}; {quantization['bits']}-bit weights "
        f"({quantizer['class_name']}) by {_SCHEME_NAMES[quantization['scheme']]} (Li et al. 2020, Algorithm 1)",
        "hyperparameters": hyperparameters,
    }


def _reduced(log):
    return (
        f"{log['model']}, {log['train_examples']} training images, {log['epochs']} epochs, "
        f"{log['objective']} objective with a PGD-{log['attack']['steps']} training attack ({_PAPER_SETTING})"
    )


def main(argv=None):
    """`python -m hdl_keras.recipes.packed_entries NAME RUN_DIR [--zoo-dir DIR]`: writes the entry, prints its card."""
    description = add_packed_entry.__doc__.splitlines()[0]
    parser = argparse.ArgumentParser(prog="python -m hdl_keras.recipes.packed_entries", description=description)
    parser.add_argument("name", help="entry name, e.g. mnist-small_cnn-binaryrelax")
    parser.add_argument("run_dir", help="output folder of a quantized hdl-train run")
    parser.add_argument("--zoo-dir", help="folder of entries (default: the zoo of hdl_keras)")
    args = parser.parse_args(argv)
    try:
        card = add_packed_entry(args.name, args.run_dir, zoo_dir=args.zoo_dir)
    except (ValueError, ZooError) as error:
        parser.error(str(error))
    print(json.dumps(card, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
