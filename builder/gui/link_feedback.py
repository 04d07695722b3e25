"""What a wire being drawn can connect to, shown on the canvas while it is drawn.

``LinkFeedback`` is an overlay the link drag (builder/gui/interactions.py) adds to the scene
and removes on release: it dims every port that cannot take the wire (and veils a node none
of whose ports can), and ``ReasonTag`` writes at the cursor why the port under it cannot,
in the words of graph_schema.edit_rules.connection_problem. The status bar is too far from
the cursor to be read while aiming.

Judging a port tries the connection (a cycle, a missing port, a rank the layer never
takes). The ports nearest the wire's start are judged first, a few milliseconds at a time
between events, so a drag over a big graph starts at once; the port under the cursor is
always judged at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem

from builder.gui.glyphs import PORT_RADIUS
from builder.gui.items import NodeItem
from builder.gui.theme import ERROR_COLOR, ui_font

Port = tuple[str, int]  # node id, port index
Judge = Callable[[str, int], str | None]  # (node id, port) -> why it cannot take the wire

SLICE_S = 0.008  # judging time per event-loop turn
REASON_FONT = ui_font(8.5)
REASON_WIDTH = 320.0  # a long reason wraps rather than running off the screen
CURSOR_OFFSET = QPointF(16.0, 18.0)  # below and right of the cursor, clear of its arrow


class ReasonTag(QGraphicsItem):
    """Why the port under the cursor cannot take the wire, next to the cursor."""

    def __init__(self, theme, parent: QGraphicsItem):
        super().__init__(parent)
        self.theme = theme
        self.text = ""
        self._rect = QRectF()
        self.setVisible(False)

    def show_text(self, text: str, at: QPointF, visible: QRectF | None = None) -> None:
        """Show ``text`` beside the cursor at ``at``; on the cursor's other side where it
        would run out of the ``visible`` part of the scene."""
        if text != self.text:
            self.prepareGeometryChange()
            self.text = text
            metrics = QFontMetricsF(REASON_FONT)
            bounds = metrics.boundingRect(QRectF(0, 0, REASON_WIDTH, 1000),
                                          Qt.TextFlag.TextWordWrap, text)
            self._rect = bounds.adjusted(-6, -4, 6, 4).translated(6, 4)
        corner = at + CURSOR_OFFSET
        if visible is not None:
            if corner.x() + self._rect.right() > visible.right():
                corner.setX(at.x() - CURSOR_OFFSET.x() - self._rect.right())
            if corner.y() + self._rect.bottom() > visible.bottom():
                corner.setY(at.y() - CURSOR_OFFSET.y() - self._rect.bottom())
        self.setPos(corner)
        self.setVisible(bool(text))

    def boundingRect(self) -> QRectF:  # noqa: N802
        return self._rect.adjusted(-1, -1, 1, 1)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget=None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(QPen(QColor(ERROR_COLOR), 1.2))
        painter.setBrush(self.theme.label_fill)
        painter.drawRoundedRect(self._rect, 4, 4)
        painter.setFont(REASON_FONT)
        painter.setPen(self.theme.label_text)
        painter.drawText(self._rect.adjusted(6, 4, -6, -4), Qt.TextFlag.TextWordWrap, self.text)


class LinkFeedback(QGraphicsItem):
    """Dims the ``kind`` ports ("in" or "out") of the scene's nodes that ``judge`` refuses.
    ``start`` is where the wire starts: ports near it are judged first."""

    def __init__(self, scene, kind: str, judge: Judge, start: QPointF):
        super().__init__()
        self.scene_ref = scene
        self.kind = kind
        self.judge = judge
        self.verdicts: dict[Port, str | None] = {}
        self._extent = scene.itemsBoundingRect().adjusted(-20, -20, 20, 20)
        self._pending = self._ports_nearest(start)
        self.tag = ReasonTag(scene.theme, self)
        self.setZValue(20.0)  # over nodes and edges, under nothing
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self._timer = QTimer()
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._judge_some)
        self._timer.start()

    # -- judging ---------------------------------------------------------------------------
    def _ports_nearest(self, start: QPointF) -> list[Port]:
        ports = []
        for node_id, item in self.scene_ref.nodes.items():
            count = item.look.inputs if self.kind == "in" else item.look.outputs
            for index in range(count):
                delta = item.port_scene_pos(self.kind, index) - start
                ports.append((delta.x() ** 2 + delta.y() ** 2, node_id, index))
        ports.sort(reverse=True)  # the nearest last: judged first, popped off the end
        return [(node_id, index) for _, node_id, index in ports]

    @property
    def settled(self) -> bool:
        """Every port has been judged."""
        return not self._pending

    def verdict(self, node_id: str, port: int) -> str | None:
        """Why that port cannot take the wire (None: it can), judged now if not yet."""
        key = (node_id, port)
        if key not in self.verdicts:
            self.verdicts[key] = self.judge(node_id, port)
            self.update()
        return self.verdicts[key]

    def refused(self) -> dict[Port, str]:
        return {port: why for port, why in self.verdicts.items() if why}

    def _judge_some(self) -> None:
        deadline = time.perf_counter() + SLICE_S
        while self._pending and time.perf_counter() < deadline:
            node_id, port = self._pending.pop()
            if node_id in self.scene_ref.nodes:
                self.verdict(node_id, port)
        if not self._pending:
            self._timer.stop()

    def hover(self, pos: QPointF, target: tuple[NodeItem, int] | None) -> None:
        """The cursor is at ``pos`` over ``target`` (a node's port of this kind, or None)."""
        why = self.verdict(target[0].node_id, target[1]) if target is not None else None
        self.tag.show_text(why or "", pos, self._visible_rect())

    def _visible_rect(self) -> QRectF | None:
        views = self.scene_ref.views()
        if not views:
            return None
        view = views[0]
        return view.mapToScene(view.viewport().rect()).boundingRect()

    @property
    def reason(self) -> str:
        """What the cursor's tag says now ("" when it shows nothing)."""
        return self.tag.text if self.tag.isVisible() else ""

    def finish(self) -> None:
        self._timer.stop()
        self._pending = []

    # -- drawing ---------------------------------------------------------------------------
    def boundingRect(self) -> QRectF:  # noqa: N802
        return self._extent

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget=None) -> None:
        refused = self.refused()
        if not refused:
            return
        theme = self.scene_ref.theme
        veil = QColor(theme.background)
        veil.setAlpha(150)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(Qt.PenStyle.NoPen)
        for node_id in {n for n, _ in refused}:
            item = self.scene_ref.nodes.get(node_id)
            if item is not None and self._all_refused(node_id, item, refused):
                painter.setBrush(veil)
                painter.drawRect(item.mapRectToScene(QRectF(0, 0, *item.size)))
        dim = QColor(theme.background)
        dim.setAlpha(215)
        for node_id, port in refused:
            item = self.scene_ref.nodes.get(node_id)
            if item is None:
                continue
            painter.setBrush(dim)
            painter.drawEllipse(item.port_scene_pos(self.kind, port), PORT_RADIUS + 2.5,
                                PORT_RADIUS + 2.5)

    def _all_refused(self, node_id: str, item: NodeItem, refused: dict[Port, str]) -> bool:
        count = item.look.inputs if self.kind == "in" else item.look.outputs
        return all((node_id, index) in refused for index in range(count))
