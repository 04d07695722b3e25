"""One training run in a child process: `python -m builder train PROJECT --json-progress ...`.

The child's stdout is read as it arrives; every whole line that is a JSON object with an
``"event"`` becomes ``event_received`` (the events are documented in builder/training/logs.py;
unknown ones are passed on for whoever knows them, other lines are ignored). stderr is kept (its
last lines) for the message of a failed run: the runner ends one with `torchcanvas: ...` there,
and may also send an ``{"event": "error", "message": ...}`` line.

``stop()`` asks the run to stop as Ctrl+C does (SIGINT: the runner saves a checkpoint and exits
130) and kills it when it has not ended ``stop_timeout_s`` later. However the child ends (a
crash, a signal from outside, a kill) ``finished`` comes once, with a ``RunOutcome`` that says
so. Nothing here waits on the child in the GUI thread, except ``stop_and_wait`` (bounded; for
closing the window).
"""

from __future__ import annotations

import collections
import json
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, QTimer, Signal

from builder.gui.train.child import builder_process, last_message

STOP_TIMEOUT_S = 60.0  # a checkpoint of a large model takes a while to write
STDERR_LINES = 200  # kept for the message of a failed run
EXIT_STOPPED = (130, 143)  # the runner after SIGINT / SIGTERM, with a checkpoint saved


@dataclass(frozen=True)
class RunOutcome:
    """How a run ended. ``code``: the exit status, or minus the signal that ended the child
    (as subprocess has it), or -1 when it never started. ``message``: one line for the user
    (more lines after it for a project with errors), "" for a run that finished."""

    code: int
    message: str
    requested_stop: bool = False  # the user pressed Stop (or closed the window)
    signal: int | None = None  # the signal that ended the child, if one did

    @property
    def killed(self) -> bool:
        return self.signal is not None

    @property
    def succeeded(self) -> bool:
        return self.code == 0

    @property
    def stopped(self) -> bool:
        """Stopped with a checkpoint saved: Resume continues it."""
        return self.code in EXIT_STOPPED

    @property
    def unexpected(self) -> bool:
        """Ended in a way the user did not ask for: worth a dialog."""
        return not self.succeeded and not self.requested_stop


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


