"""Diagnostic callouts for exported pictures (``torchcanvas render --with-messages``).

On the canvas a node's problems are a badge and a tooltip; a picture has no tooltips, so
each node with a badge gets a small box with its messages in words, joined to the badge by a
leader line. A box never covers a node, a shape label or another box: spots right of the
node (where the badge is) are tried nearest first, then spots left of it, each checked
against a grid of what is already drawn (graph_schema.routing_index, as the router places
its labels); on each side a spot that also keeps off the edges' lines is preferred. If every
spot near the node is taken, the box goes right of everything, where nothing can be.
"""

from __future__ import annotations

from collections.abc import Iterator

from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem

from builder.gui.glyphs import PORT_RADIUS, badge_rect
from builder.gui.theme import ERROR_COLOR, WARNING_COLOR, Theme, ui_font
from graph_schema.diagnostics import Diagnostic, one_line
from graph_schema.routing_index import RectIndex

FONT = ui_font(8.0)
WIDTH = 240.0  # the callout's text wraps at this width (scene units)
PAD = 5.0
GAP = 14.0  # between a node and its callout
MARGIN = 4.0  # free space kept round a callout
STEPS = 8  # how many rings of spots round a node are tried
WRAP = Qt.TextFlag.TextWordWrap


def callout_text(diagnostics: list[Diagnostic]) -> str:
    lines = []
    for diagnostic in diagnostics:
        where = f"input {diagnostic.port}: " if diagnostic.port is not None else ""
        level = "error" if diagnostic.is_error else "warning"
        fix = f" (fix: {diagnostic.fix.label})" if diagnostic.fix else ""
        lines.append(one_line(f"{level}: {where}{diagnostic.message}{fix}"))
    return "\n".join(lines)


class Callout(QGraphicsItem):
    """A box of messages at ``rect`` with a leader line to ``anchor`` (the badge)."""

    def __init__(self, node_id: str, text: str, rect: QRectF, anchor: QPointF, severity: str,
                 theme: Theme):
        super().__init__()
        self.node_id, self.text, self.rect, self.anchor = node_id, text, rect, anchor
        self.color = QColor(ERROR_COLOR if severity == "error" else WARNING_COLOR)
        self.theme = theme
        self.setZValue(3.0)  # above nodes and edges

    def leader(self) -> QLineF:
        r = self.rect
        nearest = QPointF(min(max(self.anchor.x(), r.left()), r.right()),
                          min(max(self.anchor.y(), r.top()), r.bottom()))
        return QLineF(self.anchor, nearest)

    def boundingRect(self) -> QRectF:  # noqa: N802
        line = self.leader()
        return self.rect.united(QRectF(line.p1(), line.p2()).normalized()).adjusted(
            -2, -2, 2, 2)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(QPen(self.color, 1.2, Qt.PenStyle.DashLine))
        painter.drawLine(self.leader())
        painter.setPen(QPen(self.color, 1.2))
        painter.setBrush(self.theme.label_fill)
        painter.drawRoundedRect(self.rect, 4, 4)
        painter.setFont(FONT)
        painter.setPen(self.theme.label_text)
        painter.drawText(self.rect.adjusted(PAD, PAD, -PAD, -PAD), WRAP, self.text)


def body_of(item) -> QRectF:
    """A node's glyph in scene units (a merge's circle and its name)."""
    return item.mapRectToScene(QRectF(0, 0, *item.size))


def _size(text: str) -> tuple[float, float]:
    bounds = QFontMetricsF(FONT).boundingRect(QRectF(0, 0, WIDTH, 1e6), WRAP, text)
    return bounds.width() + 2 * PAD + 1, bounds.height() + 2 * PAD + 1


def _spots(node: QRectF, badge: QPointF, width: float, height: float, side: int
           ) -> Iterator[QRectF]:
    """Boxes to try on one side of the node (1: right, where the badge is; -1: left),
    nearest the badge first."""
    top = badge.y() - height / 2
    step_x, step_y = width / 2, height / 2 + MARGIN
    for ring in range(STEPS):
        x = node.right() + GAP + ring * step_x if side > 0 else \
            node.left() - GAP - width - ring * step_x
        for dy in sorted(range(-ring, ring + 1), key=abs):
            yield QRectF(x, top + dy * step_y, width, height)


class _Placer:
    def __init__(self, scene):
        self.solid = RectIndex(128.0)  # nodes, labels, callouts: never covered
        self.lines = RectIndex(128.0)  # edge segments: better not covered
        self.right = 0.0
        for node_id, item in scene.nodes.items():
            self._add(self.solid, ("node", node_id), body_of(item).adjusted(
                -PORT_RADIUS, -PORT_RADIUS, PORT_RADIUS, PORT_RADIUS))
        for key, edge in scene.edges.items():
            if not edge.label_rect().isEmpty():
                self._add(self.solid, ("label", key), edge.label_rect())
            points = edge.polyline()
            for index, (a, b) in enumerate(zip(points, points[1:])):
                self._add(self.lines, (key, index), QRectF(a, b).normalized())

    def _add(self, index: RectIndex, key, rect: QRectF) -> None:
        index.add(key, (rect.left(), rect.top(), rect.right(), rect.bottom()))
        self.right = max(self.right, rect.right())

    @staticmethod
    def _free(index: RectIndex, rect: QRectF) -> bool:
        return index.hit(rect.left() - MARGIN, rect.top() - MARGIN, rect.right() + MARGIN,
                         rect.bottom() + MARGIN) is None

    def place(self, key, node: QRectF, badge: QPointF, size: tuple[float, float]) -> QRectF:
        """The right side first (the leader line then crosses no node), off the edges'
        lines if it can be, then the left side; else right of everything."""
        width, height = size
        chosen = None
        for side in (1, -1):
            for keep_off_lines in (True, False):
                chosen = next((rect for rect in _spots(node, badge, width, height, side)
                               if self._free(self.solid, rect)
                               and (not keep_off_lines or self._free(self.lines, rect))),
                              None)
                if chosen is not None:
                    break
            if chosen is not None:
                break
        if chosen is None:  # right of everything drawn so far: nothing is there
            chosen = QRectF(self.right + GAP, badge.y() - height / 2, width, height)
        self._add(self.solid, ("callout", key), chosen)
        return chosen


def add_callouts(scene, theme: Theme) -> list[Callout]:
    """A callout for every node of ``scene`` (a CanvasScene) with diagnostics, in the
    document's node order; returns them (they are the scene's items now)."""
    scene.flush_routes()  # labels where they will be drawn
    analysis = scene.doc.analysis(scene.key)
    placer = _Placer(scene)
    callouts = []
    for node in scene.doc.graph(scene.key).nodes:
        diagnostics = analysis.by_node.get(node.id, [])
        item = scene.nodes.get(node.id)
        if not diagnostics or item is None:
            continue
        text = callout_text(diagnostics)
        badge = item.mapToScene(badge_rect(item.look, item.size).center())
        rect = placer.place(node.id, body_of(item), badge, _size(text))
        severity = "error" if any(d.is_error for d in diagnostics) else "warning"
        callout = Callout(node.id, text, rect, badge, severity, theme)
        scene.addItem(callout)
        callouts.append(callout)
    return callouts
