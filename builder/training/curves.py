"""metrics.csv read back, and drawn: a run's curves (curves.png) and several runs side by side.

A run appends one row per epoch and flushes it, so a reader (the app, `compare`, this run's own
closing plot) may meet a last line that a kill cut in half: a line without its newline, or with
a field missing, is dropped instead of failing the whole file.

Drawing uses matplotlib's object API (``Figure`` + ``FigureCanvasAgg``), never pyplot: pyplot
keeps global state and picks a GUI backend, and this runs inside other programs (tests, the
app's process, a torchrun worker). Pictures are written atomically (temp file + rename), so a
viewer that reloads curves.png never sees half of one.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

from graph_schema.files import atomic_write_bytes

INTEGER_COLUMNS = ("epoch", "step")
Row = dict[str, float | int | None]


def read_metrics(path: str | Path) -> list[Row]:
    """The rows of a metrics.csv, numbers parsed: ``epoch`` and ``step`` as int, the rest as
    float ("nan" stays NaN), an empty cell as None. Raises OSError when the file cannot be
    read; a file without rows gives []."""
    text = Path(path).read_text(encoding="utf-8", errors="replace")
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines.pop()  # cut short by a kill mid-write: the complete rows before it still count
    reader = csv.reader(lines)
    header = next(reader, None)
    if not header:
        return []
    rows = []
    for fields in reader:
        row = _parse_row(header, fields)
        if row is not None:
            rows.append(row)
    return rows


def _parse_row(header: Sequence[str], fields: Sequence[str]) -> Row | None:
    if len(fields) != len(header):
        return None
    row: Row = {}
    for name, text in zip(header, fields):
        text = text.strip()
        if not text:
            row[name] = None
            continue
        try:
            value = float(text)
        except ValueError:
            return None
        row[name] = int(value) if name in INTEGER_COLUMNS and value.is_integer() else value
    return row


def metric_column(rows: Sequence[Mapping[str, object]]) -> str | None:
    """The validation metric's column (val_acc, val_mae, ...): the first ``val_`` column that
    is not the loss."""
    for row in rows[:1]:
        for name in row:
            if name.startswith("val_") and name != "val_loss":
                return name
    return None


def series(rows: Sequence[Mapping[str, object]], column: str) -> tuple[list[float], list[float]]:
    """(epochs, values) of one column; a missing cell becomes NaN, which matplotlib leaves as
    a gap instead of drawing a line through it."""
    epochs, values = [], []
    for index, row in enumerate(rows, 1):
        epoch = row.get("epoch")
        epochs.append(float(epoch) if isinstance(epoch, (int, float)) else float(index))
        value = row.get(column)
        values.append(float(value) if isinstance(value, (int, float)) else math.nan)
    return epochs, values


def has_values(values: Sequence[float]) -> bool:
    return any(math.isfinite(v) for v in values)


def plot_curves(rows: Sequence[Mapping[str, object]], path: str | Path, title: str) -> None:
    """One run's curves: train and val loss against epoch, and the val metric beside them.
    Raises OSError when the picture cannot be written."""
    metric = metric_column(rows)
    figure, axes = _figure(2 if metric else 1)
    figure.suptitle(title)
    loss_axes = axes[0]
    for column, style in (("train_loss", "-"), ("val_loss", "-")):
        epochs, values = series(rows, column)
        if has_values(values):
            loss_axes.plot(epochs, values, style, marker="o", markersize=3, label=column)
    _label(loss_axes, "loss")
    if metric:
        epochs, values = series(rows, metric)
        if has_values(values):
            axes[1].plot(epochs, values, marker="o", markersize=3, color="tab:green",
                         label=metric)
        _label(axes[1], metric)
    if not rows:
        loss_axes.text(0.5, 0.5, "no finished epoch yet", ha="center", va="center",
                       transform=loss_axes.transAxes)
    _save(figure, path)


def plot_comparison(runs: Sequence[tuple[str, Sequence[Mapping[str, object]]]],
                    path: str | Path) -> None:
    """Several runs' validation curves on shared axes: val loss, then one panel per val metric
    (runs of different tasks score different metrics; those never share an axis).
    Raises OSError when the picture cannot be written."""
    metrics: list[str] = []
    for _, rows in runs:
        metric = metric_column(rows)
        if metric and metric not in metrics:
            metrics.append(metric)
    columns = ["val_loss", *metrics]
    figure, axes = _figure(len(columns))
    figure.suptitle("validation curves")
    for axis, column in zip(axes, columns):
        for index, (label, rows) in enumerate(runs):
            epochs, values = series(rows, column)
            if has_values(values):
                axis.plot(epochs, values, marker="o", markersize=3, label=label,
                          color=f"C{index % 10}")
        _label(axis, column)
    _save(figure, path)


def _figure(panels: int):
    from matplotlib.figure import Figure

    figure = Figure(figsize=(5.0 * panels, 4.0), dpi=100, layout="constrained")
    axes = figure.subplots(1, panels, squeeze=False)[0]
    return figure, list(axes)


def _label(axis, ylabel: str) -> None:
    from matplotlib.ticker import MaxNLocator

    axis.xaxis.set_major_locator(MaxNLocator(integer=True))  # no epoch 2.5
    axis.set_xlabel("epoch")
    axis.set_ylabel(ylabel)
    axis.grid(True, alpha=0.3)
    if axis.get_legend_handles_labels()[0]:
        axis.legend(fontsize="small")


def _save(figure, path: str | Path) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)  # attaches itself to the figure: PNG by Agg, no pyplot involved
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    atomic_write_bytes(path, buffer.getvalue())
