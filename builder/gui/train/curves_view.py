"""Live training curves: the runner's --json-progress events, plotted as they come.

Two plots share one x-axis, the global step (an epoch event carries the step it ended at):

- loss: the training loss of each logged step (thin), the training and validation loss of
  each epoch (with a marker per epoch), and the learning rate on the right-hand axis;
- the task's metric per epoch (val_acc, val_mae, ...), with its best epoch starred; hidden
  while the run has no metric (a GAN).

Earlier runs can be overlaid (see curves_overlays.py). Events only fill numpy buffers; the
plots are redrawn at most every REDRAW_MS, so a burst of lines (a fast model, a panel catching
up on a backlog) costs one redraw instead of one per line. ``curves_redrawn`` says when the
plots show everything added so far. Values that are null (the runner's NaN), missing or not
numbers leave a gap in their curve.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

import numpy as np
from PySide6.QtCore import QEvent, QRectF, Qt, QTimer, Signal
from PySide6.QtWidgets import QSplitter, QVBoxLayout, QWidget

from builder.gui.train.curves_metrics import metric_column, number, read_metrics_csv
from builder.gui.train.curves_overlays import Overlay
from builder.gui.train.curves_plotlib import pg
from builder.gui.train.curves_series import Series
from builder.gui.train.curves_style import PlotColors, plot_colors

__all__ = ["LiveCurves", "read_metrics_csv"]

REDRAW_MS = 50
LEGEND_COLUMNS = 3
LEGEND_COLUMN_WIDTH = 130  # px a legend entry takes: fewer columns in a narrow dock
AXES_WIDTH = 120  # px the left and right axes take beside the legend's column
LEFT_AXIS_WIDTH, RIGHT_AXIS_WIDTH = 52, 60  # fixed, so both plots' x-axes line up
# role -> (legend label, line width, marker)
LIVE_CURVES = {
    "step_loss": ("train loss (step)", 1.0, None),
    "train_loss": ("train loss", 2.0, "o"),
    "val_loss": ("val loss", 2.0, "o"),
    "lr": ("learning rate", 1.5, None),
    "metric": ("metric", 2.0, "o"),
}


class LiveCurves(QWidget):
    curves_redrawn = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.run_name = ""
        self.metric_name: str | None = None
        self.higher_is_better = True
        self._last_step: int | None = None
        self.loss_widget, self.loss_plot = _plot_widget("loss")
        self.metric_widget, self.metric_plot = _plot_widget("metric")
        self.metric_plot.setXLink(self.loss_plot)
        self.lr_view = self._add_lr_axis()
        self._series = {role: Series() for role in LIVE_CURVES}
        self.items = {role: self._add_item(role) for role in LIVE_CURVES}
        self.best_item = pg.PlotDataItem(pen=None, symbol="star", symbolSize=16)
        self.metric_plot.addItem(self.best_item)
        self.overlays: dict[str, Overlay] = {}
        self._dirty: set[str] = set()
        self._redraw_timer = QTimer(self, singleShot=True, interval=REDRAW_MS)
        self._redraw_timer.timeout.connect(self._on_redraw_timer_timeout)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.loss_widget)
        splitter.addWidget(self.metric_widget)
        splitter.setChildrenCollapsible(False)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([300, 200])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)
        self.metric_widget.hide()
        self._apply_colors()
        self._update_titles()

    # -- the public API ------------------------------------------------------------------

    @property
    def step_loss_item(self) -> pg.PlotDataItem:
        return self.items["step_loss"]

    @property
    def train_loss_item(self) -> pg.PlotDataItem:
        return self.items["train_loss"]

    @property
    def val_loss_item(self) -> pg.PlotDataItem:
        return self.items["val_loss"]

    @property
    def metric_item(self) -> pg.PlotDataItem:
        return self.items["metric"]

    @property
    def lr_item(self) -> pg.PlotDataItem:
        return self.items["lr"]

    def start_run(self, name: str, metric: str | None, higher_is_better: bool) -> None:
        """A new run: the live curves start empty; overlays stay. ``metric`` None: the first
        epoch event's validation metric column is used."""
        self.run_name = name
        self.higher_is_better = higher_is_better
        self._last_step = None
        for series in self._series.values():
            series.clear()
        self._set_metric(metric)
        self._dirty.update(self._series)
        self._redraw()

    def add_event(self, event: Mapping[str, object]) -> None:
        """One --json-progress event (builder/training/logs.py); kinds other than "step" and
        "epoch" and fields not plotted are ignored."""
        kind = event.get("event")
        if kind == "step":
            self._add_step(event)
        elif kind == "epoch":
            self._add_epoch(event)

    def overlay(self, name: str, rows: Sequence[Mapping[str, object]]) -> None:
        """Draw an earlier run's per-epoch curves (metrics.csv rows, cells as numbers or
        text), replacing an overlay of the same name."""
        self.remove_overlay(name)
        used = {overlay.color_index for overlay in self.overlays.values()}
        index = next(i for i in range(len(used) + 1) if i not in used)
        overlay = Overlay(name, list(rows), index, self.loss_plot, self.metric_plot)
        self.overlays[name] = overlay
        overlay.show_metric(self.metric_name)
        overlay.apply_colors(plot_colors(self))
        self._update_metric_visibility()
        self._settle_ranges()

    def remove_overlay(self, name: str) -> None:
        overlay = self.overlays.pop(name, None)
        if overlay is not None:
            overlay.remove()
            self._update_metric_visibility()
            self._settle_ranges()

    def clear_overlays(self) -> None:
        for name in list(self.overlays):
            self.remove_overlay(name)

    # -- events --------------------------------------------------------------------------

    def _add_step(self, event: Mapping[str, object]) -> None:
        step = _step(event.get("step"))
        if step is None:
            return
        self._last_step = step
        self._append("step_loss", step, number(event.get("loss")))
        self._append("lr", step, number(event.get("lr")))

    def _add_epoch(self, event: Mapping[str, object]) -> None:
        step = _step(event.get("step"))
        step = self._last_step if step is None else step
        if step is None:
            return
        self._last_step = step
        for role in ("train_loss", "val_loss"):
            self._append(role, step, number(event.get(role)))
        last_lr = self._series["lr"].last_x
        if last_lr is None or step > last_lr:  # the lr of a run that logs no steps
            self._append("lr", step, number(event.get("lr")))
        if self.metric_name is None:
            self._set_metric(metric_column(event))
        if self.metric_name is not None:
            self._append("metric", step, number(event.get(self.metric_name)))

    def _append(self, role: str, step: int, value: float) -> None:
        self._series[role].append(float(step), value)
        self._dirty.add(role)
        if not self._redraw_timer.isActive():
            self._redraw_timer.start()

    def _set_metric(self, metric: str | None) -> None:
        self.metric_name = metric
        label = metric or "metric"
        self.metric_plot.legend.getLabel(self.metric_item).setText(label)
        self.metric_plot.setLabel("left", label)
        for overlay in self.overlays.values():
            overlay.show_metric(metric)
            overlay.apply_colors(plot_colors(self))
        self._update_metric_visibility()

    # -- drawing -------------------------------------------------------------------------

    def _on_redraw_timer_timeout(self) -> None:
        self._redraw()

    def _redraw(self) -> None:
        self._redraw_timer.stop()
        for role in self._dirty:
            series = self._series[role]
            self.items[role].setData(series.x, series.y, connect="finite")
        if "metric" in self._dirty:
            self._mark_best()
        if "lr" in self._dirty:
            self._range_lr()
        self._dirty.clear()
        self._settle_ranges()
        self._update_titles()
        self._fit_plots()  # a legend that changed its columns may have held a plot wide
        self.curves_redrawn.emit()

    def _settle_ranges(self) -> None:
        """The ranges, now rather than at the next paint: the plots share x through a link
        that a paint of one carries to the other only after the other has painted, so a
        grab() (a screenshot) straight after a change would show the metric on a stale axis."""
        self.loss_plot.vb.prepareForPaint()
        self.metric_plot.vb.prepareForPaint()

    def _mark_best(self) -> None:
        series = self._series["metric"]
        finite = np.flatnonzero(np.isfinite(series.y))
        if not len(finite):
            self.best_item.setData([], [])
            return
        values = series.y[finite]
        at = finite[np.argmax(values) if self.higher_is_better else np.argmin(values)]
        self.best_item.setData([series.x[at]], [series.y[at]])

    def _range_lr(self) -> None:
        """From 0 to just above the highest rate: a schedule reads as a shape, and a constant
        rate as a flat line instead of one magnified around its value."""
        values = self._series["lr"].y
        finite = values[np.isfinite(values)]
        if len(finite) and finite.max() > 0:
            self.lr_view.setYRange(0.0, float(finite.max()) * 1.08, padding=0)
        else:
            self.lr_view.enableAutoRange(axis=pg.ViewBox.YAxis)

    def _update_titles(self) -> None:
        colors = plot_colors(self)
        prefix = f"{html.escape(self.run_name)} · " if self.run_name else ""
        waiting = (
            ""
            if len(self._series["step_loss"]) or len(self._series["train_loss"])
            else "  (waiting for the first step)"
        )
        _set_title(self.loss_plot, f"{prefix}loss{waiting}", colors.text)
        best = self.best_item.getData()[1]
        title = self.metric_name or "metric"
        if best is not None and len(best):
            word = "highest" if self.higher_is_better else "lowest"
            title += f"  · {word} {best[0]:.4g} at step {self.best_item.getData()[0][0]:.0f}"
        _set_title(self.metric_plot, title, colors.text)

    def _update_metric_visibility(self) -> None:
        has_overlay_metric = any(o.metric_item is not None for o in self.overlays.values())
        self.metric_widget.setVisible(self.metric_name is not None or has_overlay_metric)

    # -- set-up and colours --------------------------------------------------------------

    def _add_lr_axis(self) -> pg.ViewBox:
        """A second ViewBox over the loss plot, x-linked to it, scaled by the right axis."""
        view = pg.ViewBox()
        self.loss_plot.showAxis("right")
        self.loss_plot.scene().addItem(view)
        self.loss_plot.getAxis("right").linkToView(view)
        self.loss_plot.setLabel("right", "learning rate")
        view.setXLink(self.loss_plot)
        self.loss_plot.vb.sigResized.connect(self._on_loss_view_resized)
        return view

    def _on_loss_view_resized(self) -> None:
        self.lr_view.setGeometry(self.loss_plot.vb.sceneBoundingRect())
        self.lr_view.linkedViewChanged(self.loss_plot.vb, self.lr_view.XAxis)

    def _add_item(self, role: str) -> pg.PlotDataItem:
        label, _, symbol = LIVE_CURVES[role]
        item = pg.PlotDataItem(
            name=label, symbol=symbol, symbolSize=6, connect="finite", antialias=True
        )
        if role == "step_loss":
            item.setDownsampling(auto=True, method="peak")  # tens of thousands of steps
            item.setClipToView(True)
        if role == "lr":
            self.lr_view.addItem(item)
            self.loss_plot.legend.addItem(item, label)
        else:
            (self.metric_plot if role == "metric" else self.loss_plot).addItem(item)
        return item

    def resizeEvent(self, event) -> None:  # noqa: N802  (Qt's name)
        """As many legend columns as fit: a legend wider than the plot widens the plot's
        scene past its view, and the right axis (the learning rate) is cut off."""
        super().resizeEvent(event)
        room = self.width() - AXES_WIDTH
        columns = max(1, min(LEGEND_COLUMNS, room // LEGEND_COLUMN_WIDTH))
        for plot in (self.loss_plot, self.metric_plot):
            if plot.legend.columnCount != columns:
                plot.legend.setColumnCount(columns)
        QTimer.singleShot(0, self._fit_plots)

    def showEvent(self, event) -> None:  # noqa: N802  (Qt's name)
        super().showEvent(event)
        QTimer.singleShot(0, self._fit_plots)

    def _fit_plots(self) -> None:
        """Each plot exactly as wide as its view. A tab page shown for the first time hands
        pyqtgraph the size it had while hidden, and the plot keeps it when the page then
        shrinks to the dock (a legend still laid out in more columns holds it wide too): its
        right axis (the learning rate) was cut off."""
        for widget in (self.loss_widget, self.metric_widget):
            viewport = widget.viewport().rect()
            item = widget.getPlotItem()
            if item.size().width() != viewport.width() or item.size().height() != viewport.height():
                pg.GraphicsView.setRange(widget, QRectF(viewport), padding=0)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802  (Qt's name)
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "items"):
            self._apply_colors()
            self._update_titles()

    def _apply_colors(self) -> None:
        colors = plot_colors(self)
        for widget in (self.loss_widget, self.metric_widget):
            widget.setBackground(colors.background)
        for plot in (self.loss_plot, self.metric_plot):
            _color_plot(plot, colors)
        for role, item in self.items.items():
            _, width, symbol = LIVE_CURVES[role]
            color = colors.series_color(role)
            item.setPen(pg.mkPen(color, width=width))
            if symbol:
                item.setSymbolBrush(color)
                item.setSymbolPen(pg.mkPen(colors.background, width=1))
        self.best_item.setSymbolBrush(colors.series_color("best"))
        self.best_item.setSymbolPen(pg.mkPen(colors.text, width=1))
        for overlay in self.overlays.values():
            overlay.apply_colors(colors)


def _plot_widget(name: str) -> tuple[pg.PlotWidget, pg.PlotItem]:
    widget = pg.PlotWidget()
    widget.setMinimumHeight(120)
    plot = widget.getPlotItem()
    _let_title_shrink(plot)
    _add_legend_below(plot)
    plot.showGrid(x=True, y=True, alpha=0.15)
    plot.setLabel("bottom", "step")
    plot.setLabel("left", name)
    plot.getAxis("left").setWidth(LEFT_AXIS_WIDTH)
    plot.getAxis("left").enableAutoSIPrefix(False)  # an accuracy of 0.9, not 900 (x0.001)
    plot.showAxis("right")
    plot.getAxis("right").setWidth(RIGHT_AXIS_WIDTH)
    if name != "loss":
        plot.getAxis("right").setStyle(showValues=False)
    plot.setMenuEnabled(False)  # its menu offers exports and transforms the panel has no use for
    return widget, plot


def _set_title(plot: pg.PlotItem, text: str, color) -> None:
    plot.setTitle(text, color=color, size="9pt")


def _let_title_shrink(plot: pg.PlotItem) -> None:
    """The plot's title may be cut off at the right but never sets the plot's width.
    pyqtgraph's LabelItem makes itself at least (and preferably) as wide as its text again
    at every setText and resize (updateMin), and a plot wider than its view has its right axis
    (the learning rate) cut off in a narrow dock; so its width hints are taken back to 0 there."""
    label = plot.titleLabel
    measure = label.updateMin

    def update_min() -> None:
        measure()
        label.setMinimumWidth(0)
        for which in (Qt.SizeHint.MinimumSize, Qt.SizeHint.PreferredSize):
            label._sizeHint[which] = (0, label._sizeHint[which][1])  # pyqtgraph's own hints
        label.updateGeometry()

    label.updateMin = update_min
    update_min()


class _LegendRow(pg.LegendItem):
    """A legend in a row of its own under the x-axis, not over the curves: a small dock has
    no corner a legend could cover safely. It is as tall as its entries, and stays put."""

    def __init__(self):
        super().__init__(labelTextSize="8pt", colCount=LEGEND_COLUMNS, verSpacing=-8)
        self.setToolTip("click an entry to hide or show its curve")

    def updateSize(self) -> None:  # noqa: N802  (pyqtgraph's name)
        """Its height from its entries, given to the plot's layout as this row's height.
        pyqtgraph's own sizing moves a floating legend to (0, 0) instead, which in a layout
        put it over the title until the next relayout."""
        self.layout.activate()  # its entries placed now, not at the next event loop turn
        height = 0.0
        for row in range(self.layout.rowCount()):
            items = (self.layout.itemAt(row, col) for col in range(self.layout.columnCount()))
            height += max((item.height() for item in items if item), default=0.0)
        self.setMinimumHeight(height)
        self.setMaximumHeight(height)  # a layout would otherwise stretch the row
        parent = self.parentLayoutItem()
        if parent is not None and parent.isLayout():
            parent.activate()  # and the row too: a screenshot right after shows both in place

    def mouseDragEvent(self, event) -> None:  # noqa: N802
        event.ignore()


def _add_legend_below(plot: pg.PlotItem) -> None:
    legend = _LegendRow()
    plot.layout.addItem(legend, 4, 1)
    plot.legend = legend  # where PlotItem.addItem puts the entries of named items


def _color_plot(plot: pg.PlotItem, colors: PlotColors) -> None:
    for side in ("left", "bottom", "right"):
        axis = plot.getAxis(side)
        axis.setPen(pg.mkPen(colors.subtle))
        axis.setTextPen(pg.mkPen(colors.text))
        axis.setLabel(axis.labelText, color=colors.text.name())
    legend = plot.legend
    legend.setLabelTextColor(colors.text)
    for _, label in legend.items:
        label.setText(label.text)  # setLabelTextColor alone repaints no existing label
    fill = colors.background
    legend.setBrush(pg.mkBrush(fill.red(), fill.green(), fill.blue(), 200))
    legend.setPen(pg.mkPen(None))


def _step(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return int(value) if float(value).is_integer() else None
