"""Diagnostics, code, summary and project panels with real widgets (offscreen)."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QGuiApplication, QTextCharFormat, QTextDocument
from PySide6.QtWidgets import QScrollArea

from builder.gui.panels.diagnostics_panel import FIX, MESSAGE
from builder.gui.panels.highlighter import PythonHighlighter
from builder.gui.panels.summary_panel import count_text
from graph_schema.document import Training
from graph_schema.inference import Inference
from graph_schema.summary import summarize
from tests.gui.panels_support import node_id, open_example, retype, select

FAST_MS = 20  # debounce delays shortened so tests wait milliseconds, not seconds


def show_dock(window, name: str):
    """Bring a panel to the front: its dock, or its tab in the diagnostics-and-summary dock."""
    if name == "summary":
        panel = window.panels.summary
        panel.lazy.timer.setInterval(FAST_MS)
        checks = window.docks["checks"].widget()
        checks.setCurrentWidget(panel)
        assert panel.isVisible()
        return panel
    panel = window.docks[name].widget()
    if isinstance(panel, QScrollArea):  # tall panels scroll inside their dock
        panel = panel.widget()
    if hasattr(panel, "lazy"):
        panel.lazy.timer.setInterval(FAST_MS)
    window.docks[name].raise_()
    assert panel.isVisible()
    return panel


def checks_tab_text(window, panel) -> str:
    checks = window.docks["checks"].widget()
    return checks.tabText(checks.indexOf(panel))


# -- diagnostics -------------------------------------------------------------------------
def test_the_diagnostics_panel_lists_a_wrong_in_channels_and_its_fix_repairs_it(qtbot):
    window = open_example(qtbot, "broken/wrong_in_channels.json")
    panel = window.panels.diagnostics
    assert panel.pages.currentWidget() is panel.tree
    assert panel.tree.topLevelItemCount() == 1
    item = panel.tree.topLevelItem(0)
    assert [item.text(c) for c in range(1, 5)] == [
        "main", "conv2", "0",
        "expected dimension 1 to be 8 (in_channels), received (N, 6, 28, 28)"]
    button = panel.tree.itemWidget(item, FIX)
    assert button.text() == "Fix: set in_channels=6"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert window.doc.diagnostics() == []
    assert panel.pages.currentWidget() is panel.empty
    assert window.controller.undo_stack.count() == 1
    window.controller.undo_stack.undo()
    assert panel.tree.topLevelItemCount() == 1
    assert panel.tree.topLevelItem(0).text(2) == "conv2"


def test_clicking_a_row_selects_the_node_on_the_canvas(qtbot):
    window = open_example(qtbot, "broken/wrong_in_channels.json")
    panel = window.panels.diagnostics
    tree = panel.tree
    rect = tree.visualItemRect(tree.topLevelItem(0))
    x = tree.header().sectionPosition(MESSAGE) + 10
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, rect.center().y()))
    conv2 = node_id(window, "conv2")
    assert window.current_view().canvas.selected_node_ids() == {conv2}
    assert window.panels.inspector.form.node_id == conv2


def test_no_problems_is_shown_as_good_news(qtbot):
    window = open_example(qtbot, "lenet.json")
    panel = window.panels.diagnostics
    assert panel.pages.currentWidget() is panel.empty
    assert panel.empty.text().startswith("✓")
    select(window, "c1")
    retype(qtbot, window.panels.inspector.form.rows["out_channels"].editor.edit, "8")
    assert panel.pages.currentWidget() is panel.tree  # c3 still expects 6 channels
    assert checks_tab_text(window, panel) == "Diagnostics (1 error)"


# -- code --------------------------------------------------------------------------------
def test_the_code_panel_shows_the_module_and_follows_edits(qtbot):
    window = open_example(qtbot, "lenet.json")
    code = show_dock(window, "code")
    qtbot.waitUntil(lambda: "class Lenet5(nn.Module):" in code.editor.toPlainText())
    assert code.banner.isHidden()
    window.controller.set_param(window.current_key(), node_id(window, "output"), "out_features", 12)
    qtbot.waitUntil(lambda: "nn.Linear(84, 12)" in code.editor.toPlainText())
    qtbot.mouseClick(code.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == code.editor.toPlainText()


def test_the_code_panel_waits_while_hidden(qtbot):
    window = open_example(qtbot, "lenet.json")
    code = window.panels.code
    code.lazy.timer.setInterval(FAST_MS)
    assert not code.lazy.showing()  # the inspector's tab is in front of it
    window.controller.set_param(window.current_key(), node_id(window, "output"), "out_features", 12)
    qtbot.waitUntil(lambda: not code.lazy.timer.isActive())
    assert code.lazy.stale and code.generations == 0
    show_dock(window, "code")
    qtbot.waitUntil(lambda: "nn.Linear(84, 12)" in code.editor.toPlainText())
    assert code.generations == 1


def test_a_broken_project_gets_a_banner_not_a_traceback(qtbot):
    window = open_example(qtbot, "broken/wrong_in_channels.json")
    code = show_dock(window, "code")
    qtbot.waitUntil(lambda: code.banner.isVisible())
    assert code.banner.text().startswith("The project has 1 error,")
    assert code.editor.toPlainText() == ""
    assert "Traceback" not in code.banner.text()
    window.panels.diagnostics.apply(window.doc.diagnostics()[0])
    qtbot.waitUntil(lambda: "class Main(nn.Module)" in code.editor.toPlainText())
    assert code.banner.isHidden()
    window.controller.undo_stack.undo()  # broken again: the last code stays, dimmed
    qtbot.waitUntil(lambda: code.banner.isVisible())
    assert "class Main(nn.Module)" in code.editor.toPlainText()
    assert code.highlighter.dimmed and "dimmed" in code.banner.text()


def test_the_highlighter_marks_keywords_strings_and_shape_comments(qapp):
    document = QTextDocument()
    highlighter = PythonHighlighter(document)
    document.setPlainText('class A:\n    """Doc\n    more"""\n'
                          '    x = self.c1(x)  # -> (N, 6, 28, 28)\n    # plain\n')
    highlighter.rehighlight()  # the first pass is otherwise left to the event loop

    def format_at(line: int, column: int):
        block = document.findBlockByNumber(line)
        for span in block.layout().formats():
            if span.start <= column < span.start + span.length:
                return QTextCharFormat(span.format)
        return None

    formats = highlighter.formats
    assert format_at(0, 0) == formats["keyword"]
    assert format_at(0, 6) == formats["definition"]
    assert format_at(2, 5) == formats["string"]  # inside the docstring's second line
    assert format_at(3, 9) == formats["self"]
    assert format_at(3, 22) == formats["shape"]
    assert format_at(4, 6) == formats["comment"]


# -- summary -----------------------------------------------------------------------------
def test_the_summary_totals_equal_graph_schema_summary(qtbot):
    window = open_example(qtbot, "resnet18.json")
    panel = show_dock(window, "summary")
    qtbot.waitUntil(lambda: panel.summary is not None)
    project = window.doc.project
    expected = summarize(project, project.networks[0], Inference(project.networks[0], project))
    assert panel.totals.text().startswith(f"Total params: {expected.total_params:,}")
    assert f"MACs per sample: {count_text(expected.total_macs)}" in panel.totals.text()
    assert panel.tree.topLevelItemCount() == sum(r.depth == 0 for r in expected.rows)
    first_block = next(i for i in range(panel.tree.topLevelItemCount())
                       if panel.tree.topLevelItem(i).childCount())
    assert panel.tree.topLevelItem(first_block).text(1) == "block:BasicBlock"


def test_the_summary_follows_edits_and_tabs(qtbot):
    window = open_example(qtbot, "resnet18.json")
    panel = show_dock(window, "summary")
    qtbot.waitUntil(lambda: panel.summary is not None)
    before = panel.summary.total_params
    window.tabs.open_graph(("block", "BasicBlock"))
    qtbot.waitUntil(lambda: panel.title.text() == "Block 'BasicBlock'")
    window.tabs.setCurrentIndex(0)
    qtbot.waitUntil(lambda: panel.title.text() == "Network 'resnet18'")
    window.controller.set_param(window.current_key(), node_id(window, "fc"), "bias", False)
    qtbot.waitUntil(lambda: panel.summary.total_params == before - 1000)


# -- project notes and training ----------------------------------------------------------
def test_notes_are_one_undo_step_per_pause(qtbot):
    window = open_example(qtbot, "mlp.json")
    notes = show_dock(window, "notes").notes
    notes.timer.setInterval(FAST_MS)
    old = window.doc.project.notes
    notes.setFocus()
    notes.moveCursor(notes.textCursor().MoveOperation.End)
    stack = window.controller.undo_stack
    with qtbot.waitSignal(stack.indexChanged, timeout=2000):
        qtbot.keyClicks(notes, " Adam, lr 1e-3.")
    assert window.doc.project.notes == old + " Adam, lr 1e-3."
    assert stack.count() == 1
    cursor = notes.textCursor()
    cursor.setPosition(3)
    notes.setTextCursor(cursor)
    with qtbot.waitSignal(stack.indexChanged, timeout=2000):
        qtbot.keyClicks(notes, "XY")
    assert stack.count() == 2
    assert notes.textCursor().position() == 5  # the commit coming back did not move it
    stack.undo()
    assert notes.toPlainText() == old + " Adam, lr 1e-3."
    stack.undo()
    assert notes.toPlainText() == old


def test_training_fields_are_checked_and_each_change_is_one_step(qtbot):
    window = open_example(qtbot, "mlp.json")
    form = show_dock(window, "notes").training
    batch = form.fields["batch_size"]
    retype(qtbot, batch.edit, "0")
    assert batch.note.text() == "batch_size: Input should be greater than or equal to 1"
    assert window.controller.undo_stack.count() == 0
    retype(qtbot, batch.edit, "64")
    retype(qtbot, form.fields["metrics"].edit, "accuracy, f1")
    form.combos["optimizer"].setFocus()
    qtbot.keyClick(form.combos["optimizer"], Qt.Key.Key_Up)
    training = window.doc.project.training
    assert (training.batch_size, training.metrics) == (64, ["accuracy", "f1"])
    assert training.optimizer != Training().optimizer
    assert window.controller.undo_stack.count() == 3
    window.controller.undo_stack.undo()
    assert form.combos["optimizer"].currentText() == Training().optimizer


def test_the_project_name_is_edited_through_the_controller(qtbot):
    window = open_example(qtbot, "mlp.json")
    field = show_dock(window, "notes").name_field
    retype(qtbot, field.edit, "   ")
    assert field.note.text() == "the project needs a name"
    retype(qtbot, field.edit, "Small MLP")
    assert window.doc.project.name == "Small MLP"
    window.controller.undo_stack.undo()
    assert field.edit.text() == window.doc.project.name != "Small MLP"
