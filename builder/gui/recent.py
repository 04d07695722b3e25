"""File > Open Recent: the last project files opened or saved, newest first, in QSettings."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

KEY = "recent_files"
LIMIT = 10


class RecentFiles:
    """The list lives in the application's settings, so every window shares it."""

    def paths(self) -> list[Path]:
        value = QSettings().value(KEY, [])
        if isinstance(value, str):  # one entry comes back as a bare string from INI files
            value = [value]
        return [Path(p) for p in (value or []) if isinstance(p, str) and p]

    def add(self, path: Path) -> None:
        path = _absolute(path)
        kept = [p for p in self.paths() if p != path]
        self._store([path, *kept][:LIMIT])

    def remove(self, path: Path) -> None:
        path = _absolute(path)
        self._store([p for p in self.paths() if p != path])

    def prune_missing(self) -> list[Path]:
        """Forget files that no longer exist; returns the ones forgotten."""
        paths = self.paths()
        missing = [p for p in paths if not p.is_file()]
        if missing:
            self._store([p for p in paths if p not in missing])
        return missing

    def clear(self) -> None:
        self._store([])

    def _store(self, paths: list[Path]) -> None:
        QSettings().setValue(KEY, [str(p) for p in paths])


def _absolute(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:
        return path.absolute()
