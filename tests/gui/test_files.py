"""File menu with real windows offscreen: save, open, recent files, close prompt, autosave and
crash recovery, drops. Dialogs are answered by ScriptedPrompts (never blocking)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QMessageBox

from builder.gui.app import Windows
from builder.gui.autosave import read_recovery, recovery_dir, write_recovery
from builder.gui.file_prompts import Prompts
from builder.gui.mainwindow import MainWindow
from builder.gui.project_document import ProjectDocument, network_key
from builder.gui.recent import LIMIT
from graph_schema import load_project
from graph_schema.document import Position
from graph_schema.files import project_to_json
from tests.gui.scripted_prompts import script

ROOT = Path(__file__).resolve().parents[2]
LENET = ROOT / "examples" / "lenet.json"
MLP = ROOT / "examples" / "mlp.json"


def _discard_on_close(window: MainWindow) -> None:
    """Teardown closes every window: unsaved test edits are thrown away, not asked about."""
    window.files.prompts.answer("unsaved_changes", "discard")


@pytest.fixture
def windows() -> Windows:
    """The application's windows: the test's windows, and those they open."""
    return Windows()


@pytest.fixture
def make_window(qtbot, tmp_path, windows):
    """A window on a copy of a project (tests must never write over the examples)."""
    def make(path: Path | None = None, **answers) -> MainWindow:
        doc = None
        if path is not None:
            copy = tmp_path / "projects" / path.name
            if not copy.exists():
                copy.parent.mkdir(exist_ok=True)
                copy.write_bytes(path.read_bytes())
            doc = ProjectDocument(load_project(copy), copy)
        window = windows.new_window(doc)
        qtbot.addWidget(window, before_close_func=_discard_on_close)
        script(window, **answers)
        return window
    return make


def edit(window: MainWindow) -> None:
    """A real edit through the controller: move the first node of the first network."""
    key = network_key(window.doc.project.networks[0].name)
    node = window.doc.graph(key).nodes[0]
    window.controller.move(key, {node.id: Position(x=node.position.x + 16,
                                                   y=node.position.y + 8)})


def as_json(window: MainWindow) -> str:
    return project_to_json(window.doc.project)


def copy(example: Path, folder: Path) -> Path:
    target = folder / example.name
    target.write_bytes(example.read_bytes())
    return target


def dead_pid() -> int:
    """The id of a process that has finished (a crashed TorchCanvas, for the test)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


# -- save and open ------------------------------------------------------------------------
def test_save_then_reopen_gives_an_identical_document(make_window, tmp_path):
    window = make_window()
    window.doc.replace_project(load_project(LENET), None)  # as if imported: never saved
    edit(window)
    key = network_key(window.doc.project.networks[0].name)
    conv = next(n for n in window.doc.graph(key).nodes if n.type == "nn.Conv2d")
    window.controller.set_param(key, conv.id, "padding", 1)
    target = tmp_path / "saved" / "lenet copy.json"
    target.parent.mkdir()
    window.files.prompts.answer("save_path", target)

    assert window.files.save()  # never saved here before: Save asks where (Save As)

    reopened = make_window()
    assert reopened.files.open_path(target)
    assert as_json(reopened) == as_json(window)
    assert reopened.doc.path == target
    assert reopened.windowTitle().startswith("lenet copy.json")


def test_title_shows_the_dirty_marker_after_an_edit_and_not_after_saving(make_window,
                                                                        tmp_path):
    window = make_window(LENET)
    path = window.doc.path
    assert path != LENET and not window.isWindowModified()
    edit(window)
    assert window.isWindowModified()
    assert window.files.save()  # has a path: no question asked
    assert not window.isWindowModified()
    assert window.files.prompts.asked == []
    assert json.loads(path.read_text()) == json.loads(as_json(window))


