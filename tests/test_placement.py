"""graph_schema.placement: new nodes land on no other node, preferring the flow direction."""

from __future__ import annotations

import random

import pytest

from graph_schema.document import Edge, Position
from graph_schema.edit_rules import plan_insert
from graph_schema.inference import Inference
from graph_schema.placement import (
    LANDS_ON,
    RANK_GAP,
    ROOMY,
    after,
    before,
    clashes,
    free_offset,
    free_position,
    room_for_insert,
)
from tests.graphs import chain_edges, node, project

NODE = (0.0, 0.0, 160.0, 56.0)


def box_at(x: float, y: float, w: float = 160.0, h: float = 56.0):
    return (x, y, w, h)


def test_a_free_wish_is_granted_as_it_is():
    assert free_position([box_at(0, 0)], box_at(0, 200)) == (0, 200)


def test_a_box_on_another_goes_down_past_it_in_a_downward_flow():
    x, y = free_position([box_at(0, 0)], box_at(0, 0))
    assert x == 0 and y >= 56 + LANDS_ON[1]
    assert not clashes((x, y, 160, 56), box_at(0, 0))


def test_a_box_on_another_goes_right_past_it_in_a_rightward_flow():
    square = box_at(0, 0, 56, 56)  # as near below as to the right: the flow decides
    x, y = free_position([square], square, flow="right")
    assert y == 0 and x >= 56 + LANDS_ON[0]
    assert free_position([square], square, flow="down") == (0, 56 + LANDS_ON[1])


def test_a_taken_row_below_sends_it_beside_rather_than_far_down():
    # A column of ten nodes: going down past all of them costs more than stepping aside.
    column = [box_at(0, i * 80) for i in range(10)]
    x, y = free_position(column, box_at(0, 80))
    assert y == 80 and x > 160
    assert not any(clashes((x, y, 160, 56), b) for b in column)


def test_it_never_moves_back_up_when_down_is_as_near():
    x, y = free_position([box_at(0, 100)], box_at(0, 90, 160, 20))
    assert y > 90 and x == 0


def test_found_places_stay_on_the_grid():
    x, y = free_position([box_at(3, 5, 101, 37)], box_at(0, 0, 90, 30))
    assert x % 8 == 0 and y % 8 == 0


def test_random_crowds_never_get_an_overlap():
    rng = random.Random(15)
    for _ in range(40):
        boxes = [box_at(rng.randrange(0, 800, 8), rng.randrange(0, 800, 8),
                        rng.randrange(40, 200, 8), rng.randrange(30, 90, 8)) for _ in range(30)]
        wanted = box_at(rng.randrange(0, 800, 8), rng.randrange(0, 800, 8))
        for flow in ("down", "right"):
            x, y = free_position(boxes, wanted, flow)
            assert not any(clashes((x, y, wanted[2], wanted[3]), b) for b in boxes)


def test_a_group_moves_as_one():
    group = [box_at(0, 0), box_at(0, 120)]
    dx, dy = free_offset([box_at(0, 130)], group)
    placed = [(g[0] + dx, g[1] + dy, g[2], g[3]) for g in group]
    assert not any(clashes(p, box_at(0, 130)) for p in placed)


def test_after_and_before_are_a_row_away_centred():
    assert after(NODE, (80, 40)) == (40, 56 + RANK_GAP, 80, 40)
    assert after(NODE, (80, 40), flow="right") == (160 + RANK_GAP, 8, 80, 40)
    assert before(NODE, (80, 40))[1] == -RANK_GAP - 40


def test_an_unknown_flow_is_refused_with_a_message():
    with pytest.raises(ValueError, match="unknown flow 'up'"):
        free_position([], NODE, flow="up")


# -- making room for an inserted node -------------------------------------------------------
def chain(count: int, step: float = 120.0) -> dict[str, tuple]:
    return {f"n{i}": box_at(0, i * step) for i in range(count)}


def placed(boxes, new_at, size, moves):
    after_move = {n: (b[0] + moves.get(n, (0, 0))[0], b[1] + moves.get(n, (0, 0))[1],
                      b[2], b[3]) for n, b in boxes.items()}
    return after_move, (new_at[0], new_at[1], size[0], size[1])


def assert_no_overlap(boxes: dict, new_box):
    everything = [*boxes.values(), new_box]
    for i, a in enumerate(everything):
        for b in everything[i + 1:]:
            assert not clashes(a, b), (a, b)


def test_an_insert_into_a_chain_pushes_what_is_below_by_the_new_node_and_a_row():
    boxes = chain(4)
    at, moves = room_for_insert(boxes, "n1", "n2", {"n3"}, (160, 90))
    assert at == (0, 120 + 56 + RANK_GAP)
    assert set(moves) == {"n2", "n3"}
    after_move, new_box = placed(boxes, at, (160, 90), moves)
    assert after_move["n2"][1] >= new_box[1] + new_box[3] + RANK_GAP
    assert_no_overlap(after_move, new_box)


