"""A uniform grid of rectangles: what the edge router asks about boxes, without all-pairs checks.

Every rectangle is listed in each grid cell it covers, so "does this segment meet a box?" looks
only at the cells along the segment. Queries are clamped to the cells that hold anything, so a
segment running far out past the layout costs no more than one across it. Rectangles are open:
a segment running along a rectangle's border does not meet it, which is what lets a route run
exactly one clearance away from a box.

The cells hold tuples, never changed in place, so ``copy`` (two dictionary copies) gives an
index that can take and lose rectangles without touching the original: a reroute brings the
previous routing's index up to date for the moved boxes only, and the previous routing stays
as it was.
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable, Iterable, Iterator

Rect = tuple[float, float, float, float]  # left, top, right, bottom (y down)
INF = float("inf")


class RectIndex:
    def __init__(self, cell: float):
        self.cell = max(float(cell), 1.0)
        self.rects: dict[Hashable, Rect] = {}
        self.cells: dict[tuple[int, int], tuple[Hashable, ...]] = {}
        # The smallest and largest cell column and row in use, or once in use: they only
        # clamp queries, so they may stay wider than the rectangles after a removal.
        self.low = [0, 0]
        self.high = [-1, -1]
        self.inset = 0.0  # how much smaller than listed the rectangles are, on every side

    def shrunk(self, inset: float) -> RectIndex:
        """The same rectangles made ``inset`` smaller on every side, sharing this index's grid
        (a rectangle shrunk stays within the cells listed for it): the router's boxes are its
        clearance boxes shrunk back, with no second grid to build. ``free_band`` ignores the
        inset; ``hit`` and ``meeting`` apply it."""
        view = RectIndex(self.cell)
        view.rects, view.cells, view.low, view.high = self.rects, self.cells, self.low, self.high
        view.inset = self.inset + inset
        return view

    def copy(self) -> RectIndex:
        """An index with the same rectangles, to change without changing this one."""
        twin = RectIndex(self.cell)
        twin.rects, twin.cells = dict(self.rects), dict(self.cells)
        twin.low, twin.high, twin.inset = list(self.low), list(self.high), self.inset
        return twin

    def _span(self, low: float, high: float, axis: int) -> range:
        cell = self.cell
        first = self.low[axis] if low == -INF else max(int(low // cell), self.low[axis])
        last = self.high[axis] if high == INF else min(int(high // cell), self.high[axis])
        return range(first, last + 1)

    def _cells_of(self, rect: Rect) -> tuple[int, int, int, int]:
        cell = self.cell
        return int(rect[0] // cell), int(rect[1] // cell), int(rect[2] // cell), \
            int(rect[3] // cell)

    def add(self, key: Hashable, rect: Rect) -> None:
        """List ``rect`` under ``key``, which must not be listed yet (``remove`` it first)."""
        self.rects[key] = rect
        c0, r0, c1, r1 = self._cells_of(rect)
        low, high, cells = self.low, self.high, self.cells
        if not cells:
            low[:], high[:] = (c0, r0), (c1, r1)
        else:
            low[:] = min(low[0], c0), min(low[1], r0)
            high[:] = max(high[0], c1), max(high[1], r1)
        for column in range(c0, c1 + 1):
            for row in range(r0, r1 + 1):
                cells[(column, row)] = cells.get((column, row), ()) + (key,)

    def remove(self, key: Hashable) -> None:
        """Unlist ``key``'s rectangle; nothing happens if it is not listed."""
        rect = self.rects.pop(key, None)
        if rect is None:
            return
        c0, r0, c1, r1 = self._cells_of(rect)
        cells = self.cells
        for column in range(c0, c1 + 1):
            for row in range(r0, r1 + 1):
                bucket = tuple(k for k in cells[(column, row)] if k != key)
                if bucket:
                    cells[(column, row)] = bucket
                else:
                    del cells[(column, row)]

    def _candidates(self, left: float, top: float, right: float, bottom: float
                    ) -> Iterator[Hashable]:
        """Keys in the cells under the area; a key may come more than once."""
        cells = self.cells
        for column in self._span(left, right, 0):
            for row in self._span(top, bottom, 1):
                yield from cells.get((column, row), ())

    def hit(self, left: float, top: float, right: float, bottom: float,
            skip: Iterable[Hashable] = ()) -> Hashable | None:
        """A rectangle whose open inside meets the closed area (a segment when it is thin),
        other than those in ``skip``; None if there is none."""
        # The router's inner loop: no generator, no temporary set. Comparing the rectangles
        # with the area's sides moved by the inset is the same as shrinking the rectangles.
        rects, cells, inset = self.rects, self.cells, self.inset
        rows, columns = self._span(top, bottom, 1), self._span(left, right, 0)
        left, top, right, bottom = left + inset, top + inset, right - inset, bottom - inset
        for column in columns:
            for row in rows:
                for key in cells.get((column, row), ()):
                    x0, y0, x1, y1 = rects[key]
                    if x0 < right and left < x1 and y0 < bottom and top < y1 \
                            and key not in skip:
                        return key
        return None

    def meeting(self, left: float, top: float, right: float, bottom: float) -> set[Hashable]:
        """Every rectangle whose open inside meets the closed area."""
        rects, found, inset = self.rects, set(), self.inset
        for key in self._candidates(left, top, right, bottom):
            x0, y0, x1, y1 = rects[key]
            if x0 + inset < right and left < x1 - inset and y0 + inset < bottom \
                    and top < y1 - inset:
                found.add(key)
        return found

    def free_band(self, y: float, left: float, right: float, down: bool
                  ) -> tuple[float, float]:
        """The first free stretch of the strip between ``left`` and ``right`` from ``y`` on,
        going down (or up): (near end, far end), the far end infinite when nothing follows.

        A horizontal line strictly inside the stretch meets no rectangle of the strip. Rows of
        cells are read in travel order, so only those up to the stretch are looked at: once a
        row is read, every rectangle starting before that row's far border has been seen.
        """
        sign = 1.0 if down else -1.0
        position, seen = y * sign, set()
        pending: list[tuple[float, float]] = []  # (near edge, far edge), in travel terms
        rows = self._span(y, INF, 1) if down else reversed(self._span(-INF, y, 1))
        for row in rows:
            for column in self._span(left, right, 0):
                for key in self.cells.get((column, row), ()):
                    x0, y0, x1, y1 = self.rects[key]
                    if key in seen or not (x0 < right and left < x1):
                        continue
                    seen.add(key)
                    near, far = (y0, y1) if down else (-y1, -y0)
                    if far > position:
                        heapq.heappush(pending, (near, far))
            while pending and pending[0][0] <= position:
                position = max(position, heapq.heappop(pending)[1])
            row_end = (row + 1) * self.cell if down else -row * self.cell
            if pending and pending[0][0] <= row_end:
                return position * sign, pending[0][0] * sign
        while pending and pending[0][0] <= position:
            position = max(position, heapq.heappop(pending)[1])
        return position * sign, (pending[0][0] if pending else INF) * sign
