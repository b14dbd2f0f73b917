"""Trains a variant of a zoo recipe (hyperparameters overridden) into its own zoo folder.

Usage: python benchmarks/recipe_variant.py NAME --zoo-dir DIR [--set KEY=JSON ...]
       [--epochs N] [--train-examples N] [--architecture NETWORK]

The entry's `ZooRecipe` (`hdl_keras.recipes.zoo_catalogue`) with each `--set`
hyperparameter replaced (values as JSON) is trained by `train_entry` into
`--zoo-dir` (the shipped zoo is left alone; the resumable state goes to
`DIR/runs`). `--set train_eps=X` also sets the FGSM step to 1.25 X, as the
recipes do, and keeps `eps` as the radius validation selects at.
`--architecture` trains another network of `hdl_keras.models` (e.g.
`tiny_cnn`) by the same recipe. `kernel_quantizer` takes a quantizer's serialization, e.g.
`'{"class_name": "BinaryQuantizer", "config": {"per_channel": true}}'`.

The variants listed in `mnist-small_cnn-robust_sparse_binary`'s `reference.tried`:

    --set 'float_layers=[]' quantize_lr=0.005                      # the earlier recipe
    --set 'float_layers=[]' quantize_lr=0.005 \\
          'kernel_quantizer={"class_name": "BinaryQuantizer", "config": {"per_channel": true}}'
    (the same, and train_eps=0.1)
    --set quantize_lr=0.005                                         # the float stem alone

Last line: one JSON object with the entry, the overrides, the best validation
accuracy its selection reached and the training wall time (seconds).
"""

import argparse
import dataclasses
import json
import os
import pathlib
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def parse_overrides(pairs):
    """`["key=json", ...]` -> dict; a SystemExit naming the pair that does not parse."""
    overrides = {}
    for pair in pairs:
        key, separator, value = pair.partition("=")
        try:
            if not separator:
                raise ValueError("no '='")
            overrides[key] = json.loads(value)
        except ValueError as error:
            sys.exit(
                f"--set {pair!r}: expected KEY=JSON, e.g. quantize_lr=0.001 or 'float_layers=[\"conv1\"]' ({error})"
            )
    return overrides


def variant(recipe, overrides):
    """`recipe` with `overrides` in its hyperparameters (and the FGSM step of a `train_eps`)."""
    from hdl_keras.objectives.adversarial import fast_at_settings

    hyperparameters = {**recipe.hyperparameters, **overrides}
    if "train_eps" in overrides:
        hyperparameters.update(fast_at_settings(overrides["train_eps"]), eps=recipe.hyperparameters["eps"])
    return dataclasses.replace(recipe, hyperparameters=hyperparameters)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", help="zoo entry whose recipe is varied")
    parser.add_argument("--zoo-dir", required=True, help="folder the variant's entry is written to")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=JSON", help="hyperparameters replaced")
    parser.add_argument("--epochs", type=int, help="epochs (default: the recipe's)")
    parser.add_argument("--train-examples", type=int, help="training subset (default: all)")
    parser.add_argument("--architecture", help="a network of hdl_keras.models (default: the recipe's)")
    args = parser.parse_args()
    overrides = parse_overrides(args.set)
    zoo_dir = pathlib.Path(args.zoo_dir)
    if (zoo_dir.resolve() / args.name) == (pathlib.Path(__file__).resolve().parents[1] / "zoo" / args.name):
        sys.exit("--zoo-dir is the shipped zoo: give the variant its own folder")
    os.environ.setdefault("HDL_KERAS_RUNS", str(zoo_dir / "runs"))

    from hdl_keras.recipes import zoo_catalogue
    from hdl_keras.recipes.zoo_entries import train_entry

    recipe = variant(zoo_catalogue.get_recipe(args.name), overrides)
    if args.architecture:
        recipe = dataclasses.replace(recipe, architecture=args.architecture)
    zoo_catalogue.ENTRY_RECIPES[args.name] = recipe
    card = train_entry(args.name, zoo_dir=zoo_dir, epochs=args.epochs, train_examples=args.train_examples, verbose=2)
    validation = card["training"].get("validation") or {}
    best = validation.get("best_val_pgd_accuracy", validation.get("best_val_accuracy"))
    print(
        json.dumps(
            {
                "entry": args.name,
                "overrides": overrides,
                "architecture": recipe.architecture,
                "best_validation_accuracy": best,
                "wall_time_seconds": card["training"]["wall_time_seconds"],
            }
        )
    )


if __name__ == "__main__":
    main()
