"""Auto-layout of a network, top to bottom like a paper figure (inputs at the top), or left
to right (inputs on the left) for ``flow="right"``, the project's ``flow``.

Used by the desktop app's "Auto layout" command and by model import. Graphviz's ``dot`` is
used when it is installed and the graph is small enough for it to be quick; otherwise, or if
dot fails in any way, the built-in layered layout runs. Nothing here raises because of dot.

Positions are the top-left corners of the boxes, in scene units (treated as points), with the
smallest x and y at 0. ``rank_gap`` is the free space between one rank of boxes and the next
(rows top to bottom, or columns left to right), where an edge's shape label goes; ``node_gap``
is the least free space between two boxes of a rank. A rightward flow needs the wider rank gap:
there a label lies across the gap, as long as the shape it reads, where top to bottom only its
height must fit.

The built-in layout draws a rightward flow as the downward one of the boxes turned a quarter
(width and height swapped), then turns the positions back: the same ranks, order and
straight lanes, along x. dot is asked directly (``rankdir=LR``), which does the same.

When dot ran, ``routes`` also holds dot's own edge splines in the same coordinates (see
layout_dot for their form and why the canvas routes edges with graph_schema.routing instead).
"""

from __future__ import annotations

import gc
import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

from graph_schema.document import FLOWS, Network, Position
from graph_schema.layout_builtin import builtin_layout
from graph_schema.layout_dot import dot_layout, graphviz_available, small_enough_for_dot
from graph_schema.layout_graph import LayoutGraph, RouteKey, build_layout_graph

__all__ = ["LayoutResult", "graphviz_available", "layout_network"]

ENGINES = ("auto", "dot", "builtin")
# Free space between ranks when none is asked for: a row gap must hold a label's height, a
# column gap its width ("(N, 256, 14, 14)" in the canvas's edge font) and the arrow head.
RANK_GAPS = {"down": 56.0, "right": 120.0}
MAX_COORDINATE = 1e9  # what a saved Position accepts


@dataclass(frozen=True)
class LayoutResult:
    positions: dict[str, Position]  # top-left corner of every node's box
    engine: str  # "dot" or "builtin": the one that actually ran
    # dot's splines, keyed (source id, source port, target id, target port), as cubic Bézier
    # chains of 3k+1 control points; None when the built-in layout ran (it draws no edges)
    routes: dict[RouteKey, tuple[tuple[float, float], ...]] | None = None


def _check_gap(name: str, value: float) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"layout: {name} must be a number, got {value!r}") from None
    if not math.isfinite(value) or not 0 <= value <= 1e5:
        raise ValueError(f"layout: {name} must be between 0 and 100000, got {value!r}")
    return value


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The layout makes many small lists and tuples that never form reference cycles; the
    cyclic garbage collector would scan them again and again as they pile up, which more than
    doubles the time at 10,000 nodes. Pausing it is safe: nothing here leaks a cycle."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def lacks_positions(network: Network) -> bool:
    """Every node on one spot: a file written by hand or by another tool, which would be
    drawn as one pile unless it is laid out."""
    spots = {(node.position.x, node.position.y) for node in network.nodes}
    return len(network.nodes) > 1 and len(spots) == 1


def _turned(graph: LayoutGraph) -> LayoutGraph:
    """The graph with every box a quarter turned (width and height swapped)."""
    return LayoutGraph(graph.ids, graph.heights, graph.widths, graph.edges)


def layout_network(network: Network, sizes: Mapping[str, tuple[float, float]] | None = None,
                   *, engine: Literal["auto", "dot", "builtin"] = "auto",
                   default_size: tuple[float, float] = (200.0, 72.0),
                   rank_gap: float | None = None, node_gap: float = 40.0,
                   flow: Literal["down", "right"] = "down") -> LayoutResult:
    """Lay out every node of ``network``; ``sizes[node_id]`` is (width, height) of its box.
    ``flow`` is which way the edges run: "down" (ranks are rows) or "right" (ranks are
    columns); ``rank_gap`` defaults to RANK_GAPS[flow].

    ``engine="dot"`` asks for Graphviz but falls back to the built-in layout when dot is
    missing, fails, times out or the graph is too big for it; ``"auto"`` does the same.
    Raises ValueError only for bad arguments (an unknown engine or flow, a negative size or
    gap, sizes so large the layout would leave the canvas).
    """
    if engine not in ENGINES:
        raise ValueError(f"layout: engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    if flow not in FLOWS:
        raise ValueError(f"layout: flow must be one of {', '.join(FLOWS)}, got {flow!r}")
    rank_gap = RANK_GAPS[flow] if rank_gap is None else _check_gap("rank_gap", rank_gap)
    node_gap = _check_gap("node_gap", node_gap)
    graph = build_layout_graph(network, sizes, default_size)
    boxes, used, splines = None, "builtin", None
    if engine != "builtin" and len(graph) and small_enough_for_dot(graph):
        done = dot_layout(graph, rank_gap, node_gap, flow)
        if done is not None:
            boxes, used, splines = done.boxes, "dot", done.routes
    if boxes is None:
        with _collector_paused():
            if flow == "right":
                turned = builtin_layout(_turned(graph), rank_gap, node_gap)
                boxes = [(y, x) for x, y in turned]
            else:
                boxes = builtin_layout(graph, rank_gap, node_gap)
            used = "builtin"
    left = min((x for x, _ in boxes), default=0.0)
    top = min((y for _, y in boxes), default=0.0)
    far = max((max(x - left, y - top) for x, y in boxes), default=0.0)
    if far > MAX_COORDINATE:
        raise ValueError(f"layout: the laid out network would reach {far:.3g} scene units, "
                         f"beyond the canvas limit of {MAX_COORDINATE:.0e}; "
                         f"use smaller node sizes or gaps")
    positions = {node_id: Position(x=x - left, y=y - top)
                 for node_id, (x, y) in zip(graph.ids, boxes)}
    routes = None if splines is None else {
        key: tuple((x - left, y - top) for x, y in spline) for key, spline in splines.items()}
    return LayoutResult(positions, used, routes)
