"""Edit rules: what an edit may do to a graph, decided on plain data.

Before the editor changes anything it asks here: can this output feed that input, what is a
new layer called, where does a layer put into a connection go. The answers are data (a
problem to show, a name, a plan), which the editor turns into undo steps; so the rules live
with the model, as QtNodes' ``connectionPossible`` and Orange's ``check_connect`` do, and are
tested without a window.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Set
from dataclasses import dataclass
from typing import NamedTuple

import networkx as nx

from graph_schema.document import Edge, Network, Node, Position, Project, name_problem
from graph_schema.inference import Inference
from graph_schema.placement import room_for_insert
from graph_schema.specs import spec_for

Size = tuple[float, float]  # a node's glyph, width and height


# -- names and ids -----------------------------------------------------------------------------
def base_name(type_name: str) -> str:
    """What a new layer is called before it is numbered: the spec's hint (fc, bn), else the
    type's short name in snake case (Conv2d -> conv, LeakyReLU -> leaky_relu)."""
    spec = spec_for(type_name, None)
    if spec is not None and spec.name_hint is not None:
        return spec.name_hint
    short = type_name.split(":", 1)[-1].split(".", 1)[-1]
    short = re.sub(r"(\d)d$", "", short)  # Conv2d -> Conv
    # LeakyReLU -> leaky_relu: unit names written as acronyms become one word, then split
    # lower->Upper, and an acronym from the next word (MLPHead -> mlp_head).
    short = re.sub(r"([A-Z]?[A-Z]?[a-z]?)LU", lambda m: m.group(1).capitalize() + "lu", short)
    short = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", short)
    short = short.lower().strip("_")
    if name_problem(short) is not None:
        short = f"{short}_layer" if short.isidentifier() else "layer"
    return short


def unique_name(wanted: str, taken: Set[str], numbered: bool = True) -> str:
    """``conv`` -> ``conv1`` (or the next free number); io nodes keep a bare first name."""
    if not numbered and wanted not in taken and name_problem(wanted) is None:
        return wanted
    counter = 1 if numbered else 2
    while f"{wanted}{counter}" in taken or name_problem(f"{wanted}{counter}") is not None:
        counter += 1
    return f"{wanted}{counter}"


def new_node_id(taken: Set[str]) -> str:
    """One past the highest ``n<number>`` id, so ids are never reused within a graph."""
    numbers = [int(i[1:]) for i in taken if re.fullmatch(r"n\d+", i)]
    return f"n{max(numbers, default=0) + 1}"


def new_node(network: Network, type_name: str, position: Position, params: dict | None = None,
             name: str | None = None, taken_ids: Set[str] = frozenset(),
             taken_names: Set[str] = frozenset()) -> Node:
    """A node for ``network`` with a fresh id and a free name: ``name`` when it is free and
    valid, else the next numbered one. ``taken_ids`` and ``taken_names`` belong to nodes
    about to be added with this one (a paste of several)."""
    ids = {n.id for n in network.nodes} | set(taken_ids)
    names = {n.name for n in network.nodes} | set(taken_names)
    if name is not None and name not in names and name_problem(name) is None:
        chosen = name
    else:
        chosen = unique_name(name or base_name(type_name), names,
                             numbered=not type_name.startswith("io."))
    return Node(id=new_node_id(ids), type=type_name, name=chosen, params=dict(params or {}),
                position=position)


# -- connections -------------------------------------------------------------------------------
class PortEnd(NamedTuple):
    """One end of a connection being drawn: a node's input ("in") or output ("out") port."""

    node_id: str
    kind: str
    port: int


def replaced_edges(network: Network, edge: Edge) -> list[Edge]:
    """What a new connection takes the place of: an input takes one edge, so connecting an
    occupied input replaces the edge it had."""
    return [e for e in network.edges if e.key == edge.key]


def connection_problem(project: Project, network: Network, inference: Inference,
                       edge: Edge) -> str | None:
    """Why ``edge`` cannot be drawn (a cycle, a missing port, a tensor of a rank the layer
    never takes), or None. An occupied input is no problem: the connection replaces it."""
    nodes = network.node_map()
    src, dst = nodes[edge.source], nodes[edge.target]
    if edge.source == edge.target:
        return f"'{src.name}' cannot feed itself"
    graph = inference.graph
    if edge.target in graph and edge.source in graph and \
            nx.has_path(graph, edge.target, edge.source):
        return (f"connecting '{src.name}' to '{dst.name}' would make a cycle: "
                f"'{src.name}' already depends on '{dst.name}'")
    spec = spec_for(dst.type, project)
    if spec is not None and spec.max_inputs is not None and edge.target_port >= spec.max_inputs:
        return f"'{dst.name}' ({dst.type}) has no input {edge.target_port}"
    state = inference.states.get(edge.source)  # None: a layer about to be added
    outputs = state.outputs if state is not None else None
    if outputs is not None and edge.source_port >= len(outputs):
        return f"'{src.name}' has no output {edge.source_port}"
    return rank_problem(project, network, inference, edge)


