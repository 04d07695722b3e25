"""The far-zoom overview: a whole large network drawn in a handful of painter calls.

Zoomed out far enough that no text is legible, every node is a box in its family colour and
every edge a hairline along its route. Painting two thousand items one Python call at a time
costs tens of milliseconds a frame; instead the scene's items stop painting themselves (they
stay in place for clicks and rubber-band selection) and the view draws these cached paths:
one per colour.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen, QPolygonF

from builder.gui.glyphs import merge_diameter
from builder.gui.theme import ERROR_COLOR, WARNING_COLOR, Theme

# Below this zoom the overview replaces the items' own painting (the glyphs already drop
# their text below glyphs.DETAIL_LOD; the overview starts a little further out).
OVERVIEW_ZOOM = 0.3


class Overview:
    def __init__(self):
        self._boxes: dict[str, QPainterPath] = {}  # colour name -> node boxes
        self._selected = QPainterPath()
        self._edges = QPainterPath()
        self._error_edges = QPainterPath()
        self.dirty = True

    def rebuild(self, scene, theme: Theme) -> None:
        boxes: dict[str, QPainterPath] = {}
        selected = QPainterPath()
        for item in scene.nodes.values():
            look = item.look
            width = merge_diameter(look) if look.is_merge else item.size[0]
            rect = QRectF(item.pos().x(), item.pos().y(), width, item.size[1])
            if item.isSelected():
                selected.addRect(rect)
                continue
            color = ERROR_COLOR if look.severity == "error" else WARNING_COLOR \
                if look.severity == "warning" else theme.family_color(look.family).name()
            boxes.setdefault(color, QPainterPath()).addRect(rect)
        edges, errors = QPainterPath(), QPainterPath()
        for item in scene.edges.values():
            # The route's corners, unrounded: at this zoom a corner is under a pixel.
            path = errors if item.error else edges
            path.addPolygon(QPolygonF(item.polyline()))
        self._boxes, self._selected = boxes, selected
        self._edges, self._error_edges = edges, errors
        self.dirty = False

    def paint(self, painter: QPainter, theme: Theme) -> None:
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(theme.edge, 0))
        painter.drawPath(self._edges)
        painter.setPen(QPen(QColor(ERROR_COLOR), 0))
        painter.drawPath(self._error_edges)
        painter.setPen(Qt.PenStyle.NoPen)
        for color, path in self._boxes.items():
            painter.setBrush(QColor(color))
            painter.drawPath(path)
        painter.setBrush(theme.selection)
        painter.drawPath(self._selected)
        painter.restore()
