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


def _medians(neighbours: list[list[int]], pos: list[int]) -> list[list[int]]:
    """Per node, its one or two median neighbours, left to right."""
    medians = []
    for options in neighbours:
        if len(options) <= 1:
            medians.append(options)
            continue
        ordered = sorted(options, key=pos.__getitem__)
        low, high = (len(ordered) - 1) // 2, len(ordered) // 2
        medians.append([ordered[low]] if low == high else [ordered[low], ordered[high]])
    return medians


def _ranked(v: int, medians: list[int], from_left: bool, n_real: int) -> list[tuple[int, int]]:
    """(importance, u) for v's median neighbours u: 2 for dummy-dummy (the inside of a long
    edge), 1 for dummy-real, 0 for real-real; most important first, then scan order."""
    dummy_v = v >= n_real
    ranked = [(dummy_v + (u >= n_real), u) for u in (medians if from_left else medians[::-1])]
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


def _align(layers: list[list[int]], medians: list[list[int]], hpos: list[int],
           from_left: bool, n_real: int) -> list[int]:
    """Root (top node in pass order) of each node's block. ``layers`` are in pass order,
    ``medians[v]`` are v's median neighbours in the previous layer of the pass."""
    root = list(range(len(hpos)))
    for row in layers[1:]:
        if len(row) == 1:  # a chain: no bounds to respect (the common case, kept fast)
            v = row[0]
            if medians[v]:
                root[v] = root[_ranked(v, medians[v], from_left, n_real)[0][1]]
            continue
        ranked = [_ranked(v, medians[v], from_left, n_real) for v in row]
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


def _one_pass(layered: Layered, medians: list[list[int]], downward: bool, from_left: bool,
              gap: float) -> list[float]:
    layers = layered.layers if downward else layered.layers[::-1]
    if not from_left:
        layers = [layer[::-1] for layer in layers]
    hpos = [0] * len(layered.rank)
    for layer in layers:
        for index, node in enumerate(layer):
            hpos[node] = index
    root = _align(layers, medians, hpos, from_left, layered.n_real)
    x = _pack(layers, root, layered.widths, gap)
    if x is None:  # fall back to unaligned blocks: always consistent
        x = _pack(layers, list(range(len(root))), layered.widths, gap)
        assert x is not None
    return x if from_left else [-value for value in x]


def assign_x(layered: Layered, gap: float) -> list[float]:
    """Centre x of every node (dummies included)."""
    pos = [0] * len(layered.rank)
    for layer in layered.layers:
        for index, node in enumerate(layer):
            pos[node] = index
    above, below = layered.neighbours()
    medians = {True: _medians(above, pos), False: _medians(below, pos)}
    widths = layered.widths
    passes = [(downward, from_left) for downward in (True, False) for from_left in (True, False)]
    layouts = [_one_pass(layered, medians[downward], downward, from_left, gap)
               for downward, from_left in passes]
    extents = [(min(x - w / 2 for x, w in zip(xs, widths)),
                max(x + w / 2 for x, w in zip(xs, widths))) for xs in layouts]
    narrowest = min(range(4), key=lambda k: (extents[k][1] - extents[k][0], k))
    low, high = extents[narrowest]
    shifted = []
    for xs, (left, right), (_, from_left) in zip(layouts, extents, passes):
        shift = low - left if from_left else high - right
        shifted.append([x + shift for x in xs])
    # The mean of the two middle values of four. Split them in two pairs: the smaller of the
    # pairs' minima is the smallest value and the larger of their maxima the largest, so the
    # middle two are the other minimum and the other maximum.
    result = []
    for a, b, c, d in zip(*shifted):
        low_ab, high_ab = (a, b) if a <= b else (b, a)
        low_cd, high_cd = (c, d) if c <= d else (d, c)
        result.append((max(low_ab, low_cd) + min(high_ab, high_cd)) / 2)
    return result
