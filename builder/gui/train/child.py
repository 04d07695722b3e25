"""Child processes of the Train panel: `python -m builder ...` started the same way every time,
and the one-shot commands (`devices --json`, `data-preview --json`) that answer with one JSON
object.

The app never imports torch: whatever needs it runs in a child, which may take seconds (torch
starts slowly), crash or hang without touching the app.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, Signal

import builder

# The folder holding the `builder` package the app runs: the child must run the same TorchCanvas
# (a checkout, an installed copy), whatever its working directory.
PACKAGE_ROOT = Path(builder.__file__).resolve().parent.parent
ONE_SHOT_TIMEOUT_MS = 120_000


def child_environment() -> QProcessEnvironment:
    env = QProcessEnvironment.systemEnvironment()
    paths = [str(PACKAGE_ROOT)] + [p for p in env.value("PYTHONPATH", "").split(_SEPARATOR) if p]
    env.insert("PYTHONPATH", _SEPARATOR.join(dict.fromkeys(paths)))
    env.insert("PYTHONIOENCODING", "utf-8")  # progress lines and messages are UTF-8 text
    env.insert("PYTHONUNBUFFERED", "1")  # each line reaches the panel as it is written
    return env


_SEPARATOR = ";" if sys.platform == "win32" else ":"


def builder_process(
    parent: QObject, arguments: list[str], working_dir: Path | None = None
) -> QProcess:
    """A QProcess for `python -m builder ARGUMENTS`, not started yet."""
    process = QProcess(parent)
    process.setProgram(sys.executable)
    process.setArguments(["-m", "builder", *arguments])
    process.setProcessEnvironment(child_environment())
    if working_dir is not None:
        process.setWorkingDirectory(str(working_dir))
    return process


def last_message(stderr: str, fallback: str) -> str:
    """The runner's own one-line error (`torchcanvas: ...`, with any lines it added after it),
    else the last line of stderr, else ``fallback``."""
    lines = [line.rstrip() for line in stderr.splitlines() if line.strip()]
    for index in range(len(lines) - 1, -1, -1):
        if lines[index].startswith("torchcanvas: "):
            first = lines[index][len("torchcanvas: ") :]
            return "\n".join([first, *lines[index + 1 :]])
    return lines[-1] if lines else fallback


def retire(process: QProcess) -> None:
    """Kill a child nobody waits for any more; the QProcess goes once it has ended (deleting a
    running one would block until it did)."""
    if process.state() == QProcess.ProcessState.NotRunning:
        process.deleteLater()
        return
    process.finished.connect(process.deleteLater)
    process.kill()


class JsonCommand(QObject):
    """Runs one `python -m builder ... --json` at a time; a new request ends the one before.
    Exactly one of ``answered`` (the JSON object) or ``failed`` (one line) per request, unless
    a newer request replaced it."""

    answered = Signal(object)  # dict (as object: a QVariantMap would sort it, drop nulls)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None, timeout_ms: int = ONE_SHOT_TIMEOUT_MS):
        super().__init__(parent)
        self.timeout_ms = timeout_ms
        self.process: QProcess | None = None
        self._timer_id = 0

    def running(self) -> bool:
        return self.process is not None

    def request(self, arguments: list[str], working_dir: Path | None = None) -> None:
        self.cancel()
        process = builder_process(self, arguments, working_dir)
        # Bound methods, not lambdas: Qt then drops the connections when this object goes,
        # and a child that ends later (a closing window) calls nothing.
        process.finished.connect(self._on_process_finished)
        process.errorOccurred.connect(self._on_process_error_occurred)
        self.process = process
        self._timer_id = self.startTimer(self.timeout_ms)
        process.start()

    def cancel(self) -> None:
        """Forget the request in flight (its process is killed; no signal comes for it)."""
        process, self.process = self.process, None
        self._stop_timer()
        if process is not None:
            process.finished.disconnect()
            process.errorOccurred.disconnect()
            retire(process)

    def timerEvent(self, event) -> None:  # noqa: N802
        if event.timerId() == self._timer_id and self.process is not None:
            self.cancel()
            self.failed.emit(f"no answer within {self.timeout_ms // 1000} s")

    def _stop_timer(self) -> None:
        if self._timer_id:
            self.killTimer(self._timer_id)
            self._timer_id = 0

    def _on_process_error_occurred(self, error) -> None:
        process = self.sender()
        if process is self.process and error == QProcess.ProcessError.FailedToStart:
            self._forget(process)
            self.failed.emit(f"could not start {sys.executable}: {process.errorString()}")

    def _on_process_finished(self, code: int, status) -> None:
        process = self.sender()
        if process is not self.process:
            return
        self._forget(process)
        stdout = bytes(process.readAllStandardOutput()).decode("utf-8", "replace")
        stderr = bytes(process.readAllStandardError()).decode("utf-8", "replace")
        if status == QProcess.ExitStatus.CrashExit:
            self.failed.emit(f"the helper process was killed (signal {code})")
            return
        if code != 0:
            self.failed.emit(last_message(stderr, f"the helper process failed (exit {code})"))
            return
        try:
            answer = json.loads(stdout.strip().splitlines()[-1])
        except (IndexError, json.JSONDecodeError):
            self.failed.emit("the helper process gave no JSON answer")
            return
        if not isinstance(answer, dict):
            self.failed.emit("the helper process gave no JSON object")
            return
        self.answered.emit(answer)

    def _forget(self, process: QProcess) -> None:
        self.process = None
        self._stop_timer()
        process.deleteLater()
