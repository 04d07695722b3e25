"""Edge routing: what a user sees is every edge going round the boxes it passes, never through
one, leaving its source and entering its target along the flow, with its shape label on no
box and no other label. The geometry checker (graph_schema.route_check) is the judge; its own
tests below show that it does catch a route through a box and a label on a label.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.bench_inference import residual
from graph_schema.document import Edge, Network
from graph_schema.files import load_project
from graph_schema.layout import graphviz_available, layout_network
from graph_schema.route_check import (
    label_overlaps,
    route_crossings,
    routing_problems,
    sampled_cubics,
    sampled_steps,
)
from graph_schema.routing import CLEARANCE, path_steps, reroute, route_edges
from tests.graphs import chain_edges, edges, node
from tests.routing_support import (
    SIZE,
    flow_problems,
    labels_for,
    laid_out_boxes,
    requests,
)

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
needs_dot = pytest.mark.skipif(not graphviz_available(),
                               reason="Graphviz's dot is not installed (apt-get install graphviz)")
ENGINES = ["builtin", pytest.param("dot", marks=needs_dot)]
W, H = SIZE


def routed(network: Network, boxes, flow="down"):
    edge_list = requests(network, boxes, flow)
    routing = route_edges(boxes, edge_list, flow=flow, label_sizes=labels_for(edge_list))
    assert set(routing.routes) == {e[0] for e in edge_list}
    assert routing_problems(routing) == []
    assert flow_problems(routing) == []
    assert all(route.label is not None for route in routing.routes.values())
    return routing


def network(ids, edge_list) -> Network:
    return Network(name="n", nodes=[node(i, "nn.Identity") for i in ids], edges=edge_list)


def column(ids, gap=56.0, x=0.0) -> dict[str, tuple]:
    """Boxes one under another, ``gap`` apart."""
    return {n: (x, i * (H + gap), W, H) for i, n in enumerate(ids)}


def straight_line_crossings(boxes, routing, key):
    request = routing.requests[key]
    return route_crossings(boxes, {key: (request.source, request.target)},
                           {key: [request.start, request.end]})


# -- every example, both engines --------------------------------------------------------------

def example_graphs():
    for path in sorted(EXAMPLES.glob("**/*.json")):
        project = load_project(path)
        for graph in project.networks + project.blocks:
            yield pytest.param(graph, id=f"{path.stem}-{graph.name}")


def varied_sizes(graph: Network) -> dict[str, tuple[float, float]]:
    return {n.id: (100.0 + 9.0 * len(n.name), 96.0 if n.type.startswith("io.") else 64.0)
            for n in graph.nodes}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("graph", list(example_graphs()))
def test_examples_route_round_every_box_with_labels_apart(graph, engine):
    for sizes in (None, varied_sizes(graph)):
        routed(graph, laid_out_boxes(graph, engine, sizes))


# -- shapes a user draws ----------------------------------------------------------------------

def residual_block() -> Network:
    chain = ["x", "conv", "bn", "relu", "add"]
    return network(chain + ["out"], chain_edges("x", "conv", "bn", "relu")
                   + edges(("relu", "add", 0, 0), ("x", "add", 0, 1), ("add", "out")))


def test_a_skip_connection_goes_round_the_three_layers_it_skips():
    graph = residual_block()
    boxes = column(["x", "conv", "bn", "relu", "add", "out"])
    routing = routed(graph, boxes)
    skip = ("x", 0, "add", 1)
    # The old S-curve from port to port would have run through all three layers.
    assert {c.node for c in straight_line_crossings(boxes, routing, skip)} == \
        {"conv", "bn", "relu"}
    points = routing.routes[skip].points
    # It runs down a line beside the column, at least the clearance away from it.
    beside = [x for (x, ay), (bx, by) in zip(points, points[1:]) if x == bx and by - ay > 3 * H]
    assert beside and all(x >= W + CLEARANCE or x <= -CLEARANCE for x in beside)


def test_a_back_edge_loops_round_from_below_into_the_top():
    graph = network(["a", "b", "c"], chain_edges("a", "b", "c") + edges(("c", "a")))
    boxes = column(["a", "b", "c"])
    routing = routed(graph, boxes)
    points = routing.routes[("c", 0, "a", 0)].points
    assert points[1][1] > boxes["c"][1] + H  # out of c's bottom
    assert points[-2][1] < 0  # into a's top from above
    assert max(y for _, y in points) > boxes["c"][1] + H
    assert min(y for _, y in points) < 0


def test_an_edge_between_neighbours_is_a_straight_line_with_its_label_in_the_gap():
    graph = network(["a", "b"], chain_edges("a", "b"))
    boxes = column(["a", "b"])
    route = routed(graph, boxes).routes[("a", 0, "b", 0)]
    assert route.points == ((W / 2, H), (W / 2, H + 56.0))
    x, y, w, h = route.label
    assert (x + w / 2, y + h / 2) == (W / 2, H + 28.0)


def test_merged_inputs_get_labels_that_do_not_cover_each_other():
    inputs = [f"i{k}" for k in range(4)]
    graph = network([*inputs, "cat"], edges(*[(i, "cat", 0, k) for k, i in enumerate(inputs)]))
    boxes = {i: (k * (W + 10), 0.0, W, H) for k, i in enumerate(inputs)}
    boxes["cat"] = (1.5 * (W + 10), H + 40, W, H)
    routing = routed(graph, boxes)
    labels = [r.label for r in routing.routes.values()]
    assert len(set(labels)) == 4


def test_a_rightward_flow_leaves_right_and_enters_left():
    graph = residual_block()
    boxes = {n: (y, x, h, w) for n, (x, y, w, h) in column(
        ["x", "conv", "bn", "relu", "add", "out"]).items()}
    routing = routed(graph, boxes, flow="right")
    skip = routing.routes[("x", 0, "add", 1)].points
    assert skip[1][0] > skip[0][0] and skip[-1][0] > skip[-2][0]
    assert straight_line_crossings(boxes, routing, ("x", 0, "add", 1))


def test_a_rightward_flow_is_the_downward_one_turned():
    graph = residual_block()
    down_boxes = column(["x", "conv", "bn", "relu", "add", "out"])
    down = routed(graph, down_boxes)
    right = routed(graph, {n: (y, x, h, w) for n, (x, y, w, h) in down_boxes.items()},
                   flow="right")
    for key, route in down.routes.items():
        turned = right.routes[key]
        assert turned.points == tuple((y, x) for x, y in route.points)


def test_boxes_packed_by_hand_still_route_round_each_other():
    # A tangle no simple shape fits: the search has to find the way out.
    boxes = {"a": (0.0, 0.0, W, H), "b": (0.0, 200.0, W, H),
             "w1": (-40.0, H + 30, 120.0, 40.0), "w2": (100.0, H + 30, 120.0, 40.0),
             "w3": (-60.0, 120.0, 300.0, 30.0)}
    graph = network(list(boxes), edges(("a", "b")))
    routed(graph, boxes)


# -- size -------------------------------------------------------------------------------------

def test_a_500_node_residual_network_routes_cleanly():
    """Its speed is bench/bench_routing.py's to measure (against the layout, in one run)."""
    graph = residual(500)[0].networks[0]
    for engine in ("builtin", *(("dot",) if graphviz_available() else ())):
        boxes = laid_out_boxes(graph, engine)
        edge_list = requests(graph, boxes)
        routing = route_edges(boxes, edge_list, label_sizes=labels_for(edge_list))
        assert routing_problems(routing) == [] and flow_problems(routing) == []


