"""Everything a run reports, in one place: the loop calls ``RunLog`` and nothing else.

What lands where (RUN_DIR is the run folder):

- ``metrics.csv``: one row per finished epoch, in the ``columns`` given, appended and flushed as
  the epoch ends. Epochs count from 1. A value that is NaN or infinite is written ``nan`` /
  ``inf``; a column the row lacks is left empty.
- ``tensorboard/``: events through ``torch.utils.tensorboard``. Per logged step: ``train/loss``
  and ``lr`` at the global step. Per epoch: ``epoch/<column>`` for every column but ``epoch``
  and ``step``, at the epoch's global step (its ``step`` column), so both share one x-axis.
- ``train.log``: timestamped lines: messages, epoch summaries, events. Appended to on resume.
- ``curves.png``: drawn from metrics.csv by ``close``.
- the terminal (``stream``, stderr by default): a tqdm bar per epoch when it is a terminal, and
  one plain line per epoch, e.g.
  ``epoch 3/15  step 84  train_loss 0.412  val_loss 0.388  val_acc 0.912  lr 1.0e-03  12.3 s
  5,120 samples/s`` (the ``/15`` shows once ``total_epochs`` is known: set the attribute or pass
  it to ``start_epoch``).

``--json-progress`` (``json_progress=True``) adds one JSON object per line on ``stdout``,
flushed at once, for the app to follow the run. Every object has ``"event"`` (a string) and
``"time"`` (unix seconds, float); NaN and infinities are written as ``null``. Events:

- ``{"event": "step", "step": int, "epoch": int, "loss": float, "lr": float}``, every
  ``log_every_n_steps`` steps (the loop decides when);
- ``{"event": "epoch", "epoch": int, "step": int, <every metrics.csv column>: number}``;
- ``{"event": "info", "message": str}`` for every human-readable line of ``info``;
- whatever the runner sends through ``event(kind, **fields)`` or ``progress(kind, **fields)``,
  with the fields as given. The runner's, in the order they come:

  - ``{"event": "init_check", "layers": [LAYER, ...]}`` with ``--check-init``, first of all
    (also with ``--fast-dev-run``), where LAYER is ``{"name": str, "type": str, "shape": [int],
    "mean": float | null, "std": float | null, "near_zero": float, "vanishing": bool,
    "exploding": bool, "reason": str}`` (builder/training/init_check.py; ``name`` is the drawn
    node's name, a dotted path inside a block; the same list is saved as ``init_check.json``
    = ``{"layers": [LAYER, ...]}`` in a run folder);
  - ``{"event": "start", "run_dir": str | null, "device": str, "world_size": int,
    "max_epochs": int, "batches_per_epoch": int, "train_samples": int, "val_samples": int,
    "test_samples": int, "resumed": bool}`` once the loop is set up (``run_dir`` null: a
    ``--fast-dev-run`` keeps nothing);
  - ``{"event": "checkpoint", "step": int, "epoch": int, "best": bool}`` after each save;
  - ``{"event": "evaluation", "confusion": "confusion.json", "misclassified":
    "misclassified.json", "weights": "final"}`` at the end of a classification run that keeps
    its folder and has a validation split: paths relative to the run folder, formats in
    builder/training/evaluation.py;
  - ``{"event": "end", "epochs": int, "steps": int, "stopped": str, "test": {"loss": float,
    "metric": float} | null}`` when training finished (``stopped``: max_epochs, max_steps or
    early_stopping);
- ``{"event": "error", "message": str, "code": int}``, the last line of a run that fails with
  exit status 1 or 2 (a NaN loss, a bad dataset, a project with errors...): the same message
  the command prints to stderr after ``torchcanvas: ``, and the exit status. ``sanity`` and
  ``lr-find`` end with it too under their ``--json-progress``. An interrupted run (Ctrl+C,
  SIGTERM: exit 130 / 143) ends with its ``checkpoint`` line and no ``error``.

Readers must ignore events and fields they do not know: new ones may be added.

Resume (``resume_epochs_done=k``): metrics.csv keeps its rows of epochs 1..k and drops later
ones (they are done again), TensorBoard hides the events of steps after the checkpoint
(``purge_step``), and train.log continues. On ranks other than 0 (``enabled=False``) every
method does nothing and no file is made.
"""

from __future__ import annotations

import csv
import io
import json
import math
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from builder.training.curves import plot_curves, read_metrics
from graph_schema.files import atomic_write_text

METRICS_FILE, LOG_FILE, CURVES_FILE, TENSORBOARD_DIR = (
    "metrics.csv", "train.log", "curves.png", "tensorboard")
AXIS_COLUMNS = ("epoch", "step")  # the x-axes: not scalars of their own in TensorBoard


def write_line(line: str, stream) -> None:
    """One whole line in one write: print() writes the text and its newline separately, and
    with unbuffered output (PYTHONUNBUFFERED, as under torchrun) the ranks that share a
    terminal then interleave mid-line."""
    stream.write(line + "\n")
    stream.flush()


