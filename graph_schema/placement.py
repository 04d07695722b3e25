"""Where a new node goes so that it lands on no other node.

Every way of adding layers (a click, Tab quick-add, a paste, a fix that inserts a layer)
knows where it would like the layer; this module moves that wish to the nearest free place,
preferring to move along the drawing's flow (down, or right for ``flow="right"``), as a
person adding to a chain would. Boxes are ``(left, top, width, height)`` in scene units, as
in graph_schema.routing; nothing here knows about glyphs or Qt.

A rightward flow is handled as a downward one with x and y swapped, as the router does.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

from graph_schema.document import FLOWS

Box = tuple[float, float, float, float]  # left, top, width, height
Gaps = tuple[float, float]  # free space kept (across the flow, along the flow)
Point = tuple[float, float]  # a corner, a shift or a size: x then y

GRID = 8.0  # the canvas's snapping step: a found place stays on it
# The auto layout's spacing (graph_schema.layout): between two rows there is room for an
# edge's shape label, between two boxes of a row room to tell them apart.
RANK_GAP = 56.0
NODE_GAP = 40.0
LANDS_ON = (16.0, 16.0)  # a box closer than this to another "lands on" it
ROOMY = (NODE_GAP, RANK_GAP)  # what a node placed after another keeps to its neighbours
# How much a step in each direction costs, in flow-down terms: going on down is what a
# chain does; beside is fine (right a little before left, as text reads); back up is last.
COST_DOWN, COST_RIGHT, COST_LEFT, COST_UP = 1.0, 1.3, 1.4, 3.0
CELL = 256.0  # the spatial index's bucket size


def check_flow(flow: str) -> None:
    if flow not in FLOWS:
        raise ValueError(f"unknown flow {flow!r}: expected one of {', '.join(FLOWS)}")


def turned(box: Box, flow: str) -> Box:
    """A box in flow-down terms (and back: swapping x and y is its own inverse)."""
    if flow == "right":
        left, top, width, height = box
        return top, left, height, width
    return box


def clashes(a: Box, b: Box, gaps: Gaps = LANDS_ON) -> bool:
    """Whether two boxes (flow-down terms) come closer than ``gaps`` (across, along)."""
    across, along = gaps
    return (a[0] < b[0] + b[2] + across and b[0] < a[0] + a[2] + across
            and a[1] < b[1] + b[3] + along and b[1] < a[1] + a[3] + along)


def moved(box: Box, dx: float, dy: float) -> Box:
    return box[0] + dx, box[1] + dy, box[2], box[3]


class _Index:
    """Boxes bucketed by grid cell, so a search in a big graph looks only nearby."""

    def __init__(self, boxes: Iterable[Box], gaps: Gaps):
        self.gaps = gaps
        self.cells: dict[tuple[int, int], list[Box]] = {}
        for box in boxes:
            for cell in self._cells(box):
                self.cells.setdefault(cell, []).append(box)

    def _cells(self, box: Box):
        across, along = self.gaps
        x0, x1 = math.floor((box[0] - across) / CELL), math.floor((box[0] + box[2] + across) / CELL)
        y0, y1 = math.floor((box[1] - along) / CELL), math.floor((box[1] + box[3] + along) / CELL)
        for cx in range(x0, x1 + 1):
            for cy in range(y0, y1 + 1):
                yield cx, cy

    def clashing(self, box: Box) -> list[Box]:
        found: list[Box] = []
        for cell in self._cells(box):
            for other in self.cells.get(cell, ()):
                if clashes(box, other, self.gaps) and other not in found:
                    found.append(other)
        return found


def _sweep(index: _Index, group: Sequence[Box], direction: str,
           exempt: frozenset[tuple[int, Box]]) -> tuple[float, float]:
    """Move the group one way, each time just past whatever it still clashes with, until it
    clashes with nothing. Every step passes at least one box for good, so this ends."""
    across, along = index.gaps
    dx = dy = 0.0
    while True:
        pairs = [(g, o) for i, g in enumerate(group)
                 for o in index.clashing(moved(g, dx, dy)) if (i, o) not in exempt]
        if not pairs:
            return dx, dy
        if direction == "down":
            dy = _snap_up(max(o[1] + o[3] + along - g[1] for g, o in pairs))
        elif direction == "up":
            dy = _snap_down(min(o[1] - along - g[3] - g[1] for g, o in pairs))
        elif direction == "right":
            dx = _snap_up(max(o[0] + o[2] + across - g[0] for g, o in pairs))
        else:
            dx = _snap_down(min(o[0] - across - g[2] - g[0] for g, o in pairs))


def _snap_up(value: float) -> float:
    return math.ceil(value / GRID - 1e-9) * GRID


def _snap_down(value: float) -> float:
    return math.floor(value / GRID + 1e-9) * GRID


def _cost(offset: tuple[float, float]) -> float:
    dx, dy = offset
    return (dx * COST_RIGHT if dx > 0 else -dx * COST_LEFT) + \
        (dy * COST_DOWN if dy > 0 else -dy * COST_UP)


def free_offset(boxes: Iterable[Box], group: Sequence[Box], flow: str = "down",
                gaps: Gaps = LANDS_ON, directions: Sequence[str] = ("down", "right", "left", "up"),
                exempt: Iterable[tuple[int, Box]] = ()) -> tuple[float, float]:
    """The cheapest shift (see the COST_ weights) that keeps every box of ``group`` clear of
    every box of ``boxes`` by ``gaps`` (across, along the flow); (0, 0) when it already is.
    ``directions`` (flow-down terms) limits which ways it may move; ``exempt`` pairs
    (index into group, box) that clash already and are no business of this move."""
    check_flow(flow)
    index = _Index((turned(b, flow) for b in boxes), gaps)
    down_group = [turned(g, flow) for g in group]
    down_exempt = frozenset((i, turned(b, flow)) for i, b in exempt)
    offsets = [_sweep(index, down_group, d, down_exempt) for d in directions]
    dx, dy = min(offsets, key=_cost)
    return (dy, dx) if flow == "right" else (dx, dy)


def free_position(boxes: Iterable[Box], wanted: Box, flow: str = "down",
                  gaps: Gaps = LANDS_ON) -> tuple[float, float]:
    """The top-left corner nearest ``wanted``'s where a box of its size lands on none of
    ``boxes``: ``wanted`` itself when it is free."""
    dx, dy = free_offset(boxes, [wanted], flow, gaps)
    return wanted[0] + dx, wanted[1] + dy


def after(anchor: Box, size: tuple[float, float], flow: str = "down") -> Box:
    """Where a node fed by ``anchor`` would like to be: a row below it, centred under it
    (or a column to its right, centred beside it)."""
    check_flow(flow)
    width, height = size
    if flow == "right":
        left = anchor[0] + anchor[2] + RANK_GAP
        top = anchor[1] + anchor[3] / 2 - height / 2
    else:
        left = anchor[0] + anchor[2] / 2 - width / 2
        top = anchor[1] + anchor[3] + RANK_GAP
    return _snap_down(left + GRID / 2), _snap_down(top + GRID / 2), width, height


def before(anchor: Box, size: tuple[float, float], flow: str = "down") -> Box:
    """Where a node feeding ``anchor`` would like to be: a row above it (a column left)."""
    check_flow(flow)
    width, height = size
    if flow == "right":
        left = anchor[0] - RANK_GAP - width
        top = anchor[1] + anchor[3] / 2 - height / 2
    else:
        left = anchor[0] + anchor[2] / 2 - width / 2
        top = anchor[1] - RANK_GAP - height
    return _snap_down(left + GRID / 2), _snap_down(top + GRID / 2), width, height


def room_for_insert(boxes: Mapping[str, Box], source: str, target: str | Iterable[str],
                    downstream: Iterable[str], size: Point,
                    flow: str = "down") -> tuple[Point, dict[str, Point]]:
    """Where a node put into the connection ``source -> target`` goes, and how far the
    target and everything ``downstream`` of it move to make room: the new node sits a row
    after the source (beside whatever else is there), the downstream nodes move along the
    flow until the new node's edge into the target has a row's room and none of them lands
    on a node that stays. Overlaps that were there before are left as they were.
    ``target`` may be several nodes: all that the new node pushes along.

    Returns the new node's top-left corner and {node id: (dx, dy)} for the nodes that move.
    """
    check_flow(flow)
    targets = [target] if isinstance(target, str) else list(target)
    below = [n for n in dict.fromkeys([*targets, *downstream]) if n in boxes]
    staying = {n: b for n, b in boxes.items() if n not in set(below)}
    wanted = after(boxes[source], size, flow)
    x, y = free_position(staying.values(), wanted, flow, ROOMY)
    new_box = (x, y, size[0], size[1])
    # The targets must leave a row for the new edge's label; then nothing may land on what
    # stays (the new node included), counting only clashes this move would cause.
    down_new = turned(new_box, flow)
    top = min(turned(boxes[t], flow)[1] for t in targets)
    start = max(0.0, _snap_up(down_new[1] + down_new[3] + RANK_GAP - top))
    group = [turned(boxes[n], flow) for n in below]
    obstacles = [turned(b, flow) for b in staying.values()] + [down_new]
    exempt = {(i, o) for i, g in enumerate(group) for o in obstacles[:-1]
              if clashes(g, o)}
    shifted = [moved(g, 0.0, start) for g in group]
    index = _Index(obstacles, LANDS_ON)
    _, extra = _sweep(index, shifted, "down", frozenset(exempt))
    along = start + extra
    if along == 0:
        return (x, y), {}
    delta = (along, 0.0) if flow == "right" else (0.0, along)
    return (x, y), {n: delta for n in below}


def in_the_way(boxes: Mapping[str, Box], anchor: str, size: Point,
               flow: str = "down") -> list[str]:
    """The nodes on the spot a row after ``anchor`` (see ``after``)."""
    wanted = turned(after(boxes[anchor], size, flow), flow)
    return [n for n, b in boxes.items()
            if n != anchor and clashes(wanted, turned(b, flow), ROOMY)]
