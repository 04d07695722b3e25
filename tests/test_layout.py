"""Auto-layout: what a user sees after "Auto layout" or an import, with dot and without.

Both engines must place every node with no two boxes overlapping, top to bottom, with a merge's
inputs in port order. The dot engine must fall back to the built-in one, never raise, when dot
is missing, crashes, hangs or prints something unreadable; those cases run a real executable
(a small shell script standing in for dot).
"""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graph_schema import layout_dot
from graph_schema.document import Edge, Network, Node
from graph_schema.files import load_project
from graph_schema.layout import LayoutResult, graphviz_available, layout_network
from tests.graphs import chain_edges, edges, node

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
DEFAULT = (200.0, 72.0)
RANK_GAP, NODE_GAP = 56.0, 40.0

needs_dot = pytest.mark.skipif(not graphviz_available(),
                               reason="Graphviz's dot is not installed (apt-get install graphviz)")
ENGINES = ["builtin", pytest.param("dot", marks=needs_dot)]


def network(ids, edge_list, name="n") -> Network:
    return Network(name=name, nodes=[node(i, "nn.Identity") for i in ids], edges=edge_list)


def run(net: Network, engine: str, sizes=None, **kw) -> dict[str, tuple[float, ...]]:
    """Lay out with ``engine`` (checking that it is the one that ran) and return the boxes
    as id -> (x, y, width, height), after the checks every layout must pass."""
    result = layout_network(net, sizes, engine=engine, **kw)
    assert isinstance(result, LayoutResult)
    assert result.engine == engine
    boxes = {n.id: (result.positions[n.id].x, result.positions[n.id].y,
                    *(sizes or {}).get(n.id, DEFAULT)) for n in net.nodes}
    assert set(result.positions) == set(boxes)
    if boxes:
        assert min(b[0] for b in boxes.values()) == pytest.approx(0, abs=1e-9)
        assert min(b[1] for b in boxes.values()) == pytest.approx(0, abs=1e-9)
    assert overlapping(boxes) == []
    return boxes


