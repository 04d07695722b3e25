"""A left-to-right project: its layout runs along x with both engines, the file keeps the
choice, and the generated code does not care (no Qt here; tests/gui/test_flow.py has the
canvas)."""

from __future__ import annotations

import json

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codegen import generate_source
from graph_schema import layout_dot
from graph_schema.document import Edge
from graph_schema.files import ProjectError, load_project, project_to_json, save_project
from graph_schema.layout import RANK_GAPS, layout_network
from graph_schema.layout_graph import build_layout_graph
from tests.graphs import chain_edges, edges
from tests.test_layout import (
    DEFAULT,
    ENGINES,
    EXAMPLES,
    example_graphs,
    label_sizes,
    needs_dot,
    network,
    overlapping,
    residual_block,
)


def boxes_of(graph, engine: str, sizes=None, **kw) -> dict[str, tuple[float, ...]]:
    """Laid out left to right by ``engine``, as id -> (x, y, width, height), after the checks
    every layout must pass: the engine asked for ran, the drawing starts at (0, 0), no two
    boxes overlap."""
    result = layout_network(graph, sizes, engine=engine, flow="right", **kw)
    assert result.engine == engine
    boxes = {n.id: (result.positions[n.id].x, result.positions[n.id].y,
                    *(sizes or {}).get(n.id, DEFAULT)) for n in graph.nodes}
    if boxes:
        assert min(b[0] for b in boxes.values()) == pytest.approx(0, abs=1e-9)
        assert min(b[1] for b in boxes.values()) == pytest.approx(0, abs=1e-9)
    assert overlapping(boxes) == []
    return boxes


def leftward(graph, boxes, gap: float = 0.0) -> list[Edge]:
    """Edges whose source box does not end (``gap`` or more) left of the target's start."""
    return [e for e in graph.edges if e.source in boxes and e.target in boxes
            and boxes[e.source][0] + boxes[e.source][2] + gap > boxes[e.target][0] + 1e-6]


def centre_y(box) -> float:
    return box[1] + box[3] / 2


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("graph", list(example_graphs()))
def test_examples_lay_out_left_to_right_without_overlap(graph, engine):
    for sizes in (None, label_sizes(graph)):
        boxes = boxes_of(graph, engine, sizes)
        if nx.is_directed_acyclic_graph(graph.graph()):
            assert leftward(graph, boxes) == []


@pytest.mark.parametrize("engine", ENGINES)
def test_a_chain_is_one_row_with_label_room_between_its_boxes(engine):
    ids = [f"l{i}" for i in range(6)]
    graph = network(ids, chain_edges(*ids))
    boxes = boxes_of(graph, engine)
    assert len({boxes[i][1] for i in ids}) == 1
    # The default gap between columns holds a shape label lying across it.
    assert leftward(graph, boxes, gap=RANK_GAPS["right"] - 0.5) == []
    assert RANK_GAPS["right"] > RANK_GAPS["down"]


@pytest.mark.parametrize("engine", ENGINES)
def test_given_sizes_are_kept_and_columns_are_rank_gap_apart(engine):
    graph = residual_block()
    sizes = {"x": (320.0, 40.0), "conv1": (90.0, 150.0), "add": (60.0, 60.0)}
    boxes = boxes_of(graph, engine, sizes, rank_gap=80.0, node_gap=25.0)
    assert leftward(graph, boxes, gap=80.0 - 0.5) == []
    # A wide box stays wide: its width lies along the flow, not across it.
    assert boxes["x"][2] == 320.0 and boxes["conv1"][3] == 150.0
    assert boxes["conv1"][0] >= 320.0 + 80.0 - 0.5


@pytest.mark.parametrize("engine", ENGINES)
def test_a_merges_inputs_come_top_to_bottom_in_port_order(engine):
    # Listed against port order on purpose: the ports are drawn top to bottom on the left.
    merge = network(["x", "d", "c", "b", "a", "cat"],
                    edges(("x", "d"), ("x", "c"), ("x", "b"), ("x", "a"), ("d", "cat", 0, 3),
                          ("c", "cat", 0, 2), ("b", "cat", 0, 1), ("a", "cat", 0, 0)))
    boxes = boxes_of(merge, engine)
    assert sorted("abcd", key=lambda n: boxes[n][1]) == list("abcd")
    assert len({boxes[n][0] for n in "abcd"}) == 1  # one column


