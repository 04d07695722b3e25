"""Geometry checks for drawn edges: routes that run through a box, labels that cover a box or
each other. Used by the routing tests and by the canvas tests, on routes from any source.

Paths are given as polylines; curves are sampled first (``sampled_steps`` for routing's
rounded corners, ``sampled_cubics`` for chains of cubic Bézier segments such as dot's). A route
may run through its own two ends' boxes (it starts and ends on them), never through another.
The checker keeps its own grid of boxes and shares no code with the router but ``path_steps``
(how a route is drawn), so a router bug cannot hide itself.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

from graph_schema.routing import CORNER_RADIUS, Routing, path_steps

Point = tuple[float, float]
Box = tuple[float, float, float, float]  # left, top, width, height

TOLERANCE = 0.5  # how deep into a box a path may dip before it counts as crossing it


@dataclass(frozen=True)
class Crossing:
    edge: Hashable
    node: str
    segment: tuple[Point, Point]

    def __str__(self) -> str:
        (ax, ay), (bx, by) = self.segment
        return (f"edge {self.edge!r} runs through node {self.node!r} "
                f"from ({ax:.1f}, {ay:.1f}) to ({bx:.1f}, {by:.1f})")


@dataclass(frozen=True)
class Overlap:
    label: Hashable  # the edge whose label it is
    other: Hashable  # a node id, or the key of the edge whose label it overlaps
    kind: str  # "node" or "label"

    def __str__(self) -> str:
        return f"the label of edge {self.label!r} overlaps {self.kind} {self.other!r}"


def sampled_steps(steps: Sequence[tuple], per_curve: int = 8) -> list[Point]:
    """Points along ("move", p) / ("line", p) / ("quad", control, p) steps."""
    points: list[Point] = [steps[0][1]]
    for kind, *xy in steps[1:]:
        if kind == "line":
            points.append(xy[0])
            continue
        (ax, ay), (cx, cy), (bx, by) = points[-1], xy[0], xy[1]
        for i in range(1, per_curve + 1):
            t = i / per_curve
            u = 1 - t
            points.append((u * u * ax + 2 * u * t * cx + t * t * bx,
                           u * u * ay + 2 * u * t * cy + t * t * by))
    return points


def sampled_cubics(points: Sequence[Point], per_curve: int = 16) -> list[Point]:
    """Points along a chain of cubic Bézier segments given as 3k+1 control points."""
    sampled = [points[0]]
    for i in range(0, len(points) - 3, 3):
        (ax, ay), (bx, by), (cx, cy), (dx, dy) = points[i:i + 4]
        for j in range(1, per_curve + 1):
            t = j / per_curve
            u = 1 - t
            a, b, c, d = u ** 3, 3 * u * u * t, 3 * u * t * t, t ** 3
            sampled.append((a * ax + b * bx + c * cx + d * dx, a * ay + b * by + c * cy + d * dy))
    return sampled


def _crosses(segment: tuple[Point, Point], box: Box, tolerance: float) -> bool:
    """Whether the segment meets the box shrunk by ``tolerance`` (Liang-Barsky clipping)."""
    (ax, ay), (bx, by) = segment
    x, y, w, h = box
    left, top, right, bottom = x + tolerance, y + tolerance, x + w - tolerance, y + h - tolerance
    if left >= right or top >= bottom:
        return False
    low, high = 0.0, 1.0
    for delta, near, far in ((bx - ax, left - ax, right - ax), (by - ay, top - ay, bottom - ay)):
        if delta == 0:
            if near > 0 or far < 0:
                return False
            continue
        t0, t1 = sorted((near / delta, far / delta))
        low, high = max(low, t0), min(high, t1)
        if low > high:
            return False
    return True


class _Grid:
    def __init__(self, boxes: Mapping[Hashable, Box]):
        sizes = [max(w, h) for _, _, w, h in boxes.values()]
        self.cell = max([32.0] + sizes) if len(sizes) < 4 else max(32.0, sorted(sizes)[
            len(sizes) // 2])
        self.boxes = boxes
        self.cells: dict[tuple[int, int], list[Hashable]] = {}
        for key, (x, y, w, h) in boxes.items():
            for cell in self._cells(x, y, x + w, y + h):
                self.cells.setdefault(cell, []).append(key)

    def _cells(self, left: float, top: float, right: float, bottom: float):
        c = self.cell
        for i in range(math.floor(left / c), math.floor(right / c) + 1):
            for j in range(math.floor(top / c), math.floor(bottom / c) + 1):
                yield i, j

    def near(self, left: float, top: float, right: float, bottom: float) -> set[Hashable]:
        return {key for cell in self._cells(left, top, right, bottom)
                for key in self.cells.get(cell, ())}


def route_crossings(boxes: Mapping[str, Box], ends: Mapping[Hashable, tuple[str, str]],
                    paths: Mapping[Hashable, Sequence[Point]],
                    tolerance: float = TOLERANCE) -> list[Crossing]:
    """Every segment of every path that runs through a box other than its edge's two ends
    (``ends[key]`` = (source id, target id))."""
    grid, found = _Grid(boxes), []
    for key, path in paths.items():
        own = set(ends[key])
        for segment in zip(path, path[1:]):
            (ax, ay), (bx, by) = segment
            for node in sorted(grid.near(min(ax, bx), min(ay, by), max(ax, bx), max(ay, by))):
                if node not in own and _crosses(segment, boxes[node], tolerance):
                    found.append(Crossing(key, node, segment))
    return found


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] \
        and b[1] < a[1] + a[3]


def label_overlaps(boxes: Mapping[str, Box], labels: Mapping[Hashable, Box]) -> list[Overlap]:
    """Every label that overlaps a node box or another label (each pair of labels once)."""
    nodes, placed, found = _Grid(boxes), _Grid(labels), []
    order = {key: i for i, key in enumerate(labels)}
    for key, (x, y, w, h) in labels.items():
        for node in sorted(nodes.near(x, y, x + w, y + h)):
            if _overlap(labels[key], boxes[node]):
                found.append(Overlap(key, node, "node"))
        for other in sorted(placed.near(x, y, x + w, y + h), key=order.__getitem__):
            if order[other] > order[key] and _overlap(labels[key], labels[other]):
                found.append(Overlap(key, other, "label"))
    return found


def routing_problems(routing: Routing, radius: float = CORNER_RADIUS) -> list[str]:
    """Everything wrong with a routing from graph_schema.routing, drawn with ``radius``."""
    ends = {key: (r.source, r.target) for key, r in routing.requests.items()}
    paths = {key: sampled_steps(path_steps(route.points, radius))
             for key, route in routing.routes.items()}
    labels = {key: route.label for key, route in routing.routes.items()
              if route.label is not None}
    return [str(problem) for problem in route_crossings(routing.boxes, ends, paths)
            + label_overlaps(routing.boxes, labels)]
