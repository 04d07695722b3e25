"""Block instances opened in place on one canvas: which are open, their frames, and the room
the rest of the drawing makes for them.

Opening a block in place is a way of looking, not an edit: nothing is saved and nothing goes
on the undo stack, and the document's positions never change. The scene draws every node at
its document position plus a view-only offset (graph_schema/inline_layout.py's ``make_room``);
``document_position`` takes the offset off again, so a node dragged while frames are open
lands where the user sees it. An open instance's own NodeItem stays in the scene, hidden and
stretched to its frame: the outer edges still end at its ports, which now lie on the frame's
border, and anything that measures node boxes (routing, the overview) sees the frame's box.

Which instances are open is a set of paths of node ids (``("n5",)`` is node n5 of this
graph, ``("n5", "n3")`` node n3 inside n5's block). A path whose nodes are gone is simply
not drawn. The frames follow the document: any change to this graph or to a block drawn in
a frame rebuilds them at the next turn of the event loop (many signals, one rebuild), and a
change that reset a node's position or size puts the room back at once.
"""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QObject, QPointF, QTimer, Signal
from PySide6.QtWidgets import QGraphicsScene

from builder.gui.glyphs import node_size
from builder.gui.inline_body import ROOM_MARGIN, Body, open_body, openable
from builder.gui.inline_frame import FrameItem, InnerNodeItem
from builder.gui.items import GRID, NodeItem
from graph_schema.document import Position
from graph_schema.inline_layout import Path, inline_paths, make_room


