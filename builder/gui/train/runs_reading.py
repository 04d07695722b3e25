"""What the Runs list shows of each run folder, read from the files `torchcanvas train` leaves.

The reading is the runner's own `compare` (builder.training.compare: config.json and
metrics.csv), so the list and `torchcanvas compare` never disagree about a run's best score.
That module and the ones it imports are torch-free at import time (tests/gui/test_train_runs.py
checks it), which is why the app may import it.

A run's status comes from which files are there, because the runner leaves no other trace:

- ``summary.json``: the runner wrote it after the last epoch, so the run finished (its
  ``stopped`` says why: max epochs, max steps, early stopping);
- otherwise the app knows whether a run it started is still running (its process); of any other
  run (one started from a terminal) the files say it is running when its log is still open
  (curves.png, drawn as the log closes, is older than train.log) and a file was written in
  the last ``RECENT_S`` seconds. That guess can call a run that failed within its first epoch
  running for those seconds: nothing in its folder says that it has ended;
- otherwise it stopped early: with ``checkpoints/last.pt`` it was stopped (Stop, Ctrl+C, a NaN
  with the last checkpoint kept) and can resume; without one it failed or was killed.
"""

from __future__ import annotations

import json
import math
import os
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from builder.training.compare import CONFIG_FILE, CompareError, duration, load_run, summarize

SUMMARY_FILE, LOG_FILE, CURVES_FILE = "summary.json", "train.log", "curves.png"
LAST_CHECKPOINT = Path("checkpoints") / "last.pt"
# A folder holding none of these is something else (an lr-find folder, notes): not listed.
RUN_FILES = (CONFIG_FILE, "metrics.csv", LOG_FILE, "model.py", SUMMARY_FILE)
RECENT_S = 120.0  # a run from a terminal writes at least every epoch; an epoch can take a while
STARTED_FORMAT = "%Y-%m-%dT%H:%M:%S%z"  # config.json "started", as the runner writes it
CHECKPOINT_LINE = re.compile(r"\[checkpoint\] step (\d+)\s+epoch (\d+)")

FINISHED, STOPPED, RUNNING, FAILED, UNREADABLE = (
    "finished",
    "stopped",
    "running",
    "failed",
    "unreadable",
)
STOP_REASONS = {"max_epochs": "", "max_steps": "max steps", "early_stopping": "early stopping"}


@dataclass
class RunInfo:
    """One row of the Runs list. ``problem`` is set (and most figures are None) for a folder
    that looks like a run but cannot be read."""

    path: Path
    status: str
    status_text: str
    when: float  # unix seconds: when it started (config.json), else the folder's time
    model_hash: str | None = None
    model_name: str | None = None
    metric: str | None = None
    best: float | None = None
    best_epoch: int | None = None
    seconds: float | None = None
    epochs: int = 0
    max_epochs: int | None = None
    problem: str | None = None

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def readable(self) -> bool:
        return self.problem is None

    def date_text(self) -> str:
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(self.when))

    def best_text(self) -> str:
        if self.best is None or self.metric is None:
            return "-"
        epoch = f" (epoch {self.best_epoch})" if self.best_epoch is not None else ""
        return f"{self.metric} {self.best:.4f}{epoch}"

    def time_text(self) -> str:
        return duration(self.seconds)

    def epochs_text(self) -> str:
        return f"{self.epochs}/{self.max_epochs}" if self.max_epochs else str(self.epochs)


def read_runs(
    folder: Path | None,
    running: Iterable[Path] = (),
    ended: Iterable[Path] = (),
    now: float | None = None,
) -> list[RunInfo]:
    """The runs in ``folder``, newest first; [] when it is None or not a folder. ``running``:
    the run folders the app is training now; ``ended``: those it trained whose process has
    ended (their files alone cannot tell a run that just failed from one still going)."""
    if folder is None or not folder.is_dir():
        return []
    active, done = {_key(path) for path in running}, {_key(path) for path in ended}
    now = time.time() if now is None else now
    try:
        children = [child for child in folder.iterdir() if child.is_dir()]
    except OSError:
        return []
    infos = [
        read_run(child, _app_state(child, active, done), now)
        for child in children
        if _looks_like_run(child)
    ]
    return sorted(infos, key=lambda info: (info.when, info.name), reverse=True)


def _app_state(path: Path, active: set[str], done: set[str]) -> bool | None:
    key = _key(path)
    return True if key in active else False if key in done else None


