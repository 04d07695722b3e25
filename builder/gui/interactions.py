"""Mouse gestures on the canvas, one small class each (as in Orange's canvas).

``LinkDrag``: press on a port, drag, release on another port (or on a node, which picks its
first free input). Pressing a connected input picks its connection up: drop it on another
input to move it, or on empty canvas to remove it.
``MoveTracker``: a drag of selected nodes becomes one move command on release.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QPen
from PySide6.QtWidgets import QGraphicsPathItem

from builder.gui.items import NodeItem, edge_path
from graph_schema.document import Edge

if TYPE_CHECKING:
    from builder.gui.scene import CanvasScene


class Interaction:
    """Base class: something the mouse is doing on the scene right now."""


class LinkDrag(Interaction):
    def __init__(self, scene: CanvasScene, item: NodeItem, kind: str, index: int):
        self.scene = scene
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
        self.move(self.anchor.port_scene_pos(self.kind, self.index))

    def _edge_into(self, node_id: str, port: int) -> Edge | None:
        for edge in self.scene.doc.graph(self.scene.key).edges:
            if edge.target == node_id and edge.target_port == port:
                return edge
        return None

    def move(self, pos: QPointF) -> None:
        start = self.anchor.port_scene_pos(self.kind, self.index)
        self.line.setPath(edge_path(start, pos) if self.kind == "out" else edge_path(pos, start))

    def finish(self, pos: QPointF) -> None:
        self.scene.removeItem(self.line)
        wanted = "in" if self.kind == "out" else "out"
        other = self._other_end(pos, wanted)
        controller, key = self.scene.controller, self.scene.key
        if self.picked is not None:
            self._restore_picked()
            if other is None:
                controller.disconnect(key, [self.picked])
            elif (other[0].node_id, other[1]) != (self.picked.target, self.picked.target_port):
                controller.reroute(key, self.picked, other[0].node_id, other[1])
            return
        if other is None:
            return
        if self.kind == "out":
            controller.connect(key, self.anchor.node_id, self.index, other[0].node_id, other[1])
        else:
            controller.connect(key, other[0].node_id, other[1], self.anchor.node_id, self.index)

    def _restore_picked(self) -> None:
        edge = self.picked
        item = self.scene.edges.get((edge.source, edge.source_port, edge.target,
                                     edge.target_port))
        if item is not None:
            item.setVisible(True)

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
    def __init__(self, scene: CanvasScene):
        self.scene = scene
        self.before: dict[str, QPointF] = {}

    def start(self) -> None:
        self.before = {i.node_id: i.pos() for i in self.scene.selectedItems()
                       if isinstance(i, NodeItem)}

    def finish(self) -> None:
        moved = [n for n, p in self.before.items()
                 if n in self.scene.nodes and self.scene.nodes[n].pos() != p]
        if moved:
            self.scene.controller.move(self.scene.key, self.scene.positions_of(moved))
