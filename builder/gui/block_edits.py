"""Reusable blocks on the canvas: group a selection into a block, expand an instance back
inline, and add, rename or delete block definitions. Each action is one undo step.

Grouping keeps what the canvas shows: the block's ports are the connections that cross the
selection's boundary, so every shape outside the block is the same before and after, and
expanding an instance that grouping made puts every layer back where it was.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from builder.gui.arrange import node_sizes
from builder.gui.commands import (
    AddEdge,
    AddGraph,
    AddNode,
    RemoveGraph,
    Step,
    removal_steps,
)
from builder.gui.controller import EditController
from builder.gui.graph_edits import graph_name_problem, rename_graph
from builder.gui.project_document import GraphKey, block_key
from graph_schema.document import (
    Block,
    Edge,
    Network,
    Node,
    Position,
    block_type,
    name_problem,
)
from graph_schema.edit_rules import new_node_id, unique_name

IO_TYPES = ("io.Input", "io.Output")
IO_GAP = 112.0  # room above a block's body for its input nodes (and below it for outputs)
ROOM_GAP = 56.0  # free space kept between an expanded body and the layers below it
GRID = 8.0
Port = tuple[str, int]  # (node id, output port)


def block_name_problem(controller: EditController, name: str) -> str | None:
    problem = graph_name_problem(controller, "block", name)
    if problem is None and name_problem(name) is not None:
        problem = f"a block becomes a class in generated code: {name_problem(name)}"
    return problem


# -- grouping ------------------------------------------------------------------------------
@dataclass
class Boundary:
    """How a selection connects to the rest of its graph."""

    inputs: list[Port]  # outside outputs that feed the selection: the block's inputs
    outputs: list[Port]  # selection outputs used outside: the block's outputs
    incoming: list[Edge]
    outgoing: list[Edge]
    internal: list[Edge]


def boundary_of(controller: EditController, key: GraphKey, chosen: set[str]) -> Boundary:
    graph = controller.doc.graph(key)
    inference = controller.doc.analysis(key).inference
    rank = {n: i for i, n in enumerate(inference.order)}
    doc_index = {n.id: i for i, n in enumerate(graph.nodes)}

    def order(port: Port) -> tuple:  # data-flow order, then document order, then port
        return (rank.get(port[0], len(rank)), doc_index.get(port[0], 0), port[1])

    incoming = [e for e in graph.edges if e.target in chosen and e.source not in chosen]
    outgoing = [e for e in graph.edges if e.source in chosen and e.target not in chosen]
    internal = [e for e in graph.edges if e.source in chosen and e.target in chosen]
    inputs = sorted({(e.source, e.source_port) for e in incoming}, key=order)
    outputs = sorted({(e.source, e.source_port) for e in outgoing}, key=order)
    return Boundary(inputs, outputs, incoming, outgoing, internal)


def group_problem(controller: EditController, key: GraphKey, chosen: set[str]) -> str | None:
    """Why the selection cannot become a block, or None."""
    doc = controller.doc
    graph = doc.graph(key)
    nodes = graph.node_map()
    if not chosen:
        return "select the layers to group first"
    io = [nodes[n].name for n in chosen if nodes[n].type in IO_TYPES]
    if io:
        return f"'{io[0]}' is an input or output of the {key[0]}; it cannot go into a block"
    listed = [m.name for m in graph.module_lists if chosen & set(m.nodes)]
    if listed:
        return f"some of these layers belong to module list '{listed[0]}'"
    shared = _sharing_problem(graph, chosen)
    if shared:
        return shared
    boundary = boundary_of(controller, key, chosen)
    if not boundary.outputs:
        return "nothing outside the selection uses its result; a block needs an output"
    if not boundary.inputs:
        return "nothing feeds the selection; a block needs an input"
    topology = doc.analysis(key).inference.graph
    for target in {e.target for e in boundary.outgoing}:
        back = nx.descendants(topology, target) & chosen
        if back:
            return (f"'{nodes[target].name}' takes data from the selection and gives it back "
                    f"(to '{nodes[sorted(back)[0]].name}'); select it too, or fewer layers")
    return None


def _sharing_problem(graph: Network, chosen: set[str]) -> str | None:
    """A module shared, or a weight tied, across the selection's boundary would be split
    between the block and the graph around it."""
    nodes = graph.node_map()
    for node in graph.nodes:
        target = node.reuses
        if target is not None and target in nodes and (node.id in chosen) != (target in chosen):
            return (f"'{node.name}' shares the module of '{nodes[target].name}', and only one "
                    f"of them is selected")
    names = {nodes[n].name for n in chosen}
    for tie in graph.tied:
        ends = {tie.target.split(".")[0], tie.source.split(".")[0]}
        if ends & names:
            return f"the selection holds a weight tied to another ({tie.target} = {tie.source})"
    return None


def group_into_block(controller: EditController, key: GraphKey, chosen: set[str], name: str,
                     sizes: dict[str, tuple[float, float]] | None = None) -> str | None:
    """Move the chosen nodes into a new block ``name`` and put one instance of it in their
    place, wired to the same sources and targets. Returns the instance's node id."""
    problem = block_name_problem(controller, name) or group_problem(controller, key, chosen)
    if problem:
        controller.refused.emit(f"Cannot group into a block: {problem}")
        return None
    doc = controller.doc
    graph = doc.graph(key)
    sizes = sizes or node_sizes(doc, key)
    boundary = boundary_of(controller, key, chosen)
    block, ports_in, ports_out = _block_body(graph, chosen, boundary, name, sizes)
    members = [n for n in graph.nodes if n.id in chosen]
    left = min(n.position.x for n in members)
    top = min(n.position.y for n in members)
    params = {a: {"arg": a} for a in block.arguments}
    instance = controller.make_node(key, block_type(name), Position(x=left, y=top), params)
    place = AddNode(doc, key, instance)
    first = next(i for i, n in enumerate(graph.nodes) if n.id in chosen)
    place.index = sum(1 for n in graph.nodes[:first] if n.id not in chosen)
    steps: list[Step] = [AddGraph(doc, block), *removal_steps(doc, key, chosen), place]
    for port, source in enumerate(boundary.inputs):
        steps.append(AddEdge(doc, key, Edge(source=source[0], source_port=source[1],
                                            target=instance.id, target_port=port)))
    for edge in boundary.outgoing:
        port = boundary.outputs.index((edge.source, edge.source_port))
        steps.append(AddEdge(doc, key, Edge(source=instance.id, source_port=port,
                                            target=edge.target, target_port=edge.target_port)))
    controller.push(f"Group {len(chosen)} layers into block {name}", steps)
    return instance.id