class InlineBlocks(QObject):
    changed = Signal()  # frames were opened, closed or rebuilt
    inner_node_activated = Signal(object, str)  # block key, node id (double-click)

    def __init__(self, scene: QGraphicsScene):  # a CanvasScene (which imports this module)
        super().__init__(scene)
        self.scene = scene
        self.opened: set[Path] = set()
        self.frames: dict[str, FrameItem] = {}  # top-level open instance -> its frame
        self.offsets: dict[str, tuple[float, float]] = {}  # view-only displacement per node
        self._hidden: set[str] = set()  # NodeItems standing in for a frame
        self._rebuild_soon = QTimer(self)
        self._rebuild_soon.setSingleShot(True)
        self._rebuild_soon.setInterval(0)
        self._rebuild_soon.timeout.connect(self.rebuild)
        for signal, slot in self._document_slots():
            signal.connect(slot)

    def _document_slots(self):
        doc = self.scene.doc
        return [(signal, self._on_doc_graph_changed) for signal in (
            doc.node_added, doc.node_removed, doc.node_changed, doc.nodes_moved,
            doc.edge_added, doc.edge_removed, doc.shapes_changed)] + [
            (doc.diagnostics_changed, self._on_doc_graph_changed),
            (doc.graph_removed, self._on_doc_graph_changed),
            (doc.graph_renamed, self._on_doc_graph_renamed),
            (doc.flow_changed, self._on_doc_flow_changed)]

    def detach(self) -> None:
        self._rebuild_soon.stop()
        for signal, slot in self._document_slots():
            signal.disconnect(slot)

    # -- what is open -----------------------------------------------------------------------
    def is_open(self, path: Path) -> bool:
        return tuple(path) in self.opened

    def can_open(self, node_id: str) -> bool:
        node = self.scene.doc.graph(self.scene.key).node(node_id)
        return node is not None and openable(self.scene.doc.project, node) is not None

    def can_open_inside(self, body: Body, node_id: str) -> bool:
        node = body.inference.nodes.get(node_id)
        return node is not None and openable(self.scene.doc.project, node) is not None

    def open(self, path: Path) -> None:
        self._set_opened(self.opened | {tuple(path)})

    def close(self, path: Path) -> None:
        """Close an instance and every instance opened inside it."""
        path = tuple(path)
        self._set_opened({p for p in self.opened if p[:len(path)] != path})

    def open_paths(self, paths) -> None:
        """Open these instances too (paths of node ids, as ``opened`` holds them)."""
        self._set_opened(self.opened | {tuple(path) for path in paths})

    def open_all_of(self, block_name: str) -> None:
        """Open every instance of the block that can be seen: on this canvas and inside the
        frames open now."""
        found = {(node_id,) for node_id, node in self._graph_nodes()
                 if node.block_name == block_name}
        for frame in self.frames.values():
            found |= _instances_inside(frame, block_name)
        self._set_opened(self.opened | found)

    def open_to_depth(self, depth: int) -> None:
        """Open every instance down to ``depth`` levels of nesting (0: close them all)."""
        doc = self.scene.doc
        self._set_opened(inline_paths(doc.project, doc.graph(self.scene.key), depth))

    def close_all(self) -> None:
        self._set_opened(set())

    def _set_opened(self, opened: set[Path]) -> None:
        if opened != self.opened:
            self.opened = opened
            self.rebuild()

    def _graph_nodes(self):
        return ((n.id, n) for n in self.scene.doc.graph(self.scene.key).nodes)

    # -- what is under a point ---------------------------------------------------------------
    def frame_at(self, scene_pos: QPointF) -> FrameItem | None:
        """The innermost frame under a point."""
        return next((i for i in self.scene.items(scene_pos) if isinstance(i, FrameItem)),
                    None)

    def inner_node_at(self, scene_pos: QPointF) -> InnerNodeItem | None:
        return next((i for i in self.scene.items(scene_pos) if isinstance(i, InnerNodeItem)),
                    None)

    def document_position(self, node_id: str, pos: QPointF) -> Position:
        """Where a node drawn at ``pos`` is in the document (the view's room taken off)."""
        dx, dy = self.offsets.get(node_id, (0.0, 0.0))
        return Position(x=pos.x() - dx, y=pos.y() - dy)

    # -- building ----------------------------------------------------------------------------
    def rebuild(self) -> None:
        """Build every open frame afresh from the document, then make room for them."""
        self._rebuild_soon.stop()
        for frame in self.frames.values():
            if shiboken6.isValid(frame):  # a scene.clear() may have deleted it already
                self.scene.removeItem(frame)
        self.frames = {}
        for node_id, body in self._bodies().items():
            frame = FrameItem(body, self._on_frame_activated)
            self.scene.addItem(frame)
            self.frames[node_id] = frame
        self.relayout()
        self.changed.emit()

    def _bodies(self) -> dict[str, Body]:
        scene, doc = self.scene, self.scene.doc
        analysis = doc.analysis(scene.key)
        inside = (scene.key[1],) if scene.key[0] == "block" else ()
        bodies = {}
        for (node_id,) in sorted(p for p in self.opened if len(p) == 1):
            item = scene.nodes.get(node_id)
            node = analysis.inference.nodes.get(node_id)
            if item is None or node is None:
                continue
            body = open_body(doc.project, (node_id,), node,
                             analysis.inference.states.get(node_id), item.look, self.opened,
                             inside)
            if body is not None:
                bodies[node_id] = body
        return bodies

    def relayout(self) -> None:
        """Put every node where the open frames leave it room (cheap: no inference)."""
        scene = self.scene
        frames = {n: f for n, f in self.frames.items()
                  if n in scene.nodes and shiboken6.isValid(f)}
        if not frames and not self.offsets and not self._hidden:
            return  # nothing open and nothing moved: leave the canvas exactly as it is
        boxes = {}
        for node_id, item in scene.nodes.items():
            position = scene.doc.node(scene.key, node_id).position
            boxes[node_id] = (position.x, position.y, *node_size(item.look, scene.flow))
        room = make_room(boxes, {n: f.body.size for n, f in frames.items()}, flow=scene.flow,
                         step=GRID, margin=ROOM_MARGIN)
        self.offsets = {n: o for n, o in room.offsets.items() if o != (0.0, 0.0)}
        for node_id, item in scene.nodes.items():
            if node_id in frames:
                self._stand_in(item, frames[node_id], room.frames[node_id])
                continue
            if node_id in self._hidden:
                self._restore(item)
            x, y, _w, _h = boxes[node_id]
            dx, dy = room.offsets[node_id]
            target = QPointF(x + dx, y + dy)
            if item.pos() != target:
                item.setPos(target)
        self._hidden = set(frames)

    def _stand_in(self, item: NodeItem, frame: FrameItem, box) -> None:
        """The instance's node, hidden, exactly under its frame (so its ports are the frame's
        border ports)."""
        x, y, width, height = box
        frame.setPos(x, y)
        item.setVisible(False)
        item.snapping = False  # the frame need not sit on the grid; its ports must match it
        if item.size != (width, height):
            item.prepareGeometryChange()
            item.size = (width, height)
            self.scene.node_item_moved(item.node_id)  # its box changed: route its edges
        if item.pos() != QPointF(x, y):
            item.setPos(x, y)
        for edge in item.edges:
            edge.adjust()

    def _restore(self, item: NodeItem) -> None:
        item.prepareGeometryChange()
        item.size = node_size(item.look, item.flow)
        self.scene.node_item_moved(item.node_id)  # its box changed: route its edges
        item.snapping = True
        item.setVisible(True)
        for edge in item.edges:
            edge.adjust()

    # -- signals -----------------------------------------------------------------------------
    def _drawn_keys(self) -> set:
        keys = {self.scene.key}
        for frame in self.frames.values():
            if shiboken6.isValid(frame):
                keys |= _keys_inside(frame)
        return keys

    def _on_doc_graph_changed(self, key, *_what) -> None:
        if not self.opened:
            return
        if key == self.scene.key:
            self.relayout()  # the scene may just have put a node back at its document place
        if key in self._drawn_keys():
            self._rebuild_soon.start()

    def _on_doc_graph_renamed(self, old, _new) -> None:
        if self.opened and old in self._drawn_keys():
            self._rebuild_soon.start()  # the titles name the block

    def _on_doc_flow_changed(self, _flow: str) -> None:
        if self.opened:  # every frame turns: its ports, its body's layout and routes
            self._rebuild_soon.start()

    def _on_frame_activated(self, body: Body, node_id: str) -> None:
        self.inner_node_activated.emit(body.key, node_id)


def _keys_inside(frame: FrameItem) -> set:
    keys = {frame.body.key}
    for child in frame.frames.values():
        keys |= _keys_inside(child)
    return keys


def _instances_inside(frame: FrameItem, block_name: str) -> set[Path]:
    body = frame.body
    found = {(*body.path, node_id) for node_id in body.looks
             if body.inference.nodes[node_id].block_name == block_name}
    for child in frame.frames.values():
        found |= _instances_inside(child, block_name)
    return found
