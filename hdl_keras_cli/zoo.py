"""`hdl zoo` (also `hdl-zoo`): list, inspect, evaluate, train and compare the zoo's entries.

```
hdl zoo list [--dataset D] [--method M] [--json]
hdl zoo card NAME [--json]
hdl zoo compare NAME... [--json]
hdl zoo eval NAME [--attacks standard|bertsimas2023|full|autoattack] [--n N] [--batch-size B] [--eps EPS] [--seed S]
              [--out FILE] [--json] [--update-card]
hdl zoo train RECIPE [--epochs E] [--train-examples N]
```

`list`, `card` and `compare` read the cards (JSON) only and answer without
importing Keras; `eval` and `train` load hdl_keras, quietly, when they start.
Accuracies print as percentages; `--json` prints the numbers as stored
(fractions). With `eval --json`, progress goes to stderr and the last line of
stdout is one JSON object (`clean_accuracy`, `attacks`,
`worst_case_accuracy`, ...). Errors print one line on stderr
(`hdl zoo: error: ...`) and exit with code 1 (2 for bad usage).

Written with `argparse` (standard library, 0.04 s to import) like `hdl train`
and `hdl protocol`: typer 0.29 with its pydantic coercion took 0.5 to 1 s
of the 2 s a `--help` may take on a loaded 2-core machine.
"""

import contextlib
import json
import pathlib
import sys
import warnings

import rich.box
from rich.table import Table

from hdl_keras_cli import cards as card_files
from hdl_keras_cli import tables
from hdl_keras_cli.backend import load_library_or_exit
from hdl_keras_cli.backend import progress_verbosity
from hdl_keras_cli.errors import EXIT_FAILURE
from hdl_keras_cli.errors import EXIT_USAGE
from hdl_keras_cli.errors import ArgumentParser
from hdl_keras_cli.errors import UsageError
from hdl_keras_cli.errors import fail
from hdl_keras_cli.errors import warn
from hdl_keras_cli.tables import bits
from hdl_keras_cli.tables import percent
from hdl_keras_cli.tables import size

# The attack presets of `hdl_keras.zoo.evaluation.PRESETS` (tests/cli checks they agree).
ATTACK_PRESETS = ("standard", "bertsimas2023", "full", "autoattack")
DESCRIPTION = "The hdl_keras model zoo: robust, sparse models with model cards."


def build_parser(prog="hdl-zoo"):
    """The argument parser of `hdl zoo` / `hdl-zoo`: one subcommand per zoo command."""
    parser = ArgumentParser(prog=prog, description=DESCRIPTION)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    listing = _add_command(commands, "list", list_command, prog)
    listing.add_argument("--dataset", help="only entries trained on this dataset")
    listing.add_argument("--method", help="only entries of this method (e.g. HDL, pgd_at)")
    listing.add_argument("--json", dest="as_json", action="store_true", help="print a JSON list of the cards")

    card = _add_command(commands, "card", card_command, prog)
    card.add_argument("name", metavar="NAME", help="entry name, e.g. mnist-small_cnn-hdl")
    card.add_argument("--json", dest="as_json", action="store_true", help="print the card as JSON")

    compare = _add_command(commands, "compare", compare_command, prog)
    compare.add_argument("names", metavar="NAME", nargs="+", help="entry names")
    compare.add_argument("--json", dest="as_json", action="store_true", help="print a JSON list")

    evaluate = _add_command(commands, "eval", eval_command, prog)
    evaluate.add_argument("name", metavar="NAME", help="entry name")
    evaluate.add_argument(
        "--attacks",
        help="standard (FGSM, PGD-20), bertsimas2023 (+ the paper's PGD-40 of 0.01), full "
        "(+ APGD, C&W, Square) or autoattack (FGSM, PGD-20 and AutoAttack; images only); default: "
        "autoattack for image entries, bertsimas2023 for tables in the paper's scaling, standard "
        "for other tables",
    )
    evaluate.add_argument("--n", type=int, default=1000, help="number of test points, the first N (default 1000)")
    evaluate.add_argument("--batch-size", type=int, default=256, help="rows per attack call (default 256)")
    evaluate.add_argument("--eps", type=float, help="l_inf radius (default: the card's)")
    evaluate.add_argument("--seed", type=int, default=0, help="seed of the attacks' randomness (default 0)")
    evaluate.add_argument("--out", type=pathlib.Path, help="also write the result as JSON to this file")
    evaluate.add_argument(
        "--json",
        dest="as_json",
        action="store_true",
        help="print one JSON object as the last line (progress goes to stderr)",
    )
    evaluate.add_argument("--update-card", action="store_true", help="write the metrics into the card")

    train = _add_command(commands, "train", train_command, prog)
    train.add_argument("recipe", metavar="RECIPE", help="recipe (entry) name")
    train.add_argument("--epochs", type=int, help="override the recipe's epochs (per round)")
    train.add_argument("--train-examples", type=int, help="override the training subset size")
    return parser


