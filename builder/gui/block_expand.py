"""Expanding a block instance: its body replaces it in the graph, wired through.

The inverse of grouping (blocks.py): expanding an instance that grouping made puts every
layer back where it was, under its old name when that is free. One undo step; so is
expanding every instance of a block in a graph at once (``expand_all_instances``).

This changes the document. To look inside a block without changing anything, open it in
place instead (builder/gui/inline_blocks.py).
"""

from __future__ import annotations

import networkx as nx

from builder.gui.arrange import node_sizes
from builder.gui.block_edits import IO_TYPES, ROOM_GAP, Port, snap
from builder.gui.commands import AddEdge, AddNode, MoveNodes, Step, removal_steps
from builder.gui.controller import EditController
from builder.gui.fragments import carry_fields, fresh_name, remap_reuses
from builder.gui.project_document import GraphKey, block_key
from graph_schema.document import Block, Edge, Network, Node, Position, block_name_of


def expand_block(controller: EditController, key: GraphKey, node_id: str) -> list[str] | None:
    """Replace a block instance by a copy of the block's body, wired through (the inverse of
    grouping). Returns the new nodes' ids."""
    doc = controller.doc
    graph = doc.graph(key)
    instance = doc.node(key, node_id)
    name = block_name_of(instance.type)
    block = doc.project.block(name) if name is not None else None
    if block is None:
        what = "is not a block" if name is None else f"places block '{name}', which is missing"
        controller.refused.emit(f"Cannot expand '{instance.name}': it {what}")
        return None
    problem = expand_problem(graph, instance, block)
    if problem:
        controller.refused.emit(f"Cannot expand '{instance.name}': {problem}")
        return None
    body = [n for n in block.nodes if n.type not in IO_TYPES]
    made = _body_copies(controller, key, instance, block, body)
    new_ids = {old.id: new.id for old, new in zip(body, made)}
    remap_reuses(list(zip(body, made)), new_ids)
    index = next(i for i, n in enumerate(graph.nodes) if n.id == node_id)
    steps: list[Step] = []
    room = _room_below(controller, key, instance, made, block, body)
    if room is not None:
        steps.append(room)
    steps += removal_steps(doc, key, {node_id})
    for offset, node in enumerate(made):
        add = AddNode(doc, key, node)
        add.index = index + offset
        steps.append(add)
    steps += [AddEdge(doc, key, e) for e in _rewired(graph, node_id, block, new_ids)]
    controller.push(f"Expand block {name}", steps)
    return [n.id for n in made]


def expand_all_instances(controller: EditController, key: GraphKey,
                         block_name: str) -> list[str] | None:
    """Expand every instance of ``block_name`` in graph ``key``, in document order, as one
    undo step. Refused (nothing changes) when any of them cannot be expanded. Returns the
    new nodes' ids."""
    doc = controller.doc
    block = doc.project.block(block_name)
    instances = [n for n in doc.graph(key).nodes if n.block_name == block_name]
    if block is None or not instances:
        controller.refused.emit(f"Cannot expand block '{block_name}': this graph places none")
        return None
    for instance in instances:
        problem = expand_problem(doc.graph(key), instance, block)
        if problem:
            controller.refused.emit(f"Cannot expand '{instance.name}': {problem}")
            return None
    made: list[str] = []
    stack = controller.undo_stack
    stack.beginMacro(f"Expand all {len(instances)} instances of {block_name}")
    try:
        for instance in instances:
            made += expand_block(controller, key, instance.id) or []
    finally:
        stack.endMacro()
    return made


def expand_problem(graph: Network, instance: Node, block: Block) -> str | None:
    """Why expanding would change what the block means (its weight names, its sharing)."""
    if block.opaque is not None:
        return f"block '{block.name}' is kept as source code; it has no layers to expand"
    if block.module_lists or block.tied:
        return (f"block '{block.name}' keeps module lists or tied weights, whose names would "
                f"not survive in the {'block' if isinstance(graph, Block) else 'network'}")
    sharing = [n.name for n in graph.nodes if n.reuses == instance.id]
    if instance.reuses is not None or sharing:
        return "it shares its module with another layer"
    return None


