"""A run's metrics.csv read back for the app, and the numbers of the rows it hands around.

The rows are read by the runner's own reader (builder.training.curves.read_metrics: torch-free,
allowed to the app by the import contract in pyproject.toml), so the panel and `torchcanvas
compare` read a file, including a last line a kill cut in half, the same way.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from builder.training.curves import read_metrics as read_metrics_csv

__all__ = ["metric_column", "number", "read_metrics_csv"]


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