def _add_command(commands, name, run, prog):
    """Adds subcommand `name`, run by `run(args, program)`, documented by `run`'s docstring."""
    parser = commands.add_parser(name, help=run.__doc__, description=run.__doc__, program=prog)
    parser.set_defaults(run=run)
    return parser


def main(argv=None, prog="hdl-zoo"):
    """Runs `hdl zoo` with `argv` (default `sys.argv[1:]`); returns the exit code 0.

    Errors print one line on stderr and exit with code 1 (2 for bad usage).
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(prog)
    if not argv:
        parser.print_help()
        return EXIT_USAGE
    args = parser.parse_args(argv)
    with _reported_errors(prog):
        args.run(args, prog)
    return 0


@contextlib.contextmanager
def _reported_errors(program):
    """Turns the zoo's errors into one line on stderr and a non-zero exit, without a traceback."""
    try:
        yield
    except UsageError as error:
        fail(program, error, EXIT_USAGE)
    except (card_files.CardError, ValueError, OSError) as error:
        fail(program, error, EXIT_FAILURE)
    except Exception as error:
        zoo_errors = sys.modules.get("hdl_keras.zoo.errors")
        if zoo_errors is not None and isinstance(error, zoo_errors.ZooError):
            fail(program, error, EXIT_FAILURE)
        raise


def list_command(args, program):
    """List the entries: clean and worst-case robust accuracy, sparsity, bits, size."""
    with warnings.catch_warnings(record=True) as skipped:
        warnings.simplefilter("always")
        cards = card_files.list_cards(dataset=args.dataset, method=args.method)
    for warning in skipped:
        warn(program, warning.message)
    if args.as_json:
        print(json.dumps(cards, indent=2))
        return
    out = tables.console()
    out.print(tables.zoo_list_table(cards, out))
    if any(card["metrics"] is None for card in cards):
        out.print("-: not evaluated yet (hdl-zoo eval NAME --update-card)")


def card_command(args, program):
    """Show an entry's model card."""
    card = card_files.card(args.name)
    if args.as_json:
        print(json.dumps(card, indent=2))
        return
    table = Table(title=card["name"], show_header=False, box=rich.box.SIMPLE)
    table.add_column("field", style="bold", no_wrap=True)
    table.add_column("value", overflow="fold")
    for field, value in _card_rows(card):
        table.add_row(field, value)
    tables.console().print(table)


def compare_command(args, program):
    """Compare entries side by side, with the papers' values."""
    cards = [card_files.card(name) for name in args.names]
    if args.as_json:
        keys = ("name", "dataset", "architecture", "method", "threat_model", "metrics", "reference")
        print(json.dumps([{key: card[key] for key in keys} for card in cards], indent=2))
        return
    sources = list(dict.fromkeys(_source(card["reference"]) for card in cards))
    rows = _compare_rows(cards, sources)
    out = tables.console()
    out.print(
        tables.compare_table(
            [label for label, _ in rows], [c["name"] for c in cards], [values for _, values in rows], out
        )
    )
    for index, source in enumerate(sources, start=1):
        out.print(f"[{index}] {source}", markup=False)


