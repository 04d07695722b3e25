"""GUI tests: real widgets offscreen, isolated from the user's settings and files."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QCoreApplication, QSettings


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path, monkeypatch, qapp):
    """Settings and standard paths (autosave, recent files) live in a fresh temp dir:
    Qt reads XDG_* on every QStandardPaths call on Linux."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    QCoreApplication.setOrganizationName("TorchCanvasTests")
    QCoreApplication.setApplicationName("TorchCanvasTests")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope,
                      str(tmp_path / "settings"))
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope,
                      str(tmp_path / "settings"))
    yield tmp_path