def overlapping(boxes) -> list[tuple[str, str]]:
    """Pairs of boxes whose insides meet (grid buckets, so a 10,000-node check stays quick)."""
    cell = max([1.0] + [max(w, h) for _, _, w, h in boxes.values()])
    buckets: dict[tuple[int, int], list[str]] = {}
    for key, (x, y, w, h) in boxes.items():
        for cx in range(int(x // cell), int((x + w) // cell) + 1):
            for cy in range(int(y // cell), int((y + h) // cell) + 1):
                buckets.setdefault((cx, cy), []).append(key)
    found = set()
    for keys in buckets.values():
        for i, a in enumerate(keys):
            ax, ay, aw, ah = boxes[a]
            for b in keys[i + 1:]:
                bx, by, bw, bh = boxes[b]
                if ax < bx + bw - 1e-6 and bx < ax + aw - 1e-6 and ay < by + bh - 1e-6 \
                        and by < ay + ah - 1e-6:
                    found.add((a, b))
    return sorted(found)


def upward(net: Network, boxes) -> list[Edge]:
    """Edges whose source box does not end above the target box's top."""
    return [e for e in net.edges if e.source in boxes and e.target in boxes
            and boxes[e.source][1] + boxes[e.source][3] > boxes[e.target][1] + 1e-6]


def centre_x(box) -> float:
    return box[0] + box[2] / 2


def label_sizes(net: Network) -> dict[str, tuple[float, float]]:
    """Boxes sized like the canvas would: wider for longer names, taller for inputs."""
    return {n.id: (100.0 + 9.0 * len(n.name), 96.0 if n.type.startswith("io.") else 64.0)
            for n in net.nodes}


def example_graphs():
    for path in sorted(EXAMPLES.glob("**/*.json")):
        project = load_project(path)
        for graph in project.networks + project.blocks:
            yield pytest.param(graph, id=f"{path.stem}-{graph.name}")


# -- every layout ---------------------------------------------------------------------------

@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("graph", list(example_graphs()))
def test_examples_lay_out_without_overlap_and_downward(graph, engine):
    for sizes in (None, label_sizes(graph)):
        boxes = run(graph, engine, sizes)
        if nx.is_directed_acyclic_graph(graph.graph()):
            assert upward(graph, boxes) == []


@pytest.mark.parametrize("engine", ENGINES)
def test_a_chain_is_a_straight_vertical_line(engine):
    ids = [f"l{i}" for i in range(8)]
    boxes = run(network(ids, chain_edges(*ids)), engine)
    assert len({boxes[i][0] for i in ids}) == 1
    for upper, lower in zip(ids, ids[1:]):
        assert boxes[lower][1] - (boxes[upper][1] + boxes[upper][3]) >= RANK_GAP - 0.5


def residual_block() -> Network:
    chain = ["x", "conv1", "bn1", "relu1", "conv2", "bn2"]
    return network(chain + ["add", "relu2", "out"],
                   chain_edges(*chain) + edges(("bn2", "add", 0, 0), ("x", "add", 0, 1),
                                               ("add", "relu2"), ("relu2", "out")))


@pytest.mark.parametrize("engine", ENGINES)
def test_a_residual_block_keeps_the_chain_straight_and_the_shortcut_on_input_1s_side(engine):
    boxes = run(residual_block(), engine)
    branch = ["conv1", "bn1", "relu1", "conv2", "bn2"]
    assert len({boxes[n][0] for n in branch}) == 1
    # add's input 1 (the shortcut) is on the right, so the chain hangs to the left.
    assert centre_x(boxes["x"]) > centre_x(boxes["conv1"])
    assert centre_x(boxes["add"]) > centre_x(boxes["bn2"])
    assert upward(residual_block(), boxes) == []


def test_the_builtin_shortcut_runs_beside_the_chain_not_through_it():
    boxes = run(residual_block(), "builtin")
    chain_right = max(boxes[n][0] + boxes[n][2] for n in ["conv1", "bn1", "relu1", "conv2",
                                                          "bn2"])
    add = boxes["add"]
    input_1 = add[0] + add[2] * 2 / 3  # ports spread evenly along the top: 1 of 2 at 2/3
    # A straight line from x's bottom to add's input 1 stays right of every chain box.
    assert min(centre_x(boxes["x"]), centre_x(add), input_1) > chain_right


@pytest.mark.parametrize("engine", ENGINES)
def test_merge_inputs_and_split_outputs_are_ordered_by_port(engine):
    # Listed against port order on purpose: the document order must not decide.
    merge = network(["x", "d", "c", "b", "a", "cat"],
                    edges(("x", "d"), ("x", "c"), ("x", "b"), ("x", "a"), ("d", "cat", 0, 3),
                          ("c", "cat", 0, 2), ("b", "cat", 0, 1), ("a", "cat", 0, 0)))
    boxes = run(merge, engine)
    assert sorted("abcd", key=lambda n: boxes[n][0]) == list("abcd")
    split = network(["x", "lstm", "state", "output"],
                    edges(("x", "lstm"), ("lstm", "state", 1, 0), ("lstm", "output", 0, 0)))
    boxes = run(split, engine)
    assert boxes["output"][0] < boxes["state"][0]


@pytest.mark.parametrize("engine", ENGINES)
def test_the_same_network_gets_the_same_layout(engine):
    graph = load_project(EXAMPLES / "resnet18.json").block("DownsampleBlock")
    first = layout_network(graph, engine=engine)
    again = layout_network(graph.model_copy(deep=True), engine=engine)
    assert first == again


@pytest.mark.parametrize("engine", ENGINES)
def test_isolated_nodes_cycles_and_dangling_edges_get_positions(engine):
    ids = ["in", "a", "b", "c", "p", "q", "alone", "self", "also_alone"]
    graph = network(ids, edges(("in", "a"), ("a", "b"), ("b", "c"), ("c", "a"), ("p", "q"),
                               ("q", "p"), ("self", "self"), ("c", "ghost")))
    boxes = run(graph, engine)
    assert boxes["in"][1] < boxes["a"][1] < boxes["b"][1] < boxes["c"][1]


def test_sizes_are_respected_and_rows_are_rank_gap_apart():
    graph = residual_block()
    sizes = {"x": (320.0, 40.0), "conv1": (90.0, 150.0), "add": (60.0, 60.0)}
    boxes = run(graph, "builtin", sizes, rank_gap=80.0, node_gap=25.0)
    for e in graph.edges:
        assert boxes[e.target][1] - (boxes[e.source][1] + boxes[e.source][3]) >= 80.0 - 1e-9
    assert boxes["x"][2] == 320.0 and boxes["relu1"][2] == DEFAULT[0]


def test_an_input_used_at_every_depth_takes_one_lane_not_one_per_use():
    trunk = [f"layer{i}" for i in range(20)]
    graph = network(["mask"] + trunk, chain_edges(*trunk)
                    + edges(*[("mask", t, 0, 1) for t in trunk[2:]]))
    boxes = run(graph, "builtin")
    assert upward(graph, boxes) == []
    assert max(b[0] + b[2] for b in boxes.values()) <= 2 * DEFAULT[0] + 2 * NODE_GAP


def test_empty_network():
    result = layout_network(Network(name="empty"))
    assert result == LayoutResult({}, "builtin")


# -- random graphs: the invariants hold for any DAG -----------------------------------------

@st.composite
def dags(draw):
    count = draw(st.integers(1, 24))
    order = draw(st.permutations(range(count)))  # document order != topological order
    pairs = draw(st.lists(st.tuples(st.integers(0, count - 1), st.integers(0, count - 1),
                                    st.integers(0, 2), st.integers(0, 3)), max_size=40))
    edge_list = [Edge(source=f"v{min(a, b)}", target=f"v{max(a, b)}", source_port=sp,
                      target_port=tp) for a, b, sp, tp in pairs if a != b]
    sizes = draw(st.dictionaries(st.sampled_from([f"v{i}" for i in range(count)]),
                                 st.tuples(st.floats(0, 400), st.floats(0, 200))))
    return Network(name="r", nodes=[node(f"v{i}", "nn.Identity") for i in order],
                   edges=edge_list), sizes


@settings(max_examples=60, deadline=None)
@given(dags())
def test_any_dag_lays_out_downward_without_overlap(case):
    graph, sizes = case
    boxes = run(graph, "builtin", sizes)
    assert upward(graph, boxes) == []
    assert layout_network(graph, sizes, engine="builtin") == \
        layout_network(graph.model_copy(deep=True), dict(sizes), engine="builtin")


# -- dot's guard: fall back, never raise ----------------------------------------------------

def fake_dot(tmp_path: Path, behaviour: str) -> str:
    """An executable that answers ``dot -V`` like dot, then does ``behaviour``."""
    script = tmp_path / "dot"
    script.write_text(f'#!/bin/sh\nif [ "$1" = "-V" ]; then echo "dot - fake" >&2; exit 0; fi\n'
                      f"{behaviour}\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


def test_without_dot_the_builtin_layout_runs(monkeypatch):
    monkeypatch.setattr(layout_dot, "DOT_EXECUTABLE", "torchcanvas-no-such-dot-executable")
    assert graphviz_available() is False
    for engine in ("dot", "auto"):
        assert layout_network(residual_block(), engine=engine).engine == "builtin"


@pytest.mark.parametrize(("behaviour", "logged"), [
    ("exec sleep 30", "took over"),
    ("cat >/dev/null; echo 'Error: <stdin>: syntax error in line 1' >&2; exit 1", "dot failed"),
    ("cat >/dev/null; echo 'this is not json'", "could not be read"),
    ("cat >/dev/null; echo '{\"bb\": \"0,0,10,10\", \"objects\": []}'", "could not be read"),
    ("cat >/dev/null; echo '[1, 2]'", "could not be read"),
], ids=["hangs", "crashes", "garbage", "places-nothing", "wrong-shape"])
def test_a_failing_dot_falls_back_to_the_builtin_layout(tmp_path, monkeypatch, caplog,
                                                        behaviour, logged):
    monkeypatch.setattr(layout_dot, "DOT_EXECUTABLE", fake_dot(tmp_path, behaviour))
    monkeypatch.setattr(layout_dot, "DOT_TIMEOUT_S", 0.5)
    assert graphviz_available()
    with caplog.at_level(logging.WARNING, logger="graph_schema.layout_dot"):
        result = layout_network(residual_block(), engine="dot")
    assert result.engine == "builtin"
    assert result == layout_network(residual_block(), engine="builtin")
    assert logged in caplog.text


@needs_dot
def test_auto_uses_dot_for_small_graphs_and_builtin_above_the_threshold(monkeypatch):
    assert layout_network(residual_block()).engine == "dot"
    monkeypatch.setattr(layout_dot, "DOT_MAX_NODES", 5)
    assert layout_network(residual_block()).engine == "builtin"
    assert layout_network(residual_block(), engine="dot").engine == "builtin"


# -- size and bad input ---------------------------------------------------------------------

def residual_network(size: int) -> Network:
    nodes, edge_list = [], []

    def add(*inputs: str) -> str:
        node_id = f"n{len(nodes)}"
        nodes.append(Node(id=node_id, type="nn.Identity", name=node_id))
        edge_list.extend(Edge(source=s, target=node_id, target_port=p)
                         for p, s in enumerate(inputs))
        return node_id

    last = add()
    while len(nodes) + 10 <= size:
        skip = add(add(add(last)))
        last = add(add(add(add(add(add(skip)))), skip))
        last = add(last)
    return Network(name="big", nodes=nodes, edges=edge_list)


def test_ten_thousand_nodes_complete_without_overlap():
    graph = residual_network(10_000)
    boxes = run(graph, "builtin")
    assert len(boxes) == len(graph.nodes) >= 9_990
    assert upward(graph, boxes) == []


def test_a_graph_needing_too_many_dummies_still_lays_out():
    # Every layer also feeds the last one: a long edge from each, 180,000 dummy nodes if all
    # were kept; the longest are dropped so the work stays linear.
    ids = [f"l{i}" for i in range(600)]
    graph = network(ids + ["sink"], chain_edges(*ids)
                    + edges(*[(n, "sink", 0, i) for i, n in enumerate(ids)]))
    boxes = run(graph, "builtin")
    assert upward(graph, boxes) == []


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"engine": "neato"}, "engine must be one of"),
    ({"sizes": {"x": (-1.0, 10.0)}}, "node 'x'"),
    ({"sizes": {"x": "wide"}}, "node 'x'"),
    ({"default_size": (float("nan"), 1.0)}, "default_size"),
    ({"rank_gap": float("inf")}, "rank_gap"),
    ({"node_gap": -3}, "node_gap"),
])
def test_bad_arguments_are_refused_with_a_clear_message(kwargs, message):
    with pytest.raises(ValueError, match=message):
        layout_network(residual_block(), **kwargs)


def test_a_layout_beyond_the_canvas_limit_is_refused_with_a_clear_message():
    leaves = [f"leaf{i}" for i in range(1200)]
    wide = network(["x", *leaves], edges(*[("x", n) for n in leaves]))
    with pytest.raises(ValueError, match="canvas limit"):
        layout_network(wide, {n: (1e6, 10.0) for n in leaves}, engine="builtin")