def test_a_failed_save_says_why_and_keeps_the_work_unsaved(make_window, tmp_path):
    window = make_window(LENET)
    edit(window)
    before = as_json(window)
    assert not window.files.save_to(tmp_path / "no such folder" / "x.json")
    (error,) = window.files.prompts.errors
    assert "no such folder" in error and "No such file or directory" in error
    assert "still open and not saved" in error
    assert window.isWindowModified() and as_json(window) == before
    assert window.doc.path.name == "lenet.json"


def test_opening_a_malformed_file_shows_the_error_and_keeps_the_project(make_window,
                                                                       tmp_path):
    window = make_window(LENET)
    edit(window)
    before = as_json(window)
    bad = tmp_path / "bad.json"
    bad.write_text('{"format_version": 3, "name": "x", "networks": [}')
    window.files.prompts.answer("open_path", bad)

    assert not window.files.open()

    (error,) = window.files.prompts.errors
    assert str(bad) in error and "not valid JSON (line 1" in error
    assert as_json(window) == before and window.doc.path.name == "lenet.json"
    assert window.isWindowModified()  # nothing was asked, nothing was replaced
    assert [q for q, _ in window.files.prompts.asked] == ["open_path"]


def test_new_asks_about_unsaved_work_and_cancel_keeps_it(make_window):
    window = make_window(LENET, unsaved_changes=["cancel", "discard"])
    edit(window)
    before = as_json(window)
    assert not window.files.new()
    assert as_json(window) == before
    assert window.files.new()
    assert window.doc.path is None and window.doc.project.name == "untitled"
    assert not window.isWindowModified()
    assert window.controller.undo_stack.count() == 0


# -- closing ------------------------------------------------------------------------------
def test_closing_with_unsaved_work_prompts_and_cancel_keeps_the_window(make_window):
    window = make_window(LENET, unsaved_changes=["cancel"])
    window.show()
    edit(window)

    assert not window.close()

    assert window.isVisible()
    assert window.files.prompts.asked == [("unsaved_changes", "lenet.json")]
    assert window.isWindowModified()


def test_closing_with_save_writes_the_file_and_drops_the_recovery_file(make_window, tmp_path):
    window = make_window(LENET, unsaved_changes=["save"])
    path = window.doc.path
    window.show()
    edit(window)
    window.files.autosaver.write_now()
    assert window.files.autosaver.file.is_file()

    assert window.close()

    assert load_project(path).networks[0].nodes[0].position.x == \
        window.doc.project.networks[0].nodes[0].position.x
    assert not window.files.autosaver.file.exists()


def test_closing_without_changes_asks_nothing(make_window):
    window = make_window(LENET)
    window.show()
    assert window.close()
    assert window.files.prompts.asked == []


# -- autosave and recovery ----------------------------------------------------------------
def test_autosave_writes_a_recovery_file_after_an_edit(make_window, qtbot):
    window = make_window(LENET)
    autosaver = window.files.autosaver
    autosaver.set_delays(quiet_ms=20, max_wait_ms=2000)
    with qtbot.waitSignal(autosaver.written, timeout=3000) as written:
        edit(window)
    recovery = read_recovery(written.args[0])
    assert recovery.file.parent == recovery_dir()
    assert recovery.pid == os.getpid()
    assert recovery.original == window.doc.path
    assert project_to_json(recovery.load()) == as_json(window)

    window.controller.undo_stack.undo()  # back to the saved state: nothing to recover
    assert not recovery.file.exists() and not autosaver.pending()


def test_autosave_waits_for_a_pause_in_editing(make_window, qtbot):
    window = make_window(LENET)
    autosaver = window.files.autosaver
    autosaver.set_delays(quiet_ms=60_000, max_wait_ms=30)  # edits never pause: the cap writes
    with qtbot.waitSignal(autosaver.written, timeout=3000):
        edit(window)
        edit(window)
    assert autosaver.file.is_file()


