"""The Train panel's tabs fed by real children on digits: a run draws its curves and ends with
its confusion matrix and a row in Runs, which overlays on the curves; the sanity ladder fills
in, and a broken model's failing rung links to its node; the LR finder's suggestion is one
undo step; the init check puts badges on the canvas. The project is never touched otherwise."""

from __future__ import annotations

import os
import subprocess
import sys

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from builder.gui.train.checks import check_arguments
from tests.gui.test_train_panel_support import (
    QUICK,
    RUN_TIMEOUT_MS,
    as_json,
    open_train_window,
    run_to_end,
    tiny_project,
)

SOFTMAX_HEAD = (
    ("flat", "nn.Flatten", {}),
    ("fc1", "nn.Linear", {"out_features": 16}),
    ("relu", "nn.ReLU", {}),
    ("fc2", "nn.Linear", {"out_features": 10}),
    ("probs", "nn.Softmax", {"dim": 1}),
)


def run_check(qtbot, views, kind: str) -> None:
    """Press the check's button, as a user would, and wait for the child to end."""
    with qtbot.waitSignal(views.checks.finished, timeout=RUN_TIMEOUT_MS):
        QTest.mouseClick(views.check_buttons[kind], Qt.MouseButton.LeftButton)


def plotted(item) -> list[float]:
    xs, _ys = item.getData()
    return [] if xs is None else list(xs)


def test_a_run_draws_its_curves_and_ends_with_its_result_and_a_row_in_runs(qtbot, tmp_path):
    window, panel, prompts = open_train_window(qtbot, tmp_path)
    views, before = panel.run_views, as_json(window)
    panel.extra_args = QUICK
    run_dir, code, _ = run_to_end(qtbot, panel)
    assert code == 0 and prompts.errors == []
    # The plots redraw on a timer: a step event for each step, the epochs at their steps.
    qtbot.waitUntil(lambda: len(plotted(views.curves.step_loss_item)) == 8, timeout=2_000)
    assert plotted(views.curves.val_loss_item) == [4, 8]
    confusion = views.result.confusion
    assert confusion is not None and len(confusion.matrix) == 10 and confusion.total > 0
    table = views.runs.table
    assert table.rowCount() == 1 and table.item(0, 0).text() == run_dir.name

    views.runs.select_runs([run_dir])
    with qtbot.waitSignal(views.runs.overlay_requested):
        QTest.mouseClick(views.runs.overlay_button, Qt.MouseButton.LeftButton)
    assert run_dir.name in views.curves.overlays
    assert panel.views.currentWidget() is views.pages["curves"]
    assert as_json(window) == before and window.controller.undo_stack.count() == 0


def test_the_ladder_fills_in_and_a_graph_cause_links_to_its_node(qtbot, tmp_path):
    window, panel, prompts = open_train_window(qtbot, tmp_path,
                                               tiny_project(SOFTMAX_HEAD, learning_rate=0.01))
    views, before = panel.run_views, as_json(window)
    seen = []
    views.checks.event_received.connect(lambda kind, event: seen.append(event.get("event")))
    run_check(qtbot, views, "sanity")
    assert seen.count("rung") == 4 and seen[-1] == "ladder"
    assert prompts.errors == []  # a failing ladder says so itself, in the tab
    panel.views.setCurrentIndex(panel.views.indexOf(views.ladder.parentWidget()))
    link = next(link for link in views.ladder.node_links if "'probs'" in link.text())
    inside = QPoint(link.fontMetrics().horizontalAdvance("\u00a0\u00a0\u00a0Show 'pr"),
                    link.height() // 2)
    with qtbot.waitSignal(views.ladder.node_requested):
        QTest.mouseClick(link, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, inside)
    canvas = window.current_view().canvas
    assert set(canvas.selected_node_ids()) == {"probs"}
    assert as_json(window) == before and window.controller.undo_stack.count() == 0


def test_the_lr_finders_suggestion_is_one_undo_step(qtbot, tmp_path):
    window, panel, prompts = open_train_window(qtbot, tmp_path)
    views = panel.run_views
    views.checks.extra["lr-find"] = ["--num-steps", "40"]
    run_check(qtbot, views, "lr-find")
    assert prompts.errors == []
    suggested = views.lr.suggested_lr
    assert suggested is not None and views.lr.use_button.isEnabled()
    QTest.mouseClick(views.lr.use_button, Qt.MouseButton.LeftButton)
    assert window.doc.project.training.learning_rate == suggested
    window.controller.undo_stack.undo()
    assert window.doc.project.training.learning_rate == 1e-3


def test_check_init_badges_the_layers_that_vanish(qtbot, tmp_path):
    project = tiny_project()
    fc1 = next(node for node in project.networks[0].nodes if node.name == "fc1")
    fc1.init = "zeros"  # every output of fc1, and so of the ReLU after it, is 0
    window, panel, prompts = open_train_window(qtbot, tmp_path, project)
    views, before = panel.run_views, as_json(window)
    run_check(qtbot, views, "init")
    assert prompts.errors == []
    marks = window.init_badges.marks(("network", "tiny"))
    flagged = {node for node, mark in marks.items() if mark.flag}
    assert {"fc1", "relu"} <= flagged and "flat" not in flagged
    assert as_json(window) == before


def test_a_check_on_a_dataset_that_will_not_load_says_why(qtbot, tmp_path):
    window, panel, prompts = open_train_window(
        qtbot, tmp_path, tiny_project(dataset="npz:no/such/file.npz"))
    run_check(qtbot, panel.run_views, "init")
    assert len(prompts.errors) == 1 and prompts.errors[0].startswith("Cannot run the init check")
    assert "no/such/file.npz" in prompts.errors[0]


def test_each_check_runs_the_command_the_cli_has():
    assert check_arguments("init", "p.json", "d")[:2] == ["train", "p.json"]
    assert "--fast-dev-run" in check_arguments("init", "p.json", "d")
    assert check_arguments("lr-find", "p.json", "d")[-2:] == ["--out", "d"]


def test_a_window_that_never_trains_never_imports_the_plots():
    # pyqtgraph (and numpy with it) is half a second of every start-up otherwise.
    code = ("import sys; from PySide6.QtWidgets import QApplication; app = QApplication([]); "
            "from builder.gui.app import Windows; window = Windows().new_window(); "
            "window.docks['train'].raise_(); app.processEvents(); "
            "print(sorted(m for m in ('pyqtgraph', 'numpy', 'torch') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
