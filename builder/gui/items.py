"""Canvas items: a node (its glyph and ports) and an edge (a curve with its tensor shape).

Items only draw and report; every change goes through the controller, and the scene updates
items when the document says something changed.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QFontMetricsF,
    QPainter,
    QPainterPath,
    QPainterPathStroker,
    QPen,
    QPolygonF,
)
from PySide6.QtWidgets import QGraphicsItem, QStyle, QStyleOptionGraphicsItem

from builder.gui.glyphs import (
    DETAIL_LOD,
    PORT_RADIUS,
    NodeLook,
    node_size,
    paint_node,
    port_position,
)
from builder.gui.theme import ERROR_COLOR, Theme, mono_font

GRID = 8.0  # snapping step, in scene units
EDGE_FONT = mono_font(7.5)
PORT_HIT = 9.0  # how close (scene units) a press must be to a port to grab it


def set_far(item: QGraphicsItem, far: bool) -> None:
    """Far out the view paints an overview (builder/gui/overview.py); the item stays for
    clicks and selection but Qt no longer asks it to paint."""
    item.setFlag(QGraphicsItem.GraphicsItemFlag.ItemHasNoContents, far)


class NodeItem(QGraphicsItem):
    def __init__(self, node_id: str, look: NodeLook, theme: Theme):
        super().__init__()
        self.node_id = node_id
        self.theme = theme
        self.edges: list[EdgeItem] = []
        self.connected_inputs: frozenset[int] = frozenset()
        self.snapping = True
        self.look = look
        self.flow = "down"  # the project's, once the item is on its canvas (follow_flow)
        self.size = node_size(look, self.flow)
        self.setFlags(QGraphicsItem.GraphicsItemFlag.ItemIsMovable
                      | QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
                      | QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges)
        self.setAcceptHoverEvents(True)
        self.setZValue(1.0)

    # -- state -----------------------------------------------------------------------------
    def set_look(self, look: NodeLook) -> None:
        if look == self.look:
            return
        self.look = look
        self._reshape()

    def follow_flow(self) -> None:
        """Take the flow of the project this item's scene shows: the ports move to the other
        sides. Items outside a project's canvas (a kept block's recorded view, whose scene has
        no ``flow``) stay top to bottom, as their layout is."""
        flow = getattr(self.scene(), "flow", "down")
        if flow != self.flow:
            self.flow = flow
            self._reshape()

    def _reshape(self) -> None:
        size = node_size(self.look, self.flow)
        if size != self.size:
            self.prepareGeometryChange()
            self.size = size
        self.update()
        for edge in self.edges:
            edge.adjust()

    def set_connected_inputs(self, ports: frozenset[int]) -> None:
        if ports != self.connected_inputs:
            self.connected_inputs = ports
            self.update()

    def port_scene_pos(self, kind: str, index: int) -> QPointF:
        return self.mapToScene(port_position(self.look, self.size, kind, index, self.flow))

    def port_at(self, scene_pos: QPointF) -> tuple[str, int] | None:
        """The port under a scene point, if one is within reach."""
        local = self.mapFromScene(scene_pos)
        best, best_distance = None, PORT_HIT
        for kind, count in (("in", self.look.inputs), ("out", self.look.outputs)):
            for index in range(count):
                delta = port_position(self.look, self.size, kind, index, self.flow) - local
                distance = (delta.x() ** 2 + delta.y() ** 2) ** 0.5
                if distance <= best_distance:
                    best, best_distance = (kind, index), distance
        return best

    def free_input(self) -> int | None:
        for index in range(self.look.inputs):
            if index not in self.connected_inputs:
                return index
        return 0 if self.look.inputs else None

    # -- QGraphicsItem ---------------------------------------------------------------------
    def boundingRect(self) -> QRectF:  # noqa: N802
        margin = PORT_RADIUS + 6
        return QRectF(-margin, -margin - 4, self.size[0] + 2 * margin + 6,
                      self.size[1] + 2 * margin + 4)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRect(QRectF(-PORT_RADIUS, -PORT_RADIUS, self.size[0] + 2 * PORT_RADIUS,
                            self.size[1] + 2 * PORT_RADIUS))
        return path

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget=None) -> None:
        lod = QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform())
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        paint_node(painter, self.look, self.size, self.theme, selected, lod,
                   self.connected_inputs, self.flow)

    def itemChange(self, change, value):  # noqa: N802
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionChange and self.snapping:
            return QPointF(round(value.x() / GRID) * GRID, round(value.y() / GRID) * GRID)
        if change == QGraphicsItem.GraphicsItemChange.ItemSceneHasChanged and value is not None:
            self.follow_flow()  # added to a canvas: its ports go where the project says
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged:
            for edge in self.edges:
                edge.adjust()
            if self.scene() is not None:
                self.scene().overview.dirty = True
        return super().itemChange(change, value)


class EdgeItem(QGraphicsItem):
    """A connection from an output port to an input port, labelled with its tensor shape."""

    def __init__(self, source: NodeItem, source_port: int, target: NodeItem, target_port: int,
                 theme: Theme):
        super().__init__()
        self.source, self.source_port = source, source_port
        self.target, self.target_port = target, target_port
        self.theme = theme
        self.label = ""
        self.error: str | None = None
        self._path = QPainterPath()
        self._label_rect = QRectF()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setZValue(0.0)
        source.edges.append(self)
        target.edges.append(self)
        self.adjust()

    def detach(self) -> None:
        for node in (self.source, self.target):
            if self in node.edges:
                node.edges.remove(self)

    def set_state(self, label: str, error: str | None) -> None:
        if (label, error) == (self.label, self.error):
            return
        self.label, self.error = label, error
        self.setToolTip(f"{label}\n{error}" if error else label)
        self.adjust()

    def adjust(self) -> None:
        start = self.source.port_scene_pos("out", self.source_port)
        end = self.target.port_scene_pos("in", self.target_port)
        self.prepareGeometryChange()
        self._path = edge_path(start, end)
        metrics = QFontMetricsF(EDGE_FONT)
        width = metrics.horizontalAdvance(self.label) + 10 if self.label else 0.0
        height = metrics.height() + 4
        middle = self._path.pointAtPercent(0.5)
        self._label_rect = QRectF(middle.x() - width / 2, middle.y() - height / 2, width, height)
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802
        return self._path.boundingRect().adjusted(-6, -6, 6, 6).united(self._label_rect)

    def shape(self) -> QPainterPath:
        stroker = QPainterPathStroker()
        stroker.setWidth(10)
        path = stroker.createStroke(self._path)
        path.addRect(self._label_rect)
        return path

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget=None) -> None:
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        color = QColor(ERROR_COLOR) if self.error else (
            self.theme.selection if selected else self.theme.edge)
        lod = QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform())
        if lod < DETAIL_LOD:
            # Far out: a hairline between the ports is all that can be seen anyway.
            painter.setPen(QPen(color, 0))
            painter.drawLine(self._path.pointAtPercent(0.0), self._path.pointAtPercent(1.0))
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        pen = QPen(color, 2.4 if self.error or selected else 1.6)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self._path)
        _arrow_head(painter, self._path, color)
        if self.label:
            painter.setPen(QPen(color, 1.0))
            painter.setBrush(self.theme.label_fill)
            painter.drawRoundedRect(self._label_rect, 4, 4)
            painter.setFont(EDGE_FONT)
            painter.setPen(QColor(ERROR_COLOR) if self.error else self.theme.label_text)
            painter.drawText(self._label_rect, Qt.AlignmentFlag.AlignCenter, self.label)


def edge_path(start: QPointF, end: QPointF) -> QPainterPath:
    """A vertical S-curve from an output (below a node) to an input (above the next)."""
    path = QPainterPath(start)
    bend = max(30.0, abs(end.y() - start.y()) * 0.5)
    if end.y() < start.y():  # going back up: loop out sideways so the curve stays visible
        bend = max(bend, 80.0)
    path.cubicTo(QPointF(start.x(), start.y() + bend), QPointF(end.x(), end.y() - bend), end)
    return path


def _arrow_head(painter: QPainter, path: QPainterPath, color: QColor) -> None:
    tip = path.pointAtPercent(1.0)
    angle = path.angleAtPercent(0.98)
    painter.save()
    painter.translate(tip)
    painter.rotate(-angle)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(color)
    painter.drawPolygon(QPolygonF([QPointF(-PORT_RADIUS - 1, 0), QPointF(-12, -4.5),
                                   QPointF(-12, 4.5)]))
    painter.restore()
