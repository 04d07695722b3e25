"""Where the canvas puts a new layer: the glyph boxes of a graph, handed to
graph_schema.placement, so no way of adding a layer (a click, Tab quick-add, a dropped wire,
a paste, a fix that inserts one) puts it on another.

Sizes come from the glyphs (builder/gui/arrange.node_sizes), or from a scene's items when
the caller has one (cheaper in a big graph); a layer that does not exist yet is measured
from the look it will have, with room for the parameter line it will get once set.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

import networkx as nx

from builder.gui.arrange import node_sizes
from builder.gui.glyphs import NodeLook, node_size, port_position
from builder.gui.looks import node_look
from builder.gui.project_document import GraphKey, ProjectDocument
from graph_schema import edit_rules, placement
from graph_schema.document import Edge, Node, Position
from graph_schema.edit_rules import PortEnd
from graph_schema.placement import Box

Size = tuple[float, float]
Sizes = Mapping[str, Size]


def boxes(doc: ProjectDocument, key: GraphKey, sizes: Sizes | None = None,
          leave_out: Iterable[str] = ()) -> dict[str, Box]:
    sizes = sizes if sizes is not None else node_sizes(doc, key)
    skipped = set(leave_out)
    return {n.id: (n.position.x, n.position.y, *sizes[n.id])
            for n in doc.graph(key).nodes if n.id in sizes and n.id not in skipped}


def new_node_look(doc: ProjectDocument, node: Node) -> NodeLook:
    """The look of a node not yet in the graph, with its parameter line even before the
    parameters are set (so setting them does not make it grow onto its neighbour)."""
    look = node_look(doc.project, node, None, [], set())
    return look if look.detail else replace(look, detail="00 · k0")


def new_node_size(doc: ProjectDocument, node: Node) -> Size:
    return node_size(new_node_look(doc, node))


def _would_be(doc: ProjectDocument, key: GraphKey, type_name: str,
              params: dict | None = None) -> Node:
    return edit_rules.new_node(doc.graph(key), type_name, Position(x=0, y=0), params)


def _corner(x: float, y: float) -> Position:
    return Position(x=x, y=y)


def free_corner(doc: ProjectDocument, key: GraphKey, type_name: str, wanted: Position,
                sizes: Sizes | None = None, params: dict | None = None) -> Position:
    """``wanted`` (a top-left corner), or the nearest place where the layer lands on no
    other node."""
    size = new_node_size(doc, _would_be(doc, key, type_name, params))
    box = (wanted.x, wanted.y, *size)
    return _corner(*placement.free_position(boxes(doc, key, sizes).values(), box,
                                            doc.project.flow))


def place_after(doc: ProjectDocument, key: GraphKey, anchor: str, type_name: str,
                sizes: Sizes | None = None) -> tuple[Position, dict[str, Position]]:
    """Where a layer fed by ``anchor`` goes: a row below it (a column right of it when the
    drawing flows right), centred on it; and the nodes that move to make room.

    Nodes on that spot that have nothing to do with ``anchor`` (the network's output, still
    waiting at the bottom of a new network) move along the flow with what follows them, so a
    chain grows in its column. A spot taken by a layer ``anchor`` already feeds, or by one it
    depends on, is left alone: the new layer goes beside it, as a branch.
    """
    everything = boxes(doc, key, sizes)
    size = new_node_size(doc, _would_be(doc, key, type_name))
    flow = doc.project.flow
    blockers = placement.in_the_way(everything, anchor, size, flow)
    graph = doc.analysis(key).inference.graph
    related = {anchor} | nx.ancestors(graph, anchor) | set(graph.successors(anchor))
    if not blockers or set(blockers) & related:
        wanted = placement.after(everything[anchor], size, flow)
        return _corner(*placement.free_position(everything.values(), wanted, flow,
                                                placement.ROOMY)), {}
    following = set().union(*(nx.descendants(graph, b) for b in blockers)) - related
    corner, shifts = placement.room_for_insert(everything, anchor, blockers, following, size,
                                               flow)
    nodes = doc.graph(key).node_map()
    moves = {n: Position(x=nodes[n].position.x + dx, y=nodes[n].position.y + dy)
             for n, (dx, dy) in shifts.items()}
    return _corner(*corner), moves


def corner_at_link(doc: ProjectDocument, key: GraphKey, type_name: str, point: Position,
                   end: PortEnd, sizes: Sizes | None = None) -> Position:
    """Where a layer chosen for a wire dropped at ``point`` goes: its first input (or, for
    a wire drawn from an input, its first output) at the drop point, on no other node."""
    look = new_node_look(doc, _would_be(doc, key, type_name))
    size = node_size(look)
    port = port_position(look, size, "in" if end.kind == "out" else "out", 0)
    grid = placement.GRID
    x = round((point.x - port.x()) / grid) * grid
    y = round((point.y - port.y()) / grid) * grid
    return _corner(*placement.free_position(boxes(doc, key, sizes).values(), (x, y, *size),
                                            doc.project.flow))


def insert_plan(doc: ProjectDocument, key: GraphKey, edge: Edge, type_name: str,
                params: dict | None = None) -> edit_rules.InsertPlan:
    """The plan that puts a layer into ``edge``, making room with the real glyph sizes."""
    node = edit_rules.new_node(doc.graph(key), type_name, Position(x=0, y=0), params)
    return edit_rules.plan_insert(doc.graph(key), doc.analysis(key).inference, edge,
                                  type_name, params, sizes=node_sizes(doc, key),
                                  new_size=new_node_size(doc, node), flow=doc.project.flow)


def free_offset_for(doc: ProjectDocument, key: GraphKey, nodes: list[Node],
                    sizes: Sizes | None = None) -> tuple[float, float]:
    """How far nodes about to be added (a paste) must move, together, to land on none of
    the graph's nodes; (0, 0) when they land on none already."""
    group = [(n.position.x, n.position.y, *new_node_size(doc, n)) for n in nodes]
    return placement.free_offset(boxes(doc, key, sizes).values(), group, doc.project.flow)
