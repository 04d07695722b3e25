"""Reading and writing project files: JSON with a format version, migrated on load.

Loading never executes anything from the file: it is parsed as JSON and checked by pydantic.
Saving is atomic: the new content goes to a temporary file beside the target, is flushed to
disk, then renamed over the target, so a crash mid-save leaves the old file intact.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from graph_schema.catalog import current_type
from graph_schema.diagnostics import one_line
from graph_schema.document import FORMAT_VERSION, Project

MAX_FILE_BYTES = 256 * 1024 * 1024


class ProjectError(Exception):
    """A file that cannot be read as a project; the message says what and where."""

    def __init__(self, where: str, reason: str):
        super().__init__(f"{where}: {reason}")
        self.where = where
        self.reason = reason


# -- migrations --------------------------------------------------------------------------
# Each entry turns a document of version k into version k+1. Loading walks the chain from the
# file's version to FORMAT_VERSION, so old files keep opening after every format change.


def _v1_to_v2(doc: dict[str, Any]) -> dict[str, Any]:
    """Version 1 held one network at the top level; version 2 holds a list of them."""
    network = {key: doc[key] for key in ("nodes", "edges") if key in doc}
    network["name"] = doc.get("network_name", "main")
    return {
        "format_version": 2,
        "name": doc.get("name", "untitled"),
        "notes": doc.get("notes", ""),
        "networks": [network],
        "blocks": doc.get("blocks", []),
    }


def _v2_to_v3(doc: dict[str, Any]) -> dict[str, Any]:
    """Version 3 added what import and containers need, all with defaults that mean what a
    version-2 file meant: networks and blocks are plain classes (``kind``) without module
    lists. Nothing to rewrite but the version."""
    return {**doc, "format_version": 3}


def _v3_to_v4(doc: dict[str, Any]) -> dict[str, Any]:
    """Version 4 signs kept source (``opaque.signature``). A version-3 file has no signature,
    so its kept sources load untrusted, which is what a file from elsewhere must be."""
    return {**doc, "format_version": 4}


MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {
    1: _v1_to_v2,
    2: _v2_to_v3,
    3: _v3_to_v4,
}


def migrate(doc: dict[str, Any], where: str = "project") -> dict[str, Any]:
    version = doc.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise ProjectError(where, "not a TorchCanvas project (no integer 'format_version')")
    if version > FORMAT_VERSION:
        raise ProjectError(
            where,
            f"format_version {version} is newer than this TorchCanvas understands "
            f"(up to {FORMAT_VERSION}); update TorchCanvas to open it",
        )
    if version not in MIGRATIONS and version != FORMAT_VERSION:
        raise ProjectError(where, f"unknown format_version {version}")
    while version < FORMAT_VERSION:
        doc = MIGRATIONS[version](doc)
        version = doc["format_version"]
    _rename_legacy_types(doc)
    return doc


def _rename_legacy_types(doc: dict[str, Any]) -> None:
    # Runs before pydantic checks the structure: anything may be where lists belong.
    graphs = [graph for key in ("networks", "blocks") if isinstance(doc.get(key), list)
              for graph in doc[key] if isinstance(graph, dict)]
    for graph in graphs:
        nodes = graph.get("nodes")
        for node in nodes if isinstance(nodes, list) else ():
            if isinstance(node, dict) and isinstance(node.get("type"), str):
                node["type"] = current_type(node["type"])


# -- parsing -----------------------------------------------------------------------------


def project_from_dict(doc: Any, where: str = "project") -> Project:
    if not isinstance(doc, dict):
        raise ProjectError(where, f"expected a JSON object at the top level, found "
                                  f"{type(doc).__name__}")
    doc = migrate(doc, where)
    try:
        return Project.model_validate(doc)
    except ValidationError as exc:
        raise ProjectError(where, _first_problem(exc)) from None


def project_from_json(text: str, where: str = "project") -> Project:
    try:
        doc = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise ProjectError(where, f"not valid JSON (line {exc.lineno}, column {exc.colno}: "
                                  f"{exc.msg})") from None
    except ValueError as exc:
        raise ProjectError(where, str(exc)) from None
    except RecursionError:
        raise ProjectError(where, "JSON nested too deeply") from None
    return project_from_dict(doc, where)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number a project can hold")


def _first_problem(exc: ValidationError) -> str:
    errors = exc.errors(include_url=False)
    first = errors[0]
    location = _format_location(first.get("loc", ()))
    more = f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})" \
        if len(errors) > 1 else ""
    message = first.get("msg", "invalid value")
    message = message.removeprefix("Value error, ")
    return f"{location}: {message}{more}" if location else f"{message}{more}"


LOCATION_PARTS = 6  # a deeply nested file's location is cut to its first levels


def _format_location(loc: tuple) -> str:
    text = ""
    for part in loc[:LOCATION_PARTS]:
        part = part if isinstance(part, int) else one_line(str(part))[:60]
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    if len(loc) > LOCATION_PARTS:
        text += f"... ({len(loc) - LOCATION_PARTS} levels deeper)"
    return text


def load_project(path: str | os.PathLike) -> Project:
    """Read a project file; raise ProjectError with a one-line reason when it can't be used."""
    path = Path(path)
    where = str(path)
    try:
        if path.is_dir():
            raise ProjectError(where, "is a directory, not a project file")
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ProjectError(where, f"is {size // 2**20} MiB; project files are at most "
                                      f"{MAX_FILE_BYTES // 2**20} MiB")
        data = path.read_bytes()
    except ProjectError:
        raise
    except FileNotFoundError:
        raise ProjectError(where, "no such file") from None
    except OSError as exc:
        raise ProjectError(where, f"cannot be read ({exc.strerror or exc})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ProjectError(where, f"is not UTF-8 text (byte {exc.start})") from None
    return project_from_json(text, where)


def project_to_json(project: Project) -> str:
    return json.dumps(project.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"


def save_project(project: Project, path: str | os.PathLike) -> None:
    """Write atomically: a crash mid-save never leaves a half-written project behind."""
    atomic_write_text(path, project_to_json(project))


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` as UTF-8, atomically (see ``atomic_write_bytes``)."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write to a temporary file beside ``path``, flush it, then rename it over: readers see
    the old file or the new one, never half of one. Raises OSError when it cannot."""
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    _remove_litter(directory, path.name)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp",
                                    dir=directory)
    try:
        os.chmod(tmp_name, _mode_for(path))
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def _remove_litter(directory: Path, name: str) -> None:
    """Remove the temporary files that writers killed mid-write left for ``name``. Each
    carries its writer's process id; only those of processes that are gone are removed, so
    a save running elsewhere at this moment keeps its file."""
    head = f".{name}."
    try:
        entries = [e for e in os.scandir(directory)
                   if e.name.startswith(head) and e.name.endswith(".tmp")]
    except OSError:
        return
    for entry in entries:
        pid = entry.name[len(head):].split(".", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and _process_gone(int(pid)):
            Path(entry.path).unlink(missing_ok=True)


def _process_gone(pid: int) -> bool:
    if os.name != "posix":
        return False  # no cheap check that never signals: leave the file
    try:
        os.kill(pid, 0)  # signal 0 only asks whether the process exists
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


def _mode_for(path: Path) -> int:
    """Keep an existing file's permissions; new files get the usual 0644 less the umask."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