def _block_body(graph: Network, chosen: set[str], boundary: Boundary, name: str,
                sizes) -> tuple[Block, list[Node], list[Node]]:
    """The new block: the chosen nodes, moved so the selection's top-left corner sits just
    under a row of input nodes, and a row of output nodes below them."""
    members = [n.model_copy(deep=True) for n in graph.nodes if n.id in chosen]
    left = min(n.position.x for n in members)
    top = min(n.position.y for n in members)
    for node in members:
        node.position = Position(x=node.position.x - left, y=node.position.y - top + IO_GAP)
    ids = set(chosen)
    names = {n.name for n in members}
    ports_in = _io_nodes("io.Input", "x", len(boundary.inputs), ids, names)
    ports_out = _io_nodes("io.Output", "out", len(boundary.outputs), ids, names)
    edges = [e.model_copy() for e in boundary.internal]
    for edge in boundary.incoming:
        port = ports_in[boundary.inputs.index((edge.source, edge.source_port))]
        edges.append(Edge(source=port.id, target=edge.target, target_port=edge.target_port))
    for index, (source, source_port) in enumerate(boundary.outputs):
        edges.append(Edge(source=source, source_port=source_port, target=ports_out[index].id))
    by_id = {n.id: n for n in members}
    _place_row(ports_in, [min(by_id[e.target].position.x for e in boundary.incoming
                              if (e.source, e.source_port) == port)
                          for port in boundary.inputs], 0.0)
    bottom = max(n.position.y + sizes.get(n.id, (150.0, 72.0))[1] for n in members)
    _place_row(ports_out, [by_id[s].position.x for s, _ in boundary.outputs],
               snap(bottom + ROOM_GAP))
    used = sorted({v["arg"] for n in members for v in n.params.values()
                   if isinstance(v, dict) and set(v) == {"arg"} and v["arg"] in graph.arguments})
    block = Block(name=name, nodes=[*ports_in, *members, *ports_out], edges=edges,
                  arguments={a: graph.arguments[a] for a in used})
    return block, ports_in, ports_out


def _io_nodes(type_name: str, stem: str, count: int, ids: set[str], names: set[str]) -> list:
    made = []
    for _ in range(count):
        name = unique_name(stem, names, numbered=count > 1)
        node = Node(id=new_node_id(ids), type=type_name, name=name)
        ids.add(node.id)
        names.add(name)
        made.append(node)
    return made


def _place_row(nodes: list[Node], xs: list[float], y: float, width: float = 168.0) -> None:
    """Put io nodes in a row at the wanted x positions, pushed right where they would overlap."""
    right = float("-inf")
    for node, x in zip(nodes, xs):
        x = max(x, right)
        node.position = Position(x=snap(x), y=y)
        right = x + width


def snap(value: float) -> float:
    return round(value / GRID) * GRID


# -- definitions ---------------------------------------------------------------------------
def new_block(controller: EditController, name: str) -> bool:
    """An empty block: one input wired to one output, ready to draw in."""
    problem = block_name_problem(controller, name)
    if problem:
        controller.refused.emit(f"Cannot add the block: {problem}")
        return False
    block = Block(name=name, nodes=[
        Node(id="n1", type="io.Input", name="x", position=Position(x=0, y=0)),
        Node(id="n2", type="io.Output", name="out", position=Position(x=0, y=320)),
    ], edges=[Edge(source="n1", target="n2")])
    controller.push(f"Add block {name}", [AddGraph(controller.doc, block)])
    return True


def rename_block(controller: EditController, name: str, new_name: str) -> bool:
    """Rename a block; every placement follows (one undo step)."""
    problem = block_name_problem(controller, new_name)
    if problem:
        controller.refused.emit(f"Cannot rename the block: {problem}")
        return False
    return rename_graph(controller, block_key(name), new_name)


def delete_block(controller: EditController, name: str) -> bool:
    """Delete a block definition that nothing places; refuse, naming the placements, if
    something does."""
    doc = controller.doc
    placed = [(key, node_id) for key, node_id in doc.placements(name)
              if key != block_key(name)]
    if placed:
        where = [f"'{doc.node(k, n).name}' in {k[0]} '{k[1]}'" for k, n in placed[:4]]
        more = f" and {len(placed) - 4} more" if len(placed) > 4 else ""
        controller.refused.emit(f"Cannot delete block '{name}': it is placed as "
                                f"{', '.join(where)}{more}")
        return False
    controller.push(f"Delete block {name}", [RemoveGraph(doc, block_key(name))])
    return True
