"""The built-in layered (Sugiyama-style) layout, top to bottom.

Each connected part of the graph is laid out on its own: ranks (layout_rank), rows with dummy
nodes for long edges (layout_layers), crossing reduction (layout_order), x coordinates
(layout_coords), then rows stacked with ``rank_gap`` between them. The parts are then placed
side by side in document order, isolated nodes last. Linear or near-linear at every step: a
chain or a residual net of 10,000 nodes takes a fraction of a second. A left-to-right drawing
is this one of the boxes turned a quarter, turned back (graph_schema/layout.py).
"""

from __future__ import annotations

from graph_schema.layout_coords import assign_x
from graph_schema.layout_graph import LayoutEdge, LayoutGraph
from graph_schema.layout_layers import Layered, build_layered
from graph_schema.layout_order import order_ranks
from graph_schema.layout_rank import assign_ranks, break_cycles

Box = tuple[float, float]  # top-left corner


def _components(graph: LayoutGraph) -> list[list[int]]:
    """Connected parts (edge direction ignored), each in document order, ordered by their
    first node; isolated nodes come last, one part each."""
    parent = list(range(len(graph)))

    def find(v: int) -> int:
        while parent[v] != v:
            parent[v] = parent[parent[v]]
            v = parent[v]
        return v

    for edge in graph.edges:
        a, b = find(edge.source), find(edge.target)
        if a != b:
            parent[max(a, b)] = min(a, b)
    members: dict[int, list[int]] = {}
    for v in range(len(graph)):
        members.setdefault(find(v), []).append(v)
    parts = list(members.values())
    return [part for part in parts if len(part) > 1] + [part for part in parts if len(part) == 1]


def _rows(layered: Layered, heights: list[float], rank_gap: float
          ) -> tuple[list[float], list[float]]:
    """Top and height of each rank: as tall as its tallest box, ``rank_gap`` apart."""
    row_heights = [0.0] * len(layered.layers)
    for node in range(layered.n_real):
        r = layered.rank[node]
        row_heights[r] = max(row_heights[r], heights[node])
    tops, y = [], 0.0
    for row_height in row_heights:
        tops.append(y)
        y += row_height + rank_gap
    return tops, row_heights


def _layout_part(widths: list[float], heights: list[float], edges: list[LayoutEdge],
                 rank_gap: float, node_gap: float) -> list[Box]:
    """Top-left corners for one connected part, in local node numbers, min x and y at 0."""
    n = len(widths)
    ranked = break_cycles(n, edges)
    layered = build_layered(n, widths, assign_ranks(n, ranked), ranked)
    order_ranks(layered)
    centres = assign_x(layered, node_gap)
    tops, row_heights = _rows(layered, heights, rank_gap)
    boxes = []
    for node in range(n):
        r = layered.rank[node]
        # Boxes of one rank share a centre line, as in dot.
        boxes.append((centres[node] - widths[node] / 2,
                      tops[r] + (row_heights[r] - heights[node]) / 2))
    left = min(x for x, _ in boxes)
    return [(x - left, y) for x, y in boxes]


def builtin_layout(graph: LayoutGraph, rank_gap: float, node_gap: float) -> list[Box]:
    """Top-left corner of every node of ``graph``, min x and y at 0."""
    boxes: list[Box] = [(0.0, 0.0)] * len(graph)
    local_of = [0] * len(graph)
    edges_of: dict[int, list[LayoutEdge]] = {}
    parts = _components(graph)
    part_of = [0] * len(graph)
    for p, part in enumerate(parts):
        for local, node in enumerate(part):
            local_of[node], part_of[node] = local, p
    for edge in graph.edges:
        edges_of.setdefault(part_of[edge.source], []).append(LayoutEdge(
            local_of[edge.source], local_of[edge.target], edge.source_port, edge.target_port))
    offset = 0.0
    for p, part in enumerate(parts):
        widths = [graph.widths[v] for v in part]
        heights = [graph.heights[v] for v in part]
        local_boxes = _layout_part(widths, heights, edges_of.get(p, []), rank_gap, node_gap)
        for node, (x, y) in zip(part, local_boxes):
            boxes[node] = (x + offset, y)
        offset += max(x + w for (x, _), w in zip(local_boxes, widths)) + node_gap
    return boxes
