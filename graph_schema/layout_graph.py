"""What a layout engine sees of a network: boxes and the connections between them.

Nodes are numbered 0..n-1 in document order, so every engine is deterministic for the same
document. Connections to unknown ids and self-loops are left out: they cannot change where a
box goes (the validator reports the unknown ids).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from graph_schema.document import Network

RouteKey = tuple[str, int, str, int]  # source id, source port, target id, target port


@dataclass(frozen=True)
class LayoutEdge:
    source: int
    target: int
    source_port: int
    target_port: int


@dataclass(frozen=True)
class LayoutGraph:
    ids: list[str]
    widths: list[float]
    heights: list[float]
    edges: list[LayoutEdge]

    def __len__(self) -> int:
        return len(self.ids)


def check_size(what: str, size: object) -> tuple[float, float]:
    """``size`` as (width, height), or a ValueError that says which box was given what."""
    try:
        width, height = (float(value) for value in size)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        raise ValueError(f"layout: {what} must be (width, height), got {size!r}") from None
    if not (math.isfinite(width) and math.isfinite(height)) or width < 0 or height < 0 \
            or max(width, height) > 1e6:
        raise ValueError(f"layout: {what} must be two finite numbers from 0 to 1e6, "
                         f"got {size!r}")
    return width, height


def build_layout_graph(network: Network, sizes: Mapping[str, tuple[float, float]] | None,
                       default_size: tuple[float, float]) -> LayoutGraph:
    default = check_size("default_size", default_size)
    sizes = sizes or {}
    ids = [node.id for node in network.nodes]
    index = {node_id: i for i, node_id in enumerate(ids)}
    widths, heights = [], []
    for node_id in ids:
        given = sizes.get(node_id)
        width, height = default if given is None else check_size(
            f"the size of node {node_id!r}", given)
        widths.append(width)
        heights.append(height)
    edges = []
    for edge in network.edges:
        source, target = index.get(edge.source), index.get(edge.target)
        if source is None or target is None or source == target:
            continue
        edges.append(LayoutEdge(source, target, edge.source_port, edge.target_port))
    return LayoutGraph(ids, widths, heights, edges)
