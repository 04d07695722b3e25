"""A real main window for a GUI test: on an example, a project, or a new document, made by
the application's Windows as the app makes its windows."""

from __future__ import annotations

from pathlib import Path

from builder.gui.app import Windows
from builder.gui.mainwindow import MainWindow
from builder.gui.project_document import ProjectDocument
from graph_schema import load_project
from graph_schema.document import Project

ROOT = Path(__file__).resolve().parents[2]


def open_window(qtbot, example: str | None = None, project: Project | None = None,
                active: bool = False, size: tuple[int, int] = (1200, 800)) -> MainWindow:
    """``example`` (a path under examples/) opens with its path, as File > Open would."""
    doc = None
    if example:
        path = ROOT / "examples" / example
        doc = ProjectDocument(load_project(path), path)
    elif project is not None:
        doc = ProjectDocument(project)
    window = Windows().new_window(doc)
    # Edits made by a test are not worth a "save changes?" question when it closes the window.
    qtbot.addWidget(window, before_close_func=lambda w: w.controller.undo_stack.setClean())
    window.resize(*size)
    if active:  # menu shortcuts only reach the active window
        with qtbot.waitActive(window):
            window.show()
            window.activateWindow()
    else:
        window.show()
    return window
