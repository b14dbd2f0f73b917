"""Every zoo entry against its paper row: the paper's values, ours, the gap, the train time.

Usage: python benchmarks/zoo_targets.py [--json]

Reads the cards of `hdl_keras.zoo.list_entries()` (the repository's `zoo/`, or
`$HDL_KERAS_ZOO_DIR`) and prints one line per entry from
`hdl_keras.zoo.targets.paper_comparison`: clean and robust accuracy (ours with
its Wilson 95 % interval, the paper's), the radii, zero weights, the gaps
(ours minus paper, points), the training wall time, and whether the entry
meets its paper row. Nothing is recomputed: the numbers are the cards'.
Last line: one JSON object `{"entries", "meet_paper_row", "max_train_minutes",
"min_test_images_robust"}` (`hdl_keras.zoo.targets.summary`).
"""

import argparse
import json


def _percent(value):
    return "-" if value is None else f"{100 * value:.2f}"


def _interval(bounds):
    return "" if bounds is None else f" [{100 * bounds[0]:.1f}, {100 * bounds[1]:.1f}]"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print every row as JSON too")
    args = parser.parse_args()

    from hdl_keras.zoo import list_entries
    from hdl_keras.zoo.targets import paper_comparison
    from hdl_keras.zoo.targets import summary

    cards = list_entries(skip_broken=True)
    rows = [paper_comparison(card) for card in cards]
    for row in rows:
        gaps = ", ".join(f"{key} {100 * gap:+.2f}" for key, gap in row["gaps"].items()) or "-"
        verdict = {True: "meets", False: "below", None: "no paper row or not evaluated"}[row["meets_paper_row"]]
        radius = (
            ""
            if row["same_radius"] or row["paper_eps"] is None
            else (
                f" (paper eps {row['paper_eps']:.4g} in {row['paper_scaling']} units != ours {row['eps']:.4g} "
                f"in {row['scaling']} units)"
            )
        )
        print(
            f"{row['name']}: clean {_percent(row['clean'])}{_interval(row['clean_interval'])} "
            f"vs paper {_percent(row['paper_clean'])}; robust ({row['robust_metric'] or '-'}, n={row['robust_n']}) "
            f"{_percent(row['robust'])}{_interval(row['robust_interval'])} vs paper "
            f"{row['paper_robust_metric'] or '-'} {_percent(row['paper_robust'])}{radius}; "
            f"zero weights {_percent(row['zero_weights'])} vs {_percent(row['paper_zero_weights'])}; "
            f"gap {gaps}; trained in {row['train_minutes']:.1f} min; {verdict}"
        )
        if args.json:
            print(json.dumps(row))
    print(json.dumps(summary(rows, datasets={card["name"]: card["dataset"] for card in cards})))


if __name__ == "__main__":
    main()
