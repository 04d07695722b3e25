"""Making room for blocks drawn open in place: how far every box moves when some boxes grow.

A block instance seen "in place" (builder/gui/inline_blocks.py) is drawn as a frame holding its
body, much larger than the collapsed node. ``make_room`` says where each frame goes and how
far every other box moves so that nothing overlaps, as a view: the caller draws the boxes
displaced and keeps the document's positions as they are.

The rule is a spreadsheet's "insert rows and columns", in the flow direction and across it:

- a grown box keeps its top edge and its centre across the flow (its frame grows down and to
  both sides; for ``flow="right"`` it keeps its left edge and grows right, up and down);
- every box that starts below a grown box's bottom moves down by what the box grew in height;
- every box whose centre lies right of a grown box's right edge moves right by half of what
  it grew in width, every box whose centre lies left of its left edge moves left by as much.

Both displacements only ever increase along their axis (a box further down never moves less
than one above it, nor one further right less than one left of it), so boxes that did not
overlap still do not, rows and columns of a layered drawing stay aligned, and every gap is at
least what it was. Coordinates are y down; a box is (left, top, width, height).

``inline_paths`` lists which block instances "expand everything to depth N" opens.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from graph_schema.document import FLOWS, Block, Network, Project

Box = tuple[float, float, float, float]
Size = tuple[float, float]
Path = tuple[str, ...]  # node ids from the drawn graph down into nested blocks


@dataclass(frozen=True)
class Room:
    offsets: dict[str, tuple[float, float]]  # every box: (dx, dy) to draw it at
    frames: dict[str, Box]  # every grown box: where its frame is drawn (displaced)


def make_room(boxes: Mapping[str, Sequence[float]], grown: Mapping[str, Sequence[float]], *,
              flow: str = "down", step: float = 0.0, margin: float = 0.0) -> Room:
    """Where to draw each box when the boxes in ``grown`` become frames of the given
    (width, height). ``step`` rounds every growth up to a multiple of it (across the flow, to
    a multiple of twice it, since each side takes half), so boxes on a grid stay on it;
    ``margin`` is added to every growth, so a frame keeps a little more room than the node
    had. Raises ValueError for an unknown flow or a grown id without a box."""
    if flow not in FLOWS:
        raise ValueError(f"make_room: flow must be one of {', '.join(FLOWS)}, got {flow!r}")
    missing = [key for key in grown if key not in boxes]
    if missing:
        raise ValueError(f"make_room: grown boxes {missing!r} have no box")
    if flow == "right":  # the same rule with x and y swapped
        room = _room_down({k: _swapped(b) for k, b in boxes.items()},
                          {k: (s[1], s[0]) for k, s in grown.items()}, step, margin)
        return Room({k: (dy, dx) for k, (dx, dy) in room.offsets.items()},
                    {k: _swapped(b) for k, b in room.frames.items()})
    return _room_down({k: tuple(map(float, b)) for k, b in boxes.items()},
                      {k: (float(s[0]), float(s[1])) for k, s in grown.items()}, step, margin)


def _swapped(box: Sequence[float]) -> Box:
    x, y, w, h = map(float, box)
    return y, x, h, w


def _rounded_up(value: float, step: float) -> float:
    return math.ceil(value / step - 1e-9) * step if step > 0 else value


@dataclass(frozen=True)
class _Growth:
    left: float
    right: float
    bottom: float
    across: float  # added width (each side takes half)
    along: float  # added height


def _growths(boxes: dict[str, Box], grown: dict[str, Size], step: float,
             margin: float) -> dict[str, _Growth]:
    growths = {}
    for key, (width, height) in grown.items():
        x, y, w, h = boxes[key]
        across = _rounded_up(max(0.0, width - w) + 2 * margin, 2 * step)
        along = _rounded_up(max(0.0, height - h) + margin, step)
        growths[key] = _Growth(x, x + w, y + h, across, along)
    return growths


def _room_down(boxes: dict[str, Box], grown: dict[str, Size], step: float,
               margin: float) -> Room:
    growths = _growths(boxes, grown, step, margin)
    offsets = {}
    for key, (x, y, w, _h) in boxes.items():
        centre = x + w / 2
        dx = dy = 0.0
        for other, growth in growths.items():
            if other == key:
                continue
            if centre > growth.right:
                dx += growth.across / 2
            elif centre < growth.left:
                dx -= growth.across / 2
            if y >= growth.bottom:
                dy += growth.along
        offsets[key] = (dx, dy)
    frames = {}
    for key, (width, height) in grown.items():
        x, y, w, _h = boxes[key]
        dx, dy = offsets[key]
        frames[key] = (x + w / 2 - width / 2 + dx, y + dy, width, height)
    return Room(offsets, frames)


def inline_paths(project: Project, graph: Network, depth: int) -> set[Path]:
    """The block instances that "expand everything to depth ``depth``" opens in ``graph``:
    every instance of a block with a body (not kept as source) at nesting level 1 to
    ``depth``, as paths of node ids. A block inside itself is opened once, not forever."""
    found: set[Path] = set()

    def walk(network: Network, prefix: Path, level: int, inside: tuple[str, ...]) -> None:
        for node in network.nodes:
            block = project.block(node.block_name) if node.block_name else None
            if block is None or block.opaque is not None or block.name in inside:
                continue
            path = (*prefix, node.id)
            found.add(path)
            if level < depth:
                walk(block, path, level + 1, (*inside, block.name))

    if depth > 0:
        walk(graph, (), 1, (graph.name,) if isinstance(graph, Block) else ())
    return found
