"""What the processes of an import say to each other.

The app (or a shell) runs ``torchcanvas import`` (builder/import_command.py), which runs the
worker, ``python -m builder.import_worker REQUEST`` (builder/import_worker.py), in a process
group of its own. Between them:

- the worker reports each stage on stderr as ``torchcanvas-progress: <stage>``; the command
  relays it as ``torchcanvas import: <stage>``, and the app shows it while it waits;
- the command's one-line failures start ``torchcanvas import:`` (the model) or
  ``torchcanvas:`` (the arguments);
- exit codes: 0 written, 1 the model could not be imported, 2 the arguments or the output
  cannot be used.

Nothing here imports torch or Qt: all three sides read it.
"""

from __future__ import annotations

import os
import sys

EXIT_OK, EXIT_FAILED, EXIT_UNUSABLE = 0, 1, 2
WORKER_PROGRESS = "torchcanvas-progress: "
STAGE = "torchcanvas import: "
ARGUMENTS = "torchcanvas: "
GIB = 1024**3


def worker_command(request_path: str) -> list[str]:
    return [sys.executable, "-m", "builder.import_worker", request_path]


def progress_line(stage: str) -> str:
    """What the worker writes for one stage."""
    return f"{WORKER_PROGRESS}{stage}"


def relayed(line: str) -> str | None:
    """The command's line for a worker's progress line; None for any other line."""
    if line.startswith(WORKER_PROGRESS):
        return f"{STAGE}{line[len(WORKER_PROGRESS):]}"
    return None


def plain(line: str) -> str:
    """A line of the command's output without its prefix (what the app shows)."""
    for prefix in (STAGE, ARGUMENTS):
        if line.startswith(prefix):
            return line[len(prefix):].strip()
    return line.strip()


def spec_file(spec: str) -> str | None:
    """The .py file a SPEC names (``path/to/file.py:Name``), or None for a module name."""
    location = spec.rpartition(":")[0]
    return location if location.endswith(".py") or os.sep in location or "/" in location \
        else None


def memory_message(max_memory: int) -> str:
    """The one line for a model that needed more memory than the import may use."""
    gib = f"{max_memory / GIB:.2f}".rstrip("0").rstrip(".")
    return f"the model needed more than {gib} GiB of memory (the import's limit; raise it " \
           f"with --max-memory)"
