"""Edge routes for the canvas: paths that go round the boxes instead of through them.

A route is an orthogonal polyline, ``Route.points``: the source port first, the target port
last, every segment horizontal or vertical. It leaves the source in the flow direction (down,
or right for ``flow="right"``) and enters the target in the flow direction, and no segment
comes nearer than CLEARANCE to any box but its own two ends. To draw it smooth, round each
corner with ``path_steps``: a line to ``radius`` before the corner, then a quadratic curve with
the corner as control point to ``radius`` after it. The curve stays in the triangle of those
three points, and with ``radius <= 2 * CLEARANCE`` every point of that triangle is within
CLEARANCE of one of the two segments, so rounding never cuts into a box. In Qt::

    steps = path_steps(route.points)
    path = QPainterPath(QPointF(*steps[0][1]))
    for step in steps[1:]:
        if step[0] == "line":
            path.lineTo(QPointF(*step[1]))
        else:
            path.quadTo(QPointF(*step[1]), QPointF(*step[2]))

Why orthogonal: a layered drawing leaves free bands between its rows and free lines between
its columns, so an edge that turns only in those stays off every box by construction, and the
shapes a layered drawing needs are few (routing_paths). Every route depends only on the boxes
and its own ports, never on other routes, so moving a node needs only the routes near it done
again (``reroute``), and they come out exactly as a full ``route_edges`` would give them.

Each edge with a label size also gets ``Route.label``, a (left, top, width, height) box as near
the middle of its route as it can be without overlapping any box or any other label
(routing_labels). Labels are placed in edge order after the routes, every time, so they too
equal a full placement's whenever the routes do.

Coordinates are scene units, y down; boxes are (left, top, width, height).
"""

from __future__ import annotations

import statistics
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from graph_schema.document import FLOWS
from graph_schema.routing_index import INF, RectIndex
from graph_schema.routing_input import (
    Box,
    RouteRequest,
    checked_boxes,
    checked_requests,
    checked_sizes,
)
from graph_schema.routing_labels import place_labels
from graph_schema.routing_paths import (
    CLEARANCE,
    Obstacles,
    Point,
    box_rects,
    ends_of,
    template_route,
)
from graph_schema.routing_search import searched_route

__all__ = ["CLEARANCE", "CORNER_RADIUS", "Route", "RouteRequest", "Routing", "path_steps",
           "reroute", "route_edges"]

Flow = Literal["down", "right"]
CORNER_RADIUS = 8.0  # at most 2 * CLEARANCE: see the module notes
PathStep = tuple  # ("move", p) | ("line", p) | ("quad", control, p)


@dataclass(frozen=True)
class Route:
    points: tuple[Point, ...]  # orthogonal polyline, start port first, end port last
    label: Box | None = None  # where the edge's shape label goes; None without a label size


@dataclass(frozen=True)
class Routing:
    flow: str
    routes: dict[Hashable, Route]  # in the order the edges were given
    recomputed: frozenset  # keys routed by this call (all of them for route_edges)
    boxes: dict[str, Box]  # what the routes were made for, for reroute
    requests: dict[Hashable, RouteRequest]
    label_sizes: dict[Hashable, tuple[float, float]]


def _flipped(point: Point) -> Point:
    return point[1], point[0]


def _obstacles(boxes: dict[str, Box]) -> Obstacles:
    typical = max(16.0, statistics.median(max(w, h) for _, _, w, h in boxes.values())) \
        if boxes else 16.0
    clear = RectIndex(2 * typical)
    for node, rect in box_rects(boxes, CLEARANCE).items():
        clear.add(node, rect)
    return Obstacles(clear, clear.shrunk(CLEARANCE), typical)


def _routing(flow: str, boxes: dict[str, Box], requests: dict[Hashable, RouteRequest],
             sizes: dict, kept: Mapping[Hashable, Route], stale: set[Hashable]) -> Routing:
    """Routes ``stale`` edges afresh, keeps the others' points, then places every label.
    A rightward flow is routed as a downward one with x and y swapped."""
    turn = flow == "right"
    down_boxes = {n: (y, x, h, w) for n, (x, y, w, h) in boxes.items()} if turn else boxes
    obstacles = _obstacles(down_boxes)
    lines: dict[Hashable, list[Point]] = {}
    for key, request in requests.items():
        if key not in stale:
            points = list(kept[key].points)
            lines[key] = [_flipped(p) for p in points] if turn else points
            continue
        start, end = (_flipped(request.start), _flipped(request.end)) if turn else \
            (request.start, request.end)
        ends = ends_of(obstacles.clear, key, request.source, start, request.target, end)
        lines[key] = template_route(obstacles, ends) or searched_route(obstacles, ends)
    down_sizes = {k: (h, w) for k, (w, h) in sizes.items()} if turn else sizes
    labels = place_labels(lines, down_sizes, obstacles.solid, obstacles.solid.cell)
    routes = {}
    for key, points in lines.items():
        label = labels.get(key)
        if turn:
            points = [_flipped(p) for p in points]
            label = None if label is None else (label[1], label[0], label[3], label[2])
        routes[key] = Route(tuple(points), label)
    return Routing(flow, routes, frozenset(stale), boxes, requests, sizes)


