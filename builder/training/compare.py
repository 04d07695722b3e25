"""Several finished (or running) runs side by side: one table, one plot, and the settings in
which they differ.

A comparison only means something when the runs were trained under the same setup (the same
data, batch size, optimiser, learning rate, seed...): the runner exists so that they can be.
When they were not, the report says so and names each setting with each run's value, because
that is what a user must not miss.

A run folder is read, never changed: its ``config.json`` (written by the runner) and
``metrics.csv`` (logs.py).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from builder.training.curves import metric_column, read_metrics
from builder.training.logs import CURVES_FILE, METRICS_FILE

CONFIG_FILE = "config.json"
# The settings that make two runs comparable; dotted names reach into nested sections. A
# setting absent from every run is not reported; absent from some, it shows as "-".
SETUP_KEYS = (
    "data", "split", "task.kind", "task.loss", "batch_size", "optimizer", "lr",
    "weight_decay", "scheduler", "seed", "max_epochs", "max_steps", "precision",
    "accumulate_grad_batches", "gradient_clip_val", "early_stopping_patience",
    "overfit_batches", "limit_train_batches", "deterministic", "world_size",
)
MISSING = object()


class CompareError(Exception):
    """A run folder that cannot be compared; the message starts with the folder."""


@dataclass
class Run:
    label: str  # the folder's name (its path, when two folders share a name)
    path: Path
    config: dict[str, Any]
    rows: list[dict] = field(default_factory=list)

    @property
    def inputs(self) -> list[Path]:
        """The files of the run a command must never overwrite."""
        return [self.path / name for name in (CONFIG_FILE, METRICS_FILE, CURVES_FILE)]


def load_run(folder: str | Path) -> Run:
    path = Path(folder)
    if not path.is_dir():
        raise CompareError(f"{folder}: no such run folder" if not path.exists() else
                           f"{folder}: not a folder (give a run folder, made by "
                           f"`torchcanvas train`)")
    config_path = path / CONFIG_FILE
    if not config_path.is_file():
        raise CompareError(f"{folder}: no {CONFIG_FILE} (not a run folder made by "
                           f"`torchcanvas train`?)")
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except OSError as err:
        raise CompareError(f"{folder}: cannot read {CONFIG_FILE}: {err.strerror or err}") \
            from None
    except (UnicodeDecodeError, ValueError) as err:
        raise CompareError(f"{folder}: {CONFIG_FILE} is not valid JSON ({err})") from None
    if not isinstance(config, dict):
        raise CompareError(f"{folder}: {CONFIG_FILE} does not hold a JSON object")
    try:
        rows = read_metrics(path / METRICS_FILE)
    except FileNotFoundError:
        raise CompareError(f"{folder}: no {METRICS_FILE} (the run has not started?)") from None
    except OSError as err:
        raise CompareError(f"{folder}: cannot read {METRICS_FILE}: {err.strerror or err}") \
            from None
    return Run(label=path.name, path=path, config=config, rows=rows)


def load_runs(folders: list[str]) -> list[Run]:
    """Every run, labelled by folder name; two folders of one name keep their paths."""
    runs = [load_run(folder) for folder in folders]
    names = [run.label for run in runs]
    for run, folder in zip(runs, folders):
        if names.count(run.label) > 1:
            run.label = str(folder).rstrip("/\\") or run.label
    return runs


def lookup(config: dict[str, Any], dotted: str) -> Any:
    """``config["task"]["kind"]`` for ``"task.kind"``; MISSING where any part is absent."""
    value: Any = config
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return MISSING
        value = value[part]
    return value


def metric_of(run: Run) -> tuple[str | None, bool]:
    """The run's validation metric and whether higher is better: from config.json's task,
    else from the metrics.csv columns (accuracy up, errors down)."""
    task = run.config.get("task") if isinstance(run.config.get("task"), dict) else {}
    metric = task.get("metric") if isinstance(task.get("metric"), str) else None
    metric = metric or metric_column(run.rows)
    higher = task.get("higher_is_better")
    if not isinstance(higher, bool):
        higher = bool(metric and metric.endswith("acc"))
    return metric, higher


def summarize(run: Run) -> dict[str, Any]:
    """One table row: the figures a user compares runs by."""
    metric, higher = metric_of(run)
    model = run.config.get("model") if isinstance(run.config.get("model"), dict) else {}
    best, best_epoch = _best(run.rows, metric, higher)
    epochs = [row["epoch"] for row in run.rows if isinstance(row.get("epoch"), int)]
    return {
        "run": run.label,
        "path": str(run.path),
        "model": model.get("name"),
        "params": model.get("params"),
        "metric": metric,
        "higher_is_better": higher,
        "best": best,
        "best_epoch": best_epoch,
        "epochs": max(epochs, default=0),
        "seconds": _total(row.get("seconds") for row in run.rows),
        "samples_per_s": _mean(row.get("samples_per_s") for row in run.rows),
    }


def _finite(values) -> list[float]:
    return [float(v) for v in values if isinstance(v, (int, float)) and math.isfinite(v)]


def _total(values) -> float | None:
    finite = _finite(values)
    return sum(finite) if finite else None


def _mean(values) -> float | None:
    finite = _finite(values)
    return sum(finite) / len(finite) if finite else None


def _best(rows: list[dict], metric: str | None, higher: bool) -> tuple[float | None, int | None]:
    """The best finite value of ``metric`` and its epoch (the first, on a tie)."""
    best = best_epoch = None
    for row in rows:
        value = row.get(metric) if metric else None
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            continue
        if best is None or (value > best if higher else value < best):
            best, best_epoch = float(value), row.get("epoch")
    return best, best_epoch


def differences(runs: list[Run]) -> dict[str, dict[str, Any]]:
    """The setup settings whose values are not the same in every run: {setting: {run: value}}
    (None where a run did not record it)."""
    found = {}
    for key in SETUP_KEYS:
        values = [lookup(run.config, key) for run in runs]
        if all(v is MISSING for v in values):
            continue
        if len({json.dumps(v, sort_keys=True, default=str) if v is not MISSING else "\0"
                for v in values}) > 1:
            found[key] = {run.label: (None if v is MISSING else v)
                          for run, v in zip(runs, values)}
    return found


def report(runs: list[Run]) -> dict[str, Any]:
    """Everything `compare` shows, as plain data (what --json prints)."""
    return {"runs": [summarize(run) for run in runs], "differences": differences(runs)}


# -- text ------------------------------------------------------------------------------------


def format_table(rows: list[dict[str, Any]]) -> str:
    """The comparison table, one line per run, columns aligned."""
    metrics = {row["metric"] for row in rows}
    shared = len(metrics) == 1 and None not in metrics
    best_header = f"best {next(iter(metrics))} (epoch)" if shared else "best metric (epoch)"
    header = ["run", "model", "params", best_header, "epochs", "time", "samples/s"]
    lines = [header] + [[
        row["run"], str(row["model"] or "-"), count_text(row["params"]),
        best_text(row, with_name=not shared), str(row["epochs"]), duration(row["seconds"]),
        count_text(row["samples_per_s"]),
    ] for row in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    numeric = {2, 4, 5, 6}  # right-aligned, so digits line up
    return "\n".join("  ".join(cell.rjust(w) if i in numeric else cell.ljust(w)
                               for i, (cell, w) in enumerate(zip(line, widths))).rstrip()
                     for line in lines)


def format_differences(found: dict[str, dict[str, Any]]) -> list[str]:
    """The note that says the runs do not share a setup, one line per setting ([] when they
    do)."""
    if not found:
        return []
    lines = [f"note: these runs were not trained under the same setup; they differ in "
             f"{', '.join(found)}:"]
    for key, values in found.items():
        shown = ", ".join(f"{label} {setting_text(value)}" for label, value in values.items())
        lines.append(f"  {key}: {shown}")
    return lines


def setting_text(value: Any) -> str:
    if value is None:
        return "(not recorded)"
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, default=str)


def best_text(row: dict[str, Any], with_name: bool) -> str:
    if row["best"] is None:
        return "-"
    text = f"{_score(row['best'])} ({row['best_epoch']})"
    return f"{row['metric']} {text}" if with_name else text


def _score(value: float) -> str:
    return f"{value:.4f}" if value == 0 or 1e-3 <= abs(value) < 1e4 else f"{value:.3e}"


def count_text(value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return f"{value:,.0f}"
    return "-"


def duration(seconds: float | None) -> str:
    """``12.3 s``, ``4m 05s``, ``2h 03m``."""
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"