def test_the_builtin_rightward_layout_is_the_downward_one_of_turned_boxes():
    graph = residual_block()
    sizes = {n.id: (100.0 + 10 * i, 50.0 + 3 * i) for i, n in enumerate(graph.nodes)}
    turned = {n: (h, w) for n, (w, h) in sizes.items()}
    right = layout_network(graph, sizes, engine="builtin", flow="right", rank_gap=70.0)
    down = layout_network(graph, turned, engine="builtin", flow="down", rank_gap=70.0)
    assert {n: (p.y, p.x) for n, p in right.positions.items()} == \
        {n: (p.x, p.y) for n, p in down.positions.items()}


def test_top_to_bottom_is_still_the_default():
    graph = residual_block()
    assert layout_network(graph, engine="builtin") == \
        layout_network(graph, engine="builtin", flow="down", rank_gap=RANK_GAPS["down"])


def test_dot_is_asked_for_left_to_right_ranks():
    graph = build_layout_graph(residual_block(), None, DEFAULT)
    assert "rankdir=LR" in layout_dot.dot_source(graph, 120.0, 40.0, "right")
    assert "rankdir=TB" in layout_dot.dot_source(graph, 56.0, 40.0)


@needs_dot
def test_dots_splines_run_left_to_right_too():
    graph = residual_block()
    result = layout_network(graph, engine="dot", flow="right")
    for spline in result.routes.values():
        assert spline[-1][0] > spline[0][0]


def test_an_unknown_flow_is_refused_by_name():
    with pytest.raises(ValueError, match="flow must be one of down, right, got 'up'"):
        layout_network(residual_block(), flow="up")


@st.composite
def dags(draw):
    count = draw(st.integers(1, 24))
    pairs = draw(st.lists(st.tuples(st.integers(0, count - 1), st.integers(0, count - 1),
                                    st.integers(0, 2), st.integers(0, 2)), max_size=40))
    edge_list = [Edge(source=f"v{min(a, b)}", target=f"v{max(a, b)}", source_port=sp,
                      target_port=tp) for a, b, sp, tp in pairs if a != b]
    sizes = draw(st.dictionaries(st.sampled_from([f"v{i}" for i in range(count)]),
                                 st.tuples(st.floats(20, 300), st.floats(10, 120))))
    return network([f"v{i}" for i in range(count)], edge_list), sizes


@settings(max_examples=60, deadline=None)
@given(dags())
def test_any_dag_runs_left_to_right_without_overlap(case):
    graph, sizes = case
    boxes = boxes_of(graph, "builtin", sizes)
    assert leftward(graph, boxes, gap=RANK_GAPS["right"] - 0.5) == []


# -- the file and the code ------------------------------------------------------------------

def test_the_flow_is_saved_and_loaded(tmp_path):
    project = load_project(EXAMPLES / "lenet.json")
    assert project.flow == "down"  # a file without the field reads top to bottom
    project.flow = "right"
    save_project(project, tmp_path / "lenet.json")
    assert json.loads((tmp_path / "lenet.json").read_text())["flow"] == "right"
    assert load_project(tmp_path / "lenet.json").flow == "right"


def test_a_file_with_an_unknown_flow_is_refused_with_the_field_named(tmp_path):
    data = json.loads(project_to_json(load_project(EXAMPLES / "lenet.json")))
    data["flow"] = "up"
    (tmp_path / "bad.json").write_text(json.dumps(data))
    with pytest.raises(ProjectError, match="flow"):
        load_project(tmp_path / "bad.json")


@pytest.mark.parametrize("example", ["lenet.json", "resnet18.json"])
def test_the_generated_code_is_the_same_in_either_flow(example):
    project = load_project(EXAMPLES / example)
    turned = project.model_copy(update={"flow": "right"}, deep=True)
    assert generate_source(turned) == generate_source(project)
