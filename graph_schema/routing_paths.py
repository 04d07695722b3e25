"""One edge's route, for the downward flow (routing.py turns a rightward flow into this one).

A route is an orthogonal polyline. Nearly every edge of a layered drawing fits one of a few
shapes, tried cheapest first, each accepted only if none of its segments comes nearer than
CLEARANCE to a box (the index holds the boxes grown by CLEARANCE, so that is one lookup per
segment):

* straight down, when the ports are one above the other;
* a "Z": down into the free band below the source, across, down into the target;
  or down the source's line to the band above the target, across, down;
* a channel: down into the band below the source, across to a free vertical line beside the
  boxes in between, along it (up, for a back edge), across in the band above the target,
  down into the target. Lines beside boxes are tried nearest first, so a skip connection runs
  just beside the layers it skips.

Only when none fits (hand-placed boxes in a tangle) does the search of routing_search run.
Every route starts by going down out of its source and ends by going down into its target,
so its arrow always points along the flow.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from graph_schema.routing_index import INF, Rect, RectIndex

Point = tuple[float, float]

CLEARANCE = 8.0  # the least free space between a route and a box it passes
CHANNEL = 16.0  # how far beside a box a channel prefers to run
FREE_JOG = 24.0  # how far past a box a route turns when nothing bounds the band there
TIGHT = 40.0  # extra cost of a channel only CLEARANCE from a box, against CHANNEL


@dataclass(frozen=True)
class Obstacles:
    clear: RectIndex  # node id -> box grown by CLEARANCE on every side
    solid: RectIndex  # node id -> the box itself
    typical: float  # a usual box size: how far around an edge to look for channels


def simplified(points: Sequence[Point]) -> list[Point]:
    """Without repeated points and without points in the middle of a straight run.
    Comparisons are exact, never within a tolerance: merging two x's a rounding error apart
    would leave a slanted segment."""
    kept: list[Point] = []
    for point in points:
        if kept and point == kept[-1]:
            continue
        if len(kept) >= 2:
            (ax, ay), (bx, by) = kept[-2], kept[-1]
            if (ax == bx == point[0]) or (ay == by == point[1]):
                kept[-1] = point
                continue
        kept.append(point)
    return kept


def is_clear(clear: RectIndex, points: Sequence[Point], source: str, target: str) -> bool:
    """No segment comes nearer than CLEARANCE to a box; the first segment may leave its
    source and the last may reach its target."""
    last = len(points) - 2
    for i in range(last + 1):
        (ax, ay), (bx, by) = points[i], points[i + 1]
        skip = (source, target) if last == 0 else (source,) if i == 0 else \
            (target,) if i == last else ()
        if clear.hit(min(ax, bx), min(ay, by), max(ax, bx), max(ay, by), skip) is not None:
            return False
    return True


def _middle(band: tuple[float, float]) -> float:
    near, far = band
    if abs(far) == INF:
        return near + (FREE_JOG if far > 0 else -FREE_JOG)
    return (near + far) / 2


@dataclass(frozen=True)
class Ends:
    source: str
    target: str
    start: Point
    end: Point
    leave: float  # the y at which the route is clear of its source box, going down
    arrive: float  # the y from which the route may go straight down into its target


def _shape(clear: RectIndex, ends: Ends, x: float) -> list[Point] | None:
    """The route through vertical line ``x``, or None if it would double back on itself."""
    (sx, sy), (ex, ey) = ends.start, ends.end
    points = [ends.start]
    if x != sx:
        below = _middle(clear.free_band(ends.leave, min(sx, x), max(sx, x), down=True))
        points += [(sx, below), (x, below)]
    if x != ex:
        above = _middle(clear.free_band(ends.arrive, min(x, ex), max(x, ex), down=False))
        points += [(x, above), (ex, above)]
    points.append(ends.end)
    points = simplified(points)
    if len(points) < 2 or points[1][1] <= sy or points[-2][1] >= ey:
        return None  # it would leave upward out of the source or enter the target upward
    return points


def _channels(clear: RectIndex, ends: Ends, reach: float) -> list[float]:
    """Vertical lines beside the boxes between the two bands, cheapest detour first."""
    (sx, _), (ex, _) = ends.start, ends.end
    below = _middle(clear.free_band(ends.leave, sx, sx, down=True))
    above = _middle(clear.free_band(ends.arrive, ex, ex, down=False))
    low, high = min(sx, ex) - reach, max(sx, ex) + reach
    costs: dict[float, float] = {}
    for key in clear.meeting(low, min(below, above), high, max(below, above)):
        left, _, right, _ = clear.rects[key]
        for x, extra in ((left - CHANNEL + CLEARANCE, 0.0), (right + CHANNEL - CLEARANCE, 0.0),
                         (left, TIGHT), (right, TIGHT)):
            cost = abs(sx - x) + abs(x - ex) + extra
            costs[x] = min(cost, costs.get(x, INF))
    return sorted(costs, key=lambda x: (costs[x], x))


def template_route(obstacles: Obstacles, ends: Ends) -> list[Point] | None:
    """The cheapest of the shapes above that keeps clear of every box, or None."""
    clear = obstacles.clear
    (sx, sy), (ex, ey) = ends.start, ends.end
    if sx == ex and ey > sy and is_clear(clear, [ends.start, ends.end],
                                                   ends.source, ends.target):
        return [ends.start, ends.end]
    tried: set[float] = set()
    for x in (ex, sx):
        points = _shape(clear, ends, x)
        tried.add(x)
        if points is not None and is_clear(clear, points, ends.source, ends.target):
            return points
    reach = 2 * obstacles.typical
    while True:
        for x in _channels(clear, ends, reach):
            if x in tried:
                continue
            tried.add(x)
            points = _shape(clear, ends, x)
            if points is not None and is_clear(clear, points, ends.source, ends.target):
                return points
        if reach == INF:
            return None
        reach = INF if reach > 16 * obstacles.typical else reach * 4


def ends_of(clear: RectIndex, key: Hashable, source: str, start: Point, target: str,
            end: Point) -> Ends:
    for node in (source, target):
        if node not in clear.rects:
            raise ValueError(f"routing: edge {key!r} connects node {node!r}, which has no box")
    return Ends(source, target, start, end, leave=max(start[1], clear.rects[source][3]),
                arrive=min(end[1], clear.rects[target][1]))


def box_rects(boxes: dict[str, tuple[float, float, float, float]], grow: float
              ) -> dict[str, Rect]:
    return {node: (x - grow, y - grow, x + w + grow, y + h + grow)
            for node, (x, y, w, h) in boxes.items()}