def test_an_insert_where_there_is_room_moves_nothing():
    boxes = {"a": box_at(0, 0), "b": box_at(0, 400)}
    at, moves = room_for_insert(boxes, "a", "b", set(), (160, 56))
    assert moves == {} and at == (0, 56 + RANK_GAP)


def test_the_pushed_nodes_never_land_on_a_node_that_stays():
    # The output below the target sits where a side node (not downstream) already is
    # a row further down: pushing it must go past the side node.
    boxes = {"a": box_at(0, 0), "t": box_at(0, 120), "out": box_at(0, 240),
             "side": box_at(40, 330)}
    at, moves = room_for_insert(boxes, "a", "t", {"out"}, (160, 56))
    after_move, new_box = placed(boxes, at, (160, 56), moves)
    assert_no_overlap(after_move, new_box)
    assert "side" not in moves


def test_the_new_node_goes_under_its_source_beside_what_is_there():
    # A merge fed from two columns: a layer put into the right-hand edge goes under the
    # right-hand source, not over the left-hand edge where the merge is.
    boxes = {"left": box_at(-120, 120), "right": box_at(120, 120),
             "merge": box_at(0, 240, 40, 40)}
    at, moves = room_for_insert(boxes, "right", "merge", set(), (120, 56))
    assert abs(at[0] + 60 - (120 + 80)) <= 4  # centred under "right", on the grid
    after_move, new_box = placed(boxes, at, (120, 56), moves)
    assert_no_overlap(after_move, new_box)


def test_an_insert_in_a_rightward_flow_pushes_right():
    boxes = {"a": box_at(0, 0), "b": box_at(200, 0)}
    at, moves = room_for_insert(boxes, "a", "b", set(), (160, 56), flow="right")
    assert at == (160 + RANK_GAP, 0)
    assert moves["b"][1] == 0 and moves["b"][0] > 0
    after_move, new_box = placed(boxes, at, (160, 56), moves)
    assert_no_overlap(after_move, new_box)


def test_an_overlap_that_was_there_before_is_no_reason_to_push_further():
    boxes = {"a": box_at(0, 0), "t": box_at(0, 400), "old": box_at(8, 408)}
    _, moves = room_for_insert(boxes, "a", "t", set(), (160, 56))
    assert moves == {}


def test_roomy_gaps_are_the_layouts():
    assert ROOMY == (40.0, 56.0)


# -- the insert plan with real sizes (graph_schema.edit_rules.plan_insert) --------------------
def test_the_insert_plan_makes_room_with_the_sizes_it_is_given():
    nodes = [node("x", "io.Input", "x", shape=["N", 3, 8, 8]),
             node("conv", "nn.Conv2d", "conv", out_channels=4, kernel_size=3),
             node("flat", "nn.Flatten", "flat"), node("y", "io.Output", "y"),
             node("side", "io.Input", "side", shape=["N", 2])]
    for index, n in enumerate(nodes[:4]):
        n.position = Position(x=0, y=index * 120)
    nodes[4].position = Position(x=48, y=440)  # just below where y would be pushed to
    proj = project(nodes, chain_edges("x", "conv", "flat", "y"))
    network = proj.networks[0]
    sizes = {n.id: (160.0, 56.0) for n in network.nodes}
    edge = Edge(source="conv", target="flat")
    plan = plan_insert(network, Inference(network, proj), edge, "nn.ReLU",
                       sizes=sizes, new_size=(160.0, 90.0))
    assert plan.node.position == Position(x=0, y=120 + 56 + RANK_GAP)
    assert set(plan.moved_to) == {"flat", "y"}  # "side" stays where it was
    boxes = {n.id: (plan.moved_to.get(n.id, n.position).x, plan.moved_to.get(n.id, n.position).y,
                    *sizes[n.id]) for n in network.nodes}
    assert_no_overlap(boxes, (plan.node.position.x, plan.node.position.y, 160.0, 90.0))
    assert boxes["flat"][1] >= plan.node.position.y + 90 + RANK_GAP


def test_the_insert_plan_without_sizes_keeps_its_old_step():
    nodes = [node("x", "io.Input", "x", shape=["N", 4]), node("y", "io.Output", "y")]
    nodes[1].position = Position(x=0, y=100)
    proj = project(nodes, chain_edges("x", "y"))
    network = proj.networks[0]
    plan = plan_insert(network, Inference(network, proj), Edge(source="x", target="y"),
                       "nn.ReLU", step=50)
    assert plan.node.position == Position(x=0, y=100)
    assert plan.moved_to == {"y": Position(x=0, y=150)}
    with pytest.raises(ValueError, match="needs the node sizes or a step"):
        plan_insert(network, Inference(network, proj), Edge(source="x", target="y"), "nn.ReLU")
