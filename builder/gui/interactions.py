"""Mouse gestures on the canvas, one small class each (as in Orange's canvas).

The view picks the gesture when a button goes down and hands it the controller; the scene
only mirrors the document. Each gesture's ``mouse_press``/``mouse_move``/``mouse_release``
returns whether it handled the event; one it did not handle goes on to Qt's own handling
(selection, the rubber band, dragging items).

``Pan``: the middle button, or the left button with Space held, drags the canvas.
``LinkDrag``: press on a port, drag, release on another port (or on a node, which picks its
first free input); released on empty canvas, quick-add offers a layer to connect there.
Ports that cannot take the wire are dimmed while it is drawn (builder/gui/link_feedback.py).
Pressing a connected input picks its connection up: drop it on another input to move it,
or on empty canvas to remove it.
``MoveTracker``: a drag of selected nodes becomes one move command on release.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QPen
from PySide6.QtWidgets import QAbstractScrollArea, QGraphicsPathItem

from builder.gui.controller import EditController
from builder.gui.items import NodeItem, edge_path
from builder.gui.link_feedback import LinkFeedback
from graph_schema.document import Edge
from graph_schema.edit_rules import PortEnd


class Interaction:
    """Something the mouse is doing on the canvas right now. By default it handles nothing."""

    def mouse_press(self, pos: QPointF) -> bool:
        return False

    def mouse_move(self, pos: QPointF) -> bool:
        return False

    def mouse_release(self, pos: QPointF) -> bool:
        return False


class Pan(Interaction):
    """Drags the canvas under the cursor. Positions are the viewport's, not the scene's:
    the scene moves under the mouse while panning."""

    def __init__(self, area: QAbstractScrollArea, start: QPoint):
        self.area = area
        self.last = start
        area.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)

    def mouse_press(self, pos: QPointF) -> bool:
        return True  # a pan starts no rubber band and selects nothing

    def mouse_move(self, pos: QPointF) -> bool:
        point = pos.toPoint()
        delta, self.last = point - self.last, point
        for bar, step in ((self.area.horizontalScrollBar(), delta.x()),
                          (self.area.verticalScrollBar(), delta.y())):
            bar.setValue(bar.value() - step)
        return True

    def mouse_release(self, pos: QPointF) -> bool:
        return True


class LinkDrag(Interaction):
    """``on_dropped(point, end)`` hears of a new wire let go on empty canvas (quick-add
    offers a layer to connect there); while the wire is drawn a LinkFeedback overlay dims
    the ports that cannot take it and says why at the cursor."""

    def __init__(self, scene, controller: EditController, item: NodeItem, kind: str,
                 index: int, on_dropped: Callable[[QPointF, PortEnd], None] | None = None):
        self.scene, self.controller = scene, controller
        self.on_dropped = on_dropped
        self.picked: Edge | None = None
        if kind == "in":
            self.picked = self._edge_into(item.node_id, index)
        if self.picked is not None:
            # Carry the existing connection: it now starts at its source's output.
            source = scene.nodes[self.picked.source]
            self.anchor, self.kind, self.index = source, "out", self.picked.source_port
            scene.edges[(self.picked.source, self.picked.source_port, self.picked.target,
                         self.picked.target_port)].setVisible(False)
        else:
            self.anchor, self.kind, self.index = item, kind, index
        self.line = QGraphicsPathItem()
        pen = QPen(scene.theme.selection, 1.8, Qt.PenStyle.DashLine)
        self.line.setPen(pen)
        self.line.setZValue(10)
        scene.addItem(self.line)
        start = self.anchor.port_scene_pos(self.kind, self.index)
        self.feedback = LinkFeedback(scene, self.wanted, self._problem, start)
        scene.addItem(self.feedback)
        self.mouse_move(start)

    @property
    def wanted(self) -> str:
        """The kind of port the wire's other end goes to."""
        return "in" if self.kind == "out" else "out"

    def _problem(self, node_id: str, port: int) -> str | None:
        """Why the wire cannot end at that port of that node, or None."""
        key, anchor = self.scene.key, self.anchor.node_id
        if self.kind == "out":
            return self.controller.connection_problem(key, anchor, self.index, node_id, port)
        return self.controller.connection_problem(key, node_id, port, anchor, self.index)

    def _edge_into(self, node_id: str, port: int) -> Edge | None:
        for edge in self.scene.doc.graph(self.scene.key).edges:
            if edge.target == node_id and edge.target_port == port:
                return edge
        return None

    def mouse_press(self, pos: QPointF) -> bool:
        return True  # the press on a port starts the drag; it must not select or move

    def mouse_move(self, pos: QPointF) -> bool:
        start = self.anchor.port_scene_pos(self.kind, self.index)
        self.line.setPath(edge_path(start, pos) if self.kind == "out" else edge_path(pos, start))
        self.feedback.hover(pos, self._other_end(pos, self.wanted))
        return True

    def mouse_release(self, pos: QPointF) -> bool:
        self.scene.removeItem(self.line)
        self.feedback.finish()
        self.scene.removeItem(self.feedback)
        other = self._other_end(pos, self.wanted)
        controller, key = self.controller, self.scene.key
        if self.picked is not None:
            self._restore_picked()
            if other is None:
                controller.disconnect(key, [self.picked])
            elif (other[0].node_id, other[1]) != (self.picked.target, self.picked.target_port):
                controller.reroute(key, self.picked, other[0].node_id, other[1])
            return True
        if other is None:
            if self.on_dropped is not None and self._over_nothing(pos):
                self.on_dropped(pos, PortEnd(self.anchor.node_id, self.kind, self.index))
            return True
        if self.kind == "out":
            controller.connect(key, self.anchor.node_id, self.index, other[0].node_id, other[1])
        else:
            controller.connect(key, other[0].node_id, other[1], self.anchor.node_id, self.index)
        return True

    def _restore_picked(self) -> None:
        edge = self.picked
        item = self.scene.edges.get((edge.source, edge.source_port, edge.target,
                                     edge.target_port))
        if item is not None:
            item.setVisible(True)

    def _over_nothing(self, pos: QPointF) -> bool:
        return self.scene.port_at(pos) is None and self.scene.node_item_at(pos) is None

    def _other_end(self, pos: QPointF, wanted: str) -> tuple[NodeItem, int] | None:
        port = self.scene.port_at(pos)
        if port is not None and port[1] == wanted and port[0] is not self.anchor:
            return port[0], port[2]
        item = self.scene.node_item_at(pos)
        if item is None or item is self.anchor:
            return None
        if wanted == "in":
            free = item.free_input()
            return None if free is None else (item, free)
        return (item, 0) if item.look.outputs else None


class MoveTracker(Interaction):
    """Lets Qt drag the selected nodes, and turns where they ended up into one move command.
    The positions before are read at the first move, once Qt's press has settled the
    selection (a press on an unselected node selects it) and before Qt moves anything."""

    def __init__(self, scene, controller: EditController, pressed: NodeItem | None = None):
        self.scene, self.controller = scene, controller
        self.pressed = pressed  # Ctrl+press can leave it unselected, yet Qt still drags it
        self.before: dict[str, QPointF] | None = None

    def mouse_move(self, pos: QPointF) -> bool:
        if self.before is None:
            items = [i for i in self.scene.selectedItems() if isinstance(i, NodeItem)]
            if self.pressed is not None:
                items.append(self.pressed)
            self.before = {i.node_id: i.pos() for i in items}
        return False

    def mouse_release(self, pos: QPointF) -> bool:
        before = self.before or {}
        moved = [n for n, p in before.items()
                 if n in self.scene.nodes and self.scene.nodes[n].pos() != p]
        if moved:
            self.controller.move(self.scene.key, self.scene.positions_of(moved))
        return False