def route_edges(boxes: Mapping[str, Sequence[float]], edges: Iterable[Sequence], *,
                flow: Flow = "down",
                label_sizes: Mapping[Hashable, Sequence[float]] | None = None) -> Routing:
    """Route every edge. ``boxes``: node id -> (left, top, width, height); ``edges``:
    (key, source id, start point, target id, end point), keys unique and hashable (the
    canvas uses (source, source port, target, target port)); ``label_sizes``: key ->
    (width, height) of the label to place, for the edges that have one.

    Raises ValueError for an unknown flow, an edge whose node has no box, a repeated key or a
    number that is not finite."""
    if flow not in FLOWS:
        raise ValueError(f"routing: flow must be one of {', '.join(FLOWS)}, got {flow!r}")
    requests = checked_requests(edges)
    return _routing(flow, checked_boxes(boxes), requests, checked_sizes(label_sizes), {},
                    set(requests))


def _moved_rects(boxes: Mapping[str, Box], nodes: Iterable[str], grow: float) -> RectIndex:
    index = RectIndex(64.0)
    for node, rect in box_rects({n: boxes[n] for n in nodes if n in boxes}, grow).items():
        index.add(node, rect)
    return index


def _meets(index: RectIndex, points: Sequence[Point]) -> bool:
    return any(index.hit(min(ax, bx), min(ay, by), max(ax, bx), max(ay, by)) is not None
               for (ax, ay), (bx, by) in zip(points, points[1:]))


def _stale(previous: Routing, requests: dict[Hashable, RouteRequest], boxes: dict[str, Box],
           moved: set[str]) -> set[Hashable]:
    """Edges to route again: new or changed ones, those of a moved node, those that now pass
    too near a moved box, and those whose old route spanned a moved box's old place (they may
    have gone round it, and a full routing would no longer)."""
    now = _moved_rects(boxes, moved, CLEARANCE)
    before = _moved_rects(previous.boxes, moved, 0.0)
    rects = [*now.rects.values(), *before.rects.values()]
    # One rectangle round everything moved: most routes lie wholly outside it.
    near = (min(r[0] for r in rects), min(r[1] for r in rects), max(r[2] for r in rects),
            max(r[3] for r in rects)) if rects else (INF, INF, -INF, -INF)
    stale = set()
    for key, request in requests.items():
        old = previous.routes.get(key)
        if old is None or previous.requests.get(key) != request or request.source in moved \
                or request.target in moved:
            stale.add(key)
            continue
        xs, ys = [x for x, _ in old.points], [y for _, y in old.points]
        left, top, right, bottom = min(xs), min(ys), max(xs), max(ys)
        if right < near[0] or near[2] < left or bottom < near[1] or near[3] < top:
            continue
        if before.hit(left, top, right, bottom) is not None or _meets(now, old.points):
            stale.add(key)
    return stale


def reroute(previous: Routing, boxes: Mapping[str, Sequence[float]], edges: Iterable[Sequence],
            moved: Iterable[str], *,
            label_sizes: Mapping[Hashable, Sequence[float]] | None = None) -> Routing:
    """``previous`` brought up to date after the nodes in ``moved`` moved (any box that
    differs from ``previous.boxes`` counts as moved too): only the stale edges (see _stale)
    are routed again, each exactly as ``route_edges`` would; the other routes are kept.
    ``edges`` and ``boxes`` are the whole current sets; ``label_sizes`` defaults to the
    previous ones. ``recomputed`` in the result says which edges were routed again."""
    checked = checked_boxes(boxes)
    requests = checked_requests(edges)
    sizes = previous.label_sizes if label_sizes is None else checked_sizes(label_sizes)
    changed = set(moved) | {node for node in checked.keys() | previous.boxes.keys()
                            if checked.get(node) != previous.boxes.get(node)}
    stale = _stale(previous, requests, checked, changed)
    return _routing(previous.flow, checked, requests, sizes, previous.routes, stale)


def path_steps(points: Sequence[Point], radius: float = CORNER_RADIUS) -> list[PathStep]:
    """Drawing steps for a route with rounded corners: ("move", p) first, then ("line", p)
    and ("quad", corner, p); a corner's radius is at most half of either segment beside it."""
    steps: list[PathStep] = [("move", tuple(points[0]))]
    for (ax, ay), (bx, by), (cx, cy) in zip(points, points[1:], points[2:]):
        before, after = abs(bx - ax) + abs(by - ay), abs(cx - bx) + abs(cy - by)
        r = min(radius, before / 2, after / 2)
        if r <= 0:
            steps.append(("line", (bx, by)))
            continue
        steps.append(("line", (bx - (bx - ax) / before * r, by - (by - ay) / before * r)))
        steps.append(("quad", (bx, by), (bx + (cx - bx) / after * r,
                                         by + (cy - by) / after * r)))
    steps.append(("line", tuple(points[-1])))
    return steps
