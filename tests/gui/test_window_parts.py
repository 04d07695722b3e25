"""The window's parts work from what they are given, with no MainWindow: the File menu, the
exports and the structural edits each get a document, a controller, the tabs, a status bar
(and the File menu a way to open another window). The canvas menu reuses the structural
edits' own actions, and the application object keeps the set of open windows."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QMainWindow, QStatusBar

from builder.gui.app import Windows
from builder.gui.canvas_menu import CanvasMenu
from builder.gui.controller import EditController
from builder.gui.edit_actions import StructureActions
from builder.gui.export import Exporter
from builder.gui.file_controller import FileController
from builder.gui.graph_tabs import GraphTabs
from builder.gui.kept_source import KeptSourceReview
from builder.gui.project_document import ProjectDocument
from builder.gui.theme import theme_named
from graph_schema import load_project
from graph_schema.files import project_to_json
from tests.gui.scripted_prompts import ScriptedPrompts

ROOT = Path(__file__).resolve().parents[2]
LENET = ROOT / "examples" / "lenet.json"


class Parts:
    """What a window gives its parts, built by hand: a bare QMainWindow as their host."""

    def __init__(self, qtbot, path: Path):
        self.host = QMainWindow()
        qtbot.addWidget(self.host)
        self.doc = ProjectDocument(load_project(path), path)
        self.controller = EditController(self.doc, self.host)
        self.tabs = GraphTabs(self.doc, self.controller, theme_named("light"))
        self.host.setCentralWidget(self.tabs)
        self.status_bar = QStatusBar()
        self.host.setStatusBar(self.status_bar)
        self.host.resize(900, 700)
        self.host.show()
        self.prompts = ScriptedPrompts(self.host)

    def structure(self) -> StructureActions:
        return StructureActions(self.host, self.doc, self.controller, self.tabs, self.status_bar)

    def kept_source(self) -> KeptSourceReview:
        return KeptSourceReview(self.doc, self.controller, self.prompts, self.status_bar)


@pytest.fixture
def parts(qtbot, tmp_path) -> Parts:
    copy = tmp_path / "lenet.json"
    copy.write_bytes(LENET.read_bytes())
    return Parts(qtbot, copy)


def node_count(parts: Parts) -> int:
    return len(parts.doc.graph(parts.tabs.current_key()).nodes)


def test_the_file_controller_saves_atomically_without_a_window(parts, tmp_path):
    opened = []
    files = FileController(parts.host, parts.doc, parts.controller, parts.tabs,
                           parts.status_bar, open_window=lambda: opened.append(1))
    files.prompts = parts.prompts
    assert files.exporter.prompts is files.kept_source.prompts is parts.prompts

    structure = parts.structure()
    parts.tabs.current_view().canvas.select_nodes(["n1"])
    structure.duplicate_action.trigger()  # something to save
    folder = tmp_path / "saved"
    folder.mkdir()
    target = folder / "saved.json"
    target.write_text("the old file")
    reader = folder / "a reader's handle on the old file"
    os.link(target, reader)

    parts.prompts.answer("save_path", target)
    opened_as = parts.doc.path
    files.save_as_action.trigger()  # Save As… suggests the file the project came from

    # Written beside and renamed over: the old file was never written into.
    assert reader.read_text() == "the old file"
    assert target.read_text() == project_to_json(parts.doc.project)
    assert sorted(p.name for p in folder.iterdir()) == [
        "a reader's handle on the old file", "saved.json"]  # no temporary file left
    assert parts.doc.path == target and parts.controller.undo_stack.isClean()
    assert parts.status_bar.currentMessage() == f"Saved {target}"
    assert opened == [] and parts.prompts.asked == [("save_path", opened_as)]


def test_the_exporter_writes_code_without_a_window(parts, tmp_path):
    target = tmp_path / "lenet_model.py"
    parts.prompts.answer("export_code", (target, False))
    exporter = Exporter(parts.doc, parts.controller, parts.tabs, parts.prompts,
                        parts.kept_source(), parts.status_bar)

    assert exporter.export_code()

    source = target.read_text()
    compile(source, str(target), "exec")
    assert "class Lenet5(nn.Module):" in source
    assert parts.status_bar.currentMessage() == f"Exported {target.name} to {tmp_path}"


def test_structure_actions_edit_through_the_undo_stack_without_a_window(parts):
    structure = parts.structure()
    before, count = project_to_json(parts.doc.project), node_count(parts)
    parts.tabs.current_view().canvas.select_nodes(["n4"])

    structure.duplicate_action.trigger()

    assert node_count(parts) == count + 1
    assert parts.controller.undo_stack.count() == 1
    parts.controller.undo_stack.undo()
    assert project_to_json(parts.doc.project) == before


def test_the_canvas_menu_holds_the_structure_actions_themselves(parts):
    structure = parts.structure()
    added_at = []
    menu = CanvasMenu(parts.host, parts.doc, parts.controller, parts.tabs, structure,
                      parts.kept_source(), added_at.append)
    view = parts.tabs.current_view()
    center = view.canvas.nodes["n4"].sceneBoundingRect().center()

    on_node = menu.context_menu(view, center, "n4").actions()
    for action in (structure.group_action, structure.duplicate_action, structure.copy_action,
                   structure.cut_action, structure.delete_action):
        assert any(entry is action for entry in on_node), action.text()
    on_canvas = menu.context_menu(view, QPointF(-3000, -3000), None)
    assert any(entry is structure.layout_action for entry in on_canvas.actions())

    view.canvas.select_nodes(["n4"])
    (delete,) = [a for a in on_node if a is structure.delete_action]
    delete.trigger()  # the shared action, as a click in the menu would
    assert parts.doc.graph(parts.tabs.current_key()).node("n4") is None
    (add,) = [a for a in on_canvas.actions() if a.text() == "Add Layer…"]
    add.trigger()
    assert added_at == [QPointF(-3000, -3000)]


def test_the_window_menus_and_the_canvas_menu_share_one_action(qtbot):
    windows = Windows()
    window = windows.new_window(ProjectDocument(load_project(LENET), LENET))
    qtbot.addWidget(window)
    structure, view = window.structure, window.current_view()
    center = view.canvas.nodes["n4"].sceneBoundingRect().center()
    shown = window.canvas_menu.context_menu(view, center, "n4").actions()
    for action in (structure.copy_action, structure.cut_action, structure.delete_action):
        assert any(entry is action for entry in window.edit_menu.actions())
        assert any(entry is action for entry in shown)


def test_the_application_keeps_the_windows_it_opens_and_forgets_closed_ones(qtbot,
                                                                            tmp_path):
    windows = Windows()
    first = windows.new_window(ProjectDocument(load_project(LENET), LENET))
    qtbot.addWidget(first, before_close_func=lambda w: w.controller.undo_stack.setClean())
    first.show()
    assert windows.open == [first]

    # File > New replaces this window's project (asking about unsaved work): no window.
    first.files.prompts = ScriptedPrompts(first, unsaved_changes=["discard"])
    first.tabs.current_view().add_layer("nn.ReLU", QPointF(0, 0))
    first.files.new_action.trigger()
    assert first.files.prompts.asked == [("unsaved_changes", "lenet.json")]
    assert windows.open == [first] and first.doc.path is None

    # Work in this window is never replaced: a model imported now, and a project named on
    # the command line, each open in a new window beside it.
    first.tabs.current_view().add_layer("nn.ReLU", QPointF(0, 0))
    imported = first.files.adopt_imported(load_project(LENET))
    copy = tmp_path / "lenet.json"
    copy.write_bytes(LENET.read_bytes())
    first.files.start(copy)
    second_extra = windows.open[-1]
    assert windows.open == [first, imported, second_extra]
    assert second_extra.doc.path == copy and first.doc.path is None
    assert imported.isVisible() and imported.testAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

    gone = []
    for extra in (imported, second_extra):
        extra.destroyed.connect(lambda _obj=None: gone.append(True))
    imported.controller.undo_stack.setClean()
    assert imported.close()
    assert windows.open == [first, second_extra]
    assert second_extra.close()
    assert windows.open == [first]
    qtbot.waitUntil(lambda: len(gone) == 2)  # a window the app opened is deleted once closed
    first.controller.undo_stack.setClean()
    assert first.close()
    assert windows.open == []
