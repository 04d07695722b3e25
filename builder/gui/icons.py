"""The family icons: small line drawings in a square, one per layer family.

Each function draws into a 20×20 box at the origin; ``paint_family_icon`` scales it into the
requested rectangle. They are drawn, not loaded from files, so they scale to any DPI and
export crisply to SVG and PDF.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap

from builder.gui.theme import FAMILY_COLORS, ui_font

IconPainter = Callable[[QPainter, QColor], None]


def _conv(p: QPainter, c: QColor) -> None:
    # A feature map with a 3×3 kernel window sliding over it.
    p.drawRect(QRectF(1.5, 4.5, 14, 14))
    p.setBrush(c)
    p.drawRect(QRectF(1.5, 4.5, 6, 6))
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawLine(QPointF(4.5, 1.5), QPointF(18.5, 1.5))
    p.drawLine(QPointF(18.5, 1.5), QPointF(18.5, 15.5))


def _linear(p: QPainter, c: QColor) -> None:
    # Every input connected to every output.
    left = [QPointF(3, y) for y in (3, 10, 17)]
    right = [QPointF(17, y) for y in (5.5, 14.5)]
    for a in left:
        for b in right:
            p.drawLine(a, b)
    p.setBrush(c)
    for point in left + right:
        p.drawEllipse(point, 2, 2)


def _pool(p: QPainter, c: QColor) -> None:
    # A 2×2 window collapsing to one cell.
    p.drawRect(QRectF(1.5, 1.5, 11, 11))
    p.drawLine(QPointF(7, 1.5), QPointF(7, 12.5))
    p.drawLine(QPointF(1.5, 7), QPointF(12.5, 7))
    p.setBrush(c)
    p.drawRect(QRectF(13, 13, 5.5, 5.5))
    p.drawLine(QPointF(11, 11), QPointF(14, 14))


def _norm(p: QPainter, c: QColor) -> None:
    # A bell curve over a baseline.
    path = QPainterPath(QPointF(1, 17))
    for i in range(1, 37):
        x = 1 + i * 0.5
        y = 17 - 13 * math.exp(-((x - 10) ** 2) / 12)
        path.lineTo(x, y)
    p.drawPath(path)
    p.drawLine(QPointF(1, 18.5), QPointF(19, 18.5))


def _activation(p: QPainter, c: QColor) -> None:
    # The ReLU hinge.
    p.drawLine(QPointF(1, 15), QPointF(10, 15))
    p.drawLine(QPointF(10, 15), QPointF(18, 3))
    p.setPen(QPen(c, 0.8, Qt.PenStyle.DotLine))
    p.drawLine(QPointF(10, 1), QPointF(10, 19))


def _dropout(p: QPainter, c: QColor) -> None:
    # A grid of units with some dropped.
    for row in range(3):
        for col in range(3):
            center = QPointF(4 + col * 6, 4 + row * 6)
            p.setBrush(Qt.BrushStyle.NoBrush if (row + col) % 2 else c)
            p.drawEllipse(center, 2.2, 2.2)


def _recurrent(p: QPainter, c: QColor) -> None:
    # A cell with a loop back into itself.
    p.drawRect(QRectF(5, 9, 10, 9))
    arc = QPainterPath(QPointF(15, 12))
    arc.cubicTo(QPointF(21, 12), QPointF(20, 1), QPointF(10, 2))
    arc.cubicTo(QPointF(3, 2), QPointF(1, 6), QPointF(4, 9))
    p.drawPath(arc)
    p.setBrush(c)
    head = QPainterPath(QPointF(5.5, 9.5))
    head.lineTo(QPointF(1.5, 8.5))
    head.lineTo(QPointF(4.5, 5.5))
    head.closeSubpath()
    p.drawPath(head)


def _attention(p: QPainter, c: QColor) -> None:
    # An attention map: a weight matrix, heavier on some cells.
    weights = [[1.0, 0.3, 0.1], [0.2, 1.0, 0.4], [0.1, 0.5, 1.0]]
    for row, line in enumerate(weights):
        for col, weight in enumerate(line):
            fill = QColor(c)
            fill.setAlphaF(weight)
            p.setBrush(fill)
            p.drawRect(QRectF(1.5 + col * 6, 1.5 + row * 6, 5, 5))


def _embedding(p: QPainter, c: QColor) -> None:
    # A lookup table with one row picked.
    p.drawRect(QRectF(2, 1.5, 16, 17))
    for y in (5.75, 10, 14.25):
        p.drawLine(QPointF(2, y), QPointF(18, y))
    p.setBrush(c)
    p.drawRect(QRectF(2, 5.75, 16, 4.25))


def _merge(p: QPainter, c: QColor) -> None:
    p.drawEllipse(QRectF(2, 2, 16, 16))
    p.drawLine(QPointF(10, 5.5), QPointF(10, 14.5))
    p.drawLine(QPointF(5.5, 10), QPointF(14.5, 10))


def _reshape(p: QPainter, c: QColor) -> None:
    # A tall block becoming a wide one.
    p.drawRect(QRectF(1.5, 1.5, 6, 12))
    p.drawRect(QRectF(7.5, 13, 11, 5.5))
    p.drawLine(QPointF(9, 4), QPointF(15, 10))
    p.drawLine(QPointF(15, 10), QPointF(15, 6.5))
    p.drawLine(QPointF(15, 10), QPointF(11.5, 10))


def _padding(p: QPainter, c: QColor) -> None:
    p.setPen(QPen(c, 1.2, Qt.PenStyle.DashLine))
    p.drawRect(QRectF(1.5, 1.5, 17, 17))
    p.setPen(QPen(c, 1.5))
    p.setBrush(c)
    p.drawRect(QRectF(6, 6, 8, 8))


def _resample(p: QPainter, c: QColor) -> None:
    # A small grid growing into a large one.
    p.drawRect(QRectF(1.5, 11, 7, 7))
    p.drawRect(QRectF(6, 1.5, 12.5, 12.5))
    p.drawLine(QPointF(12, 1.5), QPointF(12, 14))
    p.drawLine(QPointF(6, 7.75), QPointF(18.5, 7.75))


def _reduce(p: QPainter, c: QColor) -> None:
    path = QPainterPath(QPointF(16, 3))
    path.lineTo(4, 3)
    path.lineTo(11, 10)
    path.lineTo(4, 17)
    path.lineTo(16, 17)
    p.drawPath(path)


def _op(p: QPainter, c: QColor) -> None:
    p.setFont(ui_font(11, bold=True))
    p.drawText(QRectF(0, 0, 20, 20), Qt.AlignmentFlag.AlignCenter, "ƒ")


def _input(p: QPainter, c: QColor) -> None:
    # A tensor (a stack of sheets) with an arrow coming into it from outside.
    p.drawRect(QRectF(3, 9, 14, 9.5))
    p.drawLine(QPointF(6, 6), QPointF(19, 6))
    p.drawLine(QPointF(19, 6), QPointF(19, 15.5))
    p.drawLine(QPointF(10, 0.5), QPointF(10, 13.5))
    p.drawLine(QPointF(10, 13.5), QPointF(7, 10.5))
    p.drawLine(QPointF(10, 13.5), QPointF(13, 10.5))


def _output(p: QPainter, c: QColor) -> None:
    # The same tensor, filled (a result), with the arrow leaving it below.
    p.setBrush(c)
    p.drawRect(QRectF(3, 4, 14, 8))
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawLine(QPointF(6, 1.5), QPointF(19, 1.5))
    p.drawLine(QPointF(19, 1.5), QPointF(19, 9))
    p.drawLine(QPointF(10, 12), QPointF(10, 19.5))
    p.drawLine(QPointF(10, 19.5), QPointF(7, 16.5))
    p.drawLine(QPointF(10, 19.5), QPointF(13, 16.5))


def _block(p: QPainter, c: QColor) -> None:
    # Layers nested inside a layer.
    p.drawRoundedRect(QRectF(1.5, 1.5, 17, 17), 3, 3)
    p.setBrush(c)
    for y in (5, 9, 13):
        p.drawRect(QRectF(5, y, 10, 2.2))


ICONS: dict[str, IconPainter] = {
    "conv": _conv,
    "linear": _linear,
    "pool": _pool,
    "norm": _norm,
    "activation": _activation,
    "dropout": _dropout,
    "recurrent": _recurrent,
    "attention": _attention,
    "embedding": _embedding,
    "merge": _merge,
    "reshape": _reshape,
    "padding": _padding,
    "resample": _resample,
    "reduce": _reduce,
    "op": _op,
    "io": _input,  # the family's own icon (the palette's section) is the input's
    "input": _input,
    "output": _output,
    "block": _block,
}


def paint_family_icon(painter: QPainter, family: str, rect: QRectF, color: QColor) -> None:
    """Draw the icon named ``family`` (a family, or "input" / "output") into ``rect``."""
    painter.save()
    painter.translate(rect.topLeft())
    painter.scale(rect.width() / 20.0, rect.height() / 20.0)
    pen = QPen(color, 1.5)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    ICONS.get(family, _op)(painter, color)
    painter.restore()


def family_icon(family: str, size: int = 20, icon: str | None = None) -> QIcon:
    """The family's icon (or ``icon``, drawn on the family's colour), for the palette, menus
    and the inspector."""
    pixmap = QPixmap(size * 2, size * 2)
    pixmap.setDevicePixelRatio(2.0)
    pixmap.fill(QColor(0, 0, 0, 0))
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(FAMILY_COLORS.get(family, FAMILY_COLORS["op"])))
    painter.drawRoundedRect(QRectF(0, 0, size, size), 4, 4)
    paint_family_icon(painter, icon or family, QRectF(2, 2, size - 4, size - 4),
                      QColor("#ffffff"))
    painter.end()
    return QIcon(pixmap)