def rank_problem(project: Project, network: Network, inference: Inference,
                 edge: Edge) -> str | None:
    """Try the connection: a tensor of a rank the layer can never take is refused (a wrong
    size is allowed: it shows as a diagnostic with a fix)."""
    tried = _tried_target(project, network, inference, edge)
    for diagnostic in tried.states[edge.target].diagnostics:
        if diagnostic.code == "rank-mismatch" and diagnostic.port == edge.target_port:
            return f"cannot connect: '{diagnostic.node_name}' ({diagnostic.node_type}) " \
                   f"input {edge.target_port}: {diagnostic.message}"
    return None


def _tried_target(project: Project, network: Network, inference: Inference,
                  edge: Edge) -> Inference:
    """The target's inference with ``edge`` in place of what its input had.

    A new edge into the target changes nothing upstream of it, so the target alone is tried,
    fed by stand-in inputs that carry the shapes its inputs would receive: a drag over a
    graph of thousands of nodes can ask about every port it passes. A target that shares
    another node's module needs that node, and an input of unknown shape keeps the rule from
    running at all: those are tried in a copy of the whole graph."""
    target = network.node_map()[edge.target]
    feeds = {e.port: (e.source, e.source_port) for e in inference.incoming.get(target.id, [])}
    feeds[edge.target_port] = (edge.source, edge.source_port)
    shapes = {port: inference.output_shape(*feed) for port, feed in feeds.items()}
    if target.reuses is not None or any(shape is None for shape in shapes.values()):
        trial = network.model_copy(deep=True)
        trial.edges = [e for e in trial.edges if e.key != edge.key] + [edge]
        return Inference(trial, project, input_shapes=inference.input_shapes,
                         arguments=inference.arguments)
    nodes, edges, stand_in_shapes = [target.model_copy(deep=True)], [], {}
    for port, shape in sorted(shapes.items()):
        stand_in = f"{target.id}_feed{port}"
        nodes.append(Node(id=stand_in, type="io.Input", name=f"{target.name}_feed{port}",
                          params={"shape": [1]}, position=Position(x=0, y=0)))
        edges.append(Edge(source=stand_in, target=target.id, target_port=port))
        stand_in_shapes[stand_in] = shape
    trial = Network(name=network.name, nodes=nodes, edges=edges, arguments=network.arguments)
    return Inference(trial, project, input_shapes=stand_in_shapes,
                     arguments=inference.arguments)


# -- a layer put into a connection -------------------------------------------------------------
@dataclass(frozen=True)
class InsertPlan:
    """source -> node -> target in place of source -> target, with the target and everything
    below it moved to make room: the editor makes each part an undo step."""

    node: Node
    removed: Edge
    added: tuple[Edge, Edge]
    moved_from: dict[str, Position]
    moved_to: dict[str, Position]


def insert_problem(project: Project, network: Network, edge: Edge,
                   type_name: str) -> str | None:
    """Why a layer of ``type_name`` cannot go into ``edge``, or None."""
    if edge not in network.edges:
        return "Cannot insert a layer: the connection is gone"
    spec = spec_for(type_name, project)
    if spec is None or spec.max_inputs == 0 or not spec.outputs:
        return f"Cannot insert {type_name} into a connection: it needs an input and an output"
    return None


def plan_insert(network: Network, inference: Inference, edge: Edge, type_name: str,
                params: dict | None = None, *, step: float | None = None,
                sizes: Mapping[str, Size] | None = None, new_size: Size | None = None,
                flow: str = "down") -> InsertPlan:
    """Where a new layer goes in ``edge``. Ask ``insert_problem`` first.

    Given the glyph ``sizes`` of the nodes and the new one's ``new_size``, the new layer goes
    a row after the source, on no other node, and the target and what depends on it move
    along the flow as far as that takes (graph_schema.placement). Without sizes the new
    layer takes the target's place and those nodes move ``step`` down."""
    nodes = network.node_map()
    target = nodes[edge.target]
    below = {target.id} | nx.descendants(inference.graph, target.id)
    if sizes is None or new_size is None:
        if step is None:
            raise ValueError("plan_insert needs the node sizes or a step")
        position = target.position
        shifts = {n: (0.0, step) for n in below}
    else:
        boxes = {n.id: (n.position.x, n.position.y, *sizes[n.id])
                 for n in network.nodes if n.id in sizes}
        corner, shifts = room_for_insert(boxes, edge.source, edge.target, below, new_size,
                                         flow)
        position = Position(x=corner[0], y=corner[1])
    node = new_node(network, type_name, position, params)
    old = {n: nodes[n].position for n in shifts}
    return InsertPlan(
        node=node,
        removed=edge,
        added=(Edge(source=edge.source, source_port=edge.source_port, target=node.id),
               Edge(source=node.id, target=edge.target, target_port=edge.target_port)),
        moved_from=old,
        moved_to={n: Position(x=p.x + shifts[n][0], y=p.y + shifts[n][1])
                  for n, p in old.items()},
    )
