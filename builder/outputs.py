"""Where a command may write: never over its input, never over a project by mistake.

Every command that writes a file the user names (``generate``, ``render``, ``import``, the
app's Export) asks ``output_problem`` first. The rules, the same everywhere:

- the command's own input is never overwritten, not even with ``--force``;
- an existing TorchCanvas project (or autosave recovery file) is never replaced by something
  that is not a project: code or a picture written over a drawing loses the drawing;
- any other file that exists is kept unless the user says ``--force`` (the app's file dialog
  asks instead).

The writes themselves are atomic (graph_schema.files.atomic_write_bytes).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path

from graph_schema.files import MAX_FILE_BYTES

RECOVERY_MARK = "torchcanvas_recovery"  # builder/gui/autosave.py writes it; kept Qt-free here


def add_force_argument(parser, outputs: str, writes_project: bool = False) -> None:
    """The one ``--force`` flag, worded by the rules above for the command's ``outputs``."""
    limit = "an older project may be replaced" if writes_project else \
        "never the input or another project"
    parser.add_argument("--force", action="store_true",
                        help=f"overwrite {outputs} if it exists ({limit})")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and a.samefile(b))
    except OSError:
        return False


def is_project_file(path: Path) -> bool:
    """Whether ``path`` holds a TorchCanvas project or recovery file (read, never run)."""
    try:
        if not path.is_file() or path.stat().st_size > MAX_FILE_BYTES:
            return False
        with path.open("rb") as handle:
            head = handle.read(4096).removeprefix(b"\xef\xbb\xbf").lstrip()
            if not head.startswith(b"{"):  # not JSON: no need to read a large file whole
                return False
        doc = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return False
    if not isinstance(doc, dict):
        return False
    if doc.get(RECOVERY_MARK) is not None:
        return True
    version = doc.get("format_version")
    return isinstance(version, int) and not isinstance(version, bool) and \
        any(key in doc for key in ("networks", "nodes"))


def output_problem(output: str | os.PathLike, inputs: Iterable[str | os.PathLike] = (),
                   force: bool = False, writes_project: bool = False) -> str | None:
    """Why ``output`` must not be written, or None when it may.

    ``inputs``: the files the command read. ``writes_project``: the output is itself a
    project (import), so ``--force`` may replace an older project there.
    """
    path = Path(output)
    for source in inputs:
        if _same_file(path, Path(source)):
            return f"{output} is the input file; writing there would replace it: choose " \
                   f"another output"
    if path.is_dir():
        return f"{output} is a folder; give a file name"
    if not path.exists():
        folder = path.parent if str(path.parent) else Path(".")
        if not folder.is_dir():
            return f"cannot write {output}: the folder {folder} does not exist"
        return None
    if is_project_file(path) and not (writes_project and force):
        tail = "pass --force to replace it with the import" if writes_project else \
            "choose another output (a project is never overwritten with other content)"
        return f"{output} is a TorchCanvas project; {tail}"
    if not force:
        return f"{output} exists; pass --force to overwrite it"
    return None


def unusable(message: str) -> int:
    """Say why the input cannot be used, in the commands' one-line form; the exit status 2."""
    print(f"torchcanvas: {message}", file=sys.stderr)
    return 2
