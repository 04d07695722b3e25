"""The Train panel's plots coloured from the window (pyqtgraph, bound to PySide6 by
curves_plotlib)."""

from __future__ import annotations

from PySide6.QtCore import QEvent
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QWidget

from builder.gui.train.curves_plotlib import pg

# matplotlib's tab10, the colours of `torchcanvas compare`'s PNG: run i has one colour in both.
RUN_COLORS = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)


def run_color(index: int) -> str:
    return RUN_COLORS[index % len(RUN_COLORS)]


class ThemedPlot(pg.PlotWidget):
    """A plot in the window's colours (pyqtgraph's default is white on black), following the
    app's light or dark theme, with a grid and a legend."""

    def __init__(self, parent: QWidget, legend_at: tuple[int, int]):
        super().__init__(parent)
        item = self.getPlotItem()
        for side in ("left", "bottom"):
            item.getAxis(side).enableAutoSIPrefix(False)  # "val_acc (x0.001)" misleads
        item.showGrid(x=True, y=True, alpha=0.25)
        self.legend = item.addLegend(offset=legend_at)
        self.setMenuEnabled(False)  # pyqtgraph's own context menu speaks of ViewBoxes
        self._follow_palette()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        # Qt also sends it while the plot is built and after pyqtgraph has closed it.
        built = getattr(self, "legend", None) is not None and self.getPlotItem() is not None
        if event.type() == QEvent.Type.PaletteChange and built:
            self._follow_palette()

    def _follow_palette(self) -> None:
        palette = self.palette()
        text = palette.color(QPalette.ColorRole.Text)
        self.setBackground(palette.color(QPalette.ColorRole.Base))
        for side in ("left", "bottom"):
            axis = self.getPlotItem().getAxis(side)
            axis.setPen(pg.mkPen(_faded(text, 0.6)))
            axis.setTextPen(pg.mkPen(text))
        self.legend.setLabelTextColor(text)  # for entries added later
        for _sample, label in self.legend.items:  # setLabelTextColor does not redraw these
            label.setText(label.text, color=text)


def themed_plot(
    parent: QWidget, x_label: str, y_label: str, legend_at: tuple[int, int] = (-10, 10)
) -> ThemedPlot:
    """``legend_at``: pyqtgraph's offset of the legend, negative from the right or bottom."""
    plot = ThemedPlot(parent, legend_at)
    plot.getPlotItem().setLabel("bottom", x_label)
    plot.getPlotItem().setLabel("left", y_label)
    return plot


def integer_ticks(plot: pg.PlotWidget, last: int) -> None:
    """Whole epochs only on the x-axis (no epoch 1.5), while there are few enough to label."""
    axis = plot.getPlotItem().getAxis("bottom")
    if 0 < last <= 30:
        step = 1 if last <= 15 else 2
        axis.setTicks([[(float(e), str(e)) for e in range(1, last + 1, step)], []])
    else:
        axis.setTicks(None)


def _faded(color: QColor, amount: float) -> QColor:
    faded = QColor(color)
    faded.setAlphaF(amount)
    return faded
