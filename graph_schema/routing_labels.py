"""Where each edge's shape label goes: on its route, as near the middle as it can be, on no box
and on no other label.

Labels are placed one edge at a time, in the order the edges were given, so the result depends
only on the routes and that order. Each label tries points along its route going out from the
middle, first centred on the line, then beside it; then rings of spots around the middle;
then, if even those are taken (a pile of boxes), a free column right of everything. Every step
is a lookup in two grids (the boxes, the labels placed so far), never a scan of all labels.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Mapping, Sequence

from graph_schema.routing_index import RectIndex

Point = tuple[float, float]
Box = tuple[float, float, float, float]  # left, top, width, height

MARGIN = 2.0  # free space kept around a label
BESIDE = 3.0  # gap between a line and a label set beside it
FRACTIONS = (0.5, 0.42, 0.58, 0.34, 0.66, 0.26, 0.74, 0.18, 0.82, 0.1, 0.9)
RINGS = 12


class _Walk:
    """Points along a polyline by the fraction of its length."""

    def __init__(self, points: Sequence[Point]):
        self.points = points
        self.lengths = [abs(bx - ax) + abs(by - ay)
                        for (ax, ay), (bx, by) in zip(points, points[1:])]
        self.total = sum(self.lengths)

    def at(self, fraction: float) -> tuple[float, float, bool]:
        """The point ``fraction`` of the way along, and whether its segment is vertical."""
        left, points = self.total * fraction, self.points
        for i, length in enumerate(self.lengths):
            if left <= length and length > 0:
                (ax, ay), (bx, by) = points[i], points[i + 1]
                t = left / length
                return ax + (bx - ax) * t, ay + (by - ay) * t, abs(bx - ax) < abs(by - ay)
            left -= length
        x, y = points[-1]
        return x, y, True


def _spots(walk: _Walk, width: float, height: float) -> Iterator[Point]:
    """Label centres to try, best first."""
    for fraction in FRACTIONS:
        x, y, vertical = walk.at(fraction)
        yield x, y
        if vertical:
            yield x + width / 2 + BESIDE, y
            yield x - width / 2 - BESIDE, y
        else:
            yield x, y - height / 2 - BESIDE
            yield x, y + height / 2 + BESIDE
    x, y, _ = walk.at(0.5)
    step_x, step_y = max(width / 2, 4.0), max(height, 4.0)
    for ring in range(1, RINGS + 1):
        for i in range(-ring, ring + 1):
            for dx, dy in ((i, -ring), (i, ring), (-ring, i), (ring, i)):
                yield x + dx * step_x, y + dy * step_y


class LabelPlacer:
    def __init__(self, solid: RectIndex, cell: float):
        self.solid = solid
        self.placed = RectIndex(cell)
        self.right = max((rect[2] for rect in solid.rects.values()), default=0.0)

    def _free(self, left: float, top: float, right: float, bottom: float) -> bool:
        area = (left - MARGIN, top - MARGIN, right + MARGIN, bottom + MARGIN)
        return self.solid.hit(*area) is None and self.placed.hit(*area) is None

    def place(self, key: Hashable, points: Sequence[Point], size: tuple[float, float]) -> Box:
        width, height = size
        walk = _Walk(points)
        for x, y in _spots(walk, width, height):
            rect = (x - width / 2, y - height / 2, x + width / 2, y + height / 2)
            if self._free(*rect):
                break
        else:  # right of every box and label so far, so nothing can be there
            x = self.right + 2 * MARGIN + width / 2
            y = walk.at(0.5)[1]
            rect = (x - width / 2, y - height / 2, x + width / 2, y + height / 2)
        self.placed.add(key, rect)
        self.right = max(self.right, rect[2])
        return rect[0], rect[1], width, height


def place_labels(routes: Mapping[Hashable, Sequence[Point]],
                 sizes: Mapping[Hashable, tuple[float, float]], solid: RectIndex,
                 cell: float) -> dict[Hashable, Box]:
    """A label box (left, top, width, height) for every route with a size, in route order."""
    placer = LabelPlacer(solid, cell)
    return {key: placer.place(key, points, sizes[key]) for key, points in routes.items()
            if key in sizes}
