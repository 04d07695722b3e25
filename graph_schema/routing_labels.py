"""Where each edge's shape label goes: on its route, as near the middle as it can be, on no box
and on no other label.

Labels are placed one edge at a time, in the order the edges were given. Each label tries
points along its route going out from the middle, first centred on the line, then beside it;
then rings of spots around the middle; then, if even those are taken (a pile of boxes), a free
column right of everything. Every step is a lookup in two grids (the boxes, the labels placed
so far), never a scan of all labels.

``place_labels`` places every label (a full routing). After a move, ``kept_labels`` says which
of the old labels may stay where they are, and ``replaced_labels`` places the others around
them (a reroute): a label is placed again only when its route changed, when a moved box now
covers it, or when it had given way (it is not at its first spot) near where a moved box or a
replaced label was, since what pushed it aside may have gone. So labels far from a move never
jump, and a reroute places a handful of labels instead of all of them; the result is free of
overlaps like a full placement's, though not always the same boxes.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from graph_schema.routing_index import Rect, RectIndex

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


@dataclass(frozen=True)
class Labels:
    """The labels of one routing, in the frame they were placed in. Never changed once made:
    ``replaced_labels`` works on a copy of ``index``, so an older routing keeps its own."""
    boxes: dict[Hashable, Box]  # key -> (left, top, width, height)
    index: RectIndex  # key -> (left, top, right, bottom): what later labels must avoid
    displaced: RectIndex  # the labels that gave way: key -> the first spot each one tried


def _rect(x: float, y: float, width: float, height: float) -> Rect:
    """The rectangle of that size centred on (x, y)."""
    return x - width / 2, y - height / 2, x + width / 2, y + height / 2


class _Placer:
    def __init__(self, solid: RectIndex, placed: RectIndex, displaced: RectIndex):
        self.solid = solid
        self.placed, self.displaced = placed, displaced  # added to: fresh indexes or copies
        self.right: float | None = None  # right of every box and label; found when needed

    def _free(self, left: float, top: float, right: float, bottom: float) -> bool:
        area = (left - MARGIN, top - MARGIN, right + MARGIN, bottom + MARGIN)
        return self.solid.hit(*area) is None and self.placed.hit(*area) is None

    def _far_right(self) -> float:
        if self.right is None:
            self.right = max((rect[2] for index in (self.solid, self.placed)
                              for rect in index.rects.values()), default=0.0)
        return self.right

    def place(self, key: Hashable, points: Sequence[Point], size: tuple[float, float]) -> Box:
        width, height = size
        walk = _Walk(points)
        first = None  # where it would go if nothing were in the way
        for x, y in _spots(walk, width, height):
            rect = _rect(x, y, width, height)
            if first is None:
                first = rect
            if self._free(*rect):
                break
        else:  # right of every box and label so far, so nothing can be there
            rect = _rect(self._far_right() + 2 * MARGIN + width / 2, walk.at(0.5)[1], width,
                         height)
        if rect != first:
            self.displaced.add(key, first)
        self.placed.add(key, rect)
        if self.right is not None:
            self.right = max(self.right, rect[2])
        return rect[0], rect[1], width, height


def place_labels(routes: Mapping[Hashable, Sequence[Point]],
                 sizes: Mapping[Hashable, tuple[float, float]], solid: RectIndex) -> Labels:
    """A label for every route with a size, in route order, on no box of ``solid``."""
    placer = _Placer(solid, RectIndex(solid.cell), RectIndex(solid.cell))
    boxes = {key: placer.place(key, points, sizes[key]) for key, points in routes.items()
             if key in sizes}
    return Labels(boxes, placer.placed, placer.displaced)


def kept_labels(previous: Labels, unchanged: Iterable[Hashable], moved_now: Iterable[Rect],
                moved_before: Iterable[Rect]) -> set[Hashable]:
    """Which labels of ``unchanged`` edges (same route, same label size) stay where they were:
    all but those a moved box (``moved_now``: the boxes where they are now) covers, and those
    that gave way near where a moved box was (``moved_before``) or a label not kept was."""
    index = previous.index
    keep = previous.boxes.keys() & unchanged
    for left, top, right, bottom in moved_now:
        keep -= index.meeting(left - MARGIN, top - MARGIN, right + MARGIN, bottom + MARGIN)
    # One pass: a label that gave way to one of these, placed again, stays where it is.
    freed = [*moved_before, *(index.rects[key] for key in previous.boxes.keys() - keep)]
    for left, top, right, bottom in freed:
        keep -= previous.displaced.meeting(left - MARGIN, top - MARGIN, right + MARGIN,
                                           bottom + MARGIN)
    return keep


def replaced_labels(previous: Labels, keep: set[Hashable],
                    routes: Mapping[Hashable, Sequence[Point]],
                    sizes: Mapping[Hashable, tuple[float, float]], solid: RectIndex) -> Labels:
    """``previous`` with only the ``keep`` labels left, and a label placed for every route of
    ``routes`` with a size, in route order, on no box of ``solid`` and no kept label. The
    kept labels must be on no box of ``solid`` (``kept_labels`` sees to that)."""
    index, displaced = previous.index.copy(), previous.displaced.copy()
    for key in previous.boxes.keys() - keep:
        index.remove(key)
        displaced.remove(key)
    placer = _Placer(solid, index, displaced)
    boxes = {key: previous.boxes[key] for key in keep}
    for key, points in routes.items():
        if key in sizes:
            boxes[key] = placer.place(key, points, sizes[key])
    return Labels(boxes, index, displaced)
