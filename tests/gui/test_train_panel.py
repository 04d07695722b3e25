"""The Train panel runs real `torchcanvas train` children on digits with a tiny model: a run
finishes, Stop checkpoints and Resume continues, the runner's errors reach a dialog, a killed
run is reported, and the open project is never touched (its undo stack neither)."""

from __future__ import annotations

import csv
import os
import signal

from PySide6.QtCore import Qt

from builder.gui.train.runs import LAST_CHECKPOINT
from graph_schema import load_project
from graph_schema.document import Position
from tests.gui.test_train_panel_support import (
    QUICK,
    RUN_TIMEOUT_MS,
    SLOW,
    as_json,
    diverging_project,
    open_train_window,
    run_to_end,
    tiny_project,
    wait_for_event,
)


def epochs_in(run_dir) -> list[int]:
    with open(run_dir / "metrics.csv", newline="") as handle:
        return [int(row["epoch"]) for row in csv.DictReader(handle)]


def test_start_shows_progress_and_the_run_finishes(qtbot, tmp_path):
    window, panel, prompts = open_train_window(qtbot, tmp_path)
    before = as_json(window)
    panel.extra_args = QUICK
    said, started = [], []
    panel.status_changed.connect(said.append)
    panel.run_started.connect(started.append)
    run_dir, code, message = run_to_end(qtbot, panel)
    assert (code, message) == (0, "")
    assert started == [run_dir]
    assert run_dir.parent == panel.runs_folder() == tmp_path / "runs"
    assert run_dir.name.startswith("tiny-")
    assert epochs_in(run_dir) == [1, 2]
    assert load_project(run_dir / "project.json") == window.doc.project  # what was trained
    assert said[0] == "Building the model and loading the data…"
    progress = [text for text in said if text.startswith("Epoch ")]
    assert any(
        t.startswith("Epoch 1/2 · step ") and "cpu, world size 1" in t and "samples/s" in t
        for t in progress
    ), progress
    assert any(t.startswith("Epoch 2/2") and " left" in t for t in progress), progress
    assert panel.status_text().startswith(
        "Finished: 2 epochs, 8 steps (reached the epoch limit) · test loss "
    )
    assert "run folder " + str(run_dir) in panel.log.toPlainText()
    assert prompts.errors == []
    assert panel.start_button.isEnabled() and not panel.stop_button.isEnabled()
    assert not panel.resume_button.isEnabled()  # nothing to continue
    assert as_json(window) == before
    assert window.controller.undo_stack.count() == 0


def test_stop_saves_a_checkpoint_and_resume_continues_from_it(qtbot, tmp_path):
    window, panel, prompts = open_train_window(qtbot, tmp_path, tiny_project(batch_size=1))
    before = as_json(window)
    panel.extra_args = SLOW
    with qtbot.waitSignal(panel.run_finished, timeout=RUN_TIMEOUT_MS) as stopped:
        assert panel.start()
        wait_for_event(qtbot, panel, "step")
        assert panel.stop_button.isEnabled() and not panel.start_button.isEnabled()
        qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton)
        assert panel.status_text() == "Stopping: saving a checkpoint…"
    run_dir, code, message = stopped.args
    assert (code, message) == (130, "stopped; saved a checkpoint (Resume continues the run)")
    assert (run_dir / LAST_CHECKPOINT).is_file()
    assert len(epochs_in(run_dir)) < 2
    assert panel.status_text().startswith("Stopped at epoch 1, step ")
    assert prompts.errors == []
    assert panel.resume_button.isEnabled()

    steps = []
    panel.event_received.connect(
        lambda event: steps.append(event["step"]) if event["event"] == "step" else None
    )
    with qtbot.waitSignal(panel.run_finished, timeout=RUN_TIMEOUT_MS) as resumed:
        qtbot.mouseClick(panel.resume_button, Qt.MouseButton.LeftButton)
    assert resumed.args == [run_dir, 0, ""]  # the same run folder, finished
    assert epochs_in(run_dir) == [1, 2]
    assert steps[0] > 1 and steps[-1] == 2 * 150  # it went on from the checkpoint
    assert f"resumed at epoch 1, step {steps[0] - 1}" in panel.log.toPlainText()
    assert not panel.resume_button.isEnabled()
    assert as_json(window) == before
    assert window.controller.undo_stack.count() == 0


