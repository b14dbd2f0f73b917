"""Tables that fit the terminal without cutting a number.

Rich shrinks a table that is wider than the console by wrapping the columns
that may wrap and, if that is not enough, by cutting cells with "…". Every
table here is offered in variants, widest first (all columns, then without
the lower-priority ones, then with names folded over lines); the first
variant whose natural width fits is printed, so numbers are never cut.
"""

import rich.box
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

NUMBER_COLUMNS = ("clean", "robust", "sparsity", "bits", "size")


def console(stderr=False):
    return Console(stderr=stderr, highlight=False, soft_wrap=False)


def fits(out, table):
    """Whether `table` prints at its natural width on `out` (no wrapped or cut cell)."""
    unbounded = out.options.update_width(10_000)  # Measurement.get clamps to the width it is given
    return Measurement.get(out, unbounded, table).maximum <= out.width


def first_fitting(out, variants):
    """The first table of `variants` (callables, widest first) that fits `out`; else the last one."""
    for build in variants:
        table = build()
        if fits(out, table):
            return table
    return table


def zoo_list_table(cards, out):
    """`hdl zoo list`: name, dataset, method, clean and robust accuracy, sparsity, bits, size.

    Dropped first when too wide: the dataset, then the method (both are
    parts of the entry name), then the bits (the size tells a 1-bit entry
    too); last resort: the name column wraps.
    """
    rows = [
        {
            "name": card["name"],
            "dataset": card["dataset"],
            "method": card["method"]["name"],
            "clean": percent((card["metrics"] or {}).get("clean_accuracy")),
            "robust": percent((card["metrics"] or {}).get("worst_case_accuracy")),
            "sparsity": percent((card["metrics"] or {}).get("zero_weights")),
            "bits": bits((card["metrics"] or {}).get("bits_per_weight")),
            "size": size(card["file_size_bytes"]),
        }
        for card in cards
    ]

    def build(columns, wrap_names=False):
        def make():
            table = Table(
                title=f"hdl_keras zoo: {len(cards)} entries",
                box=rich.box.SIMPLE_HEAD,
                collapse_padding=True,
                pad_edge=False,
                show_edge=False,
            )
            for column in columns:
                numeric = column in NUMBER_COLUMNS
                table.add_column(
                    column,
                    justify="right" if numeric else "left",
                    no_wrap=numeric or not (wrap_names and column == "name"),
                    overflow="fold",
                )
            for row in rows:
                table.add_row(*(row[column] for column in columns))
            return table

        return make

    everything = ("name", "dataset", "method", *NUMBER_COLUMNS)
    without_dataset = ("name", "method", *NUMBER_COLUMNS)
    names_and_numbers = ("name", *NUMBER_COLUMNS)
    without_bits = tuple(column for column in names_and_numbers if column != "bits")
    return first_fitting(
        out,
        [
            build(everything),
            build(without_dataset),
            build(names_and_numbers),
            build(without_bits),
            build(without_bits, wrap_names=True),
        ],
    )


def compare_table(labels, names, rows, out):
    """`hdl zoo compare`: one column per entry, headed by its full name.

    Names that do not fit side by side are split over lines at their `-`
    (`mnist-` / `small_cnn-` / `pgd_at`), so four entries of one dataset
    stay distinguishable at 80 columns; the cells are short (numbers, method
    names, `[i]` references to the papers printed below the table).
    """

    def build(headers, text_rows):
        def make():
            table = Table(box=rich.box.SIMPLE_HEAD)
            table.add_column("", no_wrap=True)
            for header in headers:
                table.add_column(header, justify="right", overflow="fold")
            for label, values in text_rows:
                table.add_row(label, *values)
            return table

        return make

    text_rows = list(zip(labels, rows))
    headers = names if fits(out, build(names, text_rows)()) else ["-\n".join(name.split("-")) for name in names]
    return build(headers, text_rows)()


def percent(value):
    return "-" if value is None else f"{100 * value:.1f}%"


def bits(value):
    """Bits per weight to 3 significant digits: 32, 1, 1.14 (a 1-bit network with one float layer)."""
    return "-" if value is None else f"{value:.3g}"


def size(num_bytes):
    if num_bytes >= 1 << 20:
        return f"{num_bytes / (1 << 20):.1f} MB"
    return f"{num_bytes / 1024:.0f} KB"
