"""The inspector's smaller promises, with real widgets and real key presses: hints that say
what is still missing, rows that stay put when a value is committed, the keyboard handed back
to the canvas after Enter, one button per repair, weight init only where there are weights, a
new project without warnings, a readable dark theme and the import dialog's top model."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QPalette
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QStyle, QStyleOptionButton

from builder.gui.app import Windows
from builder.gui.import_dialog import ImportDialog, top_model
from builder.gui.panels.node_form import offers_weight_init
from builder.gui.theme import ERROR_TEXT_ON_DARK
from graph_schema.catalog import get_spec
from graph_schema.document import Position
from tests.gui.panels_support import node_id, open_example, retype, select
from tests.gui.test_canvas_menu import entries, menu_at, node_center
from tests.gui.windows import open_window

ROOT = Path(__file__).resolve().parents[2]


def form_of(window):
    form = window.panels.inspector.form
    assert form is not None, "the inspector shows no node"
    return form


def settle() -> None:
    """Let Qt run the layout requests an edit posted (no waiting: only what is queued)."""
    QCoreApplication.sendPostedEvents()
    QCoreApplication.processEvents()


# -- hints ---------------------------------------------------------------------------------
def test_the_connect_the_input_hint_goes_once_the_input_is_connected(qtbot):
    window = open_example(qtbot, "mlp.json")
    key = window.current_key()
    fc = window.controller.add_node(key, "nn.Linear", Position(x=700, y=300))
    window.current_view().canvas.select_nodes([fc])
    note = form_of(window).rows["in_features"].editor.note
    assert note.text() == "inferred once the input is connected"

    window.controller.connect(key, node_id(window, "fc1"), 0, fc, 0)
    note = form_of(window).rows["in_features"].editor.note
    # Inference waits for out_features (only the user can give it), and the hint says so.
    assert note.text() == "inferred once out_features is set"

    retype(qtbot, form_of(window).rows["out_features"].editor.edit, "32")
    row = form_of(window).rows["in_features"]
    assert row.editor.edit.text() == "256"
    assert row.editor.note.text() == "inferred from upstream"


# -- rows stay where they are --------------------------------------------------------------
def test_committing_a_value_does_not_move_the_fields_below(qtbot):
    window = open_example(qtbot, "mlp.json")
    select(window, "fc2")
    form = form_of(window)
    inferred, below = form.rows["in_features"], form.rows["out_features"]
    assert inferred.editor.note.text() == "inferred from upstream"
    settle()
    before = below.mapTo(form, below.rect().topLeft()).y()

    retype(qtbot, inferred.editor.edit, "100")  # the hint goes: the value is the user's now
    settle()
    assert inferred.editor.note.isHidden()
    assert below.mapTo(form, below.rect().topLeft()).y() == before

    qtbot.mouseClick(inferred.reset_button, Qt.MouseButton.LeftButton)  # and back
    settle()
    assert inferred.editor.note.text() == "inferred from upstream"
    assert below.mapTo(form, below.rect().topLeft()).y() == before


# -- Enter gives the canvas its keys back ----------------------------------------------------
def test_enter_in_the_inspector_returns_the_keyboard_to_the_canvas(qtbot):
    window = open_window(qtbot, "mlp.json", active=True, size=(1300, 850))
    view = window.current_view()
    select(window, "fc1")
    field = form_of(window).rows["out_features"].editor
    with qtbot.waitSignal(window.panels.inspector.edit_committed):
        retype(qtbot, field.edit, "300")
    assert QApplication.focusWidget() is view
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)  # Tab: quick add, as ever
    assert window.quick_add.isVisible()
    window.quick_add.hide()


def test_enter_on_a_refused_value_keeps_the_keyboard_in_the_field(qtbot):
    window = open_window(qtbot, "mlp.json", active=True, size=(1300, 850))
    select(window, "fc1")
    field = form_of(window).rows["out_features"].editor
    retype(qtbot, field.edit, "-3")
    assert QApplication.focusWidget() is field.edit
    assert field.note.text() == "out_features must be at least 1, got -3"


# -- one button per repair -------------------------------------------------------------------
def test_a_fix_two_problems_share_is_offered_once(qtbot):
    window = open_window(qtbot, "broken/linear_without_flatten.json")
    key = window.current_key()
    fc = next(n.id for n in window.doc.graph(key).nodes if n.type == "nn.Linear")
    fixes = [d.fix.label for d in window.doc.analysis(key).by_node[fc] if d.fix]
    assert fixes == ["insert Flatten", "insert Flatten"]  # a mismatch and a lint agree

    menu = menu_at(window, node_center(window, fc), fc)
    assert [e for e in entries(menu) if e.startswith("Apply Fix")] == \
        ["Apply Fix: insert Flatten"]

    window.current_view().canvas.select_nodes([fc])
    problems = form_of(window).problems
    assert len(problems._shown) == 2  # both problems are listed ...
    (button,) = problems.buttons  # ... with one button for their one fix
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert not [d for d in window.doc.diagnostics() if d.is_error]


# -- weight init -----------------------------------------------------------------------------
@pytest.mark.parametrize(("type_name", "module"), [
    ("nn.Conv2d", torch.nn.Conv2d(1, 1, 1)), ("nn.Linear", torch.nn.Linear(1, 1)),
    ("nn.BatchNorm2d", torch.nn.BatchNorm2d(1)), ("nn.LayerNorm", torch.nn.LayerNorm(1)),
    ("nn.ReLU", torch.nn.ReLU()), ("nn.MaxPool2d", torch.nn.MaxPool2d(2)),
    ("nn.Dropout", torch.nn.Dropout()), ("nn.Flatten", torch.nn.Flatten()),
    ("nn.Upsample", torch.nn.Upsample(scale_factor=2)),
])
def test_weight_init_is_offered_exactly_where_torch_has_weights(type_name, module):
    has_weights = any(True for _ in module.parameters())
    assert offers_weight_init(get_spec(type_name), "default") == has_weights


def test_the_inspector_shows_weight_init_for_a_linear_not_for_a_relu(qtbot):
    window = open_example(qtbot, "mlp.json")
    select(window, "fc1")
    assert form_of(window).init_combo.isVisible()
    select(window, "relu1")
    assert form_of(window).init_combo.isHidden()


# -- a new project ---------------------------------------------------------------------------
def test_a_new_project_opens_without_warnings(qtbot):
    window = Windows().new_window()
    qtbot.addWidget(window)
    window.show()
    assert window.doc.diagnostics() == []
    panel = window.panels.diagnostics
    assert panel.pages.currentWidget() is panel.empty
    window.files.new()  # File > New on an untouched window: the same clean start
    assert window.doc.diagnostics() == []


# -- dark theme ------------------------------------------------------------------------------
@pytest.fixture
def dark_window(qtbot):
    window = open_example(qtbot, "digits_cnn.json")
    window.set_theme("dark")
    yield window
    window.set_theme("light")


def test_the_dark_theme_draws_no_white_tab_lines(dark_window):
    window = dark_window
    assert QApplication.palette().color(QPalette.ColorRole.Light).lightness() < 100
    settle()
    image = window.grab().toImage()
    bar = window.tabs.tabBar()
    bottom = bar.mapTo(window, bar.rect().bottomLeft()).y()
    right = bar.mapTo(window, bar.tabRect(bar.count() - 1).topRight()).x()
    width = window.current_view().width()
    for y in range(bottom - 2, bottom + 3):
        row = [image.pixelColor(x, y).lightness() for x in range(right + 5, right + width // 2)]
        assert max(row) < 120, f"a bright line at y={y}"


def test_the_dark_theme_draws_an_unchecked_check_box_that_can_be_seen(dark_window):
    window = dark_window
    select(window, "conv1")
    box = form_of(window).rows["bias"].editor.control
    assert not box.isChecked()
    settle()
    image = box.grab().toImage()
    option = QStyleOptionButton()
    box.initStyleOption(option)
    indicator = box.style().subElementRect(QStyle.SubElement.SE_CheckBoxIndicator, option, box)
    ratio = image.width() / box.width()
    outline = [image.pixelColor(round(x * ratio), round(indicator.center().y() * ratio))
               for x in (indicator.left(), indicator.left() + 1)]
    background = QApplication.palette().color(QPalette.ColorRole.Window)
    assert max(abs(c.lightness() - background.lightness()) for c in outline) > 40


def test_the_dark_theme_writes_errors_in_a_light_red(qtbot, dark_window):
    window = dark_window
    select(window, "conv1")
    field = form_of(window).rows["out_channels"].editor
    retype(qtbot, field.edit, "0")
    assert field.note.text().startswith("out_channels must be at least 1")
    assert ERROR_TEXT_ON_DARK in field.note.styleSheet()


# -- import dialog ---------------------------------------------------------------------------
@pytest.mark.parametrize(("file", "top"), [
    ("resnet.py", "ResNet"), ("unet.py", "UNet"), ("densenet.py", "DenseNet"),
    ("se.py", "SEConvNet"), ("functional.py", "FunctionalNet"),
])
def test_the_import_dialog_chooses_the_top_model_of_a_file(qtbot, file, top):
    path = ROOT / "tests" / "import_models" / file
    assert top_model(path) == top
    dialog = ImportDialog()
    qtbot.addWidget(dialog)
    dialog.set_file(path)
    assert dialog.spec.currentText() == f"{path}:{top}"
    assert dialog.spec.itemText(0) != dialog.spec.currentText() or file == "functional.py"
