"""Blocks seen in place: a block instance opens as a dashed frame holding its body, with the
shapes of that very placement on its edges, the rest of the drawing making room; it closes
again; every instance, or every level down to N, opens at once; a double-click inside edits
the block in its tab, and the frame follows the edit. None of it touches the document or the
undo stack. Also: the destructive Expand Block for every instance at once, one undo step."""

from __future__ import annotations

import pytest
import torch
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtTest import QTest

from builder.gui.inline_frame import FrameItem, InnerNodeItem
from builder.gui.mainwindow import MainWindow
from builder.gui.project_document import block_key
from codegen import import_model
from graph_schema.document import Project
from graph_schema.files import project_to_json
from tests.gui.test_canvas_interactions import drag
from tests.gui.test_canvas_menu import entries, menu_at, node_center, trigger
from tests.gui.windows import open_window
from tests.import_models.densenet import DenseNet


def labels(frame: FrameItem) -> dict[tuple[str, str], str]:
    """The frame's inner edges, by node names (the border shows as the io node's name)."""
    nodes = frame.body.inference.nodes
    return {(nodes[e.source].name, nodes[e.target].name): e.label for e in frame.body.edges}


def inner_names(frame: FrameItem) -> set[str]:
    return {frame.body.inference.nodes[i].name for i in frame.inner}


def drawn_boxes(window: MainWindow) -> dict[str, QRectF]:
    """What a user sees on the canvas: every visible node's glyph and every open frame."""
    scene = window.current_view().canvas
    boxes = {f"frame {n}": QRectF(f.pos(), QRectF(0, 0, *f.body.size).size())
             for n, f in scene.inline.frames.items()}
    for node_id, item in scene.nodes.items():
        if item.isVisible():
            boxes[node_id] = QRectF(item.pos(), QRectF(0, 0, *item.size).size())
    return boxes


def overlaps(boxes: dict[str, QRectF]) -> list[tuple[str, str]]:
    names = sorted(boxes)
    return [(a, b) for i, a in enumerate(names) for b in names[i + 1:]
            if boxes[a].adjusted(1, 1, -1, -1).intersects(boxes[b])]


def frames_inside(frame: FrameItem) -> list[FrameItem]:
    found = [frame]
    for child in frame.frames.values():
        found += frames_inside(child)
    return found


def test_expand_in_place_and_collapse_leave_the_document_and_undo_alone(qtbot):
    window = open_window(qtbot, "resnet18.json")
    scene = window.current_view().canvas
    before, undo_count = project_to_json(window.doc.project), window.controller.undo_stack.count()
    positions = {n: QPointF(i.pos()) for n, i in scene.nodes.items()}
    assert "Expand in Place" in entries(menu_at(window, node_center(window, "l10"), "l10"))

    trigger(menu_at(window, node_center(window, "l10"), "l10"), "Expand in Place")

    frame = scene.inline.frames["l10"]
    assert frame.body.title == "layer1_0 · BasicBlock"
    assert inner_names(frame) == {"conv1", "bn1", "relu1", "conv2", "bn2", "residual", "relu2"}
    assert labels(frame)[("conv1", "bn1")] == "N×64×56×56"
    assert labels(frame)[("x", "conv1")] == ""  # the outer edge into the frame shows it
    assert not scene.nodes["l10"].isVisible()
    # The outer edges now meet the frame's border: in at its top, out at its bottom.
    frame_rect = QRectF(frame.pos(), QRectF(0, 0, *frame.body.size).size())
    incoming = scene.nodes["l10"].port_scene_pos("in", 0)
    outgoing = scene.nodes["l10"].port_scene_pos("out", 0)
    assert incoming.y() == frame_rect.top() and outgoing.y() == frame_rect.bottom()
    # What was below moved down to make room; nothing overlaps; the document did not move.
    assert scene.nodes["l11"].pos().y() > positions["l11"].y() + 400
    assert overlaps(drawn_boxes(window)) == []
    assert scene.positions_of(["l11"])["l11"] == window.doc.node(scene.key, "l11").position

    point = frame.inner[next(i for i in frame.inner
                             if frame.body.inference.nodes[i].name == "bn1")]
    menu = menu_at(window, point.sceneBoundingRect().center())
    assert entries(menu)[0] == "Edit bn1 in BasicBlock" and "Collapse layer1_0" in entries(menu)
    trigger(menu, "Collapse layer1_0")

    assert scene.inline.frames == {} and scene.nodes["l10"].isVisible()
    assert {n: i.pos() for n, i in scene.nodes.items()} == positions
    assert project_to_json(window.doc.project) == before
    assert window.controller.undo_stack.count() == undo_count
    assert window.controller.undo_stack.isClean()