# -- moving nodes -----------------------------------------------------------------------------

def moved(boxes, node_id, dx, dy=0.0):
    x, y, w, h = boxes[node_id]
    return {**boxes, node_id: (x + dx, y + dy, w, h)}


@pytest.mark.parametrize("flow", ["down", "right"])
def test_rerouting_after_a_move_equals_a_full_routing(flow):
    graph = residual(120)[0].networks[0]
    boxes = laid_out_boxes(graph, "builtin")
    if flow == "right":
        boxes = {n: (y, x, h, w) for n, (x, y, w, h) in boxes.items()}
    before = routed(graph, boxes, flow)
    mover = graph.nodes[60].id
    for dx, dy in ((W / 2, 0.0), (-3 * W, 40.0), (0.0, 0.0)):
        after = moved(boxes, mover, dx, dy)
        edge_list = requests(graph, after, flow)
        step = reroute(before, after, edge_list, {mover})
        full = route_edges(after, edge_list, flow=flow, label_sizes=labels_for(edge_list))
        assert routing_problems(step) == []
        touching = {e[0] for e in edge_list if mover in (e[1], e[3])}
        assert touching <= step.recomputed
        assert len(step.recomputed) < len(edge_list) / 4
        for key in step.recomputed:  # labels: tests/test_routing_labels_incremental.py
            assert step.routes[key].points == full.routes[key].points


