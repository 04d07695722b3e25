"""A project being edited and its derived state: shapes and diagnostics of every graph.

The session applies edits to the project and brings the derived state up to date at once
(incremental shape inference, then the diagnostics of the graphs the edit touched, then the
graphs that place an edited block). Each edit returns ``Changes``: per graph, the nodes whose
inferred state changed and whether its diagnostics did, in the order they happened. The app's
document turns them into signals; ``validate`` reads a fresh session's diagnostics, so the app
and the command line check every graph the same way.

Graphs are addressed by a key: ``("network", name)`` or ``("block", name)`` (a network and a
block may share a name). A block's body takes its input shapes from its first placement.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from graph_schema.blocks import blocks_outer_first, same_blocks_once
from graph_schema.checks import check_block, check_network
from graph_schema.diagnostics import Diagnostic
from graph_schema.dims import Shape
from graph_schema.document import (
    Block,
    Edge,
    Network,
    Node,
    OpaqueClass,
    Position,
    Project,
    block_type,
)
from graph_schema.inference import Inference

GraphKey = tuple[str, str]


def network_key(name: str) -> GraphKey:
    return ("network", name)


def block_key(name: str) -> GraphKey:
    return ("block", name)


def new_project() -> Project:
    """What File > New starts from: one network with an input wired to its output, so it
    opens with nothing to complain about (an unconnected output is an error, an input that
    reaches no output a warning); right-click the wire and Insert Layer… to begin."""
    network = Network(name="main", nodes=[
        Node(id="n1", type="io.Input", name="x", params={"shape": ["N", 1, 28, 28]},
             position=Position(x=0, y=0)),
        Node(id="n2", type="io.Output", name="y", position=Position(x=0, y=320)),
    ], edges=[Edge(source="n1", source_port=0, target="n2", target_port=0)])
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


@dataclass(frozen=True)
class GraphChange:
    """What one step of an edit changed in one graph's derived state."""

    key: GraphKey
    shapes: frozenset[str] = frozenset()  # nodes whose inferred state changed
    diagnostics: bool = False  # its diagnostics changed
    reanalysed: bool = False  # analysed afresh: every node (even none) is to be read again


@dataclass
class Changes:
    """What an edit changed, graph by graph, in the order it happened (a graph may appear
    twice: once for the edit itself, again when a block it places changed)."""

    graphs: list[GraphChange] = field(default_factory=list)

    def shapes(self, key: GraphKey) -> set[str]:
        return {node_id for change in self.graphs if change.key == key
                for node_id in change.shapes}

    def diagnosed(self) -> list[GraphKey]:
        """The graphs whose diagnostics changed, in order."""
        return [change.key for change in self.graphs if change.diagnostics]

    def add(self, key: GraphKey, shapes: Iterable[str], diagnostics: bool,
             reanalysed: bool = False) -> None:
        self.graphs.append(GraphChange(key, frozenset(shapes), diagnostics, reanalysed))


