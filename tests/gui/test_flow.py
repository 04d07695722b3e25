"""View > Flow: a real window turns its drawings left to right in one undo step, the ports
move to the sides, the file keeps the choice, and ``render --flow`` draws the same way."""

from __future__ import annotations

import math

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QImage
from PySide6.QtTest import QTest

from builder.cli import main
from builder.gui.glyphs import (
    PORT_GAP,
    PORT_RADIUS,
    NodeLook,
    badge_rect,
    merge_diameter,
    node_size,
    port_position,
)
from builder.gui.mainwindow import MainWindow
from builder.gui.project_document import block_key
from graph_schema.files import project_to_json
from tests.gui.windows import ROOT, open_window


def scene_of(window: MainWindow, key=None):
    key = key or window.current_key()
    return window.tabs.open_graph(key, focus=False).canvas


def turn(qtbot, window: MainWindow, flow: str) -> None:
    action = window.flow_actions.actions[flow]
    assert action in window.view_menu.actions()
    with qtbot.waitSignal(window.doc.flow_changed):
        action.trigger()  # what a click on the menu entry does


def edge_ends(scene):
    for item in scene.edges.values():
        yield (item.source, item.source.port_scene_pos("out", item.source_port),
               item.target, item.target.port_scene_pos("in", item.target_port))


def ports_on_the_sides(scene) -> list[str]:
    """Edges whose output port is not on its node's right side, or whose input port is not
    on its target's left side (a merge's ports on the left and right halves of its circle),
    or that run right to left."""
    wrong = []
    for source, start, target, end in edge_ends(scene):
        if source.look.is_merge:
            on_side = start.x() > source.x() + merge_diameter(source.look) / 2
        else:
            on_side = start.x() == source.x() + source.size[0]
        if not on_side:
            wrong.append(f"{source.node_id}: output at {start}")
        if target.look.is_merge:
            on_side = end.x() < target.x() + merge_diameter(target.look) / 2
        else:
            on_side = end.x() == target.x()
        if not on_side:
            wrong.append(f"{target.node_id}: input at {end}")
        if not start.x() < end.x():
            wrong.append(f"{source.node_id} -> {target.node_id} runs leftwards")
    return wrong


def ports_on_top_and_bottom(scene) -> list[str]:
    return [f"{s.node_id} -> {t.node_id}" for s, start, t, end in edge_ends(scene)
            if not (start.y() > s.y() + s.size[1] / 2 and end.y() < t.y() + t.size[1] / 2
                    and start.y() < end.y())]