def test_a_bad_dataset_path_shows_the_runners_error_in_a_dialog(qtbot, tmp_path):
    window, panel, prompts = open_train_window(
        qtbot, tmp_path, tiny_project(dataset="npz:missing/data.npz")
    )
    before = as_json(window)
    run_dir, code, message = run_to_end(qtbot, panel)
    assert (code, message) == (2, "missing/data.npz: no such file")
    assert prompts.errors == ["Training failed: missing/data.npz: no such file"]
    assert panel.status_text() == "Failed: missing/data.npz: no such file"
    assert (run_dir / "project.json").is_file() and not (run_dir / "metrics.csv").exists()
    assert not panel.resume_button.isEnabled()
    assert as_json(window) == before
    assert window.controller.undo_stack.count() == 0


def test_a_diverging_run_stops_with_its_message(qtbot, tmp_path):
    window, panel, prompts = open_train_window(qtbot, tmp_path, diverging_project())
    before = as_json(window)
    panel.extra_args = QUICK
    _run_dir, code, message = run_to_end(qtbot, panel)
    assert code == 1
    assert message.startswith("the loss became nan at step 3; training stopped")
    assert "learning rate" in message
    (error,) = prompts.errors
    assert error.startswith("Training failed: the loss became nan at step 3")
    assert panel.status_text().startswith("Failed: the loss became nan at step 3")
    assert as_json(window) == before
    assert window.controller.undo_stack.count() == 0


def test_a_run_killed_from_outside_is_reported_and_edits_meanwhile_are_noted(qtbot, tmp_path):
    window, panel, prompts = open_train_window(qtbot, tmp_path, tiny_project(batch_size=1))
    before = as_json(window)
    panel.extra_args = SLOW
    with qtbot.waitSignal(panel.run_finished, timeout=RUN_TIMEOUT_MS) as ended:
        assert panel.start()
        wait_for_event(qtbot, panel, "step")
        # The drawing moves on while the run trains the version of Start.
        key = ("network", "tiny")
        node = window.doc.graph(key).nodes[1]
        window.controller.move(key, {node.id: Position(x=node.position.x + 40, y=node.position.y)})
        qtbot.waitUntil(panel.changed_note.isVisible, timeout=5000)
        assert panel.changed_note.text().startswith(
            "The drawing changed since this run started; it trains the version from "
        )
        window.controller.undo_stack.undo()
        qtbot.waitUntil(lambda: not panel.changed_note.isVisible(), timeout=5000)
        os.kill(panel.process.pid(), signal.SIGKILL)
    _run_dir, code, message = ended.args
    assert (code, message) == (-9, "the run was killed (signal 9, SIGKILL)")
    assert prompts.errors == ["The run was killed: the run was killed (signal 9, SIGKILL)"]
    assert panel.status_text() == "The run was killed (signal 9, SIGKILL)"
    assert panel.start_button.isEnabled() and not panel.running()
    assert as_json(window) == before
    assert window.controller.undo_stack.index() == 0  # the test's own move, undone


def test_closing_the_window_with_a_run_going_asks_then_stops_it_with_a_checkpoint(qtbot, tmp_path):
    window, panel, prompts = open_train_window(
        qtbot, tmp_path, tiny_project(batch_size=1), stop_run_on_close=[False, True]
    )
    panel.extra_args = SLOW
    assert panel.start()
    wait_for_event(qtbot, panel, "step")
    window.close()  # "Keep Training"
    assert window.isVisible() and panel.running()
    with qtbot.waitSignal(panel.run_finished, timeout=RUN_TIMEOUT_MS) as ended:
        window.close()  # "Stop and Close": the run checkpoints before the window goes
    run_dir, code, _message = ended.args
    assert not window.isVisible()
    assert code == 130 and (run_dir / LAST_CHECKPOINT).is_file()
    assert [question for question, _ in prompts.asked] == ["stop_run_on_close"] * 2
    assert prompts.errors == []
