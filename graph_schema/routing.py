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
(routing_labels). ``route_edges`` places every label, in edge order, after the routes. A
``reroute`` keeps every label it can where it was and places only the others around them: the
labels of the edges it routed again, of those whose label size changed, those a moved box now
covers, and those that had given way near where something moved (``Routing.relabelled``). So
a reroute's labels are as free of overlaps as a full placement's, but not always the same
boxes: a full placement would have placed them all in edge order.

A reroute also brings the previous routing's grid of boxes up to date for the moved boxes only,
and the previous grid of labels for the labels placed again, each on a copy
(``RectIndex.copy``), so the previous ``Routing`` stays as it was and may be rerouted again.

Coordinates are scene units, y down; boxes are (left, top, width, height).
"""

from __future__ import annotations

import statistics
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from graph_schema.document import FLOWS
from graph_schema.routing_index import Rect, RectIndex
from graph_schema.routing_input import (
    Box,
    RouteRequest,
    checked_boxes,
    checked_requests,
    checked_sizes,
)
from graph_schema.routing_labels import Labels, kept_labels, place_labels, replaced_labels
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
    relabelled: frozenset  # keys whose label this call placed (the others kept theirs)
    boxes: dict[str, Box]  # what the routes were made for, for reroute
    requests: dict[Hashable, RouteRequest]
    label_sizes: dict[Hashable, tuple[float, float]]
    # What a reroute updates instead of building again, never changed once made (a reroute
    # changes copies): the grids of the boxes and of the labels, in the downward frame (a
    # rightward flow's x and y swapped), and of the routes' bounding boxes, in their own
    # (None from route_edges: the first reroute builds it, so a full routing costs no more).
    obstacles: Obstacles = field(repr=False, compare=False)
    labels: Labels = field(repr=False, compare=False)
    spans: RectIndex | None = field(repr=False, compare=False)


def _flipped(point: Point) -> Point:
    return point[1], point[0]


def _flipped_box(box: Box) -> Box:
    return box[1], box[0], box[3], box[2]


def _typical(boxes: Mapping[str, Box]) -> float:
    """A usual box size: the grid's cell and how far around an edge to look for channels."""
    return max(16.0, statistics.median(max(w, h) for _, _, w, h in boxes.values())) \
        if boxes else 16.0


def _obstacles(down_boxes: Mapping[str, Box], typical: float) -> Obstacles:
    clear = RectIndex(2 * typical)
    for node, rect in box_rects(down_boxes, CLEARANCE).items():
        clear.add(node, rect)
    return Obstacles(clear, clear.shrunk(CLEARANCE), typical)


def _routed(obstacles: Obstacles, request: RouteRequest, turn: bool) -> list[Point]:
    """``request``'s route in the downward frame."""
    start, end = (_flipped(request.start), _flipped(request.end)) if turn else \
        (request.start, request.end)
    ends = ends_of(obstacles.clear, request.key, request.source, start, request.target, end)
    return template_route(obstacles, ends) or searched_route(obstacles, ends)


def _bounds(points: Sequence[Point]) -> Rect:
    xs, ys = [x for x, _ in points], [y for _, y in points]
    return min(xs), min(ys), max(xs), max(ys)


def _route(down_points: Sequence[Point], down_label: Box | None, turn: bool) -> Route:
    if not turn:
        return Route(tuple(down_points), down_label)
    return Route(tuple(_flipped(p) for p in down_points),
                 None if down_label is None else _flipped_box(down_label))


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
    checked, requests = checked_boxes(boxes), checked_requests(edges)
    sizes = checked_sizes(label_sizes)
    # A rightward flow is routed as a downward one with x and y swapped.
    turn = flow == "right"
    down_boxes = {n: _flipped_box(b) for n, b in checked.items()} if turn else checked
    obstacles = _obstacles(down_boxes, _typical(checked))
    lines = {key: _routed(obstacles, request, turn) for key, request in requests.items()}
    down_sizes = {k: (h, w) for k, (w, h) in sizes.items()} if turn else sizes
    labels = place_labels(lines, down_sizes, obstacles.solid)
    routes = {key: _route(points, labels.boxes.get(key), turn) for key, points in lines.items()}
    return Routing(flow, routes, frozenset(requests), frozenset(labels.boxes), checked,
                   requests, sizes, obstacles, labels, None)


def _moved_rects(boxes: Mapping[str, Box], nodes: Iterable[str], grow: float) -> RectIndex:
    index = RectIndex(64.0)
    for node, rect in box_rects({n: boxes[n] for n in nodes if n in boxes}, grow).items():
        index.add(node, rect)
    return index


def _meets(index: RectIndex, points: Sequence[Point]) -> bool:
    return any(index.hit(min(ax, bx), min(ay, by), max(ax, bx), max(ay, by)) is not None
               for (ax, ay), (bx, by) in zip(points, points[1:]))


def _spans(previous: Routing) -> RectIndex:
    """Each previous route's bounding box, by key."""
    if previous.spans is not None:
        return previous.spans
    spans = RectIndex(previous.obstacles.clear.cell)
    for key, route in previous.routes.items():
        spans.add(key, _bounds(route.points))
    return spans


