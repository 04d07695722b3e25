"""A run's metrics.csv read back for the app, and the numbers of the rows it hands around.

The runner has its own reader (builder.training.curves.read_metrics), torch-free too, but the
app may not import builder.training at all (the import contract in pyproject.toml keeps the
whole runner package out of the GUI), so this is the same reader, kept in step with that one
by tests/gui/test_train_curves.py: same rows from the same file, including a last line that a
kill cut in half (dropped) and "nan" cells (NaN).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

INTEGER_COLUMNS = ("epoch", "step")
Row = dict[str, float | int | None]


def read_metrics_csv(path: str | Path) -> list[Row]:
    """The rows of a metrics.csv, numbers parsed: ``epoch`` and ``step`` as int, the rest as
    float ("nan" stays NaN), an empty cell as None. A last line without its newline (a run
    killed mid-write) and rows with a field missing or not a number are dropped. Raises
    OSError when the file cannot be read; a file without rows gives []."""
    text = Path(path).read_text(encoding="utf-8", errors="replace")
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines.pop()
    reader = csv.reader(lines)
    header = next(reader, None)
    if not header:
        return []
    return [row for row in (_parse_row(header, fields) for fields in reader) if row is not None]


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


def number(value: object) -> float:
    """A cell or event field as a float; anything that is not a number (None, "", "abc",
    True) is NaN, which the plots leave as a gap."""
    if isinstance(value, bool) or value is None:
        return math.nan
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return math.nan
    return math.nan


def metric_column(row: Mapping[str, object]) -> str | None:
    """The validation metric's column (val_acc, val_mae, ...): the first ``val_`` column that
    is not the loss, as the runner names them."""
    return next((name for name in row if name.startswith("val_") and name != "val_loss"), None)