def test_each_frame_shows_the_shapes_of_its_own_placement(qtbot):
    window = open_window(qtbot, "resnet18.json")
    scene = window.current_view().canvas
    trigger(menu_at(window, node_center(window, "l10"), "l10"), "Expand All BasicBlock in Place")

    assert set(scene.inline.frames) == {"l10", "l11", "l21", "l31", "l41"}
    widths = {n: labels(f)[("conv1", "bn1")] for n, f in scene.inline.frames.items()}
    assert widths == {"l10": "N×64×56×56", "l11": "N×64×56×56", "l21": "N×128×28×28",
                      "l31": "N×256×14×14", "l41": "N×512×7×7"}
    assert overlaps(drawn_boxes(window)) == []
    assert not any(scene.nodes[n].isVisible() for n in widths)


@pytest.fixture(scope="module")
def densenet() -> Project:
    """An imported model three blocks deep: blocks > DenseBlock > DenseLayer."""
    return import_model(DenseNet(), (torch.ones(1, 3, 8, 8),))


def view_action(window: MainWindow, text: str):
    menu = next(a.menu() for a in window.view_menu.actions()
                if a.menu() and a.menu().title().replace("&", "") == "Blocks in Place")
    return next(a for a in menu.actions() if a.text().replace("&", "") == text)


def test_expand_to_depth_opens_nested_blocks_of_an_imported_model(qtbot, densenet):
    window = open_window(qtbot, project=densenet)
    scene = window.current_view().canvas
    before = project_to_json(window.doc.project)

    view_action(window, "Expand 2 levels").trigger()

    (top,) = scene.inline.frames.values()
    assert top.body.block.name == "blocks"
    assert sorted(f.body.block.name for f in top.frames.values()) == [
        "DenseBlock", "DenseBlock", "Transition"]
    dense = [f for f in top.frames.values() if f.body.block.name == "DenseBlock"]
    # Blocks at depth 3 stay nodes; each DenseBlock gets its own placement's input width.
    assert all(inner_names(f) >= {"layers_0", "layers_1", "layers_2"} for f in dense)
    assert sorted(labels(f)[("cat", "layers_0")] for f in dense) == ["N×10×4×4", "N×8×8×8"]

    view_action(window, "Expand 3 levels").trigger()

    (top,) = scene.inline.frames.values()
    nested = frames_inside(top)
    dense = [f for f in nested if f.body.block.name == "DenseBlock"]
    assert [f.body.block.name for f in nested].count("DenseLayer") == 6
    assert all(not inner_names(f) & {"layers_0", "layers_1", "layers_2"} for f in dense)
    for frame in nested:  # every frame lies inside its parent, siblings apart
        for child in frame.frames.values():
            assert QRectF(0, 0, *frame.body.size).contains(
                QRectF(child.pos(), QRectF(0, 0, *child.body.size).size()))
        siblings = {n: QRectF(c.pos(), QRectF(0, 0, *c.body.size).size())
                    for n, c in frame.frames.items()}
        siblings |= {n: QRectF(i.pos(), QRectF(0, 0, *i.size).size())
                     for n, i in frame.inner.items()}
        assert overlaps(siblings) == []
    assert overlaps(drawn_boxes(window)) == []

    view_action(window, "Collapse All").trigger()
    assert scene.inline.frames == {}
    assert project_to_json(window.doc.project) == before
    assert window.controller.undo_stack.count() == 0