def test_a_crashed_sessions_work_is_offered_and_recovered(make_window, tmp_path):
    original = copy(LENET, tmp_path)
    crashed = make_window(original)
    edit(crashed)
    stale = recovery_dir() / "crashed.json"
    write_recovery(stale, crashed.doc.project, original, pid=dead_pid())
    # A window of a TorchCanvas that is still running keeps its file: never offered.
    alive = recovery_dir() / "running.json"
    write_recovery(alive, load_project(MLP), None, pid=os.getppid())

    window = make_window(recover=["recover"])
    window.files.start(None)

    (question,) = window.files.prompts.asked
    assert question[0] == "recover" and question[1].file == stale
    assert "lenet" in question[1].describe() and str(original) in question[1].describe()
    assert as_json(window) == as_json(crashed)
    assert window.doc.path == original
    assert window.isWindowModified()  # recovered work is not saved yet
    assert not stale.exists() and alive.exists()
    assert window.files.autosaver.file.is_file()  # the window protects it again at once


def test_a_file_with_our_pid_from_an_earlier_process_is_offered(make_window):
    """Containers often give the app the same pid on every run."""
    earlier = recovery_dir() / "earlier.json"
    write_recovery(earlier, load_project(MLP), None, pid=os.getpid())
    other = make_window()  # a live window of this process: its own file is never offered
    other.files.autosaver.write_now()
    window = make_window(recover=["later"])
    window.files.start(None)
    assert [q[1].file for q in window.files.prompts.asked] == [earlier]


def test_later_keeps_a_recovery_file_and_discard_deletes_it(make_window):
    stale = recovery_dir() / "old.json"
    write_recovery(stale, load_project(MLP), None, pid=dead_pid())
    window = make_window(recover=["later"])
    window.files.start(None)
    assert stale.exists() and window.files.is_untouched()

    again = make_window(recover=["discard"])
    again.files.start(None)
    assert not stale.exists() and again.files.is_untouched()


def test_a_second_recovered_project_opens_in_its_own_window(make_window, windows, tmp_path):
    originals = [copy(LENET, tmp_path), copy(MLP, tmp_path)]
    for name, original in zip(("a.json", "b.json"), originals):
        write_recovery(recovery_dir() / name, load_project(original), original, pid=dead_pid())
    window = make_window(recover=["recover", "recover"])
    window.files.start(None)
    (extra,) = [w for w in windows.open if w is not window]
    try:
        assert {window.doc.path, extra.doc.path} == set(originals)
        assert window.isWindowModified() and extra.isWindowModified()
    finally:
        extra.files.prompts = window.files.prompts
        window.files.prompts.answer("unsaved_changes", "discard")
        extra.close()


def test_an_unreadable_recovery_file_is_skipped_and_kept(make_window):
    broken = recovery_dir() / "broken.json"
    broken.parent.mkdir(parents=True, exist_ok=True)
    broken.write_text("{ half a file")
    window = make_window()
    window.files.start(None)
    assert window.files.prompts.asked == [] and broken.exists()
    assert "broken.json" in window.statusBar().currentMessage()


# -- start-up, drops, recent files --------------------------------------------------------
def test_a_project_named_on_the_command_line_opens(make_window, tmp_path):
    path = copy(LENET, tmp_path)
    window = make_window()
    window.files.start(path)
    assert window.doc.path == path and not window.isWindowModified()
    assert as_json(window) == project_to_json(load_project(LENET))


