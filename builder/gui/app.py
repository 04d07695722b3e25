"""Start the desktop app: ``torchcanvas app [FILE]`` and ``make run``."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from builder.gui.icons import family_icon
from builder.gui.mainwindow import SETTINGS_APP, SETTINGS_ORG, MainWindow


def application(argv: list[str] | None = None) -> QApplication:
    """The QApplication, created once with TorchCanvas's names (settings live under them)."""
    app = QApplication.instance()
    if app is None:
        QCoreApplication.setOrganizationName(SETTINGS_ORG)
        QCoreApplication.setApplicationName(SETTINGS_APP)
        app = QApplication([sys.argv[0] if sys.argv else "torchcanvas", *(argv or [])])
        app.setWindowIcon(QIcon(family_icon("conv", 64)))
    return app


def run_app(paths: list[str]) -> int:
    app = application()
    window = MainWindow()
    window.restore_layout()
    window.show()
    window.files.start(Path(paths[0]) if paths else None)
    return app.exec()
