"""The command line shared by the page generators built from the zoo's cards (zoo page, leaderboard).

`page_main(...)` parses `--check`, `--out` and `--img`, renders the page from
the cards (`hdl_keras.zoo.list_entries(skip_broken=True)`), and either writes
page and figure or, with `--check`, exits 1 when the page on disk differs or
the figure is missing (the staleness tests call it so).
"""

import argparse
import os
import pathlib
import sys

from hdl_keras.zoo import list_entries


def page_main(argv, *, description, script, default_page, default_figure, render, plot):
    """Writes (or with `--check`, checks) a page and its figure; returns the exit code.

    Args:
        argv: the arguments (None: `sys.argv[1:]`).
        description: the `--help` text.
        script: the generator's path from the repository root, named in the stale message.
        default_page, default_figure: the default `--out` and `--img`.
        render: `render(cards, figure_link=...)` -> the page's markdown.
        plot: `plot(cards, path)` writes the figure.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--check", action="store_true", help="exit 1 if the page is not up to date")
    parser.add_argument("--out", type=pathlib.Path, default=default_page, help="the markdown page")
    parser.add_argument("--img", type=pathlib.Path, default=default_figure, help="the figure")
    args = parser.parse_args(argv)
    cards = list_entries(skip_broken=True)
    link = pathlib.Path(os.path.relpath(args.img.resolve(), args.out.resolve().parent)).as_posix()
    page = render(cards, figure_link=link)
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.is_file() else None
        if current != page or not args.img.is_file():
            print(f"{args.out} is not up to date with the zoo's cards: run python {script}", file=sys.stderr)
            return 1
        return 0
    args.out.write_text(page, encoding="utf-8")
    plot(cards, args.img)
    print(f"wrote {args.out} ({len(cards)} entries) and {args.img}")
    return 0
