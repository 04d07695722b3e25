"""What the Train panel shows of runs and checks, as tabs beside its Setup, and their wiring.

- Curves: the run going (builder/gui/train/curves_view.py), with earlier runs overlaid from
  the Runs tab; a resumed run shows the epochs it had done before.
- Result: a finished classification run's confusion matrix and misclassified samples.
- Checks: the sanity ladder (its failing rungs' causes link to the node on the canvas) and the
  init check (badges on the canvas: builder/gui/init_badges.py).
- LR (the learning-rate finder): its curve, and "use this learning rate" as one undo step.
- Runs: the project's runs folder, to compare runs, overlay one, open its folder.

The plots (Curves, LR, Runs' Compare) are pyqtgraph, whose import takes about half a second:
their pages are made the first time they are shown or fed (builder/gui/train/lazy_page.py), so a
window that never trains never pays for it.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from builder.gui.panels.training_form import commit_training_field
from builder.gui.train.checks import CHECKS, Checks
from builder.gui.train.confusion_view import ConfusionView
from builder.gui.train.curves_metrics import read_metrics_csv
from builder.gui.train.ladder_view import LadderView
from builder.gui.train.lazy_page import LazyPage
from builder.gui.train.panel import TrainPanel, trusted

METRICS_FILE = "metrics.csv"
CONFUSION_FILE = "confusion.json"


class RunViews(QObject):
    """``focus_node(key, node_id)`` shows a node on its canvas; ``init_badges`` takes the init
    check's layers (an InitBadges); ``status(text)`` says a line in the status bar."""

    def __init__(self, panel: TrainPanel, focus_node, init_badges, status):
        super().__init__(panel)
        self.panel, self.focus_node, self.init_badges, self.status = \
            panel, focus_node, init_badges, status
        self.result, self.ladder = ConfusionView(), LadderView()
        self.pages = {"curves": LazyPage(self._make_curves), "lr": LazyPage(self._make_lr),
                      "runs": LazyPage(self._make_runs)}
        self.checks = Checks(self)
        self.check_buttons: dict[str, QPushButton] = {}
        self._add_tabs()
        self._wire()

    # -- parts -----------------------------------------------------------------------------
    def _add_tabs(self) -> None:
        views = self.panel.views
        log = views.widget(1)  # the runner's words go last: the pictures come first
        views.removeTab(1)
        views.addTab(self.pages["curves"], "Curves")
        views.addTab(self.result, "Result")
        views.addTab(self._check_tab("sanity", "Run the sanity ladder", self.ladder,
                                     [("init", "Check init")]), "Checks")
        views.addTab(self._check_tab("lr-find", "Find the learning rate", self.pages["lr"]),
                     "LR")
        views.addTab(self.pages["runs"], "Runs")
        views.addTab(log, "Log")

    # The pages made when first needed, each wired as it is made.
    def _make_curves(self) -> QWidget:
        from builder.gui.train.curves_view import LiveCurves

        return LiveCurves()

    def _make_lr(self) -> QWidget:
        from builder.gui.train.lr_view import LrFindView

        view = LrFindView()
        view.lr_chosen.connect(self._on_lr_lr_chosen)
        return view

    def _make_runs(self) -> QWidget:
        from builder.gui.train.runs_view import RunsView

        view = RunsView()
        view.overlay_requested.connect(self._on_runs_overlay_requested)
        view.set_folder(self.panel.runs_folder())
        return view

    @property
    def curves(self):
        return self.pages["curves"].content()

    @property
    def lr(self):
        return self.pages["lr"].content()

    @property
    def runs(self):
        return self.pages["runs"].content()

    def _check_tab(self, kind: str, title: str, view: QWidget, more=()) -> QWidget:
        tab, buttons = QWidget(), QHBoxLayout()
        for each, text in ((kind, title), *more):
            button = QPushButton(text)
            button.setToolTip(f"Run {CHECKS[each]} on the drawing as it is now")
            button.clicked.connect(lambda _=False, k=each: self.run_check(k))
            self.check_buttons[each] = button
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(tab)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addLayout(buttons)
        layout.addWidget(view, 1)
        return tab

    def _wire(self) -> None:
        panel = self.panel
        panel.run_started.connect(self._on_panel_run_started)
        panel.run_finished.connect(self._on_panel_run_finished)
        panel.event_received.connect(self._on_panel_event_received)
        self.ladder.node_requested.connect(self._on_ladder_node_requested)
        self.checks.started.connect(self._on_checks_started)
        self.checks.event_received.connect(self._on_checks_event_received)
        self.checks.finished.connect(self._on_checks_finished)
        self.checks.failed.connect(self._on_checks_failed)
        panel.doc.project_replaced.connect(self._on_doc_project_replaced)

    def show_runs_folder(self) -> None:
        if self.pages["runs"].made():  # a Runs page made later reads the folder then
            self.runs.set_folder(self.panel.runs_folder())

    def shut_down(self) -> None:
        self.checks.shut_down()

    # -- a run -----------------------------------------------------------------------------
    def _on_panel_run_started(self, run_dir: Path) -> None:
        self.curves.start_run(run_dir.name, None, True)
        for row in _metrics(run_dir):  # a resumed run: the epochs it has done already
            self.curves.add_event({"event": "epoch", **row})
        self.result.clear()
        self.runs.set_folder(self.panel.runs_folder())
        self.runs.set_running([run_dir])
        self.panel.views.setCurrentWidget(self.pages["curves"])

    def _on_panel_event_received(self, event: dict) -> None:
        self.curves.add_event(event)
        if event.get("event") == "evaluation" and self.panel.run_dir() is not None:
            self.result.show_run(self.panel.run_dir())

    def _on_panel_run_finished(self, run_dir: Path, _code: int, _message: str) -> None:
        self.runs.set_running([])
        self.runs.set_folder(self.panel.runs_folder())
        if (run_dir / CONFUSION_FILE).is_file():
            self.result.show_run(run_dir)

    def _on_runs_overlay_requested(self, run_dir: Path) -> None:
        rows = _metrics(run_dir)
        if not rows:
            self.status(f"{run_dir.name} has no finished epoch to overlay")
            return
        self.curves.overlay(run_dir.name, rows)
        self.panel.views.setCurrentWidget(self.pages["curves"])

    # -- checks ----------------------------------------------------------------------------
    def run_check(self, kind: str) -> bool:
        panel = self.panel
        project = panel.doc.project.model_copy(deep=True)
        return self.checks.start(kind, project, panel.doc.path, panel.runs_folder(),
                                 trust_kept_source=trusted(project))

    def _on_checks_started(self, kind: str) -> None:
        for button in self.check_buttons.values():
            button.setEnabled(False)
        if kind == "sanity":
            self.ladder.reset()
        elif kind == "lr-find":
            self.lr.reset()
        elif kind == "init":
            self.init_badges.set_init_stats(self._trained_key(), None)
        self.status(f"Running {CHECKS[kind]}…")

    def _on_checks_event_received(self, kind: str, event: dict) -> None:
        if kind == "sanity":
            self.ladder.add_event(event)
        elif kind == "lr-find":
            self.lr.add_event(event)
        elif kind == "init" and event.get("event") == "init_check":
            self._show_init_check(event.get("layers") or [])

    def _show_init_check(self, layers: list) -> None:
        key = self._trained_key()
        try:
            unplaced = self.init_badges.set_init_stats(key, layers)
        except ValueError as err:
            self.status(f"Init check: {err}")
            return
        flagged = sum(1 for layer in layers if layer.get("vanishing") or layer.get("exploding"))
        self.status(f"Init check of '{key[1]}': {len(layers)} layers, {flagged} flagged"
                    + (f"; {len(unplaced)} not on the canvas" if unplaced else ""))

    def _on_checks_finished(self, kind: str, _outcome) -> None:
        for button in self.check_buttons.values():
            button.setEnabled(True)

    def _on_checks_failed(self, kind: str, why: str) -> None:
        self.panel.prompts.error(f"Cannot run {CHECKS[kind]}", why)

    def _trained_key(self) -> tuple[str, str]:
        """The network a check trains: the runner's default, the project's first."""
        project = self.checks.trained or self.panel.doc.project
        return ("network", project.networks[0].name)

    def _on_ladder_node_requested(self, name: str) -> None:
        key = self._trained_key()
        doc = self.panel.doc
        if not doc.has_graph(key):
            return
        top = name.split(".", 1)[0]  # inside a block: its instance on this canvas
        node = next((n.id for n in doc.graph(key).nodes if n.name in (name, top)), None)
        if node is None:
            self.status(f"'{name}' is not on the canvas of '{key[1]}' any more")
            return
        self.focus_node(key, node)

    def _on_lr_lr_chosen(self, lr: float) -> None:
        try:
            commit_training_field(self.panel.doc, self.panel.controller, "learning_rate", lr)
        except ValueError as err:
            self.panel.prompts.error("Cannot use that learning rate", str(err))
            return
        self.status(f"Learning rate set to {lr:.3g} (Undo takes it back)")

    def _on_doc_project_replaced(self) -> None:
        self.show_runs_folder()
        if self.pages["curves"].made():
            self.curves.clear_overlays()


def _metrics(run_dir: Path) -> list[dict]:
    try:
        return read_metrics_csv(run_dir / METRICS_FILE)
    except OSError:
        return []
