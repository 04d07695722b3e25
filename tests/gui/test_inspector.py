"""The inspector with real widgets and real key presses: checked as typed, one undo step per
commit, inferred values shown and overridable, refreshes that never commit."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from builder.gui.controller import REMOVE
from builder.gui.panels.inspector import NOTHING_SELECTED
from builder.gui.panels.param_row import BoolEditor, ChoiceEditor, TextEditor
from builder.gui.panels.param_text import format_param, parse_param
from builder.gui.theme import ERROR_COLOR
from graph_schema.catalog import ParamError, all_specs, get_spec
from tests.gui.panels_support import edge_label, node_id, open_example, retype, select


def form_of(window):
    form = window.panels.inspector.form
    assert form is not None, "the inspector shows no node"
    return form


def test_selecting_a_node_shows_its_name_parameters_and_shapes(qtbot):
    window = open_example(qtbot, "mlp.json")
    assert window.panels.inspector.message.text() == NOTHING_SELECTED
    select(window, "fc2")
    form = form_of(window)
    assert form.name_field.edit.text() == "fc2"
    assert form.rows["out_features"].editor.edit.text() == "128"
    assert form.inputs_label.text() == "input: (N, 256)"
    assert form.outputs_label.text() == "(N, 128)"
    assert form.problems_box.isHidden()


def test_an_invalid_value_shows_the_reason_and_commits_nothing(qtbot):
    window = open_example(qtbot, "mlp.json")
    fc1 = select(window, "fc1")
    field = form_of(window).rows["out_features"].editor
    retype(qtbot, field.edit, "-3")
    assert field.note.text() == "out_features must be at least 1, got -3"
    assert field.note.isVisible()
    assert ERROR_COLOR in field.edit.styleSheet()
    retype(qtbot, field.edit, "12x")
    assert field.note.text() == "out_features must be a whole number, got '12x'"
    assert window.controller.undo_stack.count() == 0
    assert window.doc.node(window.current_key(), fc1).params["out_features"] == 256
    assert field.edit.text() == "12x"  # the user's text stays for them to correct
    qtbot.keyClick(field.edit, Qt.Key.Key_Escape)  # ... or Escape puts the document's back
    assert field.edit.text() == "256" and field.note.isHidden()
    assert ERROR_COLOR not in field.edit.styleSheet()


def test_a_valid_value_commits_one_undo_step_and_the_edge_label_follows(qtbot):
    window = open_example(qtbot, "mlp.json")
    fc1 = select(window, "fc1")
    assert edge_label(window, "fc1", "relu1") == "N×256"
    field = form_of(window).rows["out_features"].editor
    retype(qtbot, field.edit, "300")
    assert window.controller.undo_stack.count() == 1
    assert window.doc.node(window.current_key(), fc1).params["out_features"] == 300
    assert edge_label(window, "fc1", "relu1") == "N×300"
    assert field.note.isHidden() and ERROR_COLOR not in field.edit.styleSheet()


def test_undo_restores_the_value_shown(qtbot):
    window = open_example(qtbot, "mlp.json")
    select(window, "fc1")
    field = form_of(window).rows["out_features"].editor
    retype(qtbot, field.edit, "300")
    window.controller.undo_stack.undo()
    assert field.edit.text() == "256"
    window.controller.undo_stack.redo()
    assert field.edit.text() == "300"


def test_inferred_parameters_show_and_can_be_overridden_and_reset(qtbot):
    window = open_example(qtbot, "mlp.json")
    key = window.current_key()
    fc2 = select(window, "fc2")
    row = form_of(window).rows["in_features"]
    assert isinstance(row.editor, TextEditor)
    assert row.editor.edit.text() == "256"
    assert row.editor.note.text() == "inferred from upstream"
    assert "italic" in row.editor.edit.styleSheet()
    assert row.reset_button.isHidden()

    qtbot.keyClick(row.editor.edit, Qt.Key.Key_Return)  # Enter on an untouched field
    assert window.controller.undo_stack.count() == 0

    retype(qtbot, row.editor.edit, "100")
    assert window.doc.node(key, fc2).params["in_features"] == 100
    assert row.editor.note.isHidden() and "italic" not in row.editor.edit.styleSheet()
    assert any(d.code == "shape-mismatch" for d in window.doc.analysis(key).by_node[fc2])
    assert row.reset_button.isVisible()

    qtbot.mouseClick(row.reset_button, Qt.MouseButton.LeftButton)
    assert "in_features" not in window.doc.node(key, fc2).params
    assert row.editor.edit.text() == "256"
    assert row.editor.note.text() == "inferred from upstream"
    assert window.controller.undo_stack.count() == 2


def test_renaming_to_a_keyword_or_a_taken_name_is_refused_as_typed(qtbot):
    window = open_example(qtbot, "mlp.json")
    fc1 = select(window, "fc1")
    field = form_of(window).name_field
    retype(qtbot, field.edit, "class")
    assert field.note.text() == "'class' is a Python keyword"
    retype(qtbot, field.edit, "fc2")
    assert field.note.text() == "the name 'fc2' is already used in this network"
    assert window.doc.node(window.current_key(), fc1).name == "fc1"
    assert window.controller.undo_stack.count() == 0

    retype(qtbot, field.edit, "encoder")
    assert window.doc.node(window.current_key(), fc1).name == "encoder"
    assert window.current_view().canvas.nodes[fc1].look.name == "encoder"
    assert form_of(window).title.text().startswith("encoder")


def test_a_check_box_and_a_combo_commit_on_the_users_click(qtbot):
    window = open_example(qtbot, "digits_cnn.json")
    key = window.current_key()
    conv1 = select(window, "conv1")
    form = form_of(window)
    bias = form.rows["bias"].editor
    assert isinstance(bias, BoolEditor) and not bias.control.isChecked()
    qtbot.mouseClick(bias.control, Qt.MouseButton.LeftButton)
    assert window.doc.node(key, conv1).params["bias"] is True
    mode = form.rows["padding_mode"].editor
    assert isinstance(mode, ChoiceEditor) and mode.control.currentText() == "zeros"
    mode.control.setFocus()
    qtbot.keyClick(mode.control, Qt.Key.Key_Down)
    assert window.doc.node(key, conv1).params["padding_mode"] == mode.control.currentText()
    assert window.controller.undo_stack.count() == 2
    window.controller.undo_stack.undo()
    assert mode.control.currentText() == "zeros"


def test_weight_init_and_node_notes_are_one_undo_step_each(qtbot):
    window = open_example(qtbot, "mlp.json")
    key = window.current_key()
    fc1 = select(window, "fc1")
    form = form_of(window)
    form.init_combo.setFocus()
    qtbot.keyClick(form.init_combo, Qt.Key.Key_Down)
    assert window.doc.node(key, fc1).init == "kaiming_normal"
    form.notes.timer.setInterval(20)
    form.notes.setFocus()
    with qtbot.waitSignal(window.controller.undo_stack.indexChanged, timeout=2000):
        qtbot.keyClicks(form.notes, "from table 2")
    assert window.doc.node(key, fc1).notes == "from table 2"
    assert window.controller.undo_stack.count() == 2


def test_the_nodes_problems_are_listed_with_a_fix_button(qtbot):
    window = open_example(qtbot, "broken/wrong_in_channels.json")
    key = window.current_key()
    conv2 = select(window, "conv2")
    form = form_of(window)
    assert form.problems_box.isVisible()
    (button,) = form.problems.buttons
    assert button.text() == "Fix: set in_channels=6"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert window.doc.node(key, conv2).params["in_channels"] == 6
    assert window.doc.analysis(key).by_node.get(conv2) is None
    assert form_of(window).problems_box.isHidden()
    assert form_of(window).rows["in_channels"].editor.edit.text() == "6"


def test_several_selected_nodes_are_counted_and_nothing_is_editable(qtbot):
    window = open_example(qtbot, "mlp.json")
    ids = [node_id(window, "fc1"), node_id(window, "fc2")]
    window.current_view().canvas.select_nodes(ids)
    inspector = window.panels.inspector
    assert inspector.form is None
    assert inspector.message.text().startswith("2 layers selected")
    window.current_view().canvas.select_nodes([])
    assert inspector.message.text() == NOTHING_SELECTED


def test_values_bound_to_an_argument_show_as_such(qtbot):
    window = open_example(qtbot, "resnet18.json")
    window.tabs.open_graph(("block", "BasicBlock"))
    conv1 = select(window, "conv1")
    row = form_of(window).rows["in_channels"]
    assert row.editor.note.text() == "from argument 'channels'"
    assert row.editor.edit.text() == "64"
    assert row.reset_button.isVisible()
    retype(qtbot, row.editor.edit, "32")  # typing a number unbinds the parameter
    assert window.doc.node(("block", "BasicBlock"), conv1).params["in_channels"] == 32


def test_a_node_deleted_elsewhere_empties_the_inspector(qtbot):
    window = open_example(qtbot, "mlp.json")
    fc1 = select(window, "fc1")
    window.controller.delete(window.current_key(), {fc1})
    assert window.panels.inspector.form is None
    window.controller.undo_stack.undo()
    assert window.doc.node(window.current_key(), fc1).name == "fc1"
    window.current_view().canvas.select_nodes([fc1])
    assert form_of(window).node_id == fc1


# -- what typed text means (no widgets) ------------------------------------------------------
def test_every_catalog_default_reads_back_from_its_own_text():
    for spec in all_specs():
        for param in spec.params:
            value = spec.defaults[param.name]
            if value is None or param.kind in ("bool", "choice", "dtype"):
                continue
            back = parse_param(param, format_param(param, value))
            assert back is REMOVE or param.check_value(back) == value, (spec.type, param.name)


@pytest.mark.parametrize(("type_name", "param", "text", "expected"), [
    ("nn.Conv2d", "kernel_size", "3, 5", [3, 5]),
    ("nn.Conv2d", "kernel_size", "(3×3)", [3, 3]),
    ("nn.Conv2d", "padding", "same", "same"),
    ("nn.Conv2d", "in_channels", "", REMOVE),
    ("io.Input", "shape", "N, 3, 224, 224", ["N", 3, 224, 224]),
    ("op.getitem", "index", ":, 0, 1:-1:2", [":", "0", "1:-1:2"]),
    ("op.permute", "dims", "[0]", [0]),
    ("nn.Softmax", "dim", "None", None),
    ("nn.Dropout", "p", "0.25", 0.25),
])
def test_typed_text_becomes_a_json_value(type_name, param, text, expected):
    assert parse_param(get_spec(type_name).param_map[param], text) == expected


@pytest.mark.parametrize(("type_name", "param", "text", "reason"), [
    ("nn.Conv2d", "kernel_size", "", "kernel_size must be set"),
    ("nn.Conv2d", "kernel_size", "1 2 3", "kernel_size must be one number or 2 numbers"),
    ("nn.Conv2d", "padding", "full", "padding must be a number, 'same' or 'valid'"),
    ("nn.Dropout", "p", "1.5", "p must be at most 1"),
    ("nn.Linear", "out_features", "9" * 60, "out_features: 999999999999… is far too large"),
    ("op.getitem", "index", "0, a", "index: 'a' is not an index or slice"),
])
def test_unusable_text_says_why(type_name, param, text, reason):
    with pytest.raises(ParamError) as caught:
        parse_param(get_spec(type_name).param_map[param], text)
    assert str(caught.value).startswith(reason)
