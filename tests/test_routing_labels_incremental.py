"""Labels after a move (graph_schema.routing.reroute): a label stays exactly where it was unless
its route changed, a moved box now covers it, or it had given way near where something moved;
the others are placed again around the kept ones, and no label ever lands on a box or on
another label. The routes themselves stay what a full routing would make them.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.bench_inference import residual
from graph_schema.document import Edge, Network
from graph_schema.layout import layout_network
from graph_schema.route_check import label_overlaps, routing_problems
from graph_schema.routing import Routing, reroute, route_edges
from graph_schema.routing_labels import BESIDE
from tests.graphs import node
from tests.routing_support import SIZE, labels_for, laid_out_boxes, requests

W, H = SIZE
WIDE = (200.0, 14.0)  # wider than a box: it reaches past the box's side into the gap beside
A_B = ("a", 0, "b", 0)


def turned(boxes: dict) -> dict:
    return {n: (y, x, h, w) for n, (x, y, w, h) in boxes.items()}


def moved(boxes: dict, node_id: str, dx: float, dy: float = 0.0) -> dict:
    x, y, w, h = boxes[node_id]
    return {**boxes, node_id: (x + dx, y + dy, w, h)}


def label_problems(routing: Routing) -> list:
    labels = {k: r.label for k, r in routing.routes.items() if r.label is not None}
    return label_overlaps(routing.boxes, labels)


def routes_as_they_should_be(before: Routing, step: Routing, boxes, edge_list,
                             flow: str) -> bool:
    """The routes made again are what a full routing makes, the others are kept."""
    full = route_edges(boxes, edge_list, flow=flow)
    return all(route.points == (full if key in step.recomputed else before).routes[key].points
               for key, route in step.routes.items())


def labels_kept(before: Routing, after: Routing) -> set:
    return {k for k, r in after.routes.items()
            if k in before.routes and r.label == before.routes[k].label}


# -- a residual network, one node moved ------------------------------------------------------

@pytest.mark.parametrize("flow", ["down", "right"])
def test_a_reroute_keeps_every_label_it_does_not_place_again(flow):
    graph = residual(120)[0].networks[0]
    boxes = laid_out_boxes(graph, "builtin")
    boxes = turned(boxes) if flow == "right" else boxes
    edge_list = requests(graph, boxes, flow)
    before = route_edges(boxes, edge_list, flow=flow, label_sizes=labels_for(edge_list))
    mover = graph.nodes[60].id
    after = moved(boxes, mover, W / 2) if flow == "down" else moved(boxes, mover, 0.0, W / 2)
    after_edges = requests(graph, after, flow)
    step = reroute(before, after, after_edges, {mover})
    assert routing_problems(step) == []
    assert routes_as_they_should_be(before, step, after, after_edges, flow)
    assert step.recomputed <= step.relabelled  # every edge here has a label
    assert len(step.relabelled) < len(after_edges) / 10
    # The labels it did not place again are exactly where they were, the far ones among them.
    assert labels_kept(before, step) >= set(step.routes) - step.relabelled
    order = {n.id: i for i, n in enumerate(graph.nodes)}
    far = {k for k in step.routes if order[k[0]] < 30 and order[k[2]] < 30}
    assert far and not far & step.relabelled


def test_a_moved_nodes_labels_are_placed_again_on_their_new_routes():
    boxes = column("a", "b", "c")
    edge_list = chain_requests(boxes, "a", "b", "c")
    before = route_edges(boxes, edge_list, label_sizes=labels_for(edge_list))
    after = moved(boxes, "b", 3 * W)
    step = reroute(before, after, chain_requests(after, "a", "b", "c"), {"b"})
    for key in (A_B, ("b", 0, "c", 0)):
        assert key in step.recomputed and key in step.relabelled
        label = step.routes[key].label
        assert label != before.routes[key].label
        assert beside_its_route(label, step.routes[key].points)
    assert routing_problems(step) == []


# -- hand-placed boxes -----------------------------------------------------------------------

def column(*ids, gap=56.0) -> dict:
    return {n: (0.0, i * (H + gap), W, H) for i, n in enumerate(ids)}


def chain_requests(boxes: dict, *ids) -> list[tuple]:
    found = []
    for source, target in zip(ids, ids[1:]):
        (sx, sy, sw, sh), (tx, ty, tw, _) = boxes[source], boxes[target]
        found.append(((source, 0, target, 0), source, (sx + sw / 2, sy + sh), target,
                      (tx + tw / 2, ty)))
    return found


def beside_its_route(label, points) -> bool:
    """Whether the label box touches the route or lies within BESIDE of it."""
    x, y, w, h = label
    left, top, right, bottom = x - BESIDE - 1, y - BESIDE - 1, x + w + BESIDE + 1, \
        y + h + BESIDE + 1
    return any(min(ax, bx) <= right and left <= max(ax, bx) and min(ay, by) <= bottom
               and top <= max(ay, by) for (ax, ay), (bx, by) in zip(points, points[1:]))


def centred_in_the_gap(label) -> bool:
    """Whether the a -> b label is at its first spot: on the line, halfway down the gap."""
    x, y, w, h = label
    return (x + w / 2, y + h / 2) == (W / 2, H + 28.0)


def wide_labels(edge_list) -> dict:
    return {edge[0]: WIDE for edge in edge_list}


IN_THE_GAP = (W / 2 + WIDE[0] / 2 - 10.0, H + 20.0, 40.0, 16.0)  # on the wide label's end


def test_a_kept_label_that_a_moved_box_now_covers_is_placed_again():
    boxes = {**column("a", "b", "c"), "x": (600.0, 0.0, W, H)}
    edge_list = chain_requests(boxes, "a", "b", "c")
    before = route_edges(boxes, edge_list, label_sizes=wide_labels(edge_list))
    assert centred_in_the_gap(before.routes[A_B].label)
    # x lands on the right end of the a -> b label, far enough from the line to leave it be.
    after = {**boxes, "x": IN_THE_GAP}
    step = reroute(before, after, edge_list, {"x"})
    assert not step.recomputed
    assert step.relabelled == {A_B}
    assert not centred_in_the_gap(step.routes[A_B].label)
    assert step.routes[("b", 0, "c", 0)] == before.routes[("b", 0, "c", 0)]
    assert routing_problems(step) == []


def test_a_label_that_gave_way_returns_when_what_pushed_it_moves_away():
    boxes = {**column("a", "b", "c"), "x": IN_THE_GAP}
    edge_list = chain_requests(boxes, "a", "b", "c")
    before = route_edges(boxes, edge_list, label_sizes=wide_labels(edge_list))
    assert not centred_in_the_gap(before.routes[A_B].label)  # x is in the way
    away = reroute(before, {**boxes, "x": (600.0, 0.0, W, H)}, edge_list, {"x"})
    assert not away.recomputed and away.relabelled == {A_B}
    assert centred_in_the_gap(away.routes[A_B].label)
    # Moving it about far away changes no label at all.
    further = reroute(away, {**boxes, "x": (700.0, 0.0, W, H)}, edge_list, {"x"})
    assert not further.relabelled and further.routes == away.routes


def test_a_changed_label_size_is_placed_again_and_a_removed_one_is_gone():
    boxes = column("a", "b", "c")
    edge_list = chain_requests(boxes, "a", "b", "c")
    before = route_edges(boxes, edge_list, label_sizes=labels_for(edge_list))
    step = reroute(before, boxes, edge_list, (), label_sizes={A_B: WIDE})
    assert step.relabelled == {A_B} and not step.recomputed
    assert step.routes[A_B].label[2:] == WIDE
    assert step.routes[("b", 0, "c", 0)].label is None
    assert step.routes[("b", 0, "c", 0)].points == before.routes[("b", 0, "c", 0)].points


def grids(routing: Routing) -> list:
    """What a reroute reuses of ``routing``, as it stands (cells hold tuples, so copies of
    the two dictionaries are a true snapshot)."""
    indexes = [routing.obstacles.clear, routing.labels.index, routing.labels.displaced,
               routing.spans]
    return [(dict(i.rects), dict(i.cells), list(i.low), list(i.high)) for i in indexes
            if i is not None]


def test_a_reroute_leaves_the_previous_routing_as_it_was():
    graph = residual(60)[0].networks[0]
    boxes = laid_out_boxes(graph, "builtin")
    edge_list = requests(graph, boxes)
    before = route_edges(boxes, edge_list, label_sizes=labels_for(edge_list))
    mover, other = graph.nodes[30].id, graph.nodes[10].id
    after = moved(boxes, mover, -2 * W, 30.0)
    first = reroute(before, after, requests(graph, after), {mover})
    kept = grids(before), grids(first)
    later = moved(after, other, 3 * W)
    second = reroute(first, later, requests(graph, later), {other})
    assert second.recomputed and second.relabelled
    assert (grids(before), grids(first)) == kept
    # The same reroute again gives the same routing, from either.
    assert reroute(first, later, requests(graph, later), {other}).routes == second.routes
    assert reroute(before, after, requests(graph, after), {mover}).routes == first.routes
    # Back where it was: every route and every label as before.
    back = reroute(second, boxes, edge_list, {mover, other})
    assert back.routes == before.routes


# -- random graphs, random moves -------------------------------------------------------------

@st.composite
def moving_graphs(draw):
    """A small DAG, a label size for its edges, and a few (node index, dx, dy) moves to make
    one after another."""
    count = draw(st.integers(2, 12))
    pairs = draw(st.lists(st.tuples(st.integers(0, count - 1), st.integers(0, count - 1),
                                    st.integers(0, 1), st.integers(0, 1)), max_size=20))
    edge_list = [Edge(source=f"v{min(a, b)}", target=f"v{max(a, b)}", source_port=sp,
                      target_port=tp) for a, b, sp, tp in pairs if a != b]
    graph = Network(name="n", nodes=[node(f"v{i}", "nn.Identity") for i in range(count)],
                    edges=edge_list)
    offsets = st.floats(-400, 400, allow_nan=False).map(lambda v: round(v, 1))
    moves = draw(st.lists(st.tuples(st.integers(0, count - 1), offsets, offsets),
                          min_size=1, max_size=4))
    label = draw(st.tuples(st.floats(10, 300), st.floats(6, 40)))
    return graph, label, moves


@settings(max_examples=25, deadline=None)
@given(moving_graphs(), st.sampled_from(["down", "right"]))
def test_after_any_moves_labels_are_kept_or_placed_again_and_never_overlap(case, flow):
    graph, label, moves = case
    result = layout_network(graph, engine="builtin")
    boxes = {n.id: (result.positions[n.id].x, result.positions[n.id].y, W, H)
             for n in graph.nodes}
    boxes = turned(boxes) if flow == "right" else boxes
    edge_list = requests(graph, boxes, flow)
    sizes = {edge[0]: label for edge in edge_list}
    routing = route_edges(boxes, edge_list, flow=flow, label_sizes=sizes)
    for index, dx, dy in moves:
        mover = graph.nodes[index].id
        boxes = moved(boxes, mover, dx, dy)
        edge_list = requests(graph, boxes, flow)
        step = reroute(routing, boxes, edge_list, {mover})
        assert label_problems(step) == []
        assert all(route.label is not None for route in step.routes.values())
        assert step.recomputed <= step.relabelled
        assert labels_kept(routing, step) >= set(step.routes) - step.relabelled
        assert routes_as_they_should_be(routing, step, boxes, edge_list, flow)
        routing = step
