"""The document: a Project the app edits, its derived state, and past-tense change signals.

Only undo commands call the mutating methods here (``insert_node``, ``take_edge``, ...). Each
mutation first brings the derived state up to date (incremental shape inference, then the
diagnostics of the graphs it touched), and only then emits its signals, so every listener
(scene, inspector, panels) reads a consistent document. Undo re-runs the same methods, so it
emits exactly what the original action emitted.

Graphs are addressed by a key: ``("network", name)`` or ``("block", name)`` (a network and a
block may share a name).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from graph_schema.blocks import blocks_outer_first
from graph_schema.diagnostics import Diagnostic
from graph_schema.dims import Shape
from graph_schema.document import Block, Edge, Network, Node, OpaqueClass, Position, Project
from graph_schema.inference import Inference
from graph_schema.validate import check_block, check_network

GraphKey = tuple[str, str]


def network_key(name: str) -> GraphKey:
    return ("network", name)


def block_key(name: str) -> GraphKey:
    return ("block", name)


def new_project() -> Project:
    """What File > New starts from: one network with an input and an output."""
    network = Network(name="main", nodes=[
        Node(id="n1", type="io.Input", name="x", params={"shape": ["N", 1, 28, 28]},
             position=Position(x=0, y=0)),
        Node(id="n2", type="io.Output", name="y", position=Position(x=0, y=320)),
    ])
    return Project(name="untitled", networks=[network])


@dataclass
class Analysis:
    """Derived state of one graph: never saved, never undone, recomputed after edits."""

    inference: Inference
    diagnostics: list[Diagnostic] = field(default_factory=list)
    by_node: dict[str, list[Diagnostic]] = field(default_factory=dict)
    block_inputs: dict[str, Shape] | None = None  # a block tab: shapes from its first placement

    def set_diagnostics(self, diagnostics: list[Diagnostic]) -> bool:
        """Store them; True when they differ from what was there."""
        if diagnostics == self.diagnostics:
            return False
        self.diagnostics = diagnostics
        self.by_node = {}
        for diagnostic in diagnostics:
            if diagnostic.node_id is not None:
                self.by_node.setdefault(diagnostic.node_id, []).append(diagnostic)
        return True


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
    project_changed = Signal(str)  # "name", "notes" or "training"
    opaque_changed = Signal(object)  # block key: its kept source (or its signature) changed
    project_replaced = Signal()
    path_changed = Signal(object)  # Path | None

    def __init__(self, project: Project | None = None, path: Path | None = None,
                 parent: QObject | None = None):
        super().__init__(parent)
        self._project = project or new_project()
        self._path = path
        self._analyses: dict[GraphKey, Analysis] = {}
        self._analyse_everything()

    # -- reading -------------------------------------------------------------------------------
    @property
    def project(self) -> Project:
        return self._project

    @property
    def path(self) -> Path | None:
        return self._path

    def set_path(self, path: Path | None) -> None:
        self._path = path
        self.path_changed.emit(path)

    def graph_keys(self) -> list[GraphKey]:
        return [network_key(n.name) for n in self._project.networks] + \
            [block_key(b.name) for b in self._project.blocks]

    def has_graph(self, key: GraphKey) -> bool:
        return key in self._analyses

    def graph(self, key: GraphKey) -> Network:
        kind, name = key
        if kind == "network":
            return self._project.network(name)
        block = self._project.block(name)
        if block is None:
            raise KeyError(key)
        return block

    def node(self, key: GraphKey, node_id: str) -> Node:
        return self.analysis(key).inference.nodes[node_id]

    def analysis(self, key: GraphKey) -> Analysis:
        return self._analyses[key]

    def diagnostics(self) -> list[Diagnostic]:
        """Everything wrong in the project: networks first, then blocks."""
        return [d for key in self.graph_keys() for d in self._analyses[key].diagnostics]

    def edges_of(self, key: GraphKey, node_id: str) -> list[Edge]:
        return [e for e in self.graph(key).edges if node_id in (e.source, e.target)]

    def placements(self, block_name: str) -> list[tuple[GraphKey, str]]:
        """(graph, node id) of every node that places the block."""
        wanted = f"block:{block_name}"
        return [(key, node.id) for key in self.graph_keys()
                for node in self.graph(key).nodes if node.type == wanted]

    # -- mutations (called by undo commands only) ------------------------------------------
    def insert_node(self, key: GraphKey, node: Node, index: int | None = None) -> None:
        nodes = self.graph(key).nodes
        nodes.insert(len(nodes) if index is None else index, node)
        changed, diagnosed = self._refresh(key, {node.id}, structure=True)
        self.node_added.emit(key, node.id)
        self._announce(key, changed, diagnosed)

    def take_node(self, key: GraphKey, node_id: str) -> tuple[Node, int]:
        """Remove a node (its edges must be gone already); returns it and its index."""
        nodes = self.graph(key).nodes
        index = next(i for i, n in enumerate(nodes) if n.id == node_id)
        node = nodes.pop(index)
        changed, diagnosed = self._refresh(key, set(), structure=True)
        self.node_removed.emit(key, node_id)
        self._announce(key, changed - {node_id}, diagnosed)
        return node, index

    def insert_edge(self, key: GraphKey, edge: Edge, index: int | None = None) -> None:
        edges = self.graph(key).edges
        edges.insert(len(edges) if index is None else index, edge)
        changed, diagnosed = self._refresh(key, {edge.target}, structure=True)
        self.edge_added.emit(key, edge)
        self._announce(key, changed, diagnosed)

    def take_edge(self, key: GraphKey, edge: Edge) -> int:
        edges = self.graph(key).edges
        index = edges.index(edge)
        edges.pop(index)
        changed, diagnosed = self._refresh(key, {edge.target}, structure=True)
        self.edge_removed.emit(key, edge)
        self._announce(key, changed, diagnosed)
        return index

    def update_node(self, key: GraphKey, node_id: str, changes: dict[str, Any]) -> dict:
        """Set fields of a node (name, type, params, init, notes); returns the old values."""
        node = self.node(key, node_id)
        old = {name: getattr(node, name) for name in changes}
        for name, value in changes.items():
            setattr(node, name, value)
        changed, diagnosed = self._refresh(key, {node_id}, structure=False)
        self.node_changed.emit(key, node_id)
        self._announce(key, changed, diagnosed)
        return old

    def set_positions(self, key: GraphKey, positions: dict[str, Position]) -> None:
        nodes = self.analysis(key).inference.nodes
        for node_id, position in positions.items():
            nodes[node_id].position = position
        self.nodes_moved.emit(key, list(positions))

    def set_project_field(self, name: str, value: Any) -> Any:
        old = getattr(self._project, name)
        setattr(self._project, name, value)  # validated by pydantic
        self.project_changed.emit(name)
        return old

    def insert_graph(self, graph: Network, index: int | None = None) -> GraphKey:
        is_block = isinstance(graph, Block)
        items = self._project.blocks if is_block else self._project.networks
        items.insert(len(items) if index is None else index, graph)
        key = block_key(graph.name) if is_block else network_key(graph.name)
        self._analyses[key] = self._analyse(key)
        self._after_block_change(key)
        self.graph_added.emit(key)
        self.diagnostics_changed.emit(key)
        return key

    def take_graph(self, key: GraphKey) -> tuple[Network, int]:
        items = self._project.blocks if key[0] == "block" else self._project.networks
        index = next(i for i, g in enumerate(items) if g.name == key[1])
        graph = items.pop(index)
        del self._analyses[key]
        self._after_block_change(key)
        self.graph_removed.emit(key)
        return graph, index

    def rename_graph(self, key: GraphKey, new_name: str) -> GraphKey:
        """Rename a network or block; placements of a block follow the new name."""
        graph = self.graph(key)
        graph.name = new_name
        new_key = (key[0], new_name)
        self._analyses[new_key] = self._analyses.pop(key)
        if key[0] == "block":
            for place_key, node_id in self.placements(key[1]):
                self.node(place_key, node_id).type = f"block:{new_name}"
        self._analyse_everything(emit=False)
        self.graph_renamed.emit(key, new_key)
        for other in self.graph_keys():
            self.shapes_changed.emit(other, set(self.analysis(other).inference.nodes))
            self.diagnostics_changed.emit(other)
        return new_key

    def set_block_opaque(self, name: str, opaque: OpaqueClass | None) -> OpaqueClass | None:
        """Replace a block's kept source (trusting signs it); returns the old one."""
        key = block_key(name)
        block = self.graph(key)
        old, block.opaque = block.opaque, opaque
        analysis = self._analyses[key]
        diagnosed = analysis.set_diagnostics(self._diagnose(key, analysis))
        self.opaque_changed.emit(key)
        if diagnosed:
            self.diagnostics_changed.emit(key)
        self._after_block_change(key)
        return old

    def replace_project(self, project: Project, path: Path | None) -> None:
        self._project = project
        self._path = path
        self._analyse_everything(emit=False)
        self.project_replaced.emit()
        self.path_changed.emit(path)

    # -- derived state -------------------------------------------------------------------------
    def _analyse_everything(self, emit: bool = False) -> None:
        self._analyses = {}
        for key in self.graph_keys():
            if key[0] == "network":
                self._analyses[key] = self._analyse(key)
        # A block takes its shapes from its first placement: outer blocks first.
        for block in blocks_outer_first(self._project):
            key = block_key(block.name)
            self._analyses[key] = self._analyse(key)

    def _analyse(self, key: GraphKey) -> Analysis:
        graph = self.graph(key)
        if key[0] == "network":
            analysis = Analysis(Inference(graph, self._project))
        else:
            shapes = self._first_placement_inputs(key[1])
            analysis = Analysis(Inference(graph, self._project, input_shapes=shapes or None,
                                          arguments=dict(graph.arguments)), block_inputs=shapes)
        analysis.set_diagnostics(self._diagnose(key, analysis))
        return analysis

    def _diagnose(self, key: GraphKey, analysis: Analysis) -> list[Diagnostic]:
        graph = self.graph(key)
        # A kept-source block has only its ports: it is checked as validate() checks it.
        if key[0] == "block" and (not analysis.block_inputs or graph.opaque is not None):
            return check_block(self._project, graph)
        return check_network(self._project, graph, analysis.inference)

    def _first_placement_inputs(self, block_name: str) -> dict[str, Shape]:
        """The input shapes the block's first placement gives it (empty: not placed, or
        its inputs are unknown)."""
        block = self._project.block(block_name)
        for key, node_id in self.placements(block_name):
            analysis = self._analyses.get(key)
            if analysis is None or key == block_key(block_name):
                continue
            state = analysis.inference.states.get(node_id)
            if state is None or not state.inputs or any(s is None for s in state.inputs):
                continue
            ports = block.inputs()
            if len(ports) == len(state.inputs):
                return {port.id: shape for port, shape in zip(ports, state.inputs)}
        return {}

    def _refresh(self, key: GraphKey, dirty: set[str],
                 structure: bool) -> tuple[set[str], bool]:
        """Re-infer one graph after an edit: the nodes whose state changed, and whether its
        diagnostics did."""
        analysis = self._analyses[key]
        changed = analysis.inference.update(dirty, structure_changed=structure)
        return changed, analysis.set_diagnostics(self._diagnose(key, analysis))

    def _announce(self, key: GraphKey, changed: set[str], diagnosed: bool) -> None:
        if changed:
            self.shapes_changed.emit(key, changed)
        if diagnosed:
            self.diagnostics_changed.emit(key)
        self._after_block_change(key)
        self._refresh_block_tabs(key, changed)

    def _after_block_change(self, key: GraphKey, seen: set | None = None) -> None:
        """A block's body changed: every graph that places it re-infers those nodes."""
        if key[0] != "block":
            return
        seen = seen or {key}
        placing: dict[GraphKey, set[str]] = {}
        for place_key, node_id in self.placements(key[1]):
            placing.setdefault(place_key, set()).add(node_id)
        for place_key, node_ids in placing.items():
            if place_key in seen or place_key not in self._analyses:
                continue
            seen.add(place_key)
            changed, diagnosed = self._refresh(place_key, node_ids, structure=False)
            if changed:
                self.shapes_changed.emit(place_key, changed)
            if diagnosed:
                self.diagnostics_changed.emit(place_key)
            self._after_block_change(place_key, seen)

    def _refresh_block_tabs(self, key: GraphKey, changed: Iterable[str]) -> None:
        """A placement's inputs changed: the block's own tab shows shapes from it."""
        graph_nodes = self._analyses[key].inference.nodes
        names = {graph_nodes[n].type[len("block:"):] for n in changed
                 if n in graph_nodes and graph_nodes[n].type.startswith("block:")}
        for name in sorted(names):
            block = block_key(name)
            if block not in self._analyses or block == key:
                continue
            if self._first_placement_inputs(name) == self._analyses[block].block_inputs:
                continue
            old = self._analyses[block]
            self._analyses[block] = self._analyse(block)
            ids = set(self._analyses[block].inference.nodes)
            self.shapes_changed.emit(block, ids)
            if self._analyses[block].diagnostics != old.diagnostics:
                self.diagnostics_changed.emit(block)
