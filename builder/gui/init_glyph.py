"""The init check's badge: a rounded square with arrows, unlike the diagnostic's round "!".

Down for activations that vanish at initialisation, up for ones that explode, both for a
block with layers of each inside. The arrows are drawn as paths, not text, so they look the
same whatever fonts the machine has (an exported diagram included).
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen

# Violet: far from the error red and the warning amber, and readable on both themes.
INIT_COLOR = "#9c27b0"
FLAGS = ("vanish", "explode", "both")


def paint_init_badge(painter: QPainter, rect: QRectF, flag: str) -> None:
    painter.save()
    painter.setPen(QPen(QColor("#ffffff"), 1.5))
    painter.setBrush(QColor(INIT_COLOR))
    painter.drawRoundedRect(rect, 3.0, 3.0)
    centre = rect.center()
    if flag == "both":
        _arrow(painter, centre + QPointF(-rect.width() * 0.2, 0), rect.height(), down=True)
        _arrow(painter, centre + QPointF(rect.width() * 0.2, 0), rect.height(), down=False)
    else:
        _arrow(painter, centre, rect.height(), down=flag == "vanish")
    painter.restore()


def _arrow(painter: QPainter, centre: QPointF, height: float, down: bool) -> None:
    """A short vertical arrow through ``centre``, its head at the bottom or at the top."""
    reach, head = height * 0.3, height * 0.2
    sign = 1.0 if down else -1.0
    tip = QPointF(centre.x(), centre.y() + sign * reach)
    tail = QPointF(centre.x(), centre.y() - sign * reach)
    path = QPainterPath(tail)
    path.lineTo(tip)
    path.moveTo(tip.x() - head, tip.y() - sign * head)
    path.lineTo(tip)
    path.lineTo(tip.x() + head, tip.y() - sign * head)
    painter.setPen(QPen(QColor("#ffffff"), 1.6))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawPath(path)
