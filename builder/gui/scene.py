"""The scene of one graph (a network or a block): items that mirror the document.

It listens to the document's signals and adds, removes or refreshes items, and answers
questions about them (what is at a point, what is selected). It keeps no controller: the
view turns gestures into edits (builder/gui/interactions.py), and ``render`` paints a scene
that nothing can edit.

Its edges follow routes round the node boxes (builder/gui/edge_routes.py). A rebuild, a
move the document announces and ``reroute_all`` route at once; every other change (an edge
added, a label or a node's size changed) only marks the routes stale and routes once when
the event loop is next free, so a paste of fifty layers routes once, not fifty times. A drag
routes the dragged edges after each mouse move, before anything is painted. ``routes_updated``
says the routes were done again.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QGraphicsScene, QGraphicsSceneMouseEvent

from builder.gui.edge_routes import EdgeRoutes
from builder.gui.init_marks import InitMark
from builder.gui.inline_blocks import InlineBlocks
from builder.gui.items import EdgeItem, NodeItem, set_far
from builder.gui.looks import node_look
from builder.gui.overview import Overview
from builder.gui.project_document import GraphKey, ProjectDocument
from builder.gui.theme import Theme
from graph_schema.dims import format_shape_compact
from graph_schema.document import Edge, Position

EdgeKey = tuple[str, int, str, int]
UNKNOWN_SHAPE = "?"  # the label of an edge whose source has no shape (an error above it)


def edge_key(edge: Edge) -> EdgeKey:
    return (edge.source, edge.source_port, edge.target, edge.target_port)


class CanvasScene(QGraphicsScene):
    node_activated = Signal(str)  # double-click on a node (open a block, focus the inspector)
    routes_updated = Signal()  # the edges' routes were done again
    _routes_went_stale = Signal()  # queued: routes once the current event is handled

    def __init__(self, doc: ProjectDocument, key: GraphKey, theme: Theme, parent=None):
        super().__init__(parent)
        self.doc = doc
        self.key = key
        self.theme = theme
        self.nodes: dict[str, NodeItem] = {}
        self.edges: dict[EdgeKey, EdgeItem] = {}
        self.overview = Overview()
        self.far = False  # zoomed out: the view paints self.overview instead of the items
        self.edge_routes = EdgeRoutes(self)
        self._moved_items: set[str] = set()  # nodes moved since the routes were last done
        self._routes_stale = False
        # Something besides those moves changed since (an edge, a label, a node's size): the
        # router must measure the whole scene again, not just the moved nodes.
        self._more_than_moves = False
        self._in_mouse_move = False
        # The init check's word on nodes (builder/gui/init_badges.py keeps it current): kept
        # across rebuilds, as it is not the document's.
        self.init_marks: dict[str, InitMark] = {}
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.BspTreeIndex)
        self.selectionChanged.connect(self._on_self_selection_changed)
        self._routes_went_stale.connect(self._on_self_routes_went_stale,
                                        Qt.ConnectionType.QueuedConnection)
        self._connect_document()
        self.rebuild()
        # Block instances seen open in place (a view state); it listens after this scene.
        self.inline = InlineBlocks(self)

    def _document_slots(self):
        """Which of this scene's slots listens to which document signal."""
        doc = self.doc
        return ((doc.node_added, self._on_doc_node_added),
                (doc.node_removed, self._on_doc_node_removed),
                (doc.node_changed, self._on_doc_node_changed),
                (doc.nodes_moved, self._on_doc_nodes_moved),
                (doc.edge_added, self._on_doc_edge_added),
                (doc.edge_removed, self._on_doc_edge_removed),
                (doc.shapes_changed, self._on_doc_shapes_changed),
                (doc.diagnostics_changed, self._on_doc_diagnostics_changed),
                (doc.graph_renamed, self._on_doc_graph_renamed),
                (doc.flow_changed, self._on_doc_flow_changed))

    def _connect_document(self) -> None:
        for signal, slot in self._document_slots():
            signal.connect(slot)

    def detach(self) -> None:
        """Stop listening (the tab showing this scene is closing)."""
        for signal, slot in self._document_slots():
            signal.disconnect(slot)
        self.inline.detach()

    # -- building --------------------------------------------------------------------------
    def rebuild(self) -> None:
        self.clear()
        self.nodes.clear()
        self.edges.clear()
        graph = self.doc.graph(self.key)
        for node in graph.nodes:
            self._add_node_item(node.id)
        for edge in graph.edges:
            self._add_edge_item(edge)
        self._refresh_all()
        self.reroute_all()

    # -- routes ----------------------------------------------------------------------------
    def reroute_all(self) -> None:
        """Route every edge afresh (after the project's flow changed, say)."""
        self._moved_items.clear()
        self._routes_stale = self._more_than_moves = False
        self.edge_routes.route_all()
        self._routes_done()

    def flush_routes(self) -> None:
        """Bring stale routes up to date now (they would be at the next turn of the loop)."""
        if self._routes_stale or self._moved_items:
            moved, self._moved_items = self._moved_items, set()
            only_moved = not self._more_than_moves
            self._routes_stale = self._more_than_moves = False
            self.edge_routes.refresh(moved, only_moved)
            self._routes_done()

    def _routes_done(self) -> None:
        self.overview.dirty = True
        self.routes_updated.emit()

    def _mark_routes_stale(self, moves_only: bool = False) -> None:
        if not moves_only:
            self._more_than_moves = True
        if not self._routes_stale:
            self._routes_stale = True
            self._routes_went_stale.emit()

    def _on_self_routes_went_stale(self) -> None:
        self.flush_routes()

    def node_item_moved(self, node_id: str) -> None:
        """A node item moved (NodeItem calls this): by a drag, or to follow the document."""
        self._moved_items.add(node_id)
        if not self._in_mouse_move:
            self._mark_routes_stale(moves_only=True)

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        self._in_mouse_move = True
        try:
            super().mouseMoveEvent(event)  # Qt drags the selected nodes here
        finally:
            self._in_mouse_move = False
        if self._moved_items:
            moved, self._moved_items = self._moved_items, set()
            self.edge_routes.drag_step(moved)
            self._routes_done()

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        super().mouseReleaseEvent(event)
        self.edge_routes.drag_too_slow = False  # the next drag tries live routes again

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        for item in [*self.nodes.values(), *self.edges.values()]:
            item.theme = theme
        self.update()

    def set_far(self, far: bool) -> None:
        """Switch between painting items one by one and the cached far-zoom overview."""
        if far == self.far:
            return
        self.far = far
        for item in [*self.nodes.values(), *self.edges.values()]:
            set_far(item, far)
        self.overview.dirty = True
        self.update()

    def _on_self_selection_changed(self) -> None:
        self.overview.dirty = True

    def _add_node_item(self, node_id: str) -> NodeItem:
        node = self.doc.node(self.key, node_id)
        item = NodeItem(node_id, self._look(node_id), self.theme)
        set_far(item, self.far)
        self.overview.dirty = True
        item.setPos(node.position.x, node.position.y)
        self.addItem(item)
        self.nodes[node_id] = item
        return item

    def _add_edge_item(self, edge: Edge) -> None:
        source, target = self.nodes.get(edge.source), self.nodes.get(edge.target)
        if source is None or target is None or edge_key(edge) in self.edges:
            return  # a dangling edge (the diagnostics panel lists it)
        item = EdgeItem(source, edge.source_port, target, edge.target_port, self.theme)
        set_far(item, self.far)
        self.overview.dirty = True
        self.addItem(item)
        self.edges[edge_key(edge)] = item
        self._mark_routes_stale()

    def _look(self, node_id: str):
        analysis = self.doc.analysis(self.key)
        node = analysis.inference.nodes[node_id]
        ports = {e.port for e in analysis.inference.incoming.get(node_id, [])}
        look = node_look(self.doc.project, node, analysis.inference.states.get(node_id),
                         analysis.by_node.get(node_id, []), ports)
        mark = self.init_marks.get(node_id)
        return replace(look, init_flag=mark.flag) if mark is not None else look

    def set_init_marks(self, marks: dict[str, InitMark]) -> None:
        """Show the init check's flags as badges and its numbers in tooltips ({} clears)."""
        changed = {n for n in {*marks, *self.init_marks}
                   if marks.get(n) != self.init_marks.get(n)}
        self.init_marks = dict(marks)
        self._refresh_nodes(changed)

    # -- refreshing ------------------------------------------------------------------------
    def _refresh_nodes(self, node_ids) -> None:
        self.overview.dirty = True
        self._mark_routes_stale()  # a node's size may have changed
        analysis = self.doc.analysis(self.key)
        for node_id in node_ids:
            item = self.nodes.get(node_id)
            if item is None:
                continue
            item.set_look(self._look(node_id))
            item.set_connected_inputs(frozenset(
                e.port for e in analysis.inference.incoming.get(node_id, [])))
            item.setToolTip(self._tooltip(node_id))

    def _tooltip(self, node_id: str) -> str:
        analysis = self.doc.analysis(self.key)
        node = analysis.inference.nodes[node_id]
        lines = [f"{node.name} ({node.type})"]
        for diagnostic in analysis.by_node.get(node_id, []):
            where = f"input {diagnostic.port}: " if diagnostic.port is not None else ""
            level = "error" if diagnostic.is_error else "warning"
            fix = f" (fix: {diagnostic.fix.label})" if diagnostic.fix else ""
            lines.append(f"{level}: {where}{diagnostic.message}{fix}")
        if node_id in self.init_marks:
            lines.extend(self.init_marks[node_id].lines)
        if node.notes:
            lines.append(node.notes)
        return "\n".join(lines)

    def _refresh_edges(self, items) -> None:
        self.overview.dirty = True
        self._mark_routes_stale()  # a label's size may have changed
        analysis = self.doc.analysis(self.key)
        inference = analysis.inference
        for key, item in items:
            source, source_port, target, target_port = key
            shape = inference.output_shape(source, source_port)
            # Unknown (an error above): say so, rather than show a bare line.
            label = format_shape_compact(shape) if shape is not None else UNKNOWN_SHAPE
            error = next((d.message for d in analysis.by_node.get(target, [])
                          if d.is_error and d.port == target_port), None)
            item.set_state(label, error)

    def _refresh_all(self) -> None:
        self._refresh_nodes(list(self.nodes))
        self._refresh_edges(list(self.edges.items()))

    # -- document signals ------------------------------------------------------------------
    def _on_doc_node_added(self, key: GraphKey, node_id: str) -> None:
        if key == self.key:
            self._add_node_item(node_id)
            self._refresh_nodes([node_id])

    def _on_doc_node_removed(self, key: GraphKey, node_id: str) -> None:
        if key != self.key:
            return
        item = self.nodes.pop(node_id, None)
        if item is not None:
            self.removeItem(item)
            self.overview.dirty = True
            self._moved_items.discard(node_id)
            self._mark_routes_stale()

    def _on_doc_node_changed(self, key: GraphKey, node_id: str) -> None:
        if key == self.key:
            self._refresh_nodes([node_id])

    def _on_doc_nodes_moved(self, key: GraphKey, node_ids: list[str]) -> None:
        if key != self.key:
            return
        for node_id in node_ids:
            item = self.nodes.get(node_id)
            if item is not None:
                position = self.doc.node(key, node_id).position
                if item.pos() != QPointF(position.x, position.y):
                    item.setPos(position.x, position.y)
        # The drop of a drag (or an undo, a nudge, a layout): route exactly, now.
        self._moved_items.update(n for n in node_ids if n in self.nodes)
        self._routes_stale = True
        self.flush_routes()

    def _on_doc_edge_added(self, key: GraphKey, edge: Edge) -> None:
        if key != self.key:
            return
        self._add_edge_item(edge)
        self._refresh_nodes([edge.target])
        self._refresh_edges([(edge_key(edge), self.edges[edge_key(edge)])]
                            if edge_key(edge) in self.edges else [])

    def _on_doc_edge_removed(self, key: GraphKey, edge: Edge) -> None:
        if key != self.key:
            return
        item = self.edges.pop(edge_key(edge), None)
        if item is not None:
            item.detach()
            self.removeItem(item)
            self.overview.dirty = True
        self._refresh_nodes([edge.target])

    def _on_doc_shapes_changed(self, key: GraphKey, node_ids) -> None:
        if key != self.key:
            return
        self._refresh_nodes(node_ids)
        touched = set(node_ids)
        self._refresh_edges([(k, item) for k, item in self.edges.items()
                             if k[0] in touched or k[2] in touched])

    def _on_doc_diagnostics_changed(self, key: GraphKey) -> None:
        if key == self.key:
            self._refresh_all()

    def _on_doc_graph_renamed(self, old: GraphKey, new: GraphKey) -> None:
        if old == self.key:
            self.key = new

    @property
    def flow(self) -> str:
        """Which way the project's drawings read: its node items put their ports by it."""
        return self.doc.project.flow

    def _on_doc_flow_changed(self, _flow: str) -> None:
        """Every port moves to its new side, and every edge is routed again for it."""
        for item in self.nodes.values():
            item.follow_flow()
        self.reroute_all()
        self.overview.dirty = True

    # -- user gestures ---------------------------------------------------------------------
    def node_item_at(self, scene_pos: QPointF) -> NodeItem | None:
        for item in self.items(scene_pos):
            if isinstance(item, NodeItem):
                return item
        return None

    def port_at(self, scene_pos: QPointF) -> tuple[NodeItem, str, int] | None:
        area = QRectF(scene_pos.x() - 10, scene_pos.y() - 10, 20, 20)
        for item in self.items(area):
            if isinstance(item, NodeItem):
                port = item.port_at(scene_pos)
                if port is not None:
                    return item, port[0], port[1]
        return None

    def selected_node_ids(self) -> set[str]:
        return {i.node_id for i in self.selectedItems() if isinstance(i, NodeItem)}

    def selected_edges(self) -> list[Edge]:
        found = []
        for key, item in self.edges.items():
            if item.isSelected():
                found.append(Edge(source=key[0], source_port=key[1], target=key[2],
                                  target_port=key[3]))
        return found

    def select_nodes(self, node_ids) -> None:
        self.clearSelection()
        for node_id in node_ids:
            if node_id in self.nodes:
                self.nodes[node_id].setSelected(True)

    def mouseDoubleClickEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        item = self.node_item_at(event.scenePos())
        if item is not None:
            self.node_activated.emit(item.node_id)
            return
        super().mouseDoubleClickEvent(event)

    def positions_of(self, node_ids) -> dict[str, Position]:
        """Document positions of nodes as drawn now (less the room open blocks made)."""
        return {n: self.inline.document_position(n, self.nodes[n].pos())
                for n in node_ids if n in self.nodes}

    def render_to(self, painter: QPainter, target: QRectF, source: QRectF) -> None:
        """Draw the graph with nothing selected (exports must not show the selection)."""
        self.flush_routes()
        selected = self.selectedItems()
        far = self.far
        self.clearSelection()
        self.set_far(False)  # an export is drawn in full detail whatever the view's zoom
        try:
            self.render(painter, target, source)
        finally:
            self.set_far(far)
            for item in selected:
                item.setSelected(True)
