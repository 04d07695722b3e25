"""The Train panel: set up a run, Start / Stop / Resume it, and see what it is doing.

The run is `torchcanvas train` in a child process (builder/gui/train/process.py): a crash, a
hang, out-of-memory or a NaN there never touches the open project. Start writes the document
as it is now into the run folder (``project.json``) and trains that file, so later edits do not
change a run that is going; the panel says when the drawing has moved on.

For the parts that show a run (curves, runs, the ladder), the panel offers:

- ``views``: a QTabWidget ("Setup" and "Log" first) to add tabs to;
- ``event_received(dict)``: every progress line of the current run, parsed (see
  builder/training/logs.py; readers ignore events they do not know);
- ``run_started(Path run_dir)`` and ``run_finished(Path run_dir, int exit_code, str message)``
  (exit_code: the runner's status, 130 for a run stopped with a checkpoint, minus the signal
  for a killed one, -1 when it never started; message "" when it finished);
- ``runs_folder()``: where this project's runs go.
"""

from __future__ import annotations

import dataclasses
import datetime
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from builder.gui.controller import EditController
from builder.gui.panels.common import scrolling
from builder.gui.panels.fields import DERIVED_COLOR
from builder.gui.project_document import ProjectDocument
from builder.gui.theme import WARNING_COLOR
from builder.gui.train.process import RunOutcome, TrainProcess
from builder.gui.train.prompts import TrainPrompts
from builder.gui.train.runs import (
    PROJECT_FILE,
    RunRequest,
    new_run_dir,
    run_stem,
    runs_folder,
    working_dir,
)
from builder.gui.train.setup import TrainSetup
from builder.gui.train.status import RunStatus
from graph_schema import ProjectError, load_project, save_project
from graph_schema.document import Project
from graph_schema.trust import TrustError, kept_blocks, untrusted_blocks

LOG_LINES = 2000
CHANGE_CHECK_MS = 250  # edits come in bursts (a drag, typing): compare once they pause


