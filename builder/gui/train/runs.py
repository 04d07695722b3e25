"""Where the panel's runs go, and the command line that starts each one.

A saved project's runs sit beside it: ``<project folder>/runs/<project stem>-<YYYYmmdd-HHMMSS>``,
where `torchcanvas train` run in that folder would put them too. An unsaved project has no
folder; its runs go under the user's data folder (QStandardPaths' AppDataLocation)/runs.
Each run folder holds ``project.json``: the document as it was when Start was pressed, which is
what the run trains (and what Resume trains again).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QStandardPaths

RUNS = "runs"
PROJECT_FILE = "project.json"
LAST_CHECKPOINT = Path("checkpoints") / "last.pt"


def runs_folder(project_path: Path | None) -> Path:
    if project_path is not None:
        return project_path.parent / RUNS
    data = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(data) / RUNS


def run_stem(project_path: Path | None, project_name: str) -> str:
    """The file's stem for a saved project, else its name, as a folder name can hold it."""
    stem = project_path.stem if project_path is not None else project_name
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", stem).strip("-.") or "run"


def new_run_dir(runs: Path, stem: str, now: datetime.datetime) -> Path:
    """``runs/<stem>-<date>-<time>``, numbered when that exists already (two Starts in one
    second); not created."""
    base = runs / f"{stem}-{now.strftime('%Y%m%d-%H%M%S')}"
    candidate, count = base, 1
    while candidate.exists():
        count += 1
        candidate = base.with_name(f"{base.name}-{count}")
    return candidate


def working_dir(project_path: Path | None, runs: Path) -> Path:
    """Where the run starts: the project's folder, so a relative DATA path (npz:data/x.npz)
    means the same as for `torchcanvas train` run there."""
    return project_path.parent if project_path is not None else runs


@dataclass
class RunRequest:
    """One run the panel starts or resumes."""

    run_dir: Path
    trust_kept_source: bool = False
    resume: bool = False
    extra: list[str] = field(default_factory=list)  # more `train` flags (--max-steps 20)
    cwd: Path | None = None  # where the child starts (see working_dir)

    @property
    def project_file(self) -> Path:
        return self.run_dir / PROJECT_FILE

    def arguments(self) -> list[str]:
        """`train`'s arguments: flags left out come from the project's training section."""
        args = ["train", str(self.project_file), "--json-progress", "--out", str(self.run_dir)]
        if self.resume:
            args += ["--ckpt-path", "last"]
        if self.trust_kept_source:
            args.append("--trust-kept-source")
        return args + list(self.extra)

    def resumable(self) -> bool:
        return (self.run_dir / LAST_CHECKPOINT).is_file() and (
            self.run_dir / "config.json"
        ).is_file()
