"""Layered layout, step 3: the left-to-right order in each rank, with few crossings.

Barycenter sweeps, down then up, keeping the best order seen. Ports count: an edge leaves and
enters a box at its port, so the two sources of an ``add`` cross when input 1's source stands
left of input 0's, and are put back in port order. A node without neighbours on the side a
sweep looks at keeps its place.
"""

from __future__ import annotations

from graph_schema.layout_layers import Layered, Segment

MAX_ROUNDS = 4  # down+up sweep pairs; most of the gain comes in the first two
PATIENCE = 2  # rounds without improvement before giving up


def _port_links(layered: Layered) -> tuple[list[list[tuple[int, float]]],
                                           list[list[tuple[int, float]]]]:
    """Per node, (neighbour, port offset in [0, 1)) above and below: where on the
    neighbour's box the edge attaches, so ports order siblings."""
    size = len(layered.rank)
    out_ports, in_ports = [1] * size, [1] * size
    for segments in layered.segments:
        for upper, lower, upper_port, lower_port in segments:
            out_ports[upper] = max(out_ports[upper], upper_port + 1)
            in_ports[lower] = max(in_ports[lower], lower_port + 1)
    above: list[list[tuple[int, float]]] = [[] for _ in range(size)]
    below: list[list[tuple[int, float]]] = [[] for _ in range(size)]
    for segments in layered.segments:
        for upper, lower, upper_port, lower_port in segments:
            above[lower].append((upper, upper_port / out_ports[upper]))
            below[upper].append((lower, lower_port / in_ports[lower]))
    return above, below


def _reorder(layer: list[int], links: list[list[tuple[int, float]]], pos: list[int]) -> None:
    """Sort ``layer`` in place by the mean position of each node's linked ports."""
    keyed, fixed = [], {}
    for index, node in enumerate(layer):
        node_links = links[node]
        if len(node_links) == 1:  # most nodes: no mean to take
            neighbour, offset = node_links[0]
            keyed.append((pos[neighbour] + offset, index, node))
        elif node_links:
            total = 0.0
            for neighbour, offset in node_links:
                total += pos[neighbour] + offset
            keyed.append((total / len(node_links), index, node))
        else:
            fixed[index] = node
    keyed.sort()
    if fixed:
        movable = iter(keyed)
        layer[:] = [fixed[i] if i in fixed else next(movable)[2] for i in range(len(layer))]
    else:
        layer[:] = [node for _, _, node in keyed]
    for index, node in enumerate(layer):
        pos[node] = index


def _pair_crossings(segments: list[Segment], pos: list[int], ports: int, width: int) -> int:
    """Crossings between a rank and the next (``width`` nodes), ports included. As in Barth,
    Juenger and Mutzel: sort the segments by their upper end, then count the inversions of
    their lower ends with a Fenwick tree."""
    if len(segments) < 2:
        return 0
    span = width * ports  # lower ends are numbered 0..span-1; one int key per segment
    ends = sorted((pos[u] * ports + up) * span + pos[v] * ports + lp
                  for u, v, up, lp in segments)
    lower = [end % span for end in ends]
    if all(a <= b for a, b in zip(lower, lower[1:])):
        return 0
    if span > 4 * len(lower):  # many ports: number the lower ends that occur
        numbers = {key: i for i, key in enumerate(sorted(set(lower)))}
        lower = [numbers[key] for key in lower]
        span = len(numbers)
    tree = [0] * (span + 1)
    crossings = 0
    for seen, key in enumerate(lower):
        i, at_most = key + 1, 0  # earlier ends at or left of this one don't cross it
        while i:
            at_most += tree[i]
            i -= i & -i
        crossings += seen - at_most
        i = key + 1
        while i <= span:
            tree[i] += 1
            i += i & -i
    return crossings


def count_crossings(layered: Layered, pos: list[int]) -> int:
    ports = 1 + max((max(s[2], s[3]) for row in layered.segments for s in row), default=0)
    layers = layered.layers
    return sum(_pair_crossings(row, pos, ports, len(layers[r + 1]))
               for r, row in enumerate(layered.segments))


def order_ranks(layered: Layered) -> None:
    """Reorder ``layered.layers`` in place to the best order the sweeps find."""
    layers = layered.layers
    if all(len(layer) <= 1 for layer in layers):
        return
    pos = [0] * len(layered.rank)
    for layer in layers:
        for index, node in enumerate(layer):
            pos[node] = index
    best, best_layers = count_crossings(layered, pos), [layer[:] for layer in layers]
    above, below = _port_links(layered)
    stale = 0
    for _ in range(MAX_ROUNDS):
        if best == 0 or stale >= PATIENCE:
            break
        for layer in layers[1:]:
            _reorder(layer, above, pos)
        for layer in reversed(layers[:-1]):
            _reorder(layer, below, pos)
        crossings = count_crossings(layered, pos)
        if crossings < best:
            best, best_layers, stale = crossings, [layer[:] for layer in layers], 0
        else:
            stale += 1
    layers[:] = best_layers