class TrainProcess(QObject):
    started = Signal()
    # object, not dict: a dict would travel as a QVariantMap, its keys sorted and nulls lost.
    event_received = Signal(object)  # dict: one progress line
    stderr_line_received = Signal(str)  # what the runner says for people, line by line
    finished = Signal(object)  # RunOutcome

    def __init__(self, parent: QObject | None = None, stop_timeout_s: float = STOP_TIMEOUT_S):
        super().__init__(parent)
        self.stop_timeout_s = stop_timeout_s
        self.process: QProcess | None = None
        self._buffer = b""
        self._stderr: collections.deque[str] = collections.deque(maxlen=STDERR_LINES)
        self._stderr_partial = b""
        self._error_event: dict | None = None
        self._stop_requested = False
        self._killed_after_stop = False
        self._kill_timer = QTimer(self)
        self._kill_timer.setSingleShot(True)
        self._kill_timer.timeout.connect(self._on_kill_timer_timeout)

    # -- asking ----------------------------------------------------------------------------
    def running(self) -> bool:
        return self.process is not None

    def pid(self) -> int | None:
        """The child's process id while it runs (None before it has started)."""
        if self.process is None:
            return None
        return int(self.process.processId()) or None

    def stderr_tail(self) -> list[str]:
        return list(self._stderr)

    def start(self, arguments: list[str], working_dir: Path | None = None) -> None:
        """Start `python -m builder ARGUMENTS` (the caller adds train, --json-progress...)."""
        if self.process is not None:
            raise RuntimeError("a run is going already")
        self._buffer, self._stderr_partial = b"", b""
        self._stderr.clear()
        self._error_event = None
        self._stop_requested = self._killed_after_stop = False
        process = builder_process(self, arguments, working_dir)
        process.readyReadStandardOutput.connect(self._on_process_ready_read_standard_output)
        process.readyReadStandardError.connect(self._on_process_ready_read_standard_error)
        process.finished.connect(self._on_process_finished)
        process.errorOccurred.connect(self._on_process_error_occurred)
        process.started.connect(self.started)
        self.process = process
        process.start()

    def stop(self) -> None:
        """Ask the run to save a checkpoint and end; kill it if it has not after the timeout."""
        if self.process is None or self._stop_requested:
            return
        self._stop_requested = True
        pid = self.pid()
        if pid is None:  # not started yet: there is nothing to save
            self.process.kill()
        elif os.name != "nt":
            os.kill(pid, signal.SIGINT)
        else:  # Windows has no SIGINT for another process: it cannot checkpoint first
            self.process.terminate()
        self._kill_timer.start(int(self.stop_timeout_s * 1000))

    def stop_and_wait(self, timeout_s: float | None = None) -> None:
        """Stop, waiting for the run to end (at most ``timeout_s``, then a kill): closing the
        window must not leave a run behind, and must not lose its checkpoint."""
        if self.process is None:
            return
        self.stop()
        process = self.process
        limit = self.stop_timeout_s if timeout_s is None else timeout_s
        if not process.waitForFinished(int(limit * 1000)):
            self._killed_after_stop = True
            process.kill()
            process.waitForFinished(5000)

    # -- the child's output ----------------------------------------------------------------
    def _on_process_ready_read_standard_output(self) -> None:
        if self.process is None:
            return
        self._buffer += bytes(self.process.readAllStandardOutput())
        *lines, self._buffer = self._buffer.split(b"\n")
        for line in lines:
            self._read_line(line)

    def _read_line(self, raw: bytes) -> None:
        try:
            event = json.loads(raw.decode("utf-8", "replace"))
        except json.JSONDecodeError:
            return  # not a progress line (a print in the user's own code, say)
        if not isinstance(event, dict) or not isinstance(event.get("event"), str):
            return
        if event["event"] == "error":
            self._error_event = event
        self.event_received.emit(event)

    def _on_process_ready_read_standard_error(self) -> None:
        if self.process is None:
            return
        self._stderr_partial += bytes(self.process.readAllStandardError())
        *lines, self._stderr_partial = self._stderr_partial.split(b"\n")
        for line in lines:
            self._stderr_line(line)

    def _stderr_line(self, raw: bytes) -> None:
        line = raw.decode("utf-8", "replace").rstrip()
        self._stderr.append(line)
        self.stderr_line_received.emit(line)

    # -- the end ---------------------------------------------------------------------------
    def _on_process_error_occurred(self, error: QProcess.ProcessError) -> None:
        if error != QProcess.ProcessError.FailedToStart or self.process is None:
            return  # a crash also ends in finished, which reports it
        message = f"could not start {sys.executable}: {self.process.errorString()}"
        self._end(RunOutcome(-1, message, self._stop_requested))

    def _on_process_finished(self, code: int, status: QProcess.ExitStatus) -> None:
        if self.process is None:
            return
        self._on_process_ready_read_standard_output()
        self._on_process_ready_read_standard_error()
        if self._buffer.strip():
            self._read_line(self._buffer)  # a last line without its newline
        if self._stderr_partial.strip():
            self._stderr_line(self._stderr_partial)
        crashed = status == QProcess.ExitStatus.CrashExit
        self._end(
            RunOutcome(
                -code if crashed else code,
                self._message(code, crashed),
                self._stop_requested,
                code if crashed else None,
            )
        )

    def _message(self, code: int, crashed: bool) -> str:
        if self._killed_after_stop:
            return (
                f"the run did not stop within {self.stop_timeout_s:g} s and was killed; "
                f"the last checkpoint it saved is kept"
            )
        if crashed:
            return f"the run was killed (signal {code}, {signal_name(code)})"
        if code == 0:
            return ""
        if code in EXIT_STOPPED:
            how = (
                "stopped"
                if self._stop_requested
                else f"stopped by {signal_name(signal.SIGINT if code == 130 else signal.SIGTERM)}"
            )
            return f"{how}; saved a checkpoint (Resume continues the run)"
        if self._error_event is not None and self._error_event.get("message"):
            return str(self._error_event["message"])
        return last_message("\n".join(self._stderr), f"the run failed (exit {code})")

    def _on_kill_timer_timeout(self) -> None:
        if self.process is not None:
            self._killed_after_stop = True
            self.process.kill()

    def _end(self, outcome: RunOutcome) -> None:
        process, self.process = self.process, None
        self._kill_timer.stop()
        if process is not None:
            process.deleteLater()
        self.finished.emit(outcome)
