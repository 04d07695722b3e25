"""A confusion matrix as a heat map: square cells, true class down, predicted class across.

Painted with QPainter rather than a table, so 100 classes still fit the panel at once (a table
would scroll) and 10 classes get large cells with their counts. Each cell is coloured by its
share of its row, the fraction of that true class that went there: the diagonal in blue
(right), the rest in red (wrong), so a class that is often mistaken for another shows as a red
cell whatever the class sizes. A small share of a row is still visible (the square root of the
share sets the strength). Counts are written where a cell is large enough (empty cells stay
blank, so the mistakes stand out), class names where a row is tall enough (else every k-th,
k a round number); the tooltip gives any cell in full.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QPoint, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import QToolTip, QWidget

from builder.gui.train.confusion_files import Confusion
from builder.gui.train.curves_style import is_dark

RIGHT_COLOR = {False: QColor("#2f6fdb"), True: QColor("#4c8fe6")}
WRONG_COLOR = {False: QColor("#d62828"), True: QColor("#f0564f")}
MARGIN, MAX_LABEL_WIDTH, TITLE_GAP = 6, 110, 16
MIN_COUNT_CELL = 16  # px: below this a cell shows its colour only
LABEL_POINTS = 8.5
NICE_STEPS = (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000)


@dataclass(frozen=True)
class _Layout:
    left: int
    top: int
    cell: float
    upright: bool  # column names turned to read bottom-up
    rows_every: int  # a name on every k-th row (k > 1 where they would overlap)
    columns_every: int
    label_width: int


class ConfusionChart(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.confusion: Confusion | None = None
        self._row_totals: list[int] = []
        self.setMouseTracking(True)
        self.setMinimumSize(180, 180)

    def set_confusion(self, confusion: Confusion | None) -> None:
        self.confusion = confusion
        self._row_totals = [sum(row) for row in confusion.matrix] if confusion else []
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802  (Qt's name)
        return QSize(420, 420)

    # -- geometry ------------------------------------------------------------------------

    def _label_font(self) -> QFont:
        font = QFont(self.font())
        font.setPointSizeF(LABEL_POINTS)
        return font

    def _layout(self) -> _Layout:
        """Where the grid starts, the side of a cell, and how the class names are set:
        across the top when they fit over their column, else turned upright."""
        classes = self.confusion.classes if self.confusion else ()
        metrics = QFontMetrics(self._label_font())
        # +2: elidedText cuts a name that exactly fills its advance (it measures the ink)
        widest = min(MAX_LABEL_WIDTH, max(map(metrics.horizontalAdvance, classes), default=0) + 2)
        left = MARGIN + TITLE_GAP + widest + MARGIN

        def grid(top_labels: int) -> tuple[int, float]:
            top = MARGIN + TITLE_GAP + top_labels + MARGIN
            side = min(self.width() - left, self.height() - top) - MARGIN
            return top, max(side, 1) / max(len(classes), 1)

        top, cell = grid(metrics.height())
        upright = widest > cell - 2
        if upright:
            top, cell = grid(widest)
        rows_every = _every(metrics.height() / cell)
        columns_every = rows_every if upright else _every((widest + 4) / cell)
        return _Layout(left, top, cell, upright, rows_every, columns_every, widest)

    def cell_rect(self, row: int, column: int) -> QRect:
        return _cell_rect(self._layout(), row, column)

    def cell_at(self, point: QPoint) -> tuple[int, int] | None:
        if self.confusion is None:
            return None
        layout = self._layout()
        left, top, cell = layout.left, layout.top, layout.cell
        column, row = math.floor((point.x() - left) / cell), math.floor((point.y() - top) / cell)
        count = len(self.confusion.classes)
        return (row, column) if 0 <= row < count and 0 <= column < count else None

    def cell_tooltip(self, row: int, column: int) -> str:
        confusion = self.confusion
        count = confusion.matrix[row][column]
        row_total = self._row_totals[row]
        share = (
            f" ({count / row_total:.1%} of true {confusion.class_name(row)})" if row_total else ""
        )
        return (
            f"true {confusion.class_name(row)}, predicted {confusion.class_name(column)}: "
            f"{count}{share}"
        )

    # -- painting ------------------------------------------------------------------------

    def cell_color(self, row: int, column: int) -> QColor:
        row_total = self._row_totals[row]
        share = self.confusion.matrix[row][column] / row_total if row_total else 0.0
        dark = is_dark(self.palette())
        base = self.palette().color(QPalette.ColorRole.Base)
        ink = RIGHT_COLOR[dark] if row == column else WRONG_COLOR[dark]
        return _mix(base, ink, math.sqrt(share) * 0.92)

    def paintEvent(self, event) -> None:  # noqa: N802
        if self.confusion is None:
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        layout = self._layout()
        count = len(self.confusion.classes)
        self._paint_cells(painter, layout, count)
        self._paint_labels(painter, layout, count)
        self._paint_axis_titles(painter, layout.left, layout.top, layout.cell * count)
        painter.end()

    def _paint_cells(self, painter: QPainter, layout: _Layout, count: int) -> None:
        cell = layout.cell
        whole = _cell_rect(layout, 0, 0).united(_cell_rect(layout, count - 1, count - 1))
        painter.fillRect(whole, self.palette().color(QPalette.ColorRole.Base))
        font = QFont(self.font())
        font.setPointSizeF(max(6.0, min(10.0, cell * 0.3)))
        painter.setFont(font)
        metrics = QFontMetrics(font)
        for row, counts in enumerate(self.confusion.matrix):
            for column, value in enumerate(counts):
                if not value:  # most cells of a good model: left as the background
                    continue
                rect = _cell_rect(layout, row, column)
                color = self.cell_color(row, column)
                painter.fillRect(rect, color)
                text = str(value)
                if cell >= MIN_COUNT_CELL and metrics.horizontalAdvance(text) <= rect.width() - 2:
                    painter.setPen(_text_on(color))
                    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
        if cell >= 6:  # finer grids would be all lines
            self._paint_grid(painter, layout, count)

    def _paint_grid(self, painter: QPainter, layout: _Layout, count: int) -> None:
        grid = QColor(self.palette().color(QPalette.ColorRole.Text))
        grid.setAlphaF(0.12)
        painter.setPen(grid)
        first, last = _cell_rect(layout, 0, 0), _cell_rect(layout, count - 1, count - 1)
        for index in range(count + 1):
            at = _cell_rect(layout, index, index) if index < count else None
            x = at.left() if at else last.right() + 1
            y = at.top() if at else last.bottom() + 1
            painter.drawLine(x, first.top(), x, last.bottom() + 1)
            painter.drawLine(first.left(), y, last.right() + 1, y)

    def _paint_labels(self, painter: QPainter, layout: _Layout, count: int) -> None:
        painter.setFont(self._label_font())
        painter.setPen(self.palette().color(QPalette.ColorRole.Text))
        metrics = QFontMetrics(self._label_font())
        width = layout.label_width

        def name(index: int) -> str:
            return metrics.elidedText(
                self.confusion.class_name(index), Qt.TextElideMode.ElideRight, width
            )

        right_aligned = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        for index in range(0, count, layout.rows_every):
            row = _cell_rect(layout, index, 0)
            painter.drawText(
                QRect(MARGIN + TITLE_GAP, row.top(), width, row.height()).adjusted(0, -20, 0, 20),
                right_aligned,
                name(index),
            )
        label_top = layout.top - MARGIN
        for index in range(0, count, layout.columns_every):
            column = _cell_rect(layout, 0, index)
            if not layout.upright:
                painter.drawText(
                    QRect(
                        column.center().x() - width,
                        label_top - metrics.height(),
                        2 * width,
                        metrics.height(),
                    ),
                    Qt.AlignmentFlag.AlignCenter,
                    name(index),
                )
                continue
            painter.save()  # turned to read bottom-up, ending just over its column
            painter.translate(column.center().x(), label_top)
            painter.rotate(-90)
            painter.drawText(
                QRect(0, -20, width, 40),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                name(index),
            )
            painter.restore()

    def _paint_axis_titles(self, painter: QPainter, left: int, top: int, side: float) -> None:
        font = QFont(self.font())
        font.setBold(True)
        painter.setFont(font)
        painter.drawText(
            QRect(left, 0, round(side), TITLE_GAP), Qt.AlignmentFlag.AlignCenter, "predicted"
        )
        painter.save()
        painter.translate(0, top + side / 2)
        painter.rotate(-90)
        painter.drawText(
            QRect(-round(side) // 2, 0, round(side), TITLE_GAP),
            Qt.AlignmentFlag.AlignCenter,
            "true",
        )
        painter.restore()

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            cell = self.cell_at(event.pos())
            if cell is None:
                QToolTip.hideText()
            else:
                QToolTip.showText(event.globalPos(), self.cell_tooltip(*cell), self)
            return True
        return super().event(event)


def _cell_rect(layout: _Layout, row: int, column: int) -> QRect:
    x0, y0 = layout.left + column * layout.cell, layout.top + row * layout.cell
    x1, y1 = x0 + layout.cell, y0 + layout.cell
    return QRect(round(x0), round(y0), round(x1) - round(x0), round(y1) - round(y0))


def _every(labels_per_cell: float) -> int:
    """Label every k-th class, k a round number (every 5th, 10th...), so the names shown are
    0, 10, 20... and never overlap."""
    return next((k for k in NICE_STEPS if k >= labels_per_cell), NICE_STEPS[-1])


def _mix(a: QColor, b: QColor, amount: float) -> QColor:
    return QColor(
        round(a.red() + (b.red() - a.red()) * amount),
        round(a.green() + (b.green() - a.green()) * amount),
        round(a.blue() + (b.blue() - a.blue()) * amount),
    )


def _text_on(color: QColor) -> QColor:
    return QColor("#ffffff") if color.lightness() < 140 else QColor("#1b1f24")