def _body_copies(controller, key, instance: Node, block: Block, body: list[Node]) -> list[Node]:
    """The body's nodes with fresh ids and names, the instance's argument values filled in,
    placed so the body's top-left corner is where the instance was."""
    graph = controller.doc.graph(key)
    values = {**block.arguments, **instance.params}
    left = min((n.position.x for n in body), default=0.0)
    top = min((n.position.y for n in body), default=0.0)
    taken_ids: set[str] = set()
    taken_names = {n.name for n in graph.nodes if n.id != instance.id}
    made = []
    for node in body:
        position = Position(x=instance.position.x + node.position.x - left,
                            y=instance.position.y + node.position.y - top)
        params = {k: _argument_filled(v, values) for k, v in node.params.items()}
        new = controller.make_node(key, node.type, position, params,
                                   name=fresh_name(node.name, taken_names, node.type),
                                   taken_ids=taken_ids, taken_names=taken_names)
        carry_fields(node, new)
        taken_ids.add(new.id)
        taken_names.add(new.name)
        made.append(new)
    return made


def _argument_filled(value, values: dict):
    if isinstance(value, dict) and set(value) == {"arg"} and value["arg"] in values:
        return values[value["arg"]]
    return value


def _rewired(graph: Network, node_id: str, block: Block, new_ids: dict[str, str]) -> list[Edge]:
    """The block's edges in the outer graph: from a block input, the edge starts where the
    instance's input came from; into a block output, it goes wherever the instance fed."""
    inputs = {n.id: i for i, n in enumerate(block.inputs())}
    outputs = {n.id: i for i, n in enumerate(block.outputs())}
    feeding = {e.target_port: e for e in graph.edges if e.target == node_id}
    consumers: dict[int, list[Edge]] = {}
    for edge in graph.edges:
        if edge.source == node_id:
            consumers.setdefault(edge.source_port, []).append(edge)

    def sources(node: str, port: int) -> list[Port]:
        if node in inputs:
            edge = feeding.get(inputs[node])
            return [(edge.source, edge.source_port)] if edge is not None else []
        return [(new_ids[node], port)] if node in new_ids else []

    def targets(node: str, port: int) -> list[Port]:
        if node in outputs:
            return [(e.target, e.target_port) for e in consumers.get(outputs[node], [])]
        return [(new_ids[node], port)] if node in new_ids else []

    edges: list[Edge] = []
    for edge in block.edges:
        for source, source_port in sources(edge.source, edge.source_port):
            for target, target_port in targets(edge.target, edge.target_port):
                new = Edge(source=source, source_port=source_port, target=target,
                           target_port=target_port)
                if new not in edges:
                    edges.append(new)
    return edges


def _room_below(controller, key, instance: Node, made: list[Node], block: Block,
                body: list[Node]) -> MoveNodes | None:
    """Move what the instance feeds down when the expanded body would cover it."""
    if not made:
        return None
    doc = controller.doc
    body_sizes = node_sizes(doc, block_key(block.name))
    sizes = {new.id: body_sizes.get(old.id, (150.0, 72.0)) for old, new in zip(body, made)}
    x0 = min(n.position.x for n in made)
    y0 = min(n.position.y for n in made)
    x1 = max(n.position.x + sizes[n.id][0] for n in made)
    y1 = max(n.position.y + sizes[n.id][1] for n in made)
    here = node_sizes(doc, key)
    below = nx.descendants(doc.analysis(key).inference.graph, instance.id)
    nodes = {n: doc.node(key, n) for n in below}

    def covered(n: str) -> bool:
        p, (w, h) = nodes[n].position, here[n]
        return p.x < x1 and p.x + w > x0 and p.y < y1 and p.y + h > y0

    if not any(covered(n) for n in nodes):
        return None
    shift = snap(y1 + ROOM_GAP - min(n.position.y for n in nodes.values()))
    old = {n: node.position for n, node in nodes.items()}
    new = {n: Position(x=p.x, y=p.y + shift) for n, p in old.items()}
    return MoveNodes(doc, key, old, new)


