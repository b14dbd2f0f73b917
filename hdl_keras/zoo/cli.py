"""`hdl-zoo`: list, inspect, evaluate, train and compare the zoo's entries.

```
hdl-zoo list [--dataset D] [--method M] [--json]
hdl-zoo card NAME [--json]
hdl-zoo eval NAME [--attacks standard|full|autoattack] [--n N] [--batch-size B] [--eps EPS] [--seed S]
              [--out FILE] [--json] [--update-card]
hdl-zoo train RECIPE [--epochs E] [--train-examples N]
hdl-zoo compare NAME... [--json]
```

(or `python -m hdl_keras.zoo ...`). Accuracies print as percentages; `--json`
prints the numbers as stored (fractions). With `eval --json`, progress goes to
stderr and the last line of stdout is one JSON object (`clean_accuracy`,
`attacks`, `worst_case_accuracy`, ...). Errors (unknown entry, bad option
value, unreadable card) print one line on stderr and exit with code 1 (2 for
a bad option value).
"""

import contextlib
import json
import pathlib
import sys
import warnings
from typing import Annotated
from typing import Optional

import rich.box
import typer
from rich.console import Console
from rich.table import Table

from hdl_keras.zoo import evaluation
from hdl_keras.zoo import registry
from hdl_keras.zoo.errors import ZooError

# Exit codes: a failure (unknown entry, unreadable card, failed run), a bad option value.
EXIT_FAILURE = 1
EXIT_USAGE = 2