def test_rerouting_redoes_a_route_a_moved_box_now_stands_on():
    graph = network(["a", "b", "c", "x"], chain_edges("a", "b", "c"))
    boxes = {**column(["a", "b", "c"]), "x": (600.0, 0.0, W, H)}
    before = routed(graph, boxes)
    # x is dropped right on the a -> b edge.
    after = {**boxes, "x": (W / 2 - 20, H + 10, 40.0, 30.0)}
    edge_list = requests(graph, after)
    step = reroute(before, after, edge_list, {"x"})
    assert ("a", 0, "b", 0) in step.recomputed
    assert ("b", 0, "c", 0) not in step.recomputed
    assert routing_problems(step) == []


# -- random layouts ---------------------------------------------------------------------------

@st.composite
def dags(draw):
    count = draw(st.integers(2, 20))
    pairs = draw(st.lists(st.tuples(st.integers(0, count - 1), st.integers(0, count - 1),
                                    st.integers(0, 2), st.integers(0, 2)), max_size=36))
    edge_list = [Edge(source=f"v{min(a, b)}", target=f"v{max(a, b)}", source_port=sp,
                      target_port=tp) for a, b, sp, tp in pairs if a != b]
    sizes = draw(st.dictionaries(st.sampled_from([f"v{i}" for i in range(count)]),
                                 st.tuples(st.floats(20, 300), st.floats(10, 120))))
    return network([f"v{i}" for i in range(count)], edge_list), sizes


@settings(max_examples=60, deadline=None)
@given(dags(), st.sampled_from(["down", "right"]))
def test_any_laid_out_dag_routes_round_every_box(case, flow):
    graph, sizes = case
    result = layout_network(graph, sizes, engine="builtin")
    boxes = {n.id: (result.positions[n.id].x, result.positions[n.id].y,
                    *sizes.get(n.id, (200.0, 72.0))) for n in graph.nodes}
    if flow == "right":
        boxes = {n: (y, x, h, w) for n, (x, y, w, h) in boxes.items()}
    routed(graph, boxes, flow)


# -- dot's own splines ------------------------------------------------------------------------

@needs_dot
def test_dot_gives_a_spline_per_edge_from_border_to_border():
    graph = residual(60)[0].networks[0]
    result = layout_network(graph, engine="dot")
    assert result.engine == "dot"
    assert set(result.routes) == {(e.source, e.source_port, e.target, e.target_port)
                                  for e in graph.edges}
    default_w, default_h = 200.0, 72.0
    for (source, _, target, _), spline in result.routes.items():
        assert len(spline) % 3 == 1
        s, t = result.positions[source], result.positions[target]
        (x0, y0), (x1, y1) = spline[0], spline[-1]
        assert y0 == pytest.approx(s.y + default_h, abs=1.0)  # leaves the source's bottom
        assert y1 == pytest.approx(t.y, abs=1.0)  # reaches the target's top
        assert s.x - 1 <= x0 <= s.x + default_w + 1 and t.x - 1 <= x1 <= t.x + default_w + 1


def test_the_builtin_layout_has_no_splines():
    assert layout_network(residual_block(), engine="builtin").routes is None


# -- the checker itself, and the drawing steps ------------------------------------------------

