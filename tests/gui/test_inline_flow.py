"""Blocks seen in place in a drawing that flows left to right: the frame's border ports are on
its left and right sides, where the collapsed node's were, and its body reads left to right
too (laid out, routed and centred in that flow); turning the flow turns open frames with it,
and `render --flow right --depth N` draws the same."""

from __future__ import annotations

import subprocess
import sys

from PIL import Image
from PySide6.QtCore import QRectF

from builder.gui.flow_action import set_flow
from builder.gui.inline_frame import FrameItem
from graph_schema.route_check import label_overlaps, route_crossings
from tests.gui.test_inline_blocks import drawn_boxes, overlaps
from tests.gui.windows import open_window


def inner_problems(frame: FrameItem) -> tuple[list, list]:
    """Inner edges through inner boxes they do not belong to, labels on boxes or labels."""
    body = frame.body
    boxes = {n: (*body.positions[n], *body.children[n].size) if n in body.children else
             (*body.positions[n], *frame.inner[n].size) for n in body.positions}
    ends = {i: (e.source, e.target) for i, e in enumerate(body.edges)}
    paths = {i: e.points for i, e in enumerate(body.edges)}
    labels = {i: e.label_box for i, e in enumerate(body.edges) if e.label_box}
    return route_crossings(boxes, ends, paths), label_overlaps(boxes, labels)


def centre_x(frame: FrameItem, name: str) -> float:
    node = next(i for i, n in frame.body.inference.nodes.items() if n.name == name)
    return frame.body.positions[node][0] + frame.inner[node].size[0] / 2


def test_a_frame_in_a_rightward_drawing_has_side_ports_and_a_rightward_body(qtbot):
    window = open_window(qtbot, "resnet18.json")
    set_flow(window.controller, "right")
    scene = window.current_view().canvas
    scene.inline.open(("l10",))
    frame = scene.inline.frames["l10"]

    assert frame.body.flow == "right"
    rect = QRectF(frame.pos(), QRectF(0, 0, *frame.body.size).size())
    incoming = scene.nodes["l10"].port_scene_pos("in", 0)
    outgoing = scene.nodes["l10"].port_scene_pos("out", 0)
    assert incoming.x() == rect.left() and outgoing.x() == rect.right()
    assert abs(incoming.y() - rect.center().y()) < 1 and abs(outgoing.y() - incoming.y()) < 1
    # The body runs left to right, and every inner edge leaves the border going right.
    assert centre_x(frame, "conv1") < centre_x(frame, "bn1") < centre_x(frame, "conv2") \
        < centre_x(frame, "relu2")
    for edge in frame.body.edges:
        (ax, ay), (bx, by) = edge.points[:2]
        assert ay == by and bx > ax, (edge.source, edge.points)
    assert inner_problems(frame) == ([], [])
    assert overlaps(drawn_boxes(window)) == []


def test_turning_the_flow_turns_the_open_frames(qtbot):
    window = open_window(qtbot, "resnet18.json")
    scene = window.current_view().canvas
    scene.inline.open_to_depth(2)
    assert {f.body.flow for f in scene.inline.frames.values()} == {"down"}
    with qtbot.waitSignal(scene.inline.changed, timeout=10_000):
        set_flow(window.controller, "right")
    frames = scene.inline.frames
    assert frames and {f.body.flow for f in frames.values()} == {"right"}
    nested = [child for f in frames.values() for child in f.frames.values()]
    assert all(child.body.flow == "right" for child in nested)
    for frame in frames.values():
        assert inner_problems(frame) == ([], [])
    assert overlaps(drawn_boxes(window)) == []
    window.controller.undo_stack.undo()  # back down: the frames follow
    qtbot.waitUntil(lambda: {f.body.flow for f in scene.inline.frames.values()} == {"down"})


def test_render_right_with_blocks_open_draws_them_left_to_right(tmp_path):
    sizes = {}
    for flow, depth in (("down", 1), ("right", 1), ("right", 0)):
        path = tmp_path / f"{flow}-{depth}.png"
        done = subprocess.run([sys.executable, "-m", "builder", "render",
                               "examples/resnet18.json", "-o", str(path), "--depth", str(depth),
                               "--flow", flow], capture_output=True, text=True, timeout=180)
        assert done.returncode == 0, done.stderr
        sizes[flow, depth] = Image.open(path).size
    (down_w, down_h), (right_w, right_h) = sizes["down", 1], sizes["right", 1]
    assert down_h > 3 * down_w and right_w > 3 * right_h  # tall one way, wide the other
    # The open blocks' bodies run along the row too: a frame is not a column standing in it.
    assert right_h < 3 * sizes["right", 0][1]