def eval_command(args, program):
    """Evaluate an entry with the attack suite at its card's radius (a progress bar per pass)."""
    name, eps = args.name, args.eps
    card = card_files.card(name)
    if args.attacks is not None and args.attacks not in ATTACK_PRESETS:
        raise UsageError(f"--attacks must be one of {', '.join(ATTACK_PRESETS)}. Received: {args.attacks!r}")
    for option, value in (("--n", args.n), ("--batch-size", args.batch_size)):
        if value < 1:
            raise UsageError(f"{option} must be an integer >= 1. Received: {value}")
    if eps is not None and args.update_card and eps != card["threat_model"]["eps"]:
        raise UsageError(
            f"--update-card writes the card's threat model: --eps must be the card's "
            f"{card['threat_model']['eps']:g} or left out. Received: {eps:g}"
        )
    load_library_or_exit(program)
    from hdl_keras.recipes import zoo_cards
    from hdl_keras.zoo import evaluation
    from hdl_keras.zoo import registry

    card = registry.card(name)  # the full validation (dataset and architecture names)
    attacks = args.attacks or evaluation.default_preset(card["dataset"], card["threat_model"].get("scaling", "minmax"))
    progress_stream = sys.stderr if args.as_json else sys.stdout
    with contextlib.redirect_stdout(sys.stderr) if args.as_json else contextlib.nullcontext():
        result = evaluation.evaluate_entry(
            name,
            attacks=attacks,
            n=args.n,
            batch_size=args.batch_size,
            verbose=progress_verbosity(progress_stream),
            seed=args.seed,
            eps=eps,
        )
    if args.out is not None:
        args.out.write_text(json.dumps({"name": name, **result}, indent=2) + "\n")
    if args.update_card:
        seed_option = f" --seed {args.seed}" if args.seed else ""
        command = (
            f"hdl-zoo eval {name} --attacks {attacks} --n {args.n} --batch-size {args.batch_size}"
            f"{seed_option} --update-card"
        )
        zoo_cards.update_card(name, result, command, attacks=attacks)
        tables.console(stderr=args.as_json).print(f"updated {registry.zoo_root() / name / 'card.json'}", soft_wrap=True)
    if args.as_json:
        print(json.dumps({"name": name, **result}))
        return
    table = Table(
        title=f"{name}: {result['num_examples']} test points, linf eps "
        f"{eps if eps is not None else card['threat_model']['eps']:g}",
        box=rich.box.SIMPLE_HEAD,
    )
    table.add_column("metric", no_wrap=True)
    table.add_column("this run", justify="right", no_wrap=True)
    table.add_column("paper", justify="right", overflow="fold")
    for label, value, reference in _metric_rows(result, card["reference"]["values"]):
        table.add_row(label, value, reference)
    out = tables.console()
    out.print(table)
    out.print(f"paper: {_source(card['reference'])}", soft_wrap=True)


def train_command(args, program):
    """Train an entry by its recipe (a progress bar per epoch); writes zoo/<name>/: model file and card."""
    for option, value in (("--epochs", args.epochs), ("--train-examples", args.train_examples)):
        if value is not None and value < 1:
            raise UsageError(f"{option} must be an integer >= 1. Received: {value}")
    load_library_or_exit(program)
    from hdl_keras.recipes import zoo_entries as recipes
    from hdl_keras.zoo import registry

    recipes.get_recipe(args.recipe)
    card = recipes.train_entry(
        args.recipe, epochs=args.epochs, train_examples=args.train_examples, verbose=progress_verbosity()
    )
    training = card["training"]
    tables.console().print(
        f"wrote {registry.zoo_root() / args.recipe}: {card['parameters']} parameters, "
        f"{size(card['file_size_bytes'])}, sha256 {card['sha256'][:12]}, "
        f"{training['wall_time_seconds']:.0f} s on {training['backend']}\n"
        f"next: hdl-zoo eval {args.recipe} --update-card",
        soft_wrap=True,
    )


def _paper_value(key, value):
    if value is None:
        return "-"
    return f"{value:.4g}" if key == "eps" else percent(value)


def _source(reference):
    parts = [reference.get(key) for key in ("paper", "table", "figure")]
    return ", ".join(part for part in parts if part) or "no paper value for this setting"