def read_run(path: Path, running: bool | None = None, now: float | None = None) -> RunInfo:
    """One run folder as a row; never raises. ``running``: True or False when the app knows
    (it started the run), None to judge by the files."""
    now = time.time() if now is None else now
    try:
        run = load_run(path)
    except CompareError as err:
        return _unreadable(path, str(err))
    try:
        row = summarize(run)
    except (TypeError, ValueError, AttributeError) as err:  # a config.json of odd types
        return _unreadable(path, f"{path}: {CONFIG_FILE} holds unexpected values ({err})")
    status, text = run_status(path, running, now)
    model = run.config.get("model") if isinstance(run.config.get("model"), dict) else {}
    sha = model.get("source_sha256")
    max_epochs = run.config.get("max_epochs")
    return RunInfo(
        path=path,
        status=status,
        status_text=text,
        when=_started(run.config, path),
        model_hash=sha[:12] if isinstance(sha, str) and sha else None,
        model_name=row["model"] if isinstance(row["model"], str) else None,
        metric=row["metric"],
        best=row["best"],
        best_epoch=row["best_epoch"],
        seconds=row["seconds"],
        epochs=row["epochs"],
        max_epochs=max_epochs if isinstance(max_epochs, int) and max_epochs > 0 else None,
    )


def run_status(path: Path, running: bool | None, now: float) -> tuple[str, str]:
    """(one of FINISHED / STOPPED / RUNNING / FAILED, the words the list shows); ``running``
    as in read_run."""
    summary = path / SUMMARY_FILE
    if summary.is_file():
        return FINISHED, _finished_text(summary)
    if running or (running is None and _still_writing(path, now)):
        return RUNNING, "running"
    if (path / LAST_CHECKPOINT).is_file():
        step = _last_checkpoint_step(path)
        at = f" at step {step}" if step is not None else ""
        return STOPPED, f"stopped, checkpoint{at} (can resume)"
    return FAILED, "failed (no summary, no checkpoint)"


def _finished_text(summary: Path) -> str:
    try:
        stopped = json.loads(summary.read_text(encoding="utf-8")).get("stopped")
    except (OSError, ValueError, AttributeError):
        return "finished (summary.json unreadable)"
    reason = STOP_REASONS.get(stopped, stopped if isinstance(stopped, str) else "")
    return f"finished ({reason})" if reason else "finished"


def _still_writing(path: Path, now: float) -> bool:
    return not _log_closed(path) and now - _last_written(path) <= RECENT_S


def _log_closed(path: Path) -> bool:
    """The runner draws curves.png as it closes its log, after the log's last line: a picture
    at least as new as train.log means that this run's process has ended."""
    log, curves = _mtime(path / LOG_FILE), _mtime(path / CURVES_FILE)
    return curves is not None and (log is None or curves >= log)


def _last_written(path: Path) -> float:
    candidates = [path / LOG_FILE, path / "metrics.csv", path / LAST_CHECKPOINT]
    times = [t for t in map(_mtime, candidates) if t is not None]
    return max(times, default=-math.inf)


def _last_checkpoint_step(path: Path) -> int | None:
    """The step of the last ``[checkpoint]`` line in train.log (the checkpoint itself is a
    torch file the app does not open)."""
    try:
        with (path / LOG_FILE).open("rb") as log:
            log.seek(0, os.SEEK_END)
            log.seek(max(0, log.tell() - 64_000))
            tail = log.read().decode("utf-8", errors="replace")
    except OSError:
        return None
    steps = CHECKPOINT_LINE.findall(tail)
    return int(steps[-1][0]) if steps else None


def _started(config: dict, path: Path) -> float:
    started = config.get("started")
    if isinstance(started, str):
        try:
            return datetime.strptime(started, STARTED_FORMAT).timestamp()
        except ValueError:
            pass
    return _mtime(path / CONFIG_FILE) or _mtime(path) or 0.0


def _unreadable(path: Path, message: str) -> RunInfo:
    # compare's messages start with the folder, which the list already shows in its own column.
    prefix = f"{path}: "
    why = message[len(prefix) :] if message.startswith(prefix) else message
    return RunInfo(
        path=path,
        status=UNREADABLE,
        status_text=f"unreadable: {why}",
        when=_mtime(path) or 0.0,
        problem=why,
    )


def _looks_like_run(path: Path) -> bool:
    return any((path / name).exists() for name in RUN_FILES)


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except OSError:
        return None


def _key(path: Path) -> str:
    return os.path.normcase(os.path.abspath(path))