class Session:
    """A project and the analysis of each of its graphs, kept current by its edit methods."""

    def __init__(self, project: Project | None = None):
        self._project = project or new_project()
        self._analyses: dict[GraphKey, Analysis] = {}
        self._analyse_everything()

    # -- reading -------------------------------------------------------------------------------
    @property
    def project(self) -> Project:
        return self._project

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
        return [(key, node.id) for key in self.graph_keys()
                for node in self.graph(key).nodes if node.block_name == block_name]

    # -- edits ---------------------------------------------------------------------------------
    def insert_node(self, key: GraphKey, node: Node, index: int | None = None) -> Changes:
        nodes = self.graph(key).nodes
        nodes.insert(len(nodes) if index is None else index, node)
        return self._after_edit(key, {node.id}, structure=True)

    def take_node(self, key: GraphKey, node_id: str) -> tuple[Node, int, Changes]:
        """Remove a node (its edges must be gone already): it, its index, and what changed."""
        nodes = self.graph(key).nodes
        index = next(i for i, n in enumerate(nodes) if n.id == node_id)
        node = nodes.pop(index)
        return node, index, self._after_edit(key, set(), structure=True, gone=node_id)

    def insert_edge(self, key: GraphKey, edge: Edge, index: int | None = None) -> Changes:
        edges = self.graph(key).edges
        edges.insert(len(edges) if index is None else index, edge)
        return self._after_edit(key, {edge.target}, structure=True)

    def take_edge(self, key: GraphKey, edge: Edge) -> tuple[int, Changes]:
        edges = self.graph(key).edges
        index = edges.index(edge)
        edges.pop(index)
        return index, self._after_edit(key, {edge.target}, structure=True)

    def update_node(self, key: GraphKey, node_id: str,
                    changes: dict[str, Any]) -> tuple[dict, Changes]:
        """Set fields of a node (name, type, params, init, notes): the old values, and what
        changed."""
        node = self.node(key, node_id)
        old = {name: getattr(node, name) for name in changes}
        for name, value in changes.items():
            setattr(node, name, value)
        return old, self._after_edit(key, {node_id}, structure=False)

    def set_positions(self, key: GraphKey, positions: dict[str, Position]) -> None:
        nodes = self.analysis(key).inference.nodes
        for node_id, position in positions.items():
            nodes[node_id].position = position

    def set_project_field(self, name: str, value: Any) -> Any:
        old = getattr(self._project, name)
        setattr(self._project, name, value)  # validated by pydantic
        return old

    def insert_graph(self, graph: Network, index: int | None = None) -> tuple[GraphKey, Changes]:
        """Add a network or block: its key, and what changed in the graphs that place it."""
        is_block = isinstance(graph, Block)
        items = self._project.blocks if is_block else self._project.networks
        items.insert(len(items) if index is None else index, graph)
        key = block_key(graph.name) if is_block else network_key(graph.name)
        self._analyses[key] = self._analyse(key)
        changes = Changes()
        self._after_block_change(key, changes)
        return key, changes

    def take_graph(self, key: GraphKey) -> tuple[Network, int, Changes]:
        items = self._project.blocks if key[0] == "block" else self._project.networks
        index = next(i for i, g in enumerate(items) if g.name == key[1])
        graph = items.pop(index)
        del self._analyses[key]
        changes = Changes()
        self._after_block_change(key, changes)
        return graph, index, changes

    def rename_graph(self, key: GraphKey, new_name: str) -> tuple[GraphKey, Changes]:
        """Rename a network or block (placements of a block follow the new name); every
        graph is analysed afresh."""
        self.graph(key).name = new_name
        new_key = (key[0], new_name)
        self._analyses[new_key] = self._analyses.pop(key)
        if key[0] == "block":
            for place_key, node_id in self.placements(key[1]):
                self.node(place_key, node_id).type = block_type(new_name)
        self._analyse_everything()
        changes = Changes()
        for other in self.graph_keys():
            changes.add(other, self.analysis(other).inference.nodes, True, reanalysed=True)
        return new_key, changes

    def set_block_opaque(self, name: str,
                         opaque: OpaqueClass | None) -> tuple[OpaqueClass | None, Changes]:
        """Replace a block's kept source (trusting signs it): the old one, and what changed."""
        key = block_key(name)
        block = self.graph(key)
        old, block.opaque = block.opaque, opaque
        analysis = self._analyses[key]
        changes = Changes()
        changes.add(key, (), analysis.set_diagnostics(self._diagnose(key, analysis)))
        self._after_block_change(key, changes)
        return old, changes

    def replace_project(self, project: Project) -> None:
        self._project = project
        self._analyse_everything()

    # -- derived state -------------------------------------------------------------------------
    def _analyse_everything(self) -> None:
        self._analyses = {}
        with same_blocks_once():  # nothing edits the project meanwhile
            for network in self._project.networks:
                key = network_key(network.name)
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
        """The one definition of a graph's diagnostics. A block with the shapes of a placement
        is checked as a network is; a block that is not placed (or whose placement's inputs
        are unknown) is checked on its own, and so is a kept-source block, which has only its
        ports."""
        graph = self.graph(key)
        if key[0] == "network":
            return check_network(self._project, graph, analysis.inference)
        if not analysis.block_inputs or graph.opaque is not None:
            return check_block(self._project, graph)
        # A block that contains itself is reported once, on the placement these shapes came
        # from (graph_schema/blocks.py raises it out to the top): the body would repeat it.
        return [d for d in check_network(self._project, graph, analysis.inference)
                if d.code != "block-recursion"]

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

    def _after_edit(self, key: GraphKey, dirty: set[str], structure: bool,
                    gone: str | None = None) -> Changes:
        """Re-infer the edited graph, then the graphs that place it (if it is a block), then
        the tabs of the blocks it places whose first placement's inputs changed."""
        changes = Changes()
        changed, diagnosed = self._refresh(key, dirty, structure)
        changed.discard(gone)
        changes.add(key, changed, diagnosed)
        self._after_block_change(key, changes)
        self._refresh_block_tabs(key, changed, changes)
        return changes

    def _refresh(self, key: GraphKey, dirty: set[str],
                 structure: bool) -> tuple[set[str], bool]:
        """Re-infer one graph after an edit: the nodes whose state changed, and whether its
        diagnostics did."""
        analysis = self._analyses[key]
        changed = analysis.inference.update(dirty, structure_changed=structure)
        return changed, analysis.set_diagnostics(self._diagnose(key, analysis))

    def _after_block_change(self, key: GraphKey, changes: Changes,
                            seen: set | None = None) -> None:
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
            changes.add(place_key, *self._refresh(place_key, node_ids, structure=False))
            self._after_block_change(place_key, changes, seen)

    def _refresh_block_tabs(self, key: GraphKey, changed: Iterable[str],
                            changes: Changes) -> None:
        """A placement's inputs changed: the block's own tab shows shapes from it."""
        graph_nodes = self._analyses[key].inference.nodes
        names = {graph_nodes[n].block_name for n in changed
                 if n in graph_nodes and graph_nodes[n].block_name is not None}
        for name in sorted(names):
            block = block_key(name)
            if block not in self._analyses or block == key:
                continue
            if self._first_placement_inputs(name) == self._analyses[block].block_inputs:
                continue
            old = self._analyses[block]
            self._analyses[block] = self._analyse(block)
            changes.add(block, self._analyses[block].inference.nodes,
                         self._analyses[block].diagnostics != old.diagnostics, reanalysed=True)