def progress_line(kind: str, fields: Mapping[str, Any]) -> str:
    """One --json-progress line (without its newline): ``event`` and ``time`` first, then the
    fields; NaN and infinities as null."""
    record = {"event": kind, "time": round(time.time(), 3),
              **{k: v for k, v in fields.items() if k not in ("event", "time")}}
    return json.dumps(jsonable(record), allow_nan=False)


class ProgressLines:
    """--json-progress lines on ``stdout`` for commands without a run folder (sanity, lr-find,
    a run's final error). Stops quietly when the reader goes away."""

    def __init__(self, enabled: bool = True, stdout: TextIO | None = None):
        self.enabled = enabled
        self._stdout = stdout

    def emit(self, kind: str, **fields: Any) -> None:
        if not self.enabled:
            return
        try:
            write_line(progress_line(kind, fields), self._stdout or sys.stdout)
        except (OSError, ValueError):
            self.enabled = False


def emit_error(message: str, code: int, stdout: TextIO | None = None) -> None:
    """The ``error`` line a failed command ends with under --json-progress."""
    ProgressLines(stdout=stdout).emit("error", message=message, code=code)


class RunLog:
    """The run's logs (see the module docstring). ``total_epochs``: shown as ``epoch 3/15``
    when known; None prints ``epoch 3``."""

    def __init__(self, run_dir: Path, *, enabled: bool = True, json_progress: bool = False,
                 columns: Sequence[str], resume_epochs_done: int | None = None,
                 stream: TextIO | None = None, stdout: TextIO | None = None,
                 total_epochs: int | None = None, resume_step: int | None = None):
        """``resume_step``: the global step of the checkpoint resumed from; TensorBoard keeps
        the steps up to it. Without it, the step of the last epoch kept counts."""
        self.enabled = enabled
        self.run_dir = Path(run_dir)
        self.columns = tuple(columns)
        self.json_progress = json_progress
        self.total_epochs = total_epochs
        self._stream = stream if stream is not None else sys.stderr
        self._stdout = stdout if stdout is not None else sys.stdout
        self._tty = _isatty(self._stream)
        self._bar = None
        self._closed = False
        if not enabled:
            return
        self.run_dir.mkdir(parents=True, exist_ok=True)
        kept_step = self._prepare_metrics(resume_epochs_done)
        self._csv = (self.run_dir / METRICS_FILE).open("a", encoding="utf-8", newline="")
        self._log = (self.run_dir / LOG_FILE).open(
            "a" if resume_epochs_done is not None else "w", encoding="utf-8")
        purge_step = None
        if resume_epochs_done is not None:
            purge_step = resume_step + 1 if resume_step is not None else kept_step + 1
        from torch.utils.tensorboard import SummaryWriter

        self._writer = SummaryWriter(log_dir=str(self.run_dir / TENSORBOARD_DIR),
                                     purge_step=purge_step)
        if resume_epochs_done is not None:
            self._write_log(f"resumed after epoch {resume_epochs_done}")

    # -- metrics.csv ---------------------------------------------------------------------

    def _prepare_metrics(self, resume_epochs_done: int | None) -> int:
        """Write the header (a fresh run), or keep the rows of the epochs already done (a
        resumed one). Returns the global step of the last row kept (-1 when none)."""
        path = self.run_dir / METRICS_FILE
        kept: list[dict] = []
        if resume_epochs_done is not None and path.exists():
            kept = [row for row in read_metrics(path)
                    if isinstance(row.get("epoch"), int) and row["epoch"] <= resume_epochs_done]
        lines = [_csv_line(self.columns)]
        lines += [_csv_line(_cell(row.get(c)) for c in self.columns) for row in kept]
        atomic_write_text(path, "".join(lines))
        steps = [row["step"] for row in kept if isinstance(row.get("step"), int)]
        return steps[-1] if steps else -1

    # -- the terminal --------------------------------------------------------------------

    def info(self, message: str) -> None:
        """One line for people: train.log (timestamped) and the terminal."""
        if not self.enabled:
            return
        self._write_log(message)
        self._say(message)
        self._emit({"event": "info", "message": message})

    def start_epoch(self, epoch: int, total_batches: int, done_batches: int = 0,
                    total_epochs: int | None = None) -> None:
        """A progress bar for the epoch, on a terminal only; ``done_batches`` > 0 when a
        resumed run starts mid-epoch."""
        if total_epochs is not None:
            self.total_epochs = total_epochs
        if not self.enabled or not self._tty:
            return
        self._close_bar()
        from tqdm import tqdm

        self._bar = tqdm(total=total_batches, initial=done_batches, leave=False,
                         file=self._stream, desc=self._epoch_label(epoch), unit="batch",
                         dynamic_ncols=True)

    def batch_done(self, n: int = 1) -> None:
        if self.enabled and self._bar is not None:
            self._bar.update(n)

    def step(self, step: int, epoch: int, loss: float, lr: float) -> None:
        """A logged training step: TensorBoard, the bar's postfix, a JSON line."""
        if not self.enabled:
            return
        self._writer.add_scalar("train/loss", loss, step)
        self._writer.add_scalar("lr", lr, step)
        if self._bar is not None:
            self._bar.set_postfix_str(f"loss {_number(loss)}  lr {lr:.1e}", refresh=False)
        self._emit({"event": "step", "step": step, "epoch": epoch, "loss": loss, "lr": lr})

    def epoch(self, row: Mapping[str, float | int]) -> None:
        """A finished epoch: its metrics.csv row, TensorBoard scalars, a plain line, JSON."""
        if not self.enabled:
            return
        self._csv.write(_csv_line(_cell(row.get(c)) for c in self.columns))
        self._csv.flush()  # one write per row, flushed: a reader sees whole rows
        at = next((int(_plain(row[k])) for k in ("step", "epoch") if _is_number(row.get(k))), 0)
        for name, value in row.items():
            if name not in AXIS_COLUMNS and _is_number(value):
                self._writer.add_scalar(f"epoch/{name}", float(_plain(value)), at)
        self._writer.flush()  # a killed run keeps its TensorBoard curve up to here
        line = self.summary_line(row)
        self._write_log(line)
        self._close_bar()
        self._say(line)
        self._emit({"event": "epoch", **row})

    def event(self, kind: str, **fields: Any) -> None:
        """A JSON-progress line ``{"event": kind, **fields}``, and the same in train.log."""
        if not self.enabled:
            return
        details = "  ".join(f"{key} {_plain(value)}" for key, value in fields.items())
        self._write_log(f"[{kind}] {details}".rstrip())
        self._emit({"event": kind, **fields})

    def progress(self, kind: str, **fields: Any) -> None:
        """A JSON-progress line alone, for records too bulky for train.log (which has them as
        text already, through ``info``)."""
        if self.enabled:
            self._emit({"event": kind, **fields})

    def close(self) -> None:
        """Close the bar and the files, then draw curves.png. Safe to call twice."""
        if not self.enabled or self._closed:
            return
        self._closed = True
        self._close_bar()
        self._writer.close()
        self._csv.close()
        self._draw_curves()
        self._log.close()

    def __enter__(self) -> RunLog:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # -- helpers -------------------------------------------------------------------------

    def summary_line(self, row: Mapping[str, Any]) -> str:
        """``epoch 3/15  step 84  train_loss 0.412  ...  lr 1.0e-03  12.3 s  5,120 samples/s``"""
        parts = []
        if "epoch" in row:
            parts.append(self._epoch_label(row["epoch"]))
        for name, value in row.items():
            value = _plain(value)
            if name == "epoch" or not _is_number(value):
                continue
            if name == "step":
                parts.append(f"step {value}")
            elif name == "lr":
                parts.append(f"lr {value:.1e}")
            elif name == "seconds":
                parts.append(f"{value:.1f} s")
            elif name == "samples_per_s":
                parts.append(f"{value:,.0f} samples/s" if math.isfinite(value) else
                             f"{value} samples/s")
            else:
                parts.append(f"{name} {_number(value)}")
        return "  ".join(parts)

    def _epoch_label(self, epoch: int) -> str:
        return f"epoch {epoch}/{self.total_epochs}" if self.total_epochs else f"epoch {epoch}"

    def _close_bar(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def _say(self, line: str) -> None:
        if self._bar is not None:
            from tqdm import tqdm

            tqdm.write(line, file=self._stream)  # above the bar, which is drawn again
        else:
            write_line(line, self._stream)

    def _write_log(self, line: str) -> None:
        self._log.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')}  {line}\n")
        self._log.flush()

    def _emit(self, record: dict[str, Any]) -> None:
        if not self.json_progress:
            return
        text = progress_line(record["event"], record)
        try:
            self._stdout.write(text + "\n")
            self._stdout.flush()
        except (OSError, ValueError):
            # The reader went away (the app closed): the run itself goes on and saves.
            self.json_progress = False
            self._write_log("the --json-progress reader went away; no more progress lines")

    def _draw_curves(self) -> None:
        try:
            rows = read_metrics(self.run_dir / METRICS_FILE)
            if rows:
                plot_curves(rows, self.run_dir / CURVES_FILE, title=self.run_dir.name)
        except Exception as err:  # a picture must never fail a finished run
            message = f"could not draw {CURVES_FILE}: {type(err).__name__}: {err}"
            self._write_log(message)
            write_line(message, self._stream)


def _isatty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def _plain(value: Any) -> Any:
    """A Python scalar for a NumPy or torch one (``.item()``); anything else unchanged."""
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "ndim", 0) == 0:
        return item()
    return value


def _is_number(value: Any) -> bool:
    value = _plain(value)
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _number(value: Any) -> str:
    value = _plain(value)
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        return str(value)
    if value == 0 or 1e-3 <= abs(value) < 1e4:
        return f"{value:.3f}"
    return f"{value:.2e}"


def _cell(value: Any) -> str:
    """A metrics.csv cell: full precision (repr), ``nan``/``inf`` as Python spells them."""
    value = _plain(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _csv_line(cells) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(list(cells))
    return buffer.getvalue()


def jsonable(value: Any) -> Any:
    """``value`` for json.dumps: NaN and infinities become null, NumPy/torch scalars plain,
    paths and other objects their text."""
    value = _plain(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (str, int, bool)):
        return value
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return str(value)