def test_the_checker_finds_a_path_through_a_box_but_not_one_along_its_border():
    boxes = {"a": (0.0, 0.0, 10.0, 10.0), "b": (0.0, 50.0, 10.0, 10.0),
             "m": (0.0, 25.0, 10.0, 10.0)}
    ends = {"through": ("a", "b"), "along": ("a", "b"), "diagonal": ("a", "b")}
    paths = {"through": [(5.0, 10.0), (5.0, 50.0)],
             "along": [(5.0, 10.0), (10.0, 10.0), (10.0, 50.0), (5.0, 50.0)],
             "diagonal": [(-5.0, 24.0), (15.0, 36.0)]}
    found = route_crossings(boxes, ends, paths)
    assert {(c.edge, c.node) for c in found} == {("through", "m"), ("diagonal", "m")}
    assert "runs through node 'm'" in str(found[0])


def test_the_checker_finds_labels_on_boxes_and_on_each_other():
    boxes = {"a": (0.0, 0.0, 10.0, 10.0)}
    labels = {"e1": (5.0, 5.0, 10.0, 4.0), "e2": (30.0, 0.0, 10.0, 4.0),
              "e3": (35.0, 2.0, 10.0, 4.0), "e4": (40.0, 0.0, 10.0, 3.0),
              "e5": (50.0, 0.0, 5.0, 2.0)}  # e2-e4 and e4-e5 only touch
    found = {(o.label, o.other, o.kind) for o in label_overlaps(boxes, labels)}
    assert found == {("e1", "a", "node"), ("e2", "e3", "label"), ("e3", "e4", "label")}


def test_rounded_corners_stay_between_their_segments():
    points = [(0.0, 0.0), (0.0, 30.0), (50.0, 30.0), (50.0, 34.0), (80.0, 34.0)]
    steps = path_steps(points, radius=8.0)
    assert steps[0] == ("move", (0.0, 0.0)) and steps[-1] == ("line", (80.0, 34.0))
    kinds = [s[0] for s in steps]
    assert kinds.count("quad") == 3
    # The short 4-unit segment limits both its corners to a radius of 2.
    assert ("quad", (50.0, 30.0), (50.0, 32.0)) in steps
    for x, y in sampled_steps(steps):
        assert -1e-9 <= x <= 80 + 1e-9 and -1e-9 <= y <= 34 + 1e-9


def test_cubic_chains_are_sampled_through_their_end_points():
    chain = [(0.0, 0.0), (0.0, 10.0), (10.0, 10.0), (10.0, 20.0), (10.0, 30.0), (0.0, 30.0),
             (0.0, 40.0)]
    sampled = sampled_cubics(chain, per_curve=4)
    assert sampled[0] == (0.0, 0.0) and sampled[-1] == (0.0, 40.0) and len(sampled) == 9
    assert sampled[4] == (10.0, 20.0)


# -- bad input --------------------------------------------------------------------------------

@pytest.mark.parametrize(("boxes", "edge_list", "kw", "message"), [
    ({"a": (0, 0, 1, 1)}, [("e", "a", (0, 1), "b", (0, 5))], {}, "node 'b', which has no box"),
    ({"a": (0, 0, 1, 1)}, [], {"flow": "up"}, "flow must be one of"),
    ({"a": (0, 0, -1, 1)}, [], {}, "negative size"),
    ({"a": (0, float("nan"), 1, 1)}, [], {}, "finite"),
    ({"a": (0, 0, 1, 1)}, [("e", "a", (0, 1), "a", (0, 0))] * 2, {}, "given twice"),
    ({"a": (0, 0, 1, 1)}, [("e", "a", (0, float("inf")), "a", (0, 0))], {}, "finite"),
    ({"a": (0, 0, 1, 1)}, [("e", "a", "here", "a", (0, 0))], {}, "two (x, y) points"),
])
def test_bad_arguments_are_refused_with_a_clear_message(boxes, edge_list, kw, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        route_edges(boxes, edge_list, **kw)


def test_an_edge_from_a_node_to_itself_loops_round_it():
    routing = route_edges({"a": (0.0, 0.0, W, H)}, [("loop", "a", (W / 2, H), "a", (W / 3, 0))])
    assert routing_problems(routing) == [] and flow_problems(routing) == []
    xs = [x for x, _ in routing.routes["loop"].points]
    assert max(xs) > W or min(xs) < 0
