"""GUI tests: real widgets offscreen, isolated from the user's settings and files, and an
exception anywhere Qt calls Python (a command's redo or undo, a slot, a virtual method) fails
the test that caused it.

pytest-qt already routes exceptions raised in Qt's event loop (sys.excepthook) into a failure
at the end of the test's phase; PySide6 would otherwise print them and carry on. This file
keeps that on for every GUI test, names the command whose redo or undo raised, and turns an
exception Python could only report as "ignored" (``__del__``, a callback during teardown) into
a failure too. tests/gui/test_exceptions.py shows each case failing as a test, not a crash.
"""

from __future__ import annotations

import functools

import pytest
from PySide6.QtCore import QCoreApplication, QSettings
from PySide6.QtGui import QPalette

from builder.gui.commands import EditCommand


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "isolated_settings" in getattr(item, "fixturenames", ()):  # a GUI test
            item.add_marker(pytest.mark.filterwarnings(
                "error::pytest.PytestUnraisableExceptionWarning"))


def pytest_runtest_setup(item):
    if item.get_closest_marker("qt_no_exception_capture") or \
            item.config.getini("qt_no_exception_capture"):
        pytest.fail("GUI tests keep pytest-qt's exception capture: an exception in a Qt "
                    "callback must fail the test", pytrace=False)


class CommandFailed(AssertionError):
    """A command's redo or undo raised: the document is now half-edited."""


def _reporting(method):
    @functools.wraps(method)
    def run(command: EditCommand) -> None:
        try:
            method(command)
        except Exception as err:
            raise CommandFailed(f"{method.__name__} of {command.text()!r} raised "
                                f"{type(err).__name__}: {err}") from err
    return run


@pytest.fixture(autouse=True)
def commands_report_their_failures(monkeypatch):
    """Qt calls redo and undo from C++ (QUndoStack.push, the Undo action's shortcut), where
    the exception reaches pytest-qt's hook without the command's name: add it."""
    for name in ("redo", "undo"):
        monkeypatch.setattr(EditCommand, name, _reporting(getattr(EditCommand, name)))


@pytest.fixture(autouse=True)
def application_look_restored(qapp):
    """A test that switches the theme restyles the whole application: put it back, so the
    next test (or file) starts with the desktop's look whatever ran before it."""
    style, palette = qapp.style().name(), QPalette(qapp.palette())
    yield
    if qapp.style().name() != style:
        qapp.setStyle(style)
    if qapp.palette() != palette:
        qapp.setPalette(palette)


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
