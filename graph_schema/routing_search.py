"""The router's fallback: A* over a sparse grid, for edges no simple shape fits.

The grid's lines are the borders of the boxes near the edge, both the boxes themselves and the
boxes grown by the clearance, plus the two port lines. Between two neighbouring lines a segment
is then wholly inside or wholly outside every box (it cannot cross a border half way), so its
midpoint says which: one point lookup per segment. A segment costs its length, weighted up
inside a clearance margin and much more inside a box, and every turn costs extra: the search
finds the shortest route with few turns, and runs through a margin or a box only where no
other way exists (boxes placed touching each other by hand). Far fewer lines than a fine grid,
so a search over a few dozen boxes stays in the low milliseconds.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable

from graph_schema.routing_index import INF
from graph_schema.routing_paths import CHANNEL, CLEARANCE, Ends, Obstacles, Point, simplified

MARGIN_WEIGHT = 4.0  # cost factor of running inside a box's clearance margin
BOX_WEIGHT = 1000.0  # cost factor of running through a box
TURN = 30.0  # cost of one turn, in scene units of length
STEPS = ((1, 0), (-1, 0), (0, 1), (0, -1))  # right, left, down, up
UP = 3


def _lines(obstacles: Obstacles, ends: Ends, margin: float) -> tuple[list[float], list[float]]:
    (sx, _), (ex, _) = ends.start, ends.end
    low_x, high_x = min(sx, ex) - margin, max(sx, ex) + margin
    low_y = min(ends.leave, ends.arrive) - margin
    high_y = max(ends.leave, ends.arrive) + margin
    xs, ys = {sx, ex}, {ends.leave, ends.arrive}
    for key in obstacles.clear.meeting(low_x, low_y, high_x, high_y):
        left, top, right, bottom = obstacles.clear.rects[key]
        xs.update((left, left + CLEARANCE, right - CLEARANCE, right))
        ys.update((top, top + CLEARANCE, bottom - CLEARANCE, bottom))
    # A free ring around everything found, so the search can always go round.
    xs.update((min(xs) - CHANNEL, max(xs) + CHANNEL))
    ys.update((min(ys) - CHANNEL, max(ys) + CHANNEL))
    return sorted(xs), sorted(ys)


def _weigher(obstacles: Obstacles) -> Callable[[float, float], float]:
    clear, solid = obstacles.clear, obstacles.solid

    def weight(x: float, y: float) -> float:
        if clear.hit(x, y, x, y) is None:
            return 1.0
        return BOX_WEIGHT if solid.hit(x, y, x, y) is not None else MARGIN_WEIGHT
    return weight


def _search(xs: list[float], ys: list[float], start: tuple[int, int], goal: tuple[int, int],
            weight: Callable[[float, float], float]) -> list[Point] | None:
    """Grid points of the cheapest route leaving ``start`` downward and reaching ``goal``
    from any side but below; None if the grid has no such route."""
    gx, gy = xs[goal[0]], ys[goal[1]]
    weights: dict[tuple[int, int, int], float] = {}
    best = {(start[0], start[1], 2): 0.0}
    came: dict[tuple[int, int, int], tuple[int, int, int]] = {}
    queue = [(abs(xs[start[0]] - gx) + abs(ys[start[1]] - gy), 0.0, start[0], start[1], 2)]
    while queue:
        _, cost, i, j, heading = heapq.heappop(queue)
        if cost > best.get((i, j, heading), INF):
            continue
        if (i, j) == goal and heading != UP:
            state, points = (i, j, heading), []
            while state in came:
                points.append((xs[state[0]], ys[state[1]]))
                state = came[state]
            points.append((xs[start[0]], ys[start[1]]))
            return points[::-1]
        for turn, (di, dj) in enumerate(STEPS):
            if turn ^ 1 == heading:  # no doubling back
                continue
            ni, nj = i + di, j + dj
            if not (0 <= ni < len(xs) and 0 <= nj < len(ys)):
                continue
            edge = (min(i, ni), min(j, nj), turn >> 1)
            w = weights.get(edge)
            if w is None:
                w = weights[edge] = weight((xs[i] + xs[ni]) / 2, (ys[j] + ys[nj]) / 2)
            step = (abs(xs[ni] - xs[i]) + abs(ys[nj] - ys[j])) * w
            new = cost + step + (TURN if turn != heading else 0.0)
            if new < best.get((ni, nj, turn), INF):
                best[(ni, nj, turn)] = new
                came[(ni, nj, turn)] = (i, j, heading)
                h = abs(xs[ni] - gx) + abs(ys[nj] - gy)
                heapq.heappush(queue, (new + h, new, ni, nj, turn))
    return None


def searched_route(obstacles: Obstacles, ends: Ends) -> list[Point]:
    """The cheapest route from the grid search; wider grids are tried while the best one
    still runs through a box."""
    weight = _weigher(obstacles)
    margin, found = 2 * obstacles.typical + CHANNEL, None
    for _ in range(3):
        xs, ys = _lines(obstacles, ends, margin)
        inner = _search(xs, ys, (xs.index(ends.start[0]), ys.index(ends.leave)),
                        (xs.index(ends.end[0]), ys.index(ends.arrive)), weight)
        if inner is not None:
            found = simplified([ends.start, *inner, ends.end])
            if not _through_a_box(obstacles, found, ends):
                break
        margin *= 4
    assert found is not None  # the outer ring always joins the two ports
    return found


def _through_a_box(obstacles: Obstacles, points: list[Point], ends: Ends) -> bool:
    solid, last = obstacles.solid, len(points) - 2
    for i in range(last + 1):
        (ax, ay), (bx, by) = points[i], points[i + 1]
        skip = (ends.source, ends.target) if i in (0, last) else ()
        if solid.hit(min(ax, bx), min(ay, by), max(ax, bx), max(ay, by), skip) is not None:
            return True
    return False