def test_a_project_file_dropped_on_the_canvas_opens(make_window, qtbot, tmp_path):
    path = copy(LENET, tmp_path)
    window = make_window()
    window.show()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    viewport = window.current_view().viewport()
    point = viewport.rect().center()
    enter = QDragEnterEvent(point, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(viewport, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(point), Qt.DropAction.CopyAction, mime,
                      Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(viewport, drop)
    qtbot.waitUntil(lambda: window.doc.path == path, timeout=3000)


def test_other_drops_are_not_taken_for_files(make_window):
    window = make_window()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(ROOT / "README.md"))])
    enter = QDragEnterEvent(QPoint(5, 5), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    assert not enter.isAccepted()


def recent_entries(window: MainWindow) -> list[str]:
    window.files.rebuild_recent_menu()
    return [a.data() for a in window.files.recent_menu.actions() if a.data()]


def test_recent_files_list_newest_first_and_prune_missing_files(make_window, tmp_path):
    copies = []
    for index in range(LIMIT + 2):
        copy = tmp_path / f"p{index}.json"
        copy.write_text(MLP.read_text())
        copies.append(copy)
    window = make_window()
    assert recent_entries(window) == []
    for copy in copies:
        assert window.files.open_path(copy)
    entries = recent_entries(window)
    assert entries == [str(c) for c in reversed(copies)][:LIMIT]

    copies[-1].unlink()  # the newest file is gone
    entries = recent_entries(window)
    assert str(copies[-1]) not in entries and len(entries) == LIMIT - 1
    assert "p11.json" in window.statusBar().currentMessage()

    copies[-2].unlink()  # gone between showing the menu and clicking it
    assert not window.files.open_recent(copies[-2])
    assert "no longer exists" in window.files.prompts.errors[-1]
    assert str(copies[-2]) not in recent_entries(window)
    assert window.files.open_recent(copies[3])
    assert recent_entries(window)[0] == str(copies[3])


# -- the real dialogs, answered by clicking their buttons -----------------------------------
def click_on_show(monkeypatch, label: str) -> None:
    def exec_and_click(box: QMessageBox) -> int:
        (button,) = [b for b in box.buttons() if b.text().replace("&", "") == label]
        button.click()
        return 0
    monkeypatch.setattr(QMessageBox, "exec", exec_and_click)


@pytest.mark.parametrize(("label", "answer"), [("Save", "save"), ("Discard", "discard"),
                                               ("Cancel", "cancel")])
def test_the_unsaved_changes_dialog_offers_save_discard_cancel(qtbot, monkeypatch, label,
                                                               answer):
    window = Windows().new_window()
    qtbot.addWidget(window)
    prompts = Prompts(window)
    prompts.interactive = True
    click_on_show(monkeypatch, label)
    assert prompts.unsaved_changes("lenet.json") == answer


@pytest.mark.parametrize("label", ["Recover", "Discard", "Later"])
def test_the_recovery_dialog_offers_recover_discard_later(qtbot, monkeypatch, label):
    stale = recovery_dir() / "x.json"
    write_recovery(stale, load_project(MLP), None, pid=dead_pid())
    window = Windows().new_window()
    qtbot.addWidget(window)
    prompts = Prompts(window)
    prompts.interactive = True
    click_on_show(monkeypatch, label)
    assert prompts.recover(read_recovery(stale)) == label.lower()


def test_with_nobody_to_ask_questions_take_the_answer_that_loses_nothing(qtbot, capsys):
    window = Windows().new_window()
    qtbot.addWidget(window)
    prompts = Prompts(window)  # QT_QPA_PLATFORM=offscreen in tests
    assert not prompts.interactive
    assert prompts.unsaved_changes("a.json") == "cancel"
    assert prompts.save_path(Path("a.json")) is None
    assert "unsaved changes to a.json" in capsys.readouterr().err


def test_a_file_without_positions_opens_laid_out_as_one_undo_step(make_window, tmp_path):
    doc = json.loads(LENET.read_text())
    for node in doc["networks"][0]["nodes"]:
        node.pop("position", None)
    flat = tmp_path / "flat.json"
    flat.write_text(json.dumps(doc))
    window = make_window()
    assert window.files.open_path(flat)
    key = network_key(window.doc.project.networks[0].name)
    nodes = window.doc.graph(key).nodes
    spots = {(n.position.x, n.position.y) for n in nodes}
    assert len(spots) == len(nodes)  # spread out, not a pile
    stack = window.controller.undo_stack
    assert stack.count() == 1 and stack.undoText() == "Auto layout"
    assert window.isWindowModified() and "no node positions" in window.statusBar().currentMessage()
    stack.undo()
    assert {(n.position.x, n.position.y) for n in nodes} == {(0.0, 0.0)}
    assert load_project(flat).networks[0].nodes[0].position == Position()  # file untouched
