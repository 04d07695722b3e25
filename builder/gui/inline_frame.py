"""The drawing of an open block instance: a dashed frame titled with the instance and block
names, the body's nodes in their own glyphs, its routed edges with this placement's shapes.

Everything here is read-only: nothing can be moved or selected. A double-click on an inner
node calls ``on_activated(body, node_id)`` (InlineBlocks opens the block's tab on it). The
colours come from the scene's theme at paint time, so a theme switch needs nothing here.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsItem, QGraphicsSceneMouseEvent, QStyleOptionGraphicsItem

from builder.gui.glyphs import DETAIL_LOD, PORT_RADIUS, node_size, paint_node
from builder.gui.inline_body import TITLE_FONT, Body, InnerEdge
from builder.gui.items import EDGE_FONT, routed_path
from builder.gui.theme import ERROR_COLOR, Theme

Activated = Callable[[Body, str], None]
FRAME_RADIUS = 10.0


def _theme_of(item: QGraphicsItem) -> Theme:
    return item.scene().theme


def _frame_color(theme: Theme) -> QColor:
    """The block family's colour, lightened on a dark background (where it would sink)."""
    color = theme.family_color("block")
    return color.lighter(170) if theme.background.lightness() < 128 else color


def _read_only(item: QGraphicsItem) -> None:
    item.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsMovable, False)
    item.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable, False)


class FrameItem(QGraphicsItem):
    """One open instance; its inner nodes and open nested instances are child items."""

    def __init__(self, body: Body, on_activated: Activated):
        super().__init__()
        self.body = body
        self.inner: dict[str, InnerNodeItem] = {}
        self.frames: dict[str, FrameItem] = {}
        self._paths = [(edge, _edge_path(edge)) for edge in body.edges]
        _read_only(self)
        self.setZValue(-0.5)  # under the outer edges, which may pass close by
        for node_id, (x, y) in body.positions.items():
            child = body.children.get(node_id)
            item = FrameItem(child, on_activated) if child is not None else \
                InnerNodeItem(body, node_id, on_activated)
            item.setParentItem(self)
            item.setPos(x, y)
            (self.frames if child is not None else self.inner)[node_id] = item

    def all_inner(self) -> list[InnerNodeItem]:
        """Every inner node drawn in this frame and in the frames nested in it."""
        found = list(self.inner.values())
        for frame in self.frames.values():
            found += frame.all_inner()
        return found

    def boundingRect(self) -> QRectF:  # noqa: N802
        return QRectF(0, 0, self.body.width, self.body.height).adjusted(-4, -4, 4, 4)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget=None) -> None:
        theme = _theme_of(self)
        lod = QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform())
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        rect = QRectF(0, 0, self.body.width, self.body.height)
        fill = QColor(theme.tint("block"))
        fill.setAlpha(90)
        pen = QPen(_frame_color(theme), 1.6, Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.setBrush(fill)
        painter.drawRoundedRect(rect, FRAME_RADIUS, FRAME_RADIUS)
        if lod >= DETAIL_LOD:
            self._paint_title(painter, theme)
        for edge, path in self._paths:
            _paint_edge(painter, edge, path, theme, lod)

    def _paint_title(self, painter: QPainter, theme: Theme) -> None:
        box = QRectF(*self.body.title_box())
        text = QFontMetricsF(TITLE_FONT).elidedText(self.body.title,
                                                    Qt.TextElideMode.ElideRight, box.width())
        painter.setFont(TITLE_FONT)
        painter.setPen(_frame_color(theme))
        painter.drawText(box, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)


class InnerNodeItem(QGraphicsItem):
    """A node of a block's body, drawn with the canvas's glyph; a double-click edits it."""

    def __init__(self, body: Body, node_id: str, on_activated: Activated):
        super().__init__()
        self.body = body
        self.node_id = node_id
        self.look = body.looks[node_id]
        self.size = node_size(self.look, body.flow)
        self._on_activated = on_activated
        self._connected = frozenset(e.port for e in body.inference.incoming.get(node_id, []))
        _read_only(self)
        node = body.inference.nodes[node_id]
        self.setToolTip(f"{node.name} ({node.type}) in block {body.block.name}\n"
                        f"Double-click to edit it in the block's tab")

    def boundingRect(self) -> QRectF:  # noqa: N802
        margin = PORT_RADIUS + 6
        return QRectF(-margin, -margin - 4, self.size[0] + 2 * margin + 6,
                      self.size[1] + 2 * margin + 4)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRect(QRectF(0, 0, *self.size))
        return path

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget=None) -> None:
        lod = QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform())
        paint_node(painter, self.look, self.size, _theme_of(self), False, lod,
                   self._connected, self.body.flow)

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        event.accept()  # a press here starts no rubber band: the body is read-only

    def mouseDoubleClickEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        event.accept()
        self._on_activated(self.body, self.node_id)


def _edge_path(edge: InnerEdge) -> QPainterPath:
    points = edge.points
    if len(points) < 3:  # unrouted: a straight line
        path = QPainterPath(QPointF(*points[0]))
        path.lineTo(QPointF(*points[-1]))
        return path
    return routed_path(points)


def _paint_edge(painter: QPainter, edge: InnerEdge, path: QPainterPath, theme: Theme,
                lod: float) -> None:
    color = QColor(ERROR_COLOR) if edge.error else theme.edge
    painter.setPen(QPen(color, 2.2 if edge.error else 1.4))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawPath(path)
    if not edge.onward:  # an arrow on the border would point at the outer edge's start
        _arrow_head(painter, path, color)
    if edge.label and edge.label_box is not None and lod >= DETAIL_LOD:
        box = QRectF(*edge.label_box)
        painter.setPen(QPen(color, 1.0))
        painter.setBrush(theme.label_fill)
        painter.drawRoundedRect(box, 4, 4)
        painter.setFont(EDGE_FONT)
        painter.setPen(QColor(ERROR_COLOR) if edge.error else theme.label_text)
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, edge.label)


def _arrow_head(painter: QPainter, path: QPainterPath, color: QColor) -> None:
    """As the canvas's edges end: a filled head just short of the port circle."""
    painter.save()
    painter.translate(path.pointAtPercent(1.0))
    painter.rotate(-path.angleAtPercent(0.98))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(color)
    painter.drawPolygon(QPolygonF([QPointF(-PORT_RADIUS - 1, 0), QPointF(-11, -4),
                                   QPointF(-11, 4)]))
    painter.restore()
