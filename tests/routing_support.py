"""Boxes and port points for the routing tests, placed the way the canvas places them without
Qt: each node a box of a given size, its inputs spread evenly along the top (the left side for
a rightward flow), its outputs along the bottom (the right side)."""

from __future__ import annotations

from collections.abc import Mapping

from graph_schema.document import Network
from graph_schema.layout import layout_network
from graph_schema.routing import Routing

SIZE = (160.0, 56.0)
LABEL = (84.0, 14.0)  # "(N, 64, 56, 56)" in the canvas's edge font, with padding


def port_counts(network: Network) -> tuple[dict[str, int], dict[str, int]]:
    inputs: dict[str, int] = {}
    outputs: dict[str, int] = {}
    for edge in network.edges:
        outputs[edge.source] = max(outputs.get(edge.source, 1), edge.source_port + 1)
        inputs[edge.target] = max(inputs.get(edge.target, 1), edge.target_port + 1)
    return inputs, outputs


def port(box, index: int, count: int, kind: str, flow: str) -> tuple[float, float]:
    x, y, w, h = box
    share = (index + 1) / (count + 1)
    if flow == "right":
        return (x + w if kind == "out" else x), y + h * share
    return x + w * share, (y + h if kind == "out" else y)


def requests(network: Network, boxes: Mapping[str, tuple], flow: str = "down") -> list[tuple]:
    """(key, source, start, target, end) for every edge between two boxes, keyed as the
    canvas keys them."""
    inputs, outputs = port_counts(network)
    found = {}
    for e in network.edges:
        if e.source not in boxes or e.target not in boxes:
            continue
        key = (e.source, e.source_port, e.target, e.target_port)
        found[key] = (key, e.source,
                      port(boxes[e.source], e.source_port, outputs[e.source], "out", flow),
                      e.target, port(boxes[e.target], e.target_port, inputs[e.target], "in",
                                     flow))
    return list(found.values())


def laid_out_boxes(network: Network, engine: str, sizes=None) -> dict[str, tuple]:
    result = layout_network(network, sizes, engine=engine)
    assert result.engine == engine
    return {n.id: (result.positions[n.id].x, result.positions[n.id].y,
                   *(sizes or {}).get(n.id, SIZE)) for n in network.nodes}


def labels_for(edges: list[tuple]) -> dict:
    return {edge[0]: LABEL for edge in edges}


def flow_problems(routing: Routing) -> list[str]:
    """Routes that are not orthogonal, do not start and end at their ports, or leave or enter
    against the flow."""
    found = []
    axis = 1 if routing.flow == "down" else 0
    for key, route in routing.routes.items():
        points, request = route.points, routing.requests[key]
        if points[0] != request.start or points[-1] != request.end:
            found.append(f"{key}: does not run from port to port")
        for (ax, ay), (bx, by) in zip(points, points[1:]):
            if ax != bx and ay != by:
                found.append(f"{key}: slanted segment ({ax}, {ay}) - ({bx}, {by})")
        if not (points[1][axis] > points[0][axis] and points[-1][axis] > points[-2][axis]):
            found.append(f"{key}: leaves or enters against the flow: {points}")
    return found
