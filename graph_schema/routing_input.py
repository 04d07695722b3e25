"""What routing.route_edges and routing.reroute accept, checked: boxes, edges, label sizes.

Every number must be finite and every size at least 0; anything else is a ValueError that
names the node or edge, raised before any routing starts. A reroute passes what it checked last
time as ``known``: an entry equal to its known one is taken as it is, unchecked.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import NamedTuple

Point = tuple[float, float]
Box = tuple[float, float, float, float]  # left, top, width, height


class RouteRequest(NamedTuple):
    """One edge to route: ``start`` is its source's output port, ``end`` its target's input
    port, both as the canvas places them."""
    key: Hashable
    source: str
    start: Point
    target: str
    end: Point


def _finite(what: str, values: Sequence[float], name: Hashable) -> tuple[float, ...]:
    """``values`` as floats; the error says "``what`` of ``name``" (formatted only then)."""
    try:
        numbers = tuple(map(float, values))
    except (TypeError, ValueError):
        raise ValueError(f"routing: {what} {name!r} must be numbers, got {values!r}") from None
    if not math.isfinite(sum(numbers)):  # inf and nan both make the sum so
        raise ValueError(f"routing: {what} {name!r} must be finite, got {values!r}")
    return numbers


def checked_boxes(boxes: Mapping[str, Sequence[float]],
                  known: Mapping[str, Box] | None = None) -> dict[str, Box]:
    known = known or {}
    checked = {}
    for node, box in boxes.items():
        if known.get(node) == box:
            checked[node] = known[node]
            continue
        x, y, w, h = _finite("the box of", box, node)
        if w < 0 or h < 0:
            raise ValueError(f"routing: the box of {node!r} has a negative size: {box!r}")
        checked[node] = (x, y, w, h)
    return checked


def checked_requests(edges: Iterable[Sequence],
                     known: Mapping[Hashable, RouteRequest] | None = None
                     ) -> dict[Hashable, RouteRequest]:
    known = known or {}
    requests: dict[Hashable, RouteRequest] = {}
    for edge in edges:
        key, source, start, target, end = edge
        if key in requests:
            raise ValueError(f"routing: edge key {key!r} is given twice")
        if known.get(key) == edge:
            requests[key] = known[key]
            continue
        try:
            (sx, sy), (ex, ey) = start, end
            checked = (float(sx), float(sy)), (float(ex), float(ey))
        except (TypeError, ValueError):
            raise ValueError(f"routing: the ports of edge {key!r} must be two (x, y) points, "
                             f"got {start!r} and {end!r}") from None
        if not math.isfinite(checked[0][0] + checked[0][1] + checked[1][0] + checked[1][1]):
            raise ValueError(f"routing: the ports of edge {key!r} must be finite, "
                             f"got {start!r} and {end!r}")
        requests[key] = RouteRequest(key, source, checked[0], target, checked[1])
    return requests


def checked_sizes(sizes: Mapping[Hashable, Sequence[float]] | None,
                  known: Mapping[Hashable, tuple[float, float]] | None = None) -> dict:
    known = known or {}
    checked = {}
    for key, size in (sizes or {}).items():
        if known.get(key) == size:
            checked[key] = known[key]
            continue
        width, height = _finite("the label size of", size, key)
        if width < 0 or height < 0:
            raise ValueError(f"routing: the label size of {key!r} is negative: {size!r}")
        checked[key] = (width, height)
    return checked
