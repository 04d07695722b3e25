"""A block kept as source opens in the app like any block, as its recorded view: read-only,
with zoom and fit, and nothing done while its tab is current changes the project."""

from __future__ import annotations

import pytest
import torch
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QContextMenuEvent, QDragEnterEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from torch import nn

from builder.gui.block_edits import rename_block
from builder.gui.kept_block_tab import KeptBlockView
from builder.gui.kept_view_scene import KeptViewScene, no_view_text
from builder.gui.mainwindow import MainWindow
from builder.gui.project_document import block_key
from builder.gui.theme import theme_named
from builder.gui.view import CanvasView, layer_mime
from codegen.importer import import_model_with_report
from graph_schema.document import Project
from graph_schema.files import project_to_json
from tests.gui.windows import open_window
from tests.kept_blocks import kept_block, placed_gate

READ_ONLY = "kept as source and its tab is read-only"


class Gate(nn.Module):
    """Branches on a value: it cannot be traced, so import keeps its source."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.act = nn.ReLU()

    def forward(self, x):
        if x.sum() > 0:
            return self.act(self.fc(x)) + x
        return -x


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.gate = Gate()
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        return self.head(self.gate(x))


@pytest.fixture(scope="module")
def imported() -> Project:
    """Net as import draws it: Gate kept as source, with the positive branch recorded."""
    project = import_model_with_report(Net(), (torch.ones(2, 8),)).project
    gate = project.block("Gate")
    assert gate.opaque is not None and gate.opaque.view is not None
    return project


def gate_instance(window: MainWindow) -> str:
    key = window.current_key()
    return next(n.id for n in window.doc.graph(key).nodes if n.type == "block:Gate")


def open_by_double_click(qtbot, window: MainWindow) -> KeptBlockView:
    view = window.current_view()
    item = view.canvas.nodes[gate_instance(window)]
    view.centerOn(item)
    point = view.mapFromScene(item.sceneBoundingRect().center())
    QTest.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    qtbot.waitUntil(lambda: isinstance(window.current_view(), KeptBlockView))
    return window.current_view()


def open_from_the_network_menu(window: MainWindow, name: str) -> CanvasView:
    menu = window.structure.open_block_menu
    menu.aboutToShow.emit()
    next(a for a in menu.actions() if a.text() == name).trigger()
    return window.current_view()


def view_action(window: MainWindow, text: str):
    return next(a for a in window.view_menu.actions() if a.text() == text)


def test_double_click_on_a_kept_block_opens_its_recorded_view(qtbot, imported):
    window = open_window(qtbot, project=imported.model_copy(deep=True))

    view = open_by_double_click(qtbot, window)

    scene = view.canvas
    recorded = window.doc.project.block("Gate").opaque.view
    assert isinstance(scene, KeptViewScene) and window.current_key() == block_key("Gate")
    assert set(scene.nodes) == {node.id for node in recorded.nodes}
    names = {item.look.name for item in scene.nodes.values()}
    assert {"fc", "act"} <= names  # the submodules the positive branch called
    assert "kept as source, read-only" in scene.title.text()
    assert window.tabs.tabText(window.tabs.currentIndex()) == "▣ Gate (read-only)"
    assert not any(item.flags() & item.GraphicsItemFlag.ItemIsMovable
                   for item in scene.nodes.values())
    # The whole view is on screen, and it zooms and fits like a canvas.
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    assert visible.contains(scene.itemsBoundingRect())
    view_action(window, "&Fit to Window").trigger()
    fitted = view.zoom()
    view_action(window, "Zoom &In").trigger()
    assert view.zoom() > fitted
    view_action(window, "&Fit to Window").trigger()
    assert view.zoom() == pytest.approx(fitted)
    # Its context menu offers the view's entries only: nothing there could edit.
    point = view.viewport().rect().center()
    view.contextMenuEvent(QContextMenuEvent(QContextMenuEvent.Reason.Mouse, point,
                                            view.viewport().mapToGlobal(point)))
    menu = view.shown_menu
    assert [a.text() for a in menu.actions()] == ["Fit to Window", "Actual Size"]
    menu.actions()[1].trigger()
    menu.close()
    assert view.zoom() == pytest.approx(1.0)


def drop_a_layer(view: KeptBlockView, type_name: str) -> bool:
    """Deliver a layer's drag data to the view as the palette's drag would; whether the view
    would take it."""
    mime = layer_mime(type_name)  # kept alive here: the events do not own it
    actions, point = Qt.DropAction.CopyAction, view.viewport().rect().center()
    enter = QDragEnterEvent(point, actions, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(view.viewport(), enter)
    drop = QDropEvent(QPointF(point), actions, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(view.viewport(), drop)
    return enter.isAccepted()


@pytest.mark.filterwarnings("ignore:Function.*QDragEnterEvent:DeprecationWarning")
def test_edits_while_a_kept_tab_is_current_leave_the_project_unchanged(qtbot, imported):
    window = open_window(qtbot, project=imported.model_copy(deep=True))
    network = window.current_view()
    network.canvas.select_nodes([gate_instance(window)])
    window.structure.copy()  # a layer on the clipboard, so Paste has something to add
    view = open_from_the_network_menu(window, "Gate")
    assert isinstance(view, KeptBlockView)
    before, steps = project_to_json(window.doc.project), window.controller.undo_stack.count()

    window.select_all()
    window.structure.delete_action.trigger()
    window.structure.paste_action.trigger()
    window.structure.cut_action.trigger()
    window.palette.layer_chosen.emit("nn.ReLU")  # a double-click in the palette
    view.setFocus()
    QTest.keyClick(view, Qt.Key.Key_Delete)
    QTest.keyClick(view, Qt.Key.Key_Tab)
    assert not drop_a_layer(view, "nn.ReLU")
    window.structure.layout_action.trigger()

    assert project_to_json(window.doc.project) == before
    assert window.controller.undo_stack.count() == steps
    # Each refusal says why; the last one outlasts auto layout's own report of its engine.
    qtbot.waitUntil(lambda: READ_ONLY in window.statusBar().currentMessage())
    assert window.statusBar().currentMessage().startswith("Auto layout: not done")
    # The same paste on the network's tab does add the layer: the clipboard was not empty.
    window.tabs.setCurrentWidget(network)
    assert len(window.structure.paste()) == 1


def test_a_kept_tab_follows_theme_and_rename_and_closes(qtbot, imported):
    window = open_window(qtbot, project=imported.model_copy(deep=True))
    view = open_from_the_network_menu(window, "Gate")

    for name in ("light", "dark"):
        window.set_theme(name)
        assert view.canvas.title.brush().color() == theme_named(name).node_text
    assert rename_block(window.controller, "Gate", "Switch")
    assert window.tabs.view_for(block_key("Switch")) is view
    assert window.tabs.tabText(window.tabs.indexOf(view)) == "▣ Switch (read-only)"

    window.tabs.tabCloseRequested.emit(window.tabs.indexOf(view))
    assert window.tabs.view_for(block_key("Switch")) is None


def test_a_kept_block_without_a_recorded_view_says_so(qtbot):
    window = open_window(qtbot, project=placed_gate(kept_block()))  # written by hand: no view

    window.structure.open_block("Gate")

    view = window.current_view()
    assert isinstance(view, KeptBlockView) and window.current_key() == block_key("Gate")
    scene = view.canvas
    assert scene.nodes == {} and scene.items() == [scene.title]
    assert scene.title.text() == no_view_text(window.doc.project.block("Gate"))
    assert "no record of what it does inside" in scene.title.text()