def _stale(previous: Routing, spans: RectIndex, requests: dict[Hashable, RouteRequest],
           boxes: dict[str, Box], moved: set[str]) -> set[Hashable]:
    """Edges to route again: new or changed ones, those of a moved node, those that now pass
    too near a moved box, and those whose old route spanned a moved box's old place (they may
    have gone round it, and a full routing would no longer)."""
    stale = set()
    for key, request in requests.items():
        known = previous.requests.get(key)
        if (known is not request and known != request) or request.source in moved \
                or request.target in moved:
            stale.add(key)
    now = _moved_rects(boxes, moved, CLEARANCE)
    before = _moved_rects(previous.boxes, moved, 0.0)
    # Only a route whose bounding box meets a moved box, old or new, can have to change.
    near = set()
    for rect in (*now.rects.values(), *before.rects.values()):
        near |= spans.meeting(*rect)
    for key in near - stale:
        if key in requests and (before.hit(*spans.rects[key]) is not None
                                or _meets(now, previous.routes[key].points)):
            stale.add(key)
    return stale


def _moved_obstacles(previous: Routing, boxes: dict[str, Box], moved: set[str]
                     ) -> Obstacles:
    """The obstacles of ``boxes``: the previous ones with the moved boxes moved, unless a box
    came, went or changed size (the typical size, and so the grid, may change then)."""
    turn = previous.flow == "right"
    if any(previous.boxes.get(n, ())[2:] != boxes.get(n, ())[2:] for n in moved):
        return _obstacles({n: _flipped_box(b) for n, b in boxes.items()} if turn else boxes,
                          _typical(boxes))
    clear = previous.obstacles.clear.copy()
    for node in moved:
        clear.remove(node)
        if node in boxes:
            box = _flipped_box(boxes[node]) if turn else boxes[node]
            clear.add(node, box_rects({node: box}, CLEARANCE)[node])
    return Obstacles(clear, clear.shrunk(CLEARANCE), previous.obstacles.typical)


def _down_rects(boxes: Mapping[str, Box], nodes: Iterable[str], turn: bool) -> list[Rect]:
    """The boxes of those ``nodes`` that have one, in the downward frame."""
    return list(box_rects({n: _flipped_box(boxes[n]) if turn else boxes[n]
                           for n in nodes if n in boxes}, 0.0).values())


def _kept_labels(previous: Routing, requests: dict[Hashable, RouteRequest], sizes: dict,
                 boxes: dict[str, Box], stale: set[Hashable], moved: set[str]) -> set[Hashable]:
    """The edges whose label stays where it was (routing_labels.kept_labels): of those whose
    route and label size did not change."""
    turn = previous.flow == "right"
    resized = {key for key, _ in sizes.items() ^ previous.label_sizes.items()}
    unchanged = (requests.keys() - stale) - resized
    return kept_labels(previous.labels, unchanged, _down_rects(boxes, moved, turn),
                       _down_rects(previous.boxes, moved, turn))


def _moved_spans(previous: Routing, spans: RectIndex, routes: dict[Hashable, Route],
                 stale: set[Hashable]) -> RectIndex:
    spans = spans.copy()
    for key in previous.routes.keys() - routes.keys():
        spans.remove(key)
    for key in stale:
        spans.remove(key)
        spans.add(key, _bounds(routes[key].points))
    return spans


def reroute(previous: Routing, boxes: Mapping[str, Sequence[float]], edges: Iterable[Sequence],
            moved: Iterable[str], *,
            label_sizes: Mapping[Hashable, Sequence[float]] | None = None) -> Routing:
    """``previous`` brought up to date after the nodes in ``moved`` moved (any box that
    differs from ``previous.boxes`` counts as moved too): only the stale edges (see _stale)
    are routed again, each exactly as ``route_edges`` would; the other routes are kept, and
    so are the labels that nothing moved onto or made room for (see the module notes).
    ``edges`` and ``boxes`` are the whole current sets; ``label_sizes`` defaults to the
    previous ones. ``recomputed`` in the result says which edges were routed again,
    ``relabelled`` which labels were placed again."""
    checked = checked_boxes(boxes, known=previous.boxes)
    requests = checked_requests(edges, known=previous.requests)
    sizes = previous.label_sizes if label_sizes is None else \
        checked_sizes(label_sizes, known=previous.label_sizes)
    # A node whose box is new, gone or different: its (node, box) is in one set, not both.
    changed = set(moved) | {node for node, _ in checked.items() ^ previous.boxes.items()}
    spans = _spans(previous)
    stale = _stale(previous, spans, requests, checked, changed)
    obstacles = _moved_obstacles(previous, checked, changed)
    keep = _kept_labels(previous, requests, sizes, checked, stale, changed)
    turn = previous.flow == "right"
    lines = {}  # in the downward frame: the routes made again, and those to label again
    for key, request in requests.items():
        if key in stale:
            lines[key] = _routed(obstacles, request, turn)
        elif key in sizes and key not in keep:
            points = previous.routes[key].points
            lines[key] = [_flipped(p) for p in points] if turn else points
    down_sizes = {key: (sizes[key][1], sizes[key][0]) if turn else sizes[key]
                  for key in lines if key in sizes}
    labels = replaced_labels(previous.labels, keep, lines, down_sizes, obstacles.solid)
    routes = {}
    for key in requests:
        old = previous.routes.get(key)
        if key in lines:
            routes[key] = _route(lines[key], labels.boxes.get(key), turn)
        else:  # the same route; the same label, or none now
            routes[key] = old if key in keep or old.label is None else Route(old.points)
    return Routing(previous.flow, routes, frozenset(stale), frozenset(down_sizes), checked,
                   requests, sizes, obstacles, labels,
                   _moved_spans(previous, spans, routes, stale))


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
