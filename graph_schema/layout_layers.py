"""Layered layout, step 2: rows of nodes, with dummy nodes where an edge skips rows.

An edge that spans several ranks gets one dummy node per rank it passes, so that the ordering
and the x coordinates see it (a residual shortcut keeps a lane beside the chain it skips).
Edges leaving the same output port share one chain of dummies, like a bus: a mask used by
every layer of a transformer takes one lane, not one per layer. If a pathological graph would
need far more dummies than it has nodes, the longest chains are dropped (those edges then just
do not steer the layout), which keeps the work linear.
"""

from __future__ import annotations

from dataclasses import dataclass

from graph_schema.layout_rank import RankedEdge

# A segment joins two adjacent ranks: (upper node, lower node, upper port, lower port).
Segment = tuple[int, int, int, int]


@dataclass
class Layered:
    n_real: int  # nodes 0..n_real-1 are real, the rest are dummies
    rank: list[int]
    widths: list[float]  # dummies are 0 wide
    layers: list[list[int]]  # node ids per rank, left to right
    segments: list[list[Segment]]  # segments[r] join rank r and rank r + 1

    def neighbours(self) -> tuple[list[list[int]], list[list[int]]]:
        """Per node: its neighbours in the rank above, and in the rank below."""
        above: list[list[int]] = [[] for _ in self.rank]
        below: list[list[int]] = [[] for _ in self.rank]
        for segments in self.segments:
            for upper, lower, _, _ in segments:
                below[upper].append(lower)
                above[lower].append(upper)
        return above, below


def dummy_budget(n: int, n_edges: int) -> int:
    """How many dummies a graph may get; each costs about what a node costs. A residual net
    needs half a dummy per node, a DenseNet block about three per node and edge. Only a
    hairball of long edges needs more than 50,000 (or two per node in a graph above 25,000
    nodes), and laying all of them out would take many seconds for no readable result."""
    return min(4 * (n + n_edges), max(2 * n, 50_000)) + 1000


def _bus_lengths(rank: list[int], groups: dict[tuple[int, int], list[tuple[int, int]]]
                 ) -> dict[tuple[int, int], int]:
    return {key: max(rank[lower] for lower, _ in targets) - rank[key[0]] - 1
            for key, targets in groups.items()}


def _kept_buses(lengths: dict[tuple[int, int], int], budget: int) -> set[tuple[int, int]]:
    """The buses that get dummies: all of them, unless that exceeds ``budget``."""
    total = sum(length for length in lengths.values() if length > 0)
    kept = {key for key, length in lengths.items() if length > 0}
    if total <= budget:
        return kept
    for key in sorted(kept, key=lambda key: (-lengths[key], key)):
        kept.discard(key)
        total -= lengths[key]
        if total <= budget:
            break
    return kept


def build_layered(n: int, widths: list[float], rank: list[int],
                  edges: list[RankedEdge]) -> Layered:
    """Rows with dummies; each row's initial order is a depth-first walk from the sources."""
    groups: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for edge in sorted(edges, key=lambda e: (e.upper, e.upper_port, e.lower_port)):
        groups.setdefault((edge.upper, edge.upper_port), []).append((edge.lower, edge.lower_port))
    lengths = _bus_lengths(rank, groups)
    kept = _kept_buses(lengths, dummy_budget(n, len(edges)))
    rank, widths = rank[:], widths[:]
    height = max(rank) + 1
    segments: list[list[Segment]] = [[] for _ in range(max(height - 1, 0))]
    for (upper, port), targets in groups.items():
        start = rank[upper]
        bus: list[int] = []
        for lower, lower_port in targets:
            gap = rank[lower] - start
            if gap == 1:
                segments[start].append((upper, lower, port, lower_port))
                continue
            if (upper, port) not in kept:
                continue
            if not bus:  # made at the first long edge, so that siblings keep port order
                bus = _add_bus(upper, port, lengths[(upper, port)], rank, widths, segments)
            segments[rank[lower] - 1].append((bus[gap - 2], lower, 0, lower_port))
    layers = _initial_order(n, rank, segments, height)
    return Layered(n, rank, widths, layers, segments)


def _add_bus(upper: int, port: int, length: int, rank: list[int], widths: list[float],
             segments: list[list[Segment]]) -> list[int]:
    """A chain of ``length`` dummies below ``upper``'s output ``port``."""
    bus = []
    for i in range(length):
        node = len(rank)
        rank.append(rank[upper] + 1 + i)
        widths.append(0.0)
        source, source_port = (upper, port) if i == 0 else (bus[-1], 0)
        segments[rank[upper] + i].append((source, node, source_port, 0))
        bus.append(node)
    return bus


def _initial_order(n: int, rank: list[int], segments: list[list[Segment]],
                   height: int) -> list[list[int]]:
    """Rows in the order a depth-first walk from the sources meets the nodes, so that a
    branch stays together and output/input port 0 comes first."""
    below: list[list[int]] = [[] for _ in rank]
    has_above = [False] * len(rank)
    for row in segments:
        for upper, lower, _, _ in row:
            below[upper].append(lower)
            has_above[lower] = True
    layers: list[list[int]] = [[] for _ in range(height)]
    seen = [False] * len(rank)
    starts = [v for v in range(n) if not has_above[v]] + list(range(len(rank)))
    for start in starts:
        if seen[start]:
            continue
        seen[start] = True
        stack = [start]
        while stack:
            node = stack.pop()
            layers[rank[node]].append(node)
            for lower in reversed(below[node]):
                if not seen[lower]:
                    seen[lower] = True
                    stack.append(lower)
    return layers
