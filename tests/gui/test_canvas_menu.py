"""The canvas's context menu: right-click a node, a connection or empty canvas, and every
entry does what it says (each action is triggered as a click on it would). Entries are read as
shown, without the "&" of a mnemonic (the shared actions have the window menus' mnemonics)."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QContextMenuEvent, QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from builder.gui import edit_actions
from builder.gui.mainwindow import MainWindow
from builder.gui.palette import TYPE_ROLE
from builder.gui.project_document import block_key
from graph_schema.document import Edge
from graph_schema.files import project_to_json
from tests.gui.windows import open_window


def menu_at(window: MainWindow, scene_pos: QPointF, node_id: str | None = None):
    return window.canvas_menu.context_menu(window.current_view(), scene_pos, node_id)


def entries(menu) -> list[str]:
    return [shown(a) for a in menu.actions() if a.text()]


def shown(action) -> str:
    return action.text().replace("&", "")


def trigger(menu, text: str) -> None:
    (action,) = [a for a in menu.actions() if shown(a) == text]
    assert action.isEnabled()
    action.trigger()


def node_center(window: MainWindow, node_id: str) -> QPointF:
    return window.current_view().canvas.nodes[node_id].sceneBoundingRect().center()


def edge_middle(window: MainWindow, source: str, target: str) -> QPointF:
    """An edge is a symmetric S-curve: its middle is halfway between its ends."""
    nodes = window.current_view().canvas.nodes
    start = nodes[source].port_scene_pos("out", 0)
    end = nodes[target].port_scene_pos("in", 0)
    return (start + end) / 2


def test_a_right_click_on_a_node_shows_its_menu(qtbot):
    window = open_window(qtbot, "resnet18.json")
    view = window.current_view()
    local = view.mapFromScene(node_center(window, "l10"))
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, local,
                              view.viewport().mapToGlobal(local))
    QApplication.sendEvent(view.viewport(), event)
    menu = window.canvas_menu.shown_menu
    assert menu is not None and menu.isVisible()
    assert entries(menu)[:2] == ["Open Block BasicBlock", "Expand Block"]
    assert view.canvas.selected_node_ids() == {"l10"}
    menu.hide()


def test_block_instance_entries_open_and_expand(qtbot):
    window = open_window(qtbot, "resnet18.json")
    network = window.current_key()
    point = node_center(window, "l10")
    assert entries(menu_at(window, point, "l10")) == [
        "Open Block BasicBlock", "Expand Block", "Expand All BasicBlock Instances",
        "Expand in Place", "Expand All BasicBlock in Place", "Group into Block…", "Duplicate",
        "Copy", "Cut", "Delete", "Rename…"]
    trigger(menu_at(window, point, "l10"), "Open Block BasicBlock")
    assert window.current_key() == block_key("BasicBlock")
    window.tabs.open_graph(network)
    trigger(menu_at(window, point, "l10"), "Expand Block")
    assert "l10" not in window.current_view().canvas.nodes
    assert len(window.current_view().canvas.selected_node_ids()) == 7


def test_apply_fix_from_the_menu(qtbot):
    window = open_window(qtbot, "broken/wrong_in_channels.json")
    (diagnostic,) = window.doc.diagnostics()
    menu = menu_at(window, node_center(window, diagnostic.node_id), diagnostic.node_id)
    trigger(menu, "Apply Fix: set in_channels=6")
    assert window.doc.diagnostics() == []
    assert window.controller.undo_stack.count() == 1


def test_node_entries_copy_cut_duplicate_delete_rename_and_group(qtbot, monkeypatch):
    window = open_window(qtbot, "lenet.json")
    key, scene = window.current_key(), window.current_view().canvas
    graph = window.doc.graph(key)
    point = node_center(window, "n4")

    scene.select_nodes(["n4"])
    trigger(menu_at(window, point, "n4"), "Copy")
    assert '"name": "c3"' in QGuiApplication.clipboard().text()
    trigger(menu_at(window, point, "n4"), "Duplicate")
    assert len(graph.nodes) == 15 and scene.selected_node_ids() != {"n4"}

    monkeypatch.setattr(edit_actions, "ask_text", lambda *args: "conv3")
    scene.select_nodes(["n4"])
    trigger(menu_at(window, point, "n4"), "Rename…")
    assert window.doc.node(key, "n4").name == "conv3"

    monkeypatch.setattr(edit_actions, "ask_text", lambda *args: "ConvTanh")
    scene.select_nodes(["n4", "n5"])
    trigger(menu_at(window, point, "n4"), "Group into Block…")
    assert window.doc.project.block("ConvTanh") is not None
    (instance,) = scene.selected_node_ids()
    trigger(menu_at(window, node_center(window, instance), instance), "Cut")
    assert instance not in scene.nodes
    assert "block:ConvTanh" in QGuiApplication.clipboard().text()

    scene.select_nodes(["n1"])
    trigger(menu_at(window, node_center(window, "n1"), "n1"), "Delete")
    assert window.doc.graph(key).node("n1") is None
    assert window.controller.undo_stack.count() == 5


def test_connection_entries_delete_and_insert_a_layer(qtbot):
    window = open_window(qtbot, "lenet.json")
    key = window.current_key()
    before = project_to_json(window.doc.project)
    point = edge_middle(window, "n3", "n4")
    menu = menu_at(window, point)
    assert entries(menu) == ["Delete Connection", "Insert Layer…"]

    trigger(menu, "Insert Layer…")
    popup = window.canvas_menu.edge_quick_add
    assert popup.isVisible()
    QTest.keyClicks(popup.edit, "batchnorm2d")
    chosen = popup.list.currentItem().data(TYPE_ROLE)
    QTest.keyClick(popup.edit, Qt.Key.Key_Return)

    assert chosen == "nn.BatchNorm2d" and not popup.isVisible()
    (new,) = window.current_view().canvas.selected_node_ids()
    edges = window.doc.graph(key).edges
    assert Edge(source="n3", target=new) in edges and Edge(source=new, target="n4") in edges
    assert window.doc.analysis(key).inference.states[new].params["num_features"] == 6
    assert window.doc.node(key, "n4").position.y > window.doc.node(key, new).position.y
    window.controller.undo_stack.undo()
    assert project_to_json(window.doc.project) == before

    trigger(menu_at(window, edge_middle(window, "n3", "n4")), "Delete Connection")
    assert Edge(source="n3", target="n4") not in window.doc.graph(key).edges


def test_empty_canvas_entries(qtbot):
    window = open_window(qtbot, "lenet.json")
    key, view = window.current_key(), window.current_view()
    empty = QPointF(904, 304)  # on the canvas grid
    assert view.canvas.node_item_at(empty) is None
    assert entries(menu_at(window, empty)) == ["Add Layer…", "Paste", "Auto Layout",
                                              "Fit to Window"]
    trigger(menu_at(window, empty), "Add Layer…")
    assert window.quick_add.isVisible()
    window.quick_add.hide()

    view.canvas.select_nodes(["n1"])
    window.structure.copy()
    trigger(menu_at(window, empty), "Paste")
    (pasted,) = view.canvas.selected_node_ids()
    position = window.doc.node(key, pasted).position
    assert (position.x, position.y) == (empty.x(), empty.y())

    trigger(menu_at(window, empty), "Auto Layout")
    assert window.controller.undo_stack.undoText() == "Auto layout"
    view.zoom_by(3.0)
    trigger(menu_at(window, QPointF(-3000, -3000)), "Fit to Window")
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    assert visible.contains(view.canvas.itemsBoundingRect())
