"""Earlier runs drawn under the live one: their per-epoch curves from metrics.csv rows.

Each run gets one colour of its own; its validation loss and metric are dashed and its
training loss dotted (the live run's are solid), so a glance tells live from earlier and val
from train. x is the row's global ``step``, the live plot's axis; rows without one are left
out, since placing them by epoch would put them on another scale.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence

import numpy as np
from PySide6.QtCore import Qt

from builder.gui.train.curves_metrics import metric_column, number
from builder.gui.train.curves_plotlib import pg
from builder.gui.train.curves_style import PlotColors

LOSS_STYLES = {"val_loss": Qt.PenStyle.DashLine, "train_loss": Qt.PenStyle.DotLine}
LOSS_LABELS = {"val_loss": "val loss", "train_loss": "train loss"}


class Overlay:
    """One earlier run's curves: a loss plot item per loss column it has, and a metric item
    that follows the live run's metric (``show_metric``)."""

    def __init__(
        self,
        name: str,
        rows: Sequence[Mapping[str, object]],
        color_index: int,
        loss_plot: pg.PlotItem,
        metric_plot: pg.PlotItem,
    ):
        self.name = name
        self.color_index = color_index
        self._own_metric = metric_column(rows[0]) if rows else None
        self._columns = _columns(rows)
        self._loss_plot, self._metric_plot = loss_plot, metric_plot
        self.items: dict[str, pg.PlotDataItem] = {}
        for column in LOSS_STYLES:
            if _has_values(self._columns.get(column)):
                item = _item(
                    f"{html.escape(name)} {LOSS_LABELS[column]}",
                    self._columns["step"],
                    self._columns[column],
                )
                loss_plot.addItem(item)
                self.items[column] = item
        self.metric_item: pg.PlotDataItem | None = None

    def show_metric(self, metric: str | None) -> None:
        """Draw ``metric``'s column (the live run's metric; None: this run's own) when this
        run has it; runs scoring another metric draw none, as they share no axis."""
        column = metric or self._own_metric
        values = self._columns.get(column) if column else None
        if self.metric_item is not None:
            self._metric_plot.removeItem(self.metric_item)
            self.metric_item = None
        if _has_values(values):
            self.metric_item = _item(
                f"{html.escape(self.name)} {column}", self._columns["step"], values
            )
            self._metric_plot.addItem(self.metric_item)

    def apply_colors(self, colors: PlotColors) -> None:
        color = colors.overlay_color(self.color_index)
        for column, item in self.items.items():
            item.setPen(pg.mkPen(color, width=1.6, style=LOSS_STYLES[column]))
        if self.metric_item is not None:
            self.metric_item.setPen(pg.mkPen(color, width=1.6, style=Qt.PenStyle.DashLine))

    def remove(self) -> None:
        for item in self.items.values():
            self._loss_plot.removeItem(item)
        if self.metric_item is not None:
            self._metric_plot.removeItem(self.metric_item)
        self.items.clear()
        self.metric_item = None


def _columns(rows: Sequence[Mapping[str, object]]) -> dict[str, np.ndarray]:
    """Column -> values of the rows that have a global step, as float arrays (NaN for
    missing or unreadable cells), with ``step`` the x of them all."""
    kept = [row for row in rows if math.isfinite(number(row.get("step")))]
    names = {name for row in kept for name in row}
    return {
        name: np.array([number(row.get(name)) for row in kept], dtype=float)
        for name in names | {"step"}
    }


def _has_values(values: np.ndarray | None) -> bool:
    return values is not None and bool(np.isfinite(values).any())


def _item(name: str, x: np.ndarray, y: np.ndarray) -> pg.PlotDataItem:
    return pg.PlotDataItem(x, y, name=name, connect="finite", antialias=True)
