"""Quick checks of the drawing, each in a child process as a run is: the sanity ladder
(`sanity --json-progress`), the learning-rate range test (`lr-find --json-progress`) and the
init check (`train --check-init --fast-dev-run --json-progress`: one batch, nothing saved).

A check trains a snapshot of the document written into a folder of its own (a temporary one:
a check leaves nothing in the runs folder, whose entries are runs), so the open project is
never touched and an edit made while it goes does not change what it checks. A check that
fails in a way its own view cannot show (a bad dataset, a crash) says why in a dialog; a
ladder that fails is not such a failure: the ladder shows it rung by rung.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from builder.gui.train.process import RunOutcome, TrainProcess
from builder.gui.train.runs import PROJECT_FILE, working_dir
from graph_schema import save_project
from graph_schema.document import Project

CHECKS = {
    "sanity": "the sanity ladder",
    "lr-find": "the learning-rate finder",
    "init": "the init check",
}


def check_arguments(kind: str, project_file: Path, folder: Path) -> list[str]:
    """The child's command line (after `python -m builder`) for a check of ``kind``."""
    if kind == "sanity":
        return ["sanity", str(project_file), "--json-progress"]
    if kind == "lr-find":
        return ["lr-find", str(project_file), "--json-progress", "--out", str(folder)]
    if kind == "init":
        return ["train", str(project_file), "--check-init", "--fast-dev-run", "--json-progress"]
    raise ValueError(f"unknown check {kind!r}; choose one of {', '.join(CHECKS)}")


class Checks(QObject):
    """One check at a time; ``extra[kind]``: more flags for every check of that kind."""

    started = Signal(str)  # the kind
    event_received = Signal(str, object)  # the kind, one progress line (a dict)
    finished = Signal(str, object)  # the kind, its RunOutcome
    failed = Signal(str, str)  # the kind, one line saying why (the caller shows it)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.process = TrainProcess(self)
        self.kind: str | None = None
        self.extra: dict[str, list[str]] = {kind: [] for kind in CHECKS}
        self.trained: Project | None = None  # the snapshot the check going (or last) ran on
        self._folder: Path | None = None
        self._shown_itself = False  # its view shows how it ended (a ladder's verdict)
        self.process.event_received.connect(self._on_process_event_received)
        self.process.finished.connect(self._on_process_finished)

    def running(self) -> bool:
        return self.process.running()

    def start(self, kind: str, project: Project, project_path: Path | None, runs: Path,
              trust_kept_source: bool = False) -> bool:
        """Check ``project`` (a copy is written); False, with ``failed`` emitted, when it
        cannot start."""
        if self.running():
            self.failed.emit(kind, f"{CHECKS[self.kind]} is still going; wait for it or stop it")
            return False
        self._forget_folder()
        try:
            self._folder = Path(tempfile.mkdtemp(prefix=f"torchcanvas-{kind}-"))
            save_project(project, self._folder / PROJECT_FILE)
        except OSError as err:
            self.failed.emit(kind, f"cannot write the check's copy of the project: {err}")
            return False
        self.kind, self.trained, self._shown_itself = kind, project, False
        arguments = check_arguments(kind, self._folder / PROJECT_FILE, self._folder)
        if trust_kept_source:
            arguments.append("--trust-kept-source")
        self.process.start(arguments + list(self.extra[kind]), working_dir(project_path, runs))
        self.started.emit(kind)
        return True

    def stop(self) -> None:
        self.process.stop()

    def shut_down(self) -> None:
        """The window is going: no check outlives it, and no copy is left behind."""
        if self.running():
            self.process.stop_and_wait()
        self._forget_folder()

    def _on_process_event_received(self, event: dict) -> None:
        if self.kind == "sanity" and event.get("event") == "ladder":
            self._shown_itself = True  # passed or failed, the ladder says so itself
        self.event_received.emit(self.kind, event)

    def _on_process_finished(self, outcome: RunOutcome) -> None:
        kind = self.kind
        if outcome.unexpected and not self._shown_itself:
            self.failed.emit(kind, outcome.message.partition("\n")[0])
        self.finished.emit(kind, outcome)

    def _forget_folder(self) -> None:
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None
