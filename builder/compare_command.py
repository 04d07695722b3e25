"""`torchcanvas compare RUN_DIR... [--plot OUT.png] [--json]`: training runs side by side.

Prints one table (model, parameters, best validation metric and its epoch, epochs, time,
samples/s) and a note naming every setting in which the runs' setups differ, and draws all
runs' validation curves into one PNG (``compare.png`` in the current folder unless ``--plot``
says otherwise; ``--no-plot`` for the table alone). The runs are only read; the picture never
replaces a run's own files, nor an existing file without ``--force``.

Exit codes: 0 compared; 2 a run folder or the output cannot be used (one line, naming it).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from builder.outputs import add_force_argument, output_problem, unusable

EXIT_OK, EXIT_UNUSABLE = 0, 2
DEFAULT_PLOT = "compare.png"


def add_compare_parser(sub) -> None:
    p = sub.add_parser("compare", help="compare training runs: a table of their scores and "
                                       "one plot of their validation curves")
    p.add_argument("runs", nargs="+", metavar="RUN_DIR", help="run folders made by train")
    p.add_argument("--plot", metavar="OUT.png", default=DEFAULT_PLOT,
                   help=f"where to draw the curves (default: {DEFAULT_PLOT} here)")
    p.add_argument("--no-plot", action="store_true", help="print the table only")
    p.add_argument("--json", action="store_true", help="print the table as JSON")
    add_force_argument(p, "OUT.png")
    p.set_defaults(run=cmd_compare)


def cmd_compare(args: argparse.Namespace) -> int:
    from builder.training.compare import CompareError, load_runs, report

    try:
        runs = load_runs(args.runs)
    except CompareError as err:
        return unusable(str(err))
    plot = None if args.no_plot else args.plot
    if plot is not None:
        problem = _plot_problem(plot, [p for run in runs for p in run.inputs], args.force)
        if problem:
            return unusable(problem)
        from builder.training.curves import plot_comparison

        try:
            plot_comparison([(run.label, run.rows) for run in runs], plot)
        except OSError as err:
            return unusable(f"cannot write {plot}: {err.strerror or err}")
    result = report(runs)
    if args.json:
        from builder.training.logs import jsonable

        json.dump(jsonable({**result, "plot": plot}), sys.stdout, indent=2, allow_nan=False)
        print()
    else:
        _print_text(result)
    if plot is not None:
        print(f"wrote {plot}", file=sys.stderr)
    return EXIT_OK


def _plot_problem(plot: str, inputs: list[Path], force: bool) -> str | None:
    if Path(plot).suffix.lower() != ".png":
        return f"{plot}: the plot is a PNG image; give a name ending in .png"
    return output_problem(plot, inputs, force)


def _print_text(result: dict) -> None:
    from builder.training.compare import format_differences, format_table

    print(format_table(result["runs"]))
    note = format_differences(result["differences"])
    if note:
        print()
        print("\n".join(note))