class TrainPanel(QWidget):
    event_received = Signal(object)  # dict (as object: keys keep their order, nulls stay None)
    run_started = Signal(Path)
    run_finished = Signal(Path, int, str)
    status_changed = Signal(str)
    shutting_down = Signal()  # the window is going: the parts with children of their own stop

    def __init__(
        self,
        doc: ProjectDocument,
        controller: EditController,
        *,
        review_kept_source: Callable[[], object] | None = None,
        parent: QWidget | None = None,
    ):
        """``review_kept_source``: offers to trust the project's untrusted kept source (the
        window's Edit > Review Kept Source…), asked before a run that needs it."""
        super().__init__(parent)
        self.doc, self.controller = doc, controller
        self.review_kept_source = review_kept_source
        self.prompts = TrainPrompts(self)  # tests swap it, as the File menu's Prompts
        self.extra_args: list[str] = []  # more `train` flags for every run (--max-steps 20)
        self.process = TrainProcess(self)
        self.request: RunRequest | None = None  # the run going, or the last one
        self.outcome: RunOutcome | None = None  # how the last run ended
        self.run_status: RunStatus | None = None
        self._trained: Project | None = None  # what the run going trains
        self._trained_at: datetime.datetime | None = None
        self._build()
        self._wire()
        self._update_buttons()
        self._say("Ready: press Start to train the drawing")

    # -- parts -----------------------------------------------------------------------------
    def _build(self) -> None:
        self.start_button = QPushButton("Start")
        self.start_button.setToolTip("Train the drawing as it is now, in a new run folder")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop the run; it saves a checkpoint first")
        self.resume_button = QPushButton("Resume")
        self.resume_button.setToolTip("Continue the last stopped run from its checkpoint")
        buttons = QHBoxLayout()
        for button in (self.start_button, self.stop_button, self.resume_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.changed_note = QLabel()
        self.changed_note.setWordWrap(True)
        self.changed_note.setStyleSheet(f"color: {WARNING_COLOR};")
        self.changed_note.hide()
        self.setup = TrainSetup(self.doc, self.controller, lambda: self.prompts)
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(LOG_LINES)
        self.log.setPlaceholderText("What the runner says, as it says it (its terminal output)")
        self.views = QTabWidget()
        self.views.setDocumentMode(True)
        self.views.addTab(scrolling(self.setup), "Setup")
        self.views.addTab(self.log, "Log")
        self.folder_label = QLabel()
        self.folder_label.setStyleSheet(f"color: {DERIVED_COLOR};")
        self.folder_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.folder_label.hide()  # until there is a run folder to name
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        layout.addWidget(self.changed_note)
        layout.addWidget(self.folder_label)
        layout.addWidget(self.views, 1)
        self.ticker = QTimer(self)
        self.ticker.setInterval(1000)
        self.change_check = QTimer(self)
        self.change_check.setSingleShot(True)
        self.change_check.setInterval(CHANGE_CHECK_MS)

    def _wire(self) -> None:
        self.start_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        self.resume_button.clicked.connect(self.resume)
        self.process.event_received.connect(self._on_process_event_received)
        self.process.stderr_line_received.connect(self._log)
        self.process.finished.connect(self._on_process_finished)
        self.ticker.timeout.connect(self._show_status)
        self.change_check.timeout.connect(self._on_change_check_timeout)
        self.controller.undo_stack.indexChanged.connect(self._on_document_edited)
        self.doc.project_replaced.connect(self._on_document_edited)

    # -- what the panel offers -------------------------------------------------------------
    def running(self) -> bool:
        return self.process.running()

    def runs_folder(self) -> Path:
        return runs_folder(self.doc.path)

    def run_dir(self) -> Path | None:
        """The folder of the run going, or of the last one."""
        return self.request.run_dir if self.request is not None else None

    def status_text(self) -> str:
        return self.status.text()

    def can_resume(self) -> bool:
        return (
            not self.running()
            and self.request is not None
            and self.outcome is not None
            and not self.outcome.succeeded
            and self.request.resumable()
        )

    def set_in_front(self, visible: bool) -> None:
        """The panel's dock came to the front (or went behind a tab): the device list and the
        data preview are asked for the first time it is in front, not for every window."""
        if visible:
            self.setup.ensure_loaded()

    def shut_down(self) -> None:
        """The window is going: no child of the panel outlives it."""
        self.shutting_down.emit()
        self.stop_for_close()
        self.setup.device.command.cancel()
        self.setup.preview.command.cancel()

    # -- start, stop, resume ---------------------------------------------------------------
    def start(self) -> bool:
        """Train the document as it is now in a new run folder; False when it cannot start
        (the reason is in a dialog)."""
        if self.running() or not self._ready_to_train():
            return False
        project = self.doc.project.model_copy(deep=True)
        runs = self.runs_folder()
        run_dir = new_run_dir(runs, run_stem(self.doc.path, project.name), datetime.datetime.now())
        try:
            run_dir.mkdir(parents=True)
            save_project(project, run_dir / PROJECT_FILE)
        except OSError as err:
            self.prompts.error(
                "Cannot start the run",
                f"cannot write the run folder {run_dir}: {err.strerror or err}",
            )
            return False
        request = RunRequest(
            run_dir,
            trust_kept_source=trusted(project),
            extra=list(self.extra_args),
            cwd=working_dir(self.doc.path, runs),
        )
        self._launch(request, project)
        return True

    def resume(self) -> bool:
        """Continue the last run from its checkpoint (`--ckpt-path last --out RUN_DIR`): the
        run folder's own project.json, so it trains what it trained before."""
        if not self.can_resume():
            return False
        try:
            project = load_project(self.request.project_file)
        except ProjectError as err:
            self.prompts.error("Cannot resume the run", str(err))
            return False
        self._launch(dataclasses.replace(self.request, resume=True), project)
        return True

    def stop(self) -> None:
        """Ask the run to save a checkpoint and end (it is killed if it does not)."""
        if not self.running():
            return
        if self.run_status is not None:
            self.run_status.stopping()
        self.process.stop()
        self._update_buttons()
        self._show_status()

    def confirm_close(self) -> bool:
        """The window is closing: True when it may. A run going is stopped (with its
        checkpoint) if the user agrees; call ``stop_for_close`` once closing is certain."""
        if not self.running():
            return True
        return self.prompts.stop_run_on_close(self.request.run_dir.name)

    def stop_for_close(self) -> None:
        """Stop the run and wait for its checkpoint (bounded): the window is going."""
        if self.running():
            if self.run_status is not None:
                self.run_status.stopping()
            self._show_status()
            self.process.stop_and_wait()

    def _ready_to_train(self) -> bool:
        errors = self._errors()
        if (
            any(d.code == "untrusted-source" for d in errors)
            and self.review_kept_source is not None
        ):
            self.review_kept_source()
            errors = self._errors()
        if errors:
            from builder.gui.export import describe_problems

            self.prompts.error(
                "Cannot train",
                f"The project has {len(errors)} error(s); fix them first.",
                describe_problems(errors),
            )
            return False
        return True

    def _errors(self) -> list:
        return [d for d in self.doc.diagnostics() if d.is_error]

    def _launch(self, request: RunRequest, project: Project) -> None:
        self.request, self.outcome = request, None
        self._trained, self._trained_at = project, datetime.datetime.now()
        self.run_status = RunStatus(
            project.training.epochs, project.training.batch_size, self.setup.device.names()
        )
        self.changed_note.hide()
        self.folder_label.setText(str(request.run_dir))
        self.folder_label.show()
        what = "Resuming" if request.resume else "Starting"
        self._log(f"{what} {request.run_dir}")
        self.process.start(request.arguments(), request.cwd)
        self.ticker.start()
        self._update_buttons()
        self._show_status()
        self.run_started.emit(request.run_dir)

    # -- the run's events ------------------------------------------------------------------
    def _on_process_event_received(self, event: dict) -> None:
        if self.run_status is not None:
            self.run_status.feed(event)
        self._show_status()
        self.event_received.emit(event)

    def _on_process_finished(self, outcome: RunOutcome) -> None:
        self.outcome = outcome
        self.ticker.stop()
        self.changed_note.hide()
        self._trained = None
        status = self._ended_text(outcome)
        self._log(status)
        self._say(status)
        self._update_buttons()
        request, message = self.request, outcome.message
        if outcome.stopped and not request.resumable():
            message = "stopped before its first checkpoint; there is nothing to resume"
        if outcome.unexpected:
            first, _, rest = message.partition("\n")
            title = "The run was killed" if outcome.killed else "Training failed"
            self.prompts.error(title, first, rest)
        self.run_finished.emit(request.run_dir, outcome.code, message)

    def _ended_text(self, outcome: RunOutcome) -> str:
        status = self.run_status
        if outcome.succeeded:
            return (
                status.ended_text if status and status.ended_text else "Finished"
            ) + f" · {self.request.run_dir.name}"
        if outcome.stopped and not self.request.resumable():
            return "Stopped before its first checkpoint: there is nothing to resume."
        if outcome.stopped and status is not None:
            at = f" at epoch {status.epoch}, step {status.step}" if status.step is not None else ""
            return f"Stopped{at}; saved a checkpoint. Resume continues the run."
        first = outcome.message.partition("\n")[0]
        if outcome.requested_stop or outcome.killed:
            return first[:1].upper() + first[1:]
        return f"Failed: {first}"

    # -- the drawing moving on -------------------------------------------------------------
    def _on_document_edited(self, *_args) -> None:
        if self._trained is not None:
            self.change_check.start()

    def _on_change_check_timeout(self) -> None:
        note = self.changed_text()
        self.changed_note.setText(note)
        self.changed_note.setVisible(bool(note))

    def changed_text(self) -> str:
        """What differs between the document and what the run going trains ("" if nothing)."""
        trained, now = self._trained, self.doc.project
        if trained is None or self._trained_at is None or now == trained:
            return ""
        at = self._trained_at.strftime("%H:%M")
        if now.model_copy(update={"training": trained.training}) == trained:
            return (
                f"The training settings changed since this run started; it trains the "
                f"ones from {at}."
            )
        return f"The drawing changed since this run started; it trains the version from {at}."

    # -- showing ---------------------------------------------------------------------------
    def _show_status(self) -> None:
        if self.run_status is not None and self.running():
            self._say(self.run_status.text(time.time()))

    def _say(self, text: str) -> None:
        if text != self.status.text():
            self.status.setText(text)
            self.status_changed.emit(text)

    def _log(self, line: str) -> None:
        if line:
            self.log.appendPlainText(line)

    def _update_buttons(self) -> None:
        running = self.running()
        self.start_button.setEnabled(not running)
        self.stop_button.setEnabled(
            running and (self.run_status is None or self.run_status.phase != "stopping")
        )
        self.resume_button.setEnabled(self.can_resume())


def trusted(project: Project) -> bool:
    """Whether the app considers the project's kept source trusted (every block signed here):
    only then does the run get --trust-kept-source."""
    try:
        return bool(kept_blocks(project)) and not untrusted_blocks(project)
    except TrustError:
        return False
