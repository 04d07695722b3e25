"""Layered layout, step 1: which rank (row) each node goes in.

Cycles are broken first by turning the back edges of a depth-first search around, so a
feedback loop still lays out top to bottom. Ranks are the longest path from the sources; a
source that feeds only deep nodes (a mask or a constant used late) then moves down to sit just
above its first use, instead of pulling a long edge from the top row.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from graph_schema.layout_graph import LayoutEdge


@dataclass(frozen=True)
class RankedEdge:
    """An edge drawn downward: ``upper`` is in a higher row than ``lower``."""

    upper: int
    lower: int
    upper_port: int  # output port on the upper node
    lower_port: int  # input port on the lower node


def _out_edges(n: int, edges: list[LayoutEdge]) -> list[list[int]]:
    """Edge indices leaving each node, output port 0 first, then input port, then document."""
    out: list[list[int]] = [[] for _ in range(n)]
    for i, edge in enumerate(edges):
        out[edge.source].append(i)
    for indices in out:
        if len(indices) > 1:
            indices.sort(key=lambda i: (edges[i].source_port, edges[i].target_port, i))
    return out


def break_cycles(n: int, edges: list[LayoutEdge]) -> list[RankedEdge]:
    """The edges with every back edge of a DFS (in document order) turned around."""
    out = _out_edges(n, edges)
    has_input = [False] * n
    for edge in edges:
        has_input[edge.target] = True
    starts = [v for v in range(n) if not has_input[v]] + list(range(n))
    back = [False] * len(edges)
    state = [0] * n  # 0: unseen, 1: on the DFS stack, 2: finished
    for start in starts:
        if state[start]:
            continue
        state[start] = 1
        stack = [(start, iter(out[start]))]
        while stack:
            node, pending = stack[-1]
            for i in pending:
                target = edges[i].target
                if state[target] == 1:
                    back[i] = True
                elif state[target] == 0:
                    state[target] = 1
                    stack.append((target, iter(out[target])))
                    break
            else:
                state[node] = 2
                stack.pop()
    # A turned edge keeps no port order: its ports are on the wrong sides of both boxes.
    return [RankedEdge(e.target, e.source, 0, 0) if back[i]
            else RankedEdge(e.source, e.target, e.source_port, e.target_port)
            for i, e in enumerate(edges)]


def assign_ranks(n: int, edges: list[RankedEdge]) -> list[int]:
    """Rank per node: 0 at the top, each edge going at least one rank down, no empty rank."""
    if n == 0:
        return []
    below: list[list[int]] = [[] for _ in range(n)]
    in_degree = [0] * n
    for edge in edges:
        below[edge.upper].append(edge.lower)
        in_degree[edge.lower] += 1
    rank = [0] * n
    remaining = in_degree[:]
    queue = deque(v for v in range(n) if remaining[v] == 0)
    while queue:
        node = queue.popleft()
        next_rank = rank[node] + 1
        for lower in below[node]:
            if rank[lower] < next_rank:
                rank[lower] = next_rank
            remaining[lower] -= 1
            if remaining[lower] == 0:
                queue.append(lower)
    for node in range(n):
        if in_degree[node] == 0 and below[node]:
            rank[node] = min(rank[lower] for lower in below[node]) - 1
    used = sorted(set(rank))
    if used[-1] + 1 != len(used) or used[0] != 0:
        renumber = {old: new for new, old in enumerate(used)}
        rank = [renumber[r] for r in rank]
    return rank
