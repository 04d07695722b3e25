"""Start the desktop app: ``torchcanvas app [FILE]`` and ``make run``.

``Windows`` is the application's side of its windows: it makes every main window, keeps it
alive while it is open, and opens the further ones a window asks for (a second recovered
project, an import that must not replace the open project).
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QPoint, Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from builder.gui.icons import family_icon
from builder.gui.mainwindow import SETTINGS_APP, SETTINGS_ORG, MainWindow
from builder.gui.project_document import ProjectDocument

CASCADE = QPoint(32, 32)  # each further window opens this much lower and to the right


def application(argv: list[str] | None = None) -> QApplication:
    """The QApplication, created once with TorchCanvas's names (settings live under them)."""
    app = QApplication.instance()
    if app is None:
        QCoreApplication.setOrganizationName(SETTINGS_ORG)
        QCoreApplication.setApplicationName(SETTINGS_APP)
        app = QApplication([sys.argv[0] if sys.argv else "torchcanvas", *(argv or [])])
        app.setWindowIcon(QIcon(family_icon("conv", 64)))
    return app


class Windows:
    """The main windows made here that are open (not closed yet). A window this opens itself
    is deleted when it closes; until then this is what keeps it alive."""

    def __init__(self) -> None:
        self._open: list[MainWindow] = []
        self._deleting: list[MainWindow] = []  # closed, kept until Qt has deleted them

    @property
    def open(self) -> list[MainWindow]:
        return list(self._open)

    def new_window(self, doc: ProjectDocument | None = None) -> MainWindow:
        """A window on ``doc`` (a new project when None); the caller shows it."""
        window = MainWindow(doc, windows=self)
        self._open.append(window)
        window.closed.connect(self._on_window_closed)
        return window

    def open_beside(self, window: MainWindow) -> MainWindow:
        """A new window on a new project, shown a step away from ``window``."""
        new = self.new_window()
        new.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        new.move(window.pos() + CASCADE * (len(self._open) - 1))
        new.show()
        return new

    def _on_window_closed(self, window: MainWindow) -> None:
        if window not in self._open:  # closed again (close() on a closed window asks again)
            return
        self._open.remove(window)
        if window.testAttribute(Qt.WidgetAttribute.WA_DeleteOnClose):
            # Never let go of the last reference while the window is still closing.
            self._deleting.append(window)
            window.destroyed.connect(lambda _obj=None, w=window: self._deleting.remove(w))


def run_app(paths: list[str]) -> int:
    app = application()
    windows = Windows()
    window = windows.new_window()
    window.restore_layout()
    window.show()
    window.files.start(Path(paths[0]) if paths else None)
    return app.exec()
