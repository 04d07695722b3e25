"""The Train panel's setup: its fields edit the project's training section (one undo step each),
the picker writes the runner's DATA forms, the device list and the data preview come from child
processes, and untrusted kept source is offered for review before a run."""

from __future__ import annotations

import os

from PySide6.QtCore import Qt

from builder.gui.train.data_field import SYNTHETIC
from tests.gui.panels_support import retype
from tests.gui.test_train_panel_support import (
    RUN_TIMEOUT_MS,
    open_train_window,
    tiny_project,
)
from tests.kept_blocks import kept_block, placed_gate


def choose(qtbot, combo, key=Qt.Key.Key_Down) -> None:
    """Pick the next entry with the keyboard, as a user would on a closed combo box."""
    combo.setFocus()
    qtbot.keyClick(combo, key)


def picker_action(panel, text: str):
    return next(a for a in panel.setup.data.picker.menu().actions() if a.text().startswith(text))


def test_setup_edits_are_undoable_and_go_to_the_training_section(qtbot, tmp_path):
    (tmp_path / "data").mkdir()
    elsewhere = tmp_path.parent / f"{tmp_path.name}-images"
    window, panel, prompts = open_train_window(
        qtbot, tmp_path, data_file=[tmp_path / "data" / "set.npz"], data_folder=[elsewhere]
    )
    original = window.doc.project.training
    setup, stack = panel.setup, window.controller.undo_stack
    form = setup.form
    retype(qtbot, form.fields["learning_rate"].edit, "0.05")
    retype(qtbot, form.fields["epochs"].edit, "3")
    retype(qtbot, form.fields["processes"].edit, "0")
    assert (
        form.fields["processes"].note.text()
        == "processes: Input should be greater than or equal to 1"
    )
    retype(qtbot, form.fields["processes"].edit, "2")
    choose(qtbot, form.combos["precision"])
    choose(qtbot, setup.device.combo)
    training = window.doc.project.training
    assert (
        training.learning_rate,
        training.epochs,
        training.processes,
        training.precision,
        training.device,
    ) == (0.05, 3, 2, "16-mixed", "cpu")
    assert stack.count() == 5

    picker_action(panel, "Synthetic").trigger()
    assert window.doc.project.training.dataset == SYNTHETIC
    picker_action(panel, "NumPy").trigger()  # a file in the project's folder: relative
    assert window.doc.project.training.dataset == "npz:data/set.npz"
    assert setup.data_text.edit.text() == "npz:data/set.npz"
    picker_action(panel, "Image folder").trigger()  # elsewhere: absolute
    assert window.doc.project.training.dataset == f"folder:{elsewhere.as_posix()}"
    assert [q for q, _ in prompts.asked] == ["data_file", "data_folder"]
    assert stack.count() == 8
    # The Project panel shows the same section.
    notes = window.panels.notes.training
    assert notes.combos["precision"].currentText() == "16-mixed"
    assert notes.fields["device"].edit.text() == "cpu"

    while stack.canUndo():
        stack.undo()
    assert window.doc.project.training == original
    assert form.combos["precision"].currentText() == "32-true"
    assert setup.device.value() == "auto"
    assert setup.data_text.edit.text() == "digits"


def test_the_device_list_and_the_data_preview_come_from_child_processes(qtbot, tmp_path):
    window, panel, _prompts = open_train_window(qtbot, tmp_path)
    setup = panel.setup
    with qtbot.waitSignals([setup.device.listed, setup.preview.shown], timeout=RUN_TIMEOUT_MS):
        window.docks["train"].raise_()  # first time in front: both are asked for
    combo = setup.device.combo
    items = [combo.itemText(i) for i in range(combo.count())]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert items[:2] == ["Auto (a GPU when there is one)", f"CPU ({cores} cores)"]
    assert all(text.startswith("cuda:") and " GB" in text for text in items[2:])
    assert combo.currentData() == "auto"
    preview = setup.preview
    assert preview.summary.text() == "1×8×8 samples · 10 classes · 1,439 train, 179 val, 179 test"
    labels = preview.labels()
    assert len(labels) == 8 and set(labels) <= {str(d) for d in range(10)}

    with qtbot.waitSignal(preview.shown, timeout=RUN_TIMEOUT_MS):
        retype(qtbot, setup.data_text.edit, "npz:missing.npz")
    assert preview.summary.text() == "missing.npz: no such file"
    assert preview.labels() == []
    assert window.doc.project.training.dataset == "npz:missing.npz"
    assert window.controller.undo_stack.count() == 1


def test_the_preview_follows_the_models_input_shape(qtbot, tmp_path):
    window, panel, _prompts = open_train_window(qtbot, tmp_path)
    preview = panel.setup.preview
    with qtbot.waitSignal(preview.shown, timeout=RUN_TIMEOUT_MS):
        window.docks["train"].raise_()
    assert preview.summary.text().startswith("1×8×8 samples")
    with qtbot.waitSignal(preview.shown, timeout=RUN_TIMEOUT_MS):
        window.controller.set_param(("network", "tiny"), "x", "shape", ["N", 64])
    assert preview.summary.text().startswith("64 samples"), preview.summary.text()


def test_untrusted_kept_source_is_offered_for_review_before_a_run(qtbot, tmp_path):
    untrusted = placed_gate(kept_block(sign=False))
    untrusted.training = tiny_project().training
    window, panel, prompts = open_train_window(qtbot, tmp_path, untrusted)
    window.files.prompts.answer("offer_kept_source_review", False)
    assert not panel.start()  # not trusted: no run
    assert window.files.prompts.asked[0][0] == "offer_kept_source_review"
    (error,) = prompts.errors
    assert error.startswith("Cannot train: The project has 1 error(s); fix them first.")
    assert "Gate" in error
    assert not (tmp_path / "runs").exists()

    # Trusted after reading it: the run gets --trust-kept-source (and fails on the data,
    # which does not fit this model: that is the runner's to say).
    window.files.prompts.answer("offer_kept_source_review", True)
    window.files.prompts.answer("review_kept_source", ["Gate"])
    with qtbot.waitSignal(panel.run_finished, timeout=RUN_TIMEOUT_MS) as ended:
        assert panel.start()
        assert "--trust-kept-source" in panel.request.arguments()
    assert ended.args[1] == 2
    assert window.controller.undo_stack.count() == 1  # the trust, the user's own step
