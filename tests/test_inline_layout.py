"""graph_schema/inline_layout.py: room for blocks drawn open, and which blocks depth N opens."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graph_schema import load_project
from graph_schema.inline_layout import inline_paths, make_room

ROOT = Path(__file__).resolve().parent.parent


def overlap(a, b) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and \
        b[1] < a[1] + a[3]


def drawn(boxes, room):
    return {k: room.frames.get(k) or (x + room.offsets[k][0], y + room.offsets[k][1], w, h)
            for k, (x, y, w, h) in boxes.items()}


@st.composite
def layouts(draw):
    """Boxes in distinct cells of a loose grid (so none overlap), some of them grown."""
    cells = draw(st.sets(st.tuples(st.integers(0, 5), st.integers(0, 6)), min_size=1,
                         max_size=14))
    boxes = {}
    for index, (column, row) in enumerate(sorted(cells)):
        width = draw(st.floats(40, 200))
        height = draw(st.floats(30, 90))
        boxes[f"n{index}"] = (column * 240.0 + draw(st.floats(0, 40)),
                              row * 130.0 + draw(st.floats(0, 40)), width, height)
    grown = {k: (draw(st.floats(20, 900)), draw(st.floats(20, 1500)))
             for k in boxes if draw(st.booleans())}
    return boxes, grown


@settings(max_examples=150, deadline=None)
@given(layouts(), st.sampled_from(["down", "right"]))
def test_nothing_overlaps_once_room_is_made(layout, flow):
    boxes, grown = layout
    room = make_room(boxes, grown, flow=flow, step=8.0, margin=4.0)
    placed = drawn(boxes, room)
    names = sorted(placed)
    assert [(a, b) for i, a in enumerate(names) for b in names[i + 1:]
            if overlap(placed[a], placed[b])] == []
    assert {k: b[2:] for k, b in room.frames.items()} == {k: tuple(s) for k, s in
                                                          grown.items()}


def test_a_frame_grows_down_and_to_both_sides_and_rows_move_as_one():
    boxes = {"above": (0, 0, 100, 50), "block": (0, 100, 100, 50), "beside": (200, 100, 100, 50),
             "below": (0, 200, 100, 50), "below_right": (200, 200, 100, 50)}
    room = make_room(boxes, {"block": (300, 450)})
    assert room.frames["block"] == (-100, 100, 300, 450)
    assert room.offsets == {"above": (0, 0), "block": (0, 0), "beside": (100, 0),
                            "below": (0, 400), "below_right": (100, 400)}
    right = make_room(boxes, {"block": (300, 450)}, flow="right")
    assert right.frames["block"] == (0, -100, 300, 450)
    assert right.offsets["beside"] == (200, 0)  # grew 200 along the flow
    assert make_room(boxes, {}).offsets == {k: (0, 0) for k in boxes}


def test_bad_input_is_a_clear_error():
    with pytest.raises(ValueError, match="flow must be one of"):
        make_room({"a": (0, 0, 1, 1)}, {}, flow="up")
    with pytest.raises(ValueError, match="have no box"):
        make_room({"a": (0, 0, 1, 1)}, {"b": (3, 3)})


def test_depth_opens_nested_blocks_level_by_level():
    project = load_project(ROOT / "examples" / "resnet50.json")
    network = project.networks[0]
    one = inline_paths(project, network, 1)
    names = {network.node(node_id).name for (node_id,) in one}
    assert names == {"layer1", "layer2", "layer3", "layer4"}
    two = inline_paths(project, network, 2)
    assert one < two and {len(p) for p in two} == {1, 2}
    three = inline_paths(project, network, 3)
    assert {len(p) for p in three} == {1, 2, 3}  # Layer > BottleneckDownsample > Downsample
    assert inline_paths(project, network, 9) == three
    assert inline_paths(project, network, 0) == set()
