"""Layered layout, step 4: x coordinates, after Brandes and Koepf (2001).

Four passes (align with the rank above or below, scanning from the left or from the right)
each line nodes up into vertical blocks with their median neighbour, then pack the blocks as
tightly as the rank order allows. The final x of a node is the mean of its two middle
candidates, which centres a node over its children or under its parents.

Two choices differ from the paper. Alignments are made in order of importance: first the
inner segments of long edges (dummy to dummy), then segments touching a dummy, then the rest;
so long edges run straight and a residual shortcut keeps a straight lane beside the chain it
skips (the paper marks conflicts to the same end). Blocks are packed by a longest path over
the "left of" relation between blocks, which is simple and cannot overlap.

No overlap is guaranteed: in each pass every pair of neighbours in a rank is at least the
separation apart, and taking the same order statistic of four such layouts keeps that.
"""

from __future__ import annotations

from collections import deque

from graph_schema.layout_layers import Layered


def _median_candidates(neighbours: list[int], hpos: list[int]) -> list[int]:
    """The one or two median neighbours, in scan order."""
    if len(neighbours) == 1:
        return neighbours
    ordered = sorted(neighbours, key=hpos.__getitem__)
    count = len(ordered)
    low, high = (count - 1) // 2, count // 2
    return [ordered[low]] if low == high else [ordered[low], ordered[high]]


def _ranked_candidates(v: int, neighbours: list[int], hpos: list[int],
                       n_real: int) -> list[tuple[int, int]]:
    """(importance, u) for v's median neighbours u: 2 for dummy-dummy (the inside of a long
    edge), 1 for dummy-real, 0 for real-real; most important first, then scan order."""
    dummy_v = v >= n_real
    ranked = [(dummy_v + (u >= n_real), u) for u in _median_candidates(neighbours, hpos)]
    if len(ranked) == 2 and ranked[1][0] > ranked[0][0]:
        ranked.reverse()
    return ranked


def _align_row(row: list[int], ranked: list[list[tuple[int, int]]], hpos: list[int],
               root: list[int]) -> None:
    """Align the nodes of one row with nodes of the previous row, most important segments
    first; no two alignments cross or share a node."""
    chosen: list[int | None] = [None] * len(row)
    for importance in (2, 1, 0):
        if not any(c[0] == importance for candidates in ranked for c in candidates):
            continue
        right_bound = [len(hpos)] * (len(row) + 1)
        for i in range(len(row) - 1, -1, -1):
            u = chosen[i]
            right_bound[i] = hpos[u] if u is not None else right_bound[i + 1]
        left_bound = -1
        for i, candidates in enumerate(ranked):
            if chosen[i] is not None:
                left_bound = hpos[chosen[i]]
                continue
            for level, u in candidates:
                if level == importance and left_bound < hpos[u] < right_bound[i + 1]:
                    chosen[i] = u
                    left_bound = hpos[u]
                    break
    for v, u in zip(row, chosen):
        if u is not None:
            root[v] = root[u]


def _align(layers: list[list[int]], neighbours: list[list[int]], hpos: list[int],
           n_real: int) -> list[int]:
    """Root (top node in pass order) of each node's block. ``layers`` are in pass order,
    ``neighbours[v]`` are v's neighbours in the previous layer of the pass."""
    root = list(range(len(hpos)))
    for row in layers[1:]:
        if len(row) == 1:  # a chain: no bounds to respect (the common case, kept fast)
            v = row[0]
            if neighbours[v]:
                root[v] = root[_ranked_candidates(v, neighbours[v], hpos, n_real)[0][1]]
            continue
        ranked = [_ranked_candidates(v, neighbours[v], hpos, n_real) if neighbours[v] else []
                  for v in row]
        _align_row(row, ranked, hpos, root)
    return root


def _pack(layers: list[list[int]], root: list[int], widths: list[float],
          gap: float) -> list[float] | None:
    """Leftmost x of each node's centre given the blocks; None if the blocks' order is
    inconsistent (cannot happen for alignments made by ``_align``, checked anyway)."""
    size = len(root)
    right_of: list[list[tuple[int, float]]] = [[] for _ in range(size)]
    waiting = [0] * size
    for layer in layers:
        for a, b in zip(layer, layer[1:]):
            right_of[root[a]].append((root[b], (widths[a] + widths[b]) / 2 + gap))
            waiting[root[b]] += 1
    x = [0.0] * size
    ready = deque(v for v in range(size) if root[v] == v and waiting[v] == 0)
    placed = 0
    while ready:
        block = ready.popleft()
        placed += 1
        for other, separation in right_of[block]:
            if x[other] < x[block] + separation:
                x[other] = x[block] + separation
            waiting[other] -= 1
            if waiting[other] == 0:
                ready.append(other)
    if placed != sum(1 for v in range(size) if root[v] == v):
        return None
    return [x[root[v]] for v in range(size)]


def _one_pass(layered: Layered, above: list[list[int]], below: list[list[int]],
              downward: bool, from_left: bool, gap: float) -> list[float]:
    layers = layered.layers if downward else layered.layers[::-1]
    if not from_left:
        layers = [layer[::-1] for layer in layers]
    hpos = [0] * len(layered.rank)
    for layer in layers:
        for index, node in enumerate(layer):
            hpos[node] = index
    root = _align(layers, above if downward else below, hpos, layered.n_real)
    x = _pack(layers, root, layered.widths, gap)
    if x is None:  # fall back to unaligned blocks: always consistent
        x = _pack(layers, list(range(len(root))), layered.widths, gap)
        assert x is not None
    return x if from_left else [-value for value in x]


def assign_x(layered: Layered, gap: float) -> list[float]:
    """Centre x of every node (dummies included)."""
    above, below = layered.neighbours()
    widths = layered.widths
    passes = [(downward, from_left) for downward in (True, False) for from_left in (True, False)]
    layouts = [_one_pass(layered, above, below, downward, from_left, gap)
               for downward, from_left in passes]
    extents = [(min(x - w / 2 for x, w in zip(xs, widths)),
                max(x + w / 2 for x, w in zip(xs, widths))) for xs in layouts]
    narrowest = min(range(4), key=lambda k: (extents[k][1] - extents[k][0], k))
    low, high = extents[narrowest]
    shifts = [low - extents[k][0] if from_left else high - extents[k][1]
              for k, (_, from_left) in enumerate(passes)]
    result = []
    for node in range(len(widths)):
        candidates = sorted(layouts[k][node] + shifts[k] for k in range(4))
        result.append((candidates[1] + candidates[2]) / 2)
    return result
