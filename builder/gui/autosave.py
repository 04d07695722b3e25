"""Autosave to a recovery file, and finding the recovery files a crashed session left behind.

Every window writes its unsaved project to its own recovery file under
``<AppDataLocation>/recovery/`` shortly after the user stops editing (and at least once a
minute during a long burst of edits). The file says which process wrote it, so at start-up
the files of processes that are gone (a crash, a kill, a power cut) can be offered for
recovery, while those of a TorchCanvas still running are left alone. The file is deleted
when the work is saved, discarded, or the window closes cleanly.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from PySide6.QtCore import QObject, QStandardPaths, QTimer, Signal
from PySide6.QtGui import QUndoStack
from shiboken6 import isValid

from builder.gui.project_document import ProjectDocument
from graph_schema.document import Project
from graph_schema.files import ProjectError, atomic_write_text, project_from_dict

MARK = "torchcanvas_recovery"  # the key that tells a recovery file from a project file
VERSION = 1
QUIET_MS = 2_000  # write this long after the last edit...
MAX_WAIT_MS = 60_000  # ...but no later than this after the first unsaved one

# The recovery files this process writes. A file with our own process id that is not one of
# them was left by an earlier process that had the same id (common in containers, where the
# app often gets the same small pid each run): that one is stale.
_own_files: set[Path] = set()


def recovery_dir() -> Path:
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base) / "recovery"


@dataclass(frozen=True)
class Recovery:
    """A recovery file found on disk."""

    file: Path
    pid: int
    original: Path | None  # where the project was saved before, if anywhere
    saved_at: datetime
    project_name: str
    data: dict

    def load(self) -> Project:
        return project_from_dict(self.data, str(self.file))

    def describe(self) -> str:
        where = str(self.original) if self.original else "a project that was never saved"
        when = self.saved_at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
        return f"“{self.project_name}” ({where}), autosaved {when}"


def read_recovery(file: Path) -> Recovery:
    """Parse a recovery file; ProjectError when it is not one we can use."""
    where = str(file)
    try:
        content = json.loads(file.read_text(encoding="utf-8"))
    except OSError as err:
        raise ProjectError(where, f"cannot be read ({err.strerror or err})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ProjectError(where, f"is not a readable recovery file ({err})") from None
    if not isinstance(content, dict) or content.get(MARK) != VERSION:
        raise ProjectError(where, "is not a TorchCanvas recovery file")
    pid, project = content.get("pid"), content.get("project")
    original, saved_at = content.get("original_path"), content.get("saved_at")
    try:
        stamp = datetime.fromisoformat(saved_at)
    except (TypeError, ValueError):
        raise ProjectError(where, "has no valid 'saved_at' time") from None
    if not isinstance(pid, int) or not isinstance(project, dict) or \
            not (original is None or isinstance(original, str)):
        raise ProjectError(where, "is missing its process id, project or original path")
    name = project.get("name") if isinstance(project.get("name"), str) else "untitled"
    return Recovery(file, pid, Path(original) if original else None, stamp, name, project)


def write_recovery(file: Path, project: Project, original: Path | None,
                   pid: int | None = None) -> None:
    """Write atomically: a crash mid-write leaves the previous recovery file whole."""
    content = {
        MARK: VERSION,
        "pid": os.getpid() if pid is None else pid,
        "original_path": str(original) if original else None,
        "saved_at": datetime.now(timezone.utc).isoformat(),
        "project": project.model_dump(mode="json"),
    }
    file.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(file, json.dumps(content, ensure_ascii=False))


def stale_recoveries(directory: Path | None = None) -> tuple[list[Recovery], list[str]]:
    """Recovery files whose process is gone, oldest first, and a line for each unreadable one
    (left on disk: it is not ours to delete unasked)."""
    directory = directory or recovery_dir()
    found, problems = [], []
    for file in sorted(directory.glob("*.json")) if directory.is_dir() else []:
        try:
            recovery = read_recovery(file)
        except ProjectError as err:
            problems.append(str(err))
            continue
        if _abandoned(recovery):
            found.append(recovery)
    return sorted(found, key=lambda r: r.saved_at), problems


def _abandoned(recovery: Recovery) -> bool:
    if recovery.pid == os.getpid():
        return recovery.file not in _own_files
    return not process_alive(recovery.pid)


def process_alive(pid: int) -> bool:
    """Whether a process with this id is running (on this machine)."""
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    if sys.platform == "win32":
        return _windows_process_alive(pid)
    try:
        os.kill(pid, 0)  # signal 0: only checks that the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    except OSError:
        return False
    return True


def _windows_process_alive(pid: int) -> bool:
    # os.kill on Windows terminates the process, so ask the kernel instead.
    import ctypes

    kernel32 = ctypes.windll.kernel32
    handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return kernel32.GetLastError() == 5  # access denied: it exists
    try:
        code = ctypes.c_ulong()
        if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
            return False
        return code.value == 259  # STILL_ACTIVE
    finally:
        kernel32.CloseHandle(handle)


class Autosaver(QObject):
    """Writes one window's unsaved project to its recovery file, debounced."""

    written = Signal(object)  # the recovery file's Path
    failed = Signal(str)  # why it could not be written

    def __init__(self, doc: ProjectDocument, undo_stack: QUndoStack,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.doc = doc
        self.undo_stack = undo_stack
        self.file = recovery_dir() / f"{os.getpid()}-{uuid.uuid4().hex[:12]}.json"
        _own_files.add(self.file)
        self._quiet = self._timer(QUIET_MS)
        self._deadline = self._timer(MAX_WAIT_MS)
        undo_stack.indexChanged.connect(self._on_stack_index_changed)
        undo_stack.cleanChanged.connect(self._on_stack_clean_changed)

    def _timer(self, interval: int) -> QTimer:
        timer = QTimer(self)
        timer.setSingleShot(True)
        timer.setInterval(interval)
        timer.timeout.connect(self.write_now)
        return timer

    def set_delays(self, quiet_ms: int, max_wait_ms: int) -> None:
        self._quiet.setInterval(quiet_ms)
        self._deadline.setInterval(max_wait_ms)

    def pending(self) -> bool:
        return self._quiet.isActive() or self._deadline.isActive()

    def _on_stack_index_changed(self, _index: int) -> None:
        # A stack being destroyed with its window clears itself and signals: not an edit.
        if not isValid(self.undo_stack) or self.undo_stack.isClean():
            return
        self._quiet.start()  # restarts: the quiet period counts from the last edit
        if not self._deadline.isActive():
            self._deadline.start()

    def _on_stack_clean_changed(self, clean: bool) -> None:
        # Saved, or undone back to the saved state: nothing is left to recover.
        if clean and isValid(self.undo_stack):
            self.discard()

    def write_now(self) -> bool:
        self._quiet.stop()
        self._deadline.stop()
        try:
            write_recovery(self.file, self.doc.project, self.doc.path)
        except (OSError, ValueError) as err:
            reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
            self.failed.emit(f"Autosave failed: cannot write {self.file} ({reason})")
            return False
        self.written.emit(self.file)
        return True

    def discard(self) -> None:
        self._quiet.stop()
        self._deadline.stop()
        try:
            self.file.unlink(missing_ok=True)
        except OSError as err:
            self.failed.emit(f"Could not remove the recovery file {self.file} "
                             f"({err.strerror or err})")