def _compare_rows(cards, sources):
    """(label, one value per card) rows of `hdl zoo compare`; papers as `[i]`, the index in `sources` plus 1."""
    metrics = [card["metrics"] or {} for card in cards]
    attack_names = list(dict.fromkeys(a for m in metrics for a in m.get("attacks", {})))
    paper_keys = list(dict.fromkeys(k for c in cards for k in c["reference"]["values"]))
    return [
        ("method", [c["method"]["name"] for c in cards]),
        ("parameters", [str(c["parameters"]) for c in cards]),
        ("eps (linf)", [f"{c['threat_model']['eps']:g}" for c in cards]),
        ("clean", [percent(m.get("clean_accuracy")) for m in metrics]),
        *[(name, [percent(m.get("attacks", {}).get(name)) for m in metrics]) for name in attack_names],
        ("worst case", [percent(m.get("worst_case_accuracy")) for m in metrics]),
        ("zero weights", [percent(m.get("zero_weights")) for m in metrics]),
        ("zero channels", [percent(m.get("zero_channels")) for m in metrics]),
        ("bits/weight", [bits(m.get("bits_per_weight")) for m in metrics]),
        ("size", [size(c["file_size_bytes"]) for c in cards]),
        *[
            (f"paper {key}", [_paper_value(key, c["reference"]["values"].get(key)) for c in cards])
            for key in paper_keys
        ],
        ("paper source", [f"[{sources.index(_source(c['reference'])) + 1}]" for c in cards]),
    ]


def _metric_rows(result, paper):
    """(label, value, paper value) rows of an evaluation, with the paper's numbers where it has them."""
    paper_eps = paper.get("eps")
    at = f" (eps {paper_eps:.4g})" if paper_eps is not None else ""
    rows = [("clean", percent(result["clean_accuracy"]), percent(paper.get("clean_accuracy")))]
    for name, accuracy in result["attacks"].items():
        reference = paper.get("pgd") if name == "pgd20" else paper.get(name)
        rows.append((name, percent(accuracy), percent(reference) + (at if reference is not None else "")))
    rows += [
        ("worst case", percent(result["worst_case_accuracy"]), ""),
        ("zero weights", percent(result["zero_weights"]), percent(paper.get("zero_weights"))),
        ("zero channels", percent(result["zero_channels"]), ""),
        ("bits/weight", bits(result["bits_per_weight"]), ""),
        ("masking flags", ", ".join(result["gradient_masking_flags"]) or "none", ""),
    ]
    return rows


def _card_rows(card):
    """(field, value) rows of a card for `hdl zoo card`."""
    method = card["method"]
    training = card["training"]
    metrics = card["metrics"]
    reference = card["reference"]
    hyper = ", ".join(
        f"{key}={value:g}" if isinstance(value, float) else f"{key}={value}"
        for key, value in method["hyperparameters"].items()
    )
    rows = [
        ("dataset", card["dataset"]),
        ("architecture", f"{card['architecture']} ({card['parameters']} parameters)"),
        ("method", f"{method['name']}: {method['objective']}"),
        ("hyperparameters", hyper or "-"),
        (
            "threat model",
            (
                f"{card['threat_model']['norm']}, eps {card['threat_model']['eps']:g} "
                f"({card['threat_model'].get('scaling', 'minmax')} units)"
            ),
        ),
        ("training", training["command"]),
        (
            "",
            (
                f"{training['epochs']} epochs, {training['train_examples']} examples, {training['backend']}, "
                f"{training['hardware']}, {training['wall_time_seconds']:.0f} s"
            ),
        ),
        ("reduced", training["reduced"] or "no (the paper's setting)"),
    ]
    if metrics is None:
        rows.append(("metrics", f"not evaluated yet: hdl-zoo eval {card['name']} --update-card"))
    else:
        rows.append(("clean", f"{percent(metrics['clean_accuracy'])} on {metrics['num_examples']} test points"))
        rows += [(f"  {name}", percent(value)) for name, value in metrics["attacks"].items()]
        rows += [
            ("worst case", percent(metrics["worst_case_accuracy"])),
            ("zero weights", percent(metrics.get("zero_weights"))),
            ("zero channels", percent(metrics.get("zero_channels"))),
            ("bits/weight", bits(metrics.get("bits_per_weight"))),
            ("masking flags", ", ".join(card["gradient_masking_flags"]) or "none"),
        ]
    evaluation_info = card["evaluation"]
    if evaluation_info is not None:
        rows.append(
            ("evaluation", (f"{evaluation_info['command']} ({evaluation_info['date']}, {evaluation_info['backend']})"))
        )
    rows += [
        ("file", f"{card['file']}, {size(card['file_size_bytes'])}"),
        ("sha256", card["sha256"]),
        ("paper", _source(reference)),
    ]
    rows += [(f"  {key}", _paper_value(key, value)) for key, value in reference["values"].items()]
    return rows
