"""Edit rules: what an edit may do to a graph, decided on plain data.

Before the editor changes anything it asks here: can this output feed that input, what is a
new layer called, where does a layer put into a connection go. The answers are data (a
problem to show, a name, a plan), which the editor turns into undo steps; so the rules live
with the model, as QtNodes' ``connectionPossible`` and Orange's ``check_connect`` do, and are
tested without a window.
"""

from __future__ import annotations

import re
from collections.abc import Set
from dataclasses import dataclass

import networkx as nx

from graph_schema.document import Edge, Network, Node, Position, Project, name_problem
from graph_schema.inference import Inference
from graph_schema.specs import spec_for


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
    outputs = inference.states[edge.source].outputs
    if outputs is not None and edge.source_port >= len(outputs):
        return f"'{src.name}' has no output {edge.source_port}"
    return rank_problem(project, network, inference, edge)


def rank_problem(project: Project, network: Network, inference: Inference,
                 edge: Edge) -> str | None:
    """Try the connection on a copy: a tensor of a rank the layer can never take is refused
    (a wrong size is allowed: it shows as a diagnostic with a fix)."""
    trial = network.model_copy(deep=True)
    trial.edges = [e for e in trial.edges if e.key != edge.key] + [edge]
    tried = Inference(trial, project, input_shapes=inference.input_shapes,
                      arguments=inference.arguments)
    for diagnostic in tried.states[edge.target].diagnostics:
        if diagnostic.code == "rank-mismatch" and diagnostic.port == edge.target_port:
            return f"cannot connect: '{diagnostic.node_name}' ({diagnostic.node_type}) " \
                   f"input {edge.target_port}: {diagnostic.message}"
    return None


# -- a layer put into a connection -------------------------------------------------------------
@dataclass(frozen=True)
class InsertPlan:
    """source -> node -> target in place of source -> target, with the target and everything
    below it moved down to make room: the editor makes each part an undo step."""

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
                params: dict | None = None, *, step: float) -> InsertPlan:
    """Where a new layer goes in ``edge``: at the target's place, the target and what
    depends on it ``step`` lower. Ask ``insert_problem`` first."""
    nodes = network.node_map()
    target = nodes[edge.target]
    node = new_node(network, type_name, target.position, params)
    below = {target.id} | nx.descendants(inference.graph, target.id)
    old = {n: nodes[n].position for n in below}
    return InsertPlan(
        node=node,
        removed=edge,
        added=(Edge(source=edge.source, source_port=edge.source_port, target=node.id),
               Edge(source=node.id, target=edge.target, target_port=edge.target_port)),
        moved_from=old,
        moved_to={n: Position(x=p.x, y=p.y + step) for n, p in old.items()},
    )