def test_left_to_right_turns_every_graph_in_one_undo_step(qtbot):
    window = open_window(qtbot, "resnet18.json", active=True)
    doc, stack = window.doc, window.controller.undo_stack
    keys = doc.graph_keys()
    assert block_key("BasicBlock") in keys
    before = project_to_json(doc.project)
    assert window.flow_actions.actions["down"].isChecked()

    turn(qtbot, window, "right")

    assert doc.project.flow == "right"
    assert window.flow_actions.actions["right"].isChecked()
    assert not window.flow_actions.actions["down"].isChecked()
    assert stack.count() == 1 and stack.undoText() == "Flow: Left to Right"
    for key in keys:  # the open tab and the blocks' tabs, opened now, alike
        scene = scene_of(window, key)
        assert ports_on_the_sides(scene) == [], key
        drawing = scene.itemsBoundingRect()
        assert drawing.width() > drawing.height(), key
    assert window.statusBar().currentMessage().startswith("Drawn left to right")
    view = window.current_view()
    drawing = view.canvas.itemsBoundingRect()
    qtbot.waitUntil(lambda: view.mapToScene(view.viewport().rect()).boundingRect()
                    .contains(drawing))  # the whole turned drawing is in sight

    view.setFocus()
    QTest.keyClick(view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)

    assert project_to_json(doc.project) == before  # every position and the flow
    assert window.flow_actions.actions["down"].isChecked()
    for key in keys:
        assert ports_on_top_and_bottom(scene_of(window, key)) == [], key

    QTest.keyClick(view, Qt.Key.Key_Z,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert doc.project.flow == "right" and ports_on_the_sides(scene_of(window)) == []


def test_choosing_the_flow_the_project_has_changes_nothing(qtbot):
    window = open_window(qtbot, "lenet.json")
    window.flow_actions.actions["down"].trigger()
    assert window.controller.undo_stack.count() == 0
    assert window.flow_actions.actions["down"].isChecked()


def test_a_merge_takes_its_inputs_on_the_left_apart_and_its_name_below(qtbot):
    window = open_window(qtbot, "resnet18.json")
    turn(qtbot, window, "right")
    scene = scene_of(window, block_key("BasicBlock"))
    add = next(item for item in scene.nodes.values() if item.look.is_merge)
    assert add.look.inputs == 2
    first, second = (add.port_scene_pos("in", i) for i in range(2))
    assert first.y() < second.y()  # input 0 on top, where the layout put its source
    assert math.dist((first.x(), first.y()), (second.x(), second.y())) >= PORT_GAP
    assert add.size[1] > merge_diameter(add.look)  # room for the name under the circle
    # Dragging from where the port now is starts a connection from that port; where it was
    # (the top of the circle) there is none.
    assert add.port_at(second) == ("in", 1)
    top = add.mapToScene(QPointF(merge_diameter(add.look) / 2, 0))
    assert add.port_at(top) is None


@pytest.mark.parametrize("flow", ["down", "right"])
def test_a_merges_ports_are_apart_on_their_own_side_and_clear_of_the_badge(qapp, flow):
    diameters = []
    for count in range(1, 10):
        look = NodeLook("cat_1", "cat", "", "merge", count, 1, operator="‖", severity="error")
        size = node_size(look, flow)
        radius = merge_diameter(look) / 2
        diameters.append(2 * radius)
        ports = [port_position(look, size, "in", i, flow) for i in range(count)]
        for a, b in zip(ports, ports[1:]):
            assert math.dist((a.x(), a.y()), (b.x(), b.y())) >= PORT_GAP - 1e-9
        badge = badge_rect(look, size)
        for port in [*ports, port_position(look, size, "out", 0, flow)]:
            ring = badge.adjusted(-PORT_RADIUS, -PORT_RADIUS, PORT_RADIUS, PORT_RADIUS)
            reach = math.dist((port.x(), port.y()), (badge.center().x(), badge.center().y()))
            assert reach >= ring.width() / 2, (count, port)
            assert math.dist((port.x(), port.y()), (radius, radius)) == pytest.approx(radius)
        across = [p.y() if flow == "down" else p.x() for p in ports]
        assert all(value < radius for value in across)  # inputs on the input half
        along = [p.x() if flow == "down" else p.y() for p in ports]
        assert along == sorted(along)  # input 0 first, left or top
    assert diameters == sorted(diameters) and diameters[-1] > diameters[0]


def test_a_box_with_many_ports_on_one_side_grows_to_keep_them_apart(qapp):
    look = NodeLook("split", "chunk", "chunks 6", "op", 1, 6)
    for flow in ("down", "right"):
        size = node_size(look, flow)
        ports = [port_position(look, size, "out", i, flow) for i in range(6)]
        assert all(math.dist((a.x(), a.y()), (b.x(), b.y())) >= PORT_GAP
                   for a, b in zip(ports, ports[1:])), flow
        assert all((p.x() == size[0]) if flow == "right" else (p.y() == size[1])
                   for p in ports)


def test_the_flow_survives_saving_and_opening(qtbot, tmp_path):
    window = open_window(qtbot, "lenet.json")
    turn(qtbot, window, "right")
    path = tmp_path / "lenet_right.json"
    assert window.files.save_to(path)
    window.files.new()
    assert window.doc.project.flow == "down"

    assert window.files.open_path(path)

    assert window.doc.project.flow == "right"
    assert window.flow_actions.actions["right"].isChecked()
    assert ports_on_the_sides(scene_of(window)) == []


def image_size(path) -> tuple[int, int]:
    image = QImage(str(path))
    assert not image.isNull()
    return image.width(), image.height()


def test_render_flow_right_draws_lenet_wider_than_tall(capsys, qapp, tmp_path):
    lenet = ROOT / "examples" / "lenet.json"
    before = lenet.read_bytes()
    assert main(["render", str(lenet), "-o", str(tmp_path / "down.png")]) == 0
    assert main(["render", str(lenet), "-o", str(tmp_path / "right.png"), "--flow",
                 "right"]) == 0
    assert main(["render", str(lenet), "-o", str(tmp_path / "laid.png"), "--flow", "right",
                 "--layout"]) == 0
    capsys.readouterr()
    width, height = image_size(tmp_path / "down.png")
    assert height > width
    for name in ("right.png", "laid.png"):
        width, height = image_size(tmp_path / name)
        assert width > 3 * height, name
    assert lenet.read_bytes() == before  # the file keeps its own flow


def test_render_refuses_an_unknown_flow(capsys, qapp, tmp_path):
    lenet = ROOT / "examples" / "lenet.json"
    try:
        code = main(["render", str(lenet), "-o", str(tmp_path / "x.png"), "--flow", "up"])
    except SystemExit as stop:
        code = stop.code
    assert code == 2
    assert "invalid choice: 'up'" in capsys.readouterr().err