def inner_item(frame: FrameItem, name: str) -> InnerNodeItem:
    return next(i for i in frame.all_inner()
                if i.body.inference.nodes[i.node_id].name == name)


def test_a_double_click_inside_edits_the_block_and_the_frame_follows(qtbot):
    window = open_window(qtbot, "resnet18.json")
    network_view = window.current_view()
    scene = network_view.canvas
    scene.inline.open(("l10",))
    frame = scene.inline.frames["l10"]
    network_view.centerOn(inner_item(frame, "conv1").sceneBoundingRect().center())
    point = network_view.mapFromScene(inner_item(frame, "conv1").sceneBoundingRect().center())

    QTest.mouseDClick(network_view.viewport(), Qt.MouseButton.LeftButton, pos=point)

    assert window.current_key() == block_key("BasicBlock")
    block_view = window.current_view()
    assert block_view.canvas.selected_node_ids() == {"c1"}
    assert window.doc.node(network_view.canvas.key, "l10").type == "block:BasicBlock"

    with qtbot.waitSignal(scene.inline.changed):
        block_view.controller.set_param(block_key("BasicBlock"), "c1", "kernel_size", 5)

    frame = scene.inline.frames["l10"]
    assert labels(frame)[("conv1", "bn1")] == "N×64×54×54"  # 56 - 5 + 2 * 1 + 1
    assert inner_item(frame, "conv1").look.detail == "64 · k5"
    assert any(e.error for e in frame.body.edges if e.target == "add")  # 54 + 56 cannot add
    window.controller.undo_stack.undo()
    assert window.controller.undo_stack.count() == 1  # the edit; opening added nothing


def test_expand_all_instances_for_good_is_one_undo_step(qtbot):
    window = open_window(qtbot, "resnet18.json")
    scene, key = window.current_view().canvas, window.current_key()
    before = project_to_json(window.doc.project)

    trigger(menu_at(window, node_center(window, "l10"), "l10"), "Expand All BasicBlock Instances")

    graph = window.doc.graph(key)
    assert not [n for n in graph.nodes if n.block_name == "BasicBlock"]
    assert sum(n.type == "op.add" for n in graph.nodes) == 5  # one residual add each
    assert window.controller.undo_stack.count() == 1
    assert len(scene.nodes) == len(graph.nodes)

    window.controller.undo_stack.undo()

    assert project_to_json(window.doc.project) == before
    window.controller.undo_stack.redo()
    assert not [n for n in window.doc.graph(key).nodes if n.block_name == "BasicBlock"]


def test_a_node_dragged_beside_an_open_block_lands_where_it_was_dropped(qtbot):
    window = open_window(qtbot, "resnet18.json")
    view = window.current_view()
    scene, key = view.canvas, window.current_key()
    scene.inline.open(("l10",))
    before = window.doc.node(key, "l11").position
    item = scene.nodes["l11"]
    view.centerOn(item.sceneBoundingRect().center())
    start = view.mapFromScene(item.sceneBoundingRect().center())
    end = view.mapFromScene(item.sceneBoundingRect().center() + QPointF(80, 0))

    drag(view, start, end)

    moved = window.doc.node(key, "l11").position
    assert (moved.x - before.x, moved.y) == (80, before.y)  # the room made is not saved
    assert item.pos().y() > before.y + 400  # still drawn below the open block
    assert overlaps(drawn_boxes(window)) == []


def test_an_open_block_deleted_and_undone_opens_again(qtbot):
    window = open_window(qtbot, "resnet18.json")
    scene, key = window.current_view().canvas, window.current_key()
    scene.inline.open(("l10",))
    with qtbot.waitSignal(scene.inline.changed):
        window.controller.delete(key, {"l10"})
    assert scene.inline.frames == {} and "l10" not in scene.nodes
    assert scene.nodes["l11"].pos() == QPointF(window.doc.node(key, "l11").position.x,
                                               window.doc.node(key, "l11").position.y)
    with qtbot.waitSignal(scene.inline.changed):
        window.controller.undo_stack.undo()
    assert set(scene.inline.frames) == {"l10"} and not scene.nodes["l10"].isVisible()
    assert overlaps(drawn_boxes(window)) == []
