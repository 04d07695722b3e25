"""The document: the app's editing session as a QObject that announces changes in past-tense
signals.

Only undo commands call the mutating methods here (``insert_node``, ``take_edge``, ...). Each
one applies the edit through the session (graph_schema/session.py), which brings the derived
state up to date and says what changed; only then are the signals emitted, so every listener
(scene, inspector, panels) reads a consistent document. Undo re-runs the same methods, so it
emits exactly what the original action emitted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from graph_schema.diagnostics import Diagnostic
from graph_schema.document import Edge, Network, Node, OpaqueClass, Position, Project
from graph_schema.session import (
    Analysis,
    Changes,
    GraphKey,
    Session,
    block_key,
    network_key,
    new_project,
)

# Still imported from here by much of the app; they live in graph_schema.session.
__all__ = ["Analysis", "GraphKey", "ProjectDocument", "block_key", "network_key",
           "new_project"]


class ProjectDocument(QObject):
    node_added = Signal(object, str)  # graph key, node id
    node_removed = Signal(object, str)
    node_changed = Signal(object, str)  # name, type, params, init or notes
    nodes_moved = Signal(object, list)  # graph key, node ids
    edge_added = Signal(object, object)  # graph key, Edge
    edge_removed = Signal(object, object)
    shapes_changed = Signal(object, object)  # graph key, set of node ids with a new state
    diagnostics_changed = Signal(object)  # graph key
    graph_added = Signal(object)
    graph_removed = Signal(object)
    graph_renamed = Signal(object, object)  # old key, new key
    project_changed = Signal(str)  # "name", "notes", "training" or "flow"
    flow_changed = Signal(str)  # the new Project.flow: every canvas moves its ports
    opaque_changed = Signal(object)  # block key: its kept source (or its signature) changed
    project_replaced = Signal()
    path_changed = Signal(object)  # Path | None

    def __init__(self, project: Project | None = None, path: Path | None = None,
                 parent: QObject | None = None):
        super().__init__(parent)
        self._session = Session(project)
        self._path = path

    # -- reading -------------------------------------------------------------------------------
    @property
    def session(self) -> Session:
        """The analysis of the project as it is now (code export reads it, not re-infers)."""
        return self._session

    @property
    def project(self) -> Project:
        return self._session.project

    @property
    def path(self) -> Path | None:
        return self._path

    def set_path(self, path: Path | None) -> None:
        self._path = path
        self.path_changed.emit(path)

    def graph_keys(self) -> list[GraphKey]:
        return self._session.graph_keys()

    def has_graph(self, key: GraphKey) -> bool:
        return self._session.has_graph(key)

    def graph(self, key: GraphKey) -> Network:
        return self._session.graph(key)

    def node(self, key: GraphKey, node_id: str) -> Node:
        return self._session.node(key, node_id)

    def analysis(self, key: GraphKey) -> Analysis:
        return self._session.analysis(key)

    def diagnostics(self) -> list[Diagnostic]:
        """Everything wrong in the project: networks first, then blocks."""
        return self._session.diagnostics()

    def edges_of(self, key: GraphKey, node_id: str) -> list[Edge]:
        return self._session.edges_of(key, node_id)

    def placements(self, block_name: str) -> list[tuple[GraphKey, str]]:
        """(graph, node id) of every node that places the block."""
        return self._session.placements(block_name)

    # -- mutations (called by undo commands only) ------------------------------------------
    def insert_node(self, key: GraphKey, node: Node, index: int | None = None) -> None:
        changes = self._session.insert_node(key, node, index)
        self.node_added.emit(key, node.id)
        self._announce(changes)

    def take_node(self, key: GraphKey, node_id: str) -> tuple[Node, int]:
        """Remove a node (its edges must be gone already); returns it and its index."""
        node, index, changes = self._session.take_node(key, node_id)
        self.node_removed.emit(key, node_id)
        self._announce(changes)
        return node, index

    def insert_edge(self, key: GraphKey, edge: Edge, index: int | None = None) -> None:
        changes = self._session.insert_edge(key, edge, index)
        self.edge_added.emit(key, edge)
        self._announce(changes)

    def take_edge(self, key: GraphKey, edge: Edge) -> int:
        index, changes = self._session.take_edge(key, edge)
        self.edge_removed.emit(key, edge)
        self._announce(changes)
        return index

    def update_node(self, key: GraphKey, node_id: str, changes: dict[str, Any]) -> dict:
        """Set fields of a node (name, type, params, init, notes); returns the old values."""
        old, changed = self._session.update_node(key, node_id, changes)
        self.node_changed.emit(key, node_id)
        self._announce(changed)
        return old

    def set_positions(self, key: GraphKey, positions: dict[str, Position]) -> None:
        self._session.set_positions(key, positions)
        self.nodes_moved.emit(key, list(positions))

    def set_project_field(self, name: str, value: Any) -> Any:
        old = self._session.set_project_field(name, value)
        if name == "flow" and value != old:
            self.flow_changed.emit(value)
        self.project_changed.emit(name)
        return old

    def insert_graph(self, graph: Network, index: int | None = None) -> GraphKey:
        key, changes = self._session.insert_graph(graph, index)
        self._announce(changes)
        self.graph_added.emit(key)
        self.diagnostics_changed.emit(key)
        return key

    def take_graph(self, key: GraphKey) -> tuple[Network, int]:
        graph, index, changes = self._session.take_graph(key)
        self._announce(changes)
        self.graph_removed.emit(key)
        return graph, index

    def rename_graph(self, key: GraphKey, new_name: str) -> GraphKey:
        """Rename a network or block; placements of a block follow the new name."""
        new_key, changes = self._session.rename_graph(key, new_name)
        self.graph_renamed.emit(key, new_key)
        self._announce(changes)
        return new_key

    def set_block_opaque(self, name: str, opaque: OpaqueClass | None) -> OpaqueClass | None:
        """Replace a block's kept source (trusting signs it); returns the old one."""
        old, changes = self._session.set_block_opaque(name, opaque)
        self.opaque_changed.emit(block_key(name))
        self._announce(changes)
        return old

    def replace_project(self, project: Project, path: Path | None) -> None:
        self._session.replace_project(project)
        self._path = path
        self.project_replaced.emit()
        self.path_changed.emit(path)

    # -- signals -------------------------------------------------------------------------------
    def _announce(self, changes: Changes) -> None:
        """What the session says changed, in the order it changed."""
        for change in changes.graphs:
            if change.shapes or change.reanalysed:
                self.shapes_changed.emit(change.key, set(change.shapes))
            if change.diagnostics:
                self.diagnostics_changed.emit(change.key)
