"""Canvas items: a node (its glyph and ports) and an edge (its route and its tensor shape).

Items only draw and report; every change goes through the controller, and the scene updates
items when the document says something changed. An edge is drawn along the route the scene
gives it (builder/gui/edge_routes.py: round the boxes, its label where nothing covers it);
while it has none that fits its ports (the router refused the data, or a node was just moved
and the scene has not routed again yet) it is an S-curve between them, so it never comes
loose from its ports.
"""

from __future__ import annotations

import math
from functools import lru_cache

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
from graph_schema.routing import Route, path_steps

GRID = 8.0  # snapping step, in scene units
EDGE_FONT = mono_font(7.5)
PORT_HIT = 9.0  # how close (scene units) a press must be to a port to grab it
LABEL_PAD = (10.0, 4.0)  # room round a shape label's text, width and height
PORT_SLACK = 0.01  # how far a route's end may be from its port and still be drawn


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
            scene = self.scene()
            if scene is not None:
                scene.overview.dirty = True
                # The canvas routes the edges again; a read-only scene has no routes.
                moved = getattr(scene, "node_item_moved", None)
                if moved is not None:
                    moved(self.node_id)
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
        self.route: Route | None = None  # from the scene's router; None: the S-curve
        self.routed = False  # whether the path drawn now is the route
        self._path = QPainterPath()
        self._points: list[QPointF] = []  # the polyline drawn far out (and in the overview)
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

    def set_route(self, route: Route | None) -> None:
        if route != self.route:
            self.route = route
            self.adjust()

    def ports(self) -> tuple[QPointF, QPointF]:
        return (self.source.port_scene_pos("out", self.source_port),
                self.target.port_scene_pos("in", self.target_port))

    def polyline(self) -> list[QPointF]:
        """The corners of what is drawn: the route's points, or the two ports."""
        return self._points

    def adjust(self) -> None:
        start, end = self.ports()
        self.prepareGeometryChange()
        route = self.route
        self.routed = route is not None and _fits(route, start, end)
        width, height = label_size(self.label)
        if self.routed:
            self._path = routed_path(route.points)
            self._points = [QPointF(x, y) for x, y in route.points]
            middle = _label_centre(route) or self._path.pointAtPercent(0.5)
        else:
            self._path = edge_path(start, end)
            self._points = [start, end]
            middle = self._path.pointAtPercent(0.5)
        self._label_rect = QRectF(middle.x() - width / 2, middle.y() - height / 2, width,
                                  height) if self.label else QRectF()
        self.update()

    def label_rect(self) -> QRectF:
        """Where the shape label is drawn, in scene units (empty without a label)."""
        return QRectF(self._label_rect)

    def path(self) -> QPainterPath:
        return QPainterPath(self._path)

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
            # Far out: the route's corners joined by hairlines is all that can be seen anyway.
            painter.setPen(QPen(color, 0))
            painter.drawPolyline(QPolygonF(self._points))
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        pen = QPen(color, 2.4 if self.error or selected else 1.6)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self._path)
        if self.routed:
            (ax, ay), (bx, by) = self.route.points[-2], self.route.points[-1]
            _arrow_head(painter, QPointF(bx, by), math.degrees(math.atan2(ay - by, bx - ax)),
                        color)
        else:
            _arrow_head(painter, self._path.pointAtPercent(1.0),
                        self._path.angleAtPercent(0.98), color)
        if self.label:
            painter.setPen(QPen(color, 1.0))
            painter.setBrush(self.theme.label_fill)
            painter.drawRoundedRect(self._label_rect, 4, 4)
            painter.setFont(EDGE_FONT)
            painter.setPen(QColor(ERROR_COLOR) if self.error else self.theme.label_text)
            painter.drawText(self._label_rect, Qt.AlignmentFlag.AlignCenter, self.label)


@lru_cache(maxsize=4096)
def label_size(text: str) -> tuple[float, float]:
    """How much room a shape label takes on the canvas (0 x 0 without a label)."""
    if not text:
        return 0.0, 0.0
    metrics = QFontMetricsF(EDGE_FONT)
    return metrics.horizontalAdvance(text) + LABEL_PAD[0], metrics.height() + LABEL_PAD[1]


def _fits(route: Route, start: QPointF, end: QPointF) -> bool:
    """Whether the route still runs from port to port (the ends move with their nodes)."""
    (sx, sy), (ex, ey) = route.points[0], route.points[-1]
    return max(abs(sx - start.x()), abs(sy - start.y()), abs(ex - end.x()),
               abs(ey - end.y())) <= PORT_SLACK


def _label_centre(route: Route) -> QPointF | None:
    if route.label is None:
        return None
    x, y, w, h = route.label
    return QPointF(x + w / 2, y + h / 2)


def routed_path(points) -> QPainterPath:
    """The route's polyline with rounded corners (graph_schema.routing.path_steps)."""
    steps = path_steps(points)
    path = QPainterPath(QPointF(*steps[0][1]))
    for step in steps[1:]:
        if step[0] == "line":
            path.lineTo(QPointF(*step[1]))
        else:
            path.quadTo(QPointF(*step[1]), QPointF(*step[2]))
    return path


def edge_path(start: QPointF, end: QPointF) -> QPainterPath:
    """A vertical S-curve from an output (below a node) to an input (above the next)."""
    path = QPainterPath(start)
    bend = max(30.0, abs(end.y() - start.y()) * 0.5)
    if end.y() < start.y():  # going back up: loop out sideways so the curve stays visible
        bend = max(bend, 80.0)
    path.cubicTo(QPointF(start.x(), start.y() + bend), QPointF(end.x(), end.y() - bend), end)
    return path


def _arrow_head(painter: QPainter, tip: QPointF, angle: float, color: QColor) -> None:
    """An arrow head at ``tip`` pointing along ``angle`` (degrees, counter-clockwise, as
    QPainterPath.angleAtPercent gives it)."""
    painter.save()
    painter.translate(tip)
    painter.rotate(-angle)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(color)
    painter.drawPolygon(QPolygonF([QPointF(-PORT_RADIUS - 1, 0), QPointF(-12, -4.5),
                                   QPointF(-12, 4.5)]))
    painter.restore()
