"""The run folder: where it is, and that starting a run never overwrites an earlier one.

A new run gets `runs/<model>-<date>-<time>` unless `--out` names a folder; `--ckpt-path last`
continues the run already in `--out`. model.py is written once, when the run starts: a resumed
run must train the same source.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING

from builder.training.config import TrainConfig
from graph_schema.files import atomic_write_text

if TYPE_CHECKING:
    from builder.training.models import ModelSource

RUNS = Path("runs")


class RunFolderError(Exception):
    """A run folder that cannot be used (exit 2)."""


def choose_run_dir(config: TrainConfig, source: ModelSource) -> Path:
    """The run folder, created, with model.py in it."""
    folder = Path(config.out) if config.out else new_run_dir(source.label)
    resuming = config.ckpt_path == "last"
    if resuming and not config.out:
        raise RunFolderError("--ckpt-path last needs --out RUN_DIR: the run folder to continue")
    if folder.exists() and not folder.is_dir():
        raise RunFolderError(f"--out {folder}: is a file, not a folder")
    holds_run = (folder / "config.json").exists()
    if resuming and not holds_run:
        raise RunFolderError(f"--out {folder}: holds no run to resume (no config.json)")
    if holds_run and not config.ckpt_path:
        raise RunFolderError(f"--out {folder}: already holds a run; continue it with --ckpt-path "
                             f"last, or choose another folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _write_model(folder / "model.py", source)
    except OSError as err:
        raise RunFolderError(f"cannot write the run folder {folder}: "
                             f"{err.strerror or err}") from None
    return folder


def new_run_dir(label: str) -> Path:
    """runs/<model>-<date>-<time>, numbered when that exists already."""
    stem = Path(label.rpartition(":")[2] if ":" in label else label).stem
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", stem).strip("-.") or "run"
    base = RUNS / f"{slug}-{time.strftime('%Y%m%d-%H%M%S')}"
    candidate, count = base, 1
    while candidate.exists():
        count += 1
        candidate = base.with_name(f"{base.name}-{count}")
    return candidate


def _write_model(path: Path, source: ModelSource) -> None:
    if path.exists():
        if path.read_text(encoding="utf-8", errors="replace") != source.source:
            raise RunFolderError(f"{path}: the model has changed since this run started; a "
                                 f"resumed run trains the same source (start a new run with "
                                 f"another --out)")
        return
    atomic_write_text(path, source.source)


def write_json(path: Path, value: dict) -> None:
    atomic_write_text(path, json.dumps(value, indent=2, default=str) + "\n")