app = typer.Typer(
    name="hdl-zoo",
    help="The hdl_keras model zoo: robust, sparse models with model cards.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class _UsageError(Exception):
    """A bad option value (exit code 2)."""


@contextlib.contextmanager
def _reported_errors():
    """Turns the zoo's errors into one line on stderr and a non-zero exit, without a traceback."""
    try:
        yield
    except _UsageError as error:
        _print_error(error, EXIT_USAGE)
    except (ZooError, ValueError, OSError) as error:
        _print_error(error, EXIT_FAILURE)


def _print_error(error, code):
    message = " ".join(str(error).split())
    Console(stderr=True, highlight=False, soft_wrap=True).print(f"hdl-zoo: error: {message}", markup=False)
    raise typer.Exit(code)


@app.command("list")
def list_command(
    dataset: Annotated[str | None, typer.Option(help="Only entries trained on this dataset.")] = None,
    method: Annotated[str | None, typer.Option(help="Only entries of this method (e.g. HDL, pgd_at).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list of the cards.")] = False,
):
    """List the entries: clean and worst-case robust accuracy, sparsity, bits, size."""
    with _reported_errors():
        with warnings.catch_warnings(record=True) as skipped:
            warnings.simplefilter("always")
            cards = registry.list_entries(dataset=dataset, method=method, skip_broken=True)
        for warning in skipped:
            message = " ".join(str(warning.message).split())
            Console(stderr=True, highlight=False, soft_wrap=True).print(
                f"hdl-zoo: warning: {message}", markup=False
            )
        if as_json:
            print(json.dumps(cards, indent=2))
            return
        table = Table(title=f"hdl_keras zoo: {len(cards)} entries", box=rich.box.SIMPLE_HEAD,
                      collapse_padding=True, pad_edge=False)
        # Names and numbers never wrap; on a narrow terminal the dataset column folds instead.
        table.add_column("name", no_wrap=True)
        table.add_column("dataset", overflow="fold")
        table.add_column("method", no_wrap=True)
        for column in ("clean", "robust", "sparsity", "bits", "size"):
            table.add_column(column, justify="right", no_wrap=True)
        for card in cards:
            metrics = card["metrics"] or {}
            table.add_row(
                card["name"], card["dataset"], card["method"]["name"],
                _percent(metrics.get("clean_accuracy")), _percent(metrics.get("worst_case_accuracy")),
                _percent(metrics.get("zero_weights")), _number(metrics.get("bits_per_weight")),
                _size(card["file_size_bytes"]),
            )
        _console().print(table)
        if any(card["metrics"] is None for card in cards):
            _console().print("-: not evaluated yet (hdl-zoo eval NAME --update-card)")


@app.command("card")
def card_command(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Entry name, e.g. mnist-small_cnn-hdl.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the card as JSON.")] = False,
):
    """Show an entry's model card."""
    with _reported_errors():
        card = registry.card(name)
        if as_json:
            print(json.dumps(card, indent=2))
            return
        table = Table(title=card["name"], show_header=False, box=rich.box.SIMPLE)
        table.add_column("field", style="bold")
        table.add_column("value", overflow="fold")
        for field, value in _card_rows(card):
            table.add_row(field, value)
        _console().print(table)


@app.command("eval")
def eval_command(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Entry name.")],
    attacks: Annotated[Optional[str], typer.Option(
        help="standard (FGSM, PGD-20), full (+ APGD, C&W, Square) or autoattack (FGSM, PGD-20 and "
             "AutoAttack; images only). Default: autoattack for image entries, standard for tables.")] = None,
    n: Annotated[int, typer.Option("--n", help="Number of test points (the first N).")] = 1000,
    batch_size: Annotated[int, typer.Option(help="Rows per attack call.")] = 256,
    eps: Annotated[Optional[float], typer.Option(help="l_inf radius; default: the card's.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the attacks' randomness.")] = 0,
    out: Annotated[Optional[pathlib.Path], typer.Option(help="Also write the result as JSON to this file.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object as the last line.")] = False,
    update_card: Annotated[bool, typer.Option("--update-card", help="Write the metrics into the card.")] = False,
):
    """Evaluate an entry with the attack suite at its card's radius."""
    with _reported_errors():
        card = registry.card(name)
        if attacks is None:
            attacks = evaluation.default_preset(card["dataset"])
        if attacks not in evaluation.PRESETS:
            raise _UsageError(f"--attacks must be one of {', '.join(evaluation.PRESETS)}. Received: {attacks!r}")
        for option, value in (("--n", n), ("--batch-size", batch_size)):
            if value < 1:
                raise _UsageError(f"{option} must be an integer >= 1. Received: {value}")
        if eps is not None and update_card and eps != card["threat_model"]["eps"]:
            raise _UsageError(f"--update-card writes the card's threat model: --eps must be the card's "
                              f"{card['threat_model']['eps']:g} or left out. Received: {eps:g}")
        progress = contextlib.redirect_stdout(sys.stderr) if as_json else contextlib.nullcontext()
        with progress:
            result = evaluation.evaluate_entry(name, attacks=attacks, n=n, batch_size=batch_size, verbose=1,
                                               seed=seed, eps=eps)
        if out is not None:
            out.write_text(json.dumps({"name": name, **result}, indent=2) + "\n")
        if update_card:
            seed_option = f" --seed {seed}" if seed else ""
            command = (f"hdl-zoo eval {name} --attacks {attacks} --n {n} --batch-size {batch_size}"
                       f"{seed_option} --update-card")
            from hdl_keras.recipes import zoo_cards  # the producer side, imported only to write

            zoo_cards.update_card(name, result, command, attacks=attacks)
            Console(stderr=as_json, highlight=False).print(f"updated {registry.zoo_root() / name / 'card.json'}")
        if as_json:
            print(json.dumps({"name": name, **result}))
            return
        table = Table(title=f"{name}: {result['num_examples']} test points, linf eps "
                      f"{eps if eps is not None else card['threat_model']['eps']:g}", box=rich.box.SIMPLE_HEAD)
        table.add_column("metric")
        table.add_column("this run", justify="right")
        table.add_column("paper", justify="right")
        paper = card["reference"]["values"]
        for label, value, reference in _metric_rows(result, paper):
            table.add_row(label, value, reference)
        _console().print(table)
        _console().print(f"paper: {_source(card['reference'])}", soft_wrap=True)


@app.command("train")
def train_command(
    recipe: Annotated[str, typer.Argument(metavar="RECIPE", help="Recipe (entry) name.")],
    epochs: Annotated[int | None, typer.Option(help="Override the recipe's epochs (per round).")] = None,
    train_examples: Annotated[int | None, typer.Option(help="Override the training subset size.")] = None,
):
    """Train an entry by its recipe; writes zoo/<name>/model.keras and its card (metrics reset)."""
    from hdl_keras.recipes import zoo_entries as recipes  # the producer, imported only to train

    with _reported_errors():
        recipes.get_recipe(recipe)
        for option, value in (("--epochs", epochs), ("--train-examples", train_examples)):
            if value is not None and value < 1:
                raise _UsageError(f"{option} must be an integer >= 1. Received: {value}")
        card = recipes.train_entry(recipe, epochs=epochs, train_examples=train_examples, verbose=1)
        training = card["training"]
        _console().print(
            f"wrote {registry.zoo_root() / recipe}: {card['parameters']} parameters, "
            f"{_size(card['file_size_bytes'])}, sha256 {card['sha256'][:12]}, "
            f"{training['wall_time_seconds']:.0f} s on {training['backend']}\n"
            f"next: hdl-zoo eval {recipe} --update-card",
            soft_wrap=True,
        )


@app.command("compare")
def compare_command(
    names: Annotated[list[str], typer.Argument(metavar="NAME", help="Entry names.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list.")] = False,
):
    """Compare entries side by side, with the papers' values."""
    with _reported_errors():
        cards = [registry.card(name) for name in names]
        if as_json:
            keys = ("name", "dataset", "architecture", "method", "threat_model", "metrics", "reference")
            print(json.dumps([{key: card[key] for key in keys} for card in cards], indent=2))
            return
        table = Table(box=rich.box.SIMPLE_HEAD)
        table.add_column("")
        for card in cards:
            table.add_column(card["name"], justify="right")
        attack_names = list(dict.fromkeys(a for c in cards for a in (c["metrics"] or {}).get("attacks", {})))
        paper_keys = list(dict.fromkeys(k for c in cards for k in c["reference"]["values"]))
        rows = [
            ("method", [c["method"]["name"] for c in cards]),
            ("parameters", [str(c["parameters"]) for c in cards]),
            ("eps (linf)", [f"{c['threat_model']['eps']:g}" for c in cards]),
            ("clean", [_percent((c["metrics"] or {}).get("clean_accuracy")) for c in cards]),
            *[(name, [_percent((c["metrics"] or {}).get("attacks", {}).get(name)) for c in cards])
              for name in attack_names],
            ("worst case", [_percent((c["metrics"] or {}).get("worst_case_accuracy")) for c in cards]),
            ("zero weights", [_percent((c["metrics"] or {}).get("zero_weights")) for c in cards]),
            ("zero channels", [_percent((c["metrics"] or {}).get("zero_channels")) for c in cards]),
            ("bits/weight", [_number((c["metrics"] or {}).get("bits_per_weight")) for c in cards]),
            ("size", [_size(c["file_size_bytes"]) for c in cards]),
            *[(f"paper {key}", [_paper_value(key, c["reference"]["values"].get(key)) for c in cards])
              for key in paper_keys],
            ("paper source", [_source(c["reference"]) for c in cards]),
        ]
        for label, values in rows:
            table.add_row(label, *values)
        _console().print(table)


def main():
    """Runs `hdl-zoo` (the console script)."""
    app(prog_name="hdl-zoo")


def _console():
    return Console(highlight=False)


def _percent(value):
    return "-" if value is None else f"{100 * value:.1f}%"


def _number(value):
    return "-" if value is None else f"{value:g}"


def _size(num_bytes):
    if num_bytes >= 1 << 20:
        return f"{num_bytes / (1 << 20):.1f} MB"
    return f"{num_bytes / 1024:.0f} KB"


def _paper_value(key, value):
    if value is None:
        return "-"
    return f"{value:.4g}" if key == "eps" else _percent(value)


def _source(reference):
    parts = [reference.get(key) for key in ("paper", "table", "figure")]
    return ", ".join(part for part in parts if part) or "no paper value for this setting"


def _metric_rows(result, paper):
    """(label, value, paper value) rows of an evaluation, with the paper's numbers where it has them."""
    paper_eps = paper.get("eps")
    at = f" (eps {paper_eps:.4g})" if paper_eps is not None else ""
    rows = [("clean", _percent(result["clean_accuracy"]), _percent(paper.get("clean_accuracy")))]
    for name, accuracy in result["attacks"].items():
        reference = paper.get("pgd") if name == "pgd20" else paper.get(name)
        rows.append((name, _percent(accuracy), _percent(reference) + (at if reference is not None else "")))
    rows += [
        ("worst case", _percent(result["worst_case_accuracy"]), ""),
        ("zero weights", _percent(result["zero_weights"]), _percent(paper.get("zero_weights"))),
        ("zero channels", _percent(result["zero_channels"]), ""),
        ("bits/weight", _number(result["bits_per_weight"]), ""),
        ("masking flags", ", ".join(result["gradient_masking_flags"]) or "none", ""),
    ]
    return rows


def _card_rows(card):
    """(field, value) rows of a card for `hdl-zoo card`."""
    method = card["method"]
    training = card["training"]
    metrics = card["metrics"]
    reference = card["reference"]
    hyper = ", ".join(f"{key}={value:g}" if isinstance(value, float) else f"{key}={value}"
                      for key, value in method["hyperparameters"].items())
    rows = [
        ("dataset", card["dataset"]),
        ("architecture", f"{card['architecture']} ({card['parameters']} parameters)"),
        ("method", f"{method['name']}: {method['objective']}"),
        ("hyperparameters", hyper or "-"),
        ("threat model", f"{card['threat_model']['norm']}, eps {card['threat_model']['eps']:g} "
                         f"({card['threat_model'].get('scaling', 'minmax')} units)"),
        ("training", training["command"]),
        ("", f"{training['epochs']} epochs, {training['train_examples']} examples, {training['backend']}, "
             f"{training['hardware']}, {training['wall_time_seconds']:.0f} s"),
        ("reduced", training["reduced"] or "no (the paper's setting)"),
    ]
    if metrics is None:
        rows.append(("metrics", f"not evaluated yet: hdl-zoo eval {card['name']} --update-card"))
    else:
        rows.append(("clean", f"{_percent(metrics['clean_accuracy'])} on {metrics['num_examples']} test points"))
        rows += [(f"  {name}", _percent(value)) for name, value in metrics["attacks"].items()]
        rows += [
            ("worst case", _percent(metrics["worst_case_accuracy"])),
            ("zero weights", _percent(metrics.get("zero_weights"))),
            ("zero channels", _percent(metrics.get("zero_channels"))),
            ("bits/weight", _number(metrics.get("bits_per_weight"))),
            ("masking flags", ", ".join(card["gradient_masking_flags"]) or "none"),
        ]
    evaluation_info = card["evaluation"]
    if evaluation_info is not None:
        rows.append(("evaluation", f"{evaluation_info['command']} ({evaluation_info['date']}, "
                                   f"{evaluation_info['backend']})"))
    rows += [
        ("file", f"{card['file']}, {_size(card['file_size_bytes'])}"),
        ("sha256", card["sha256"]),
        ("paper", _source(reference)),
    ]
    rows += [(f"  {key}", _paper_value(key, value)) for key, value in reference["values"].items()]
    return rows
