"""The questions and messages of the Train panel, as one object a test can swap (as the File
menu's Prompts are: builder/gui/file_prompts.py).

Under Qt's offscreen platform nobody can answer, so each question takes the answer that loses
nothing (keep the run going and the window open; choose no file) and says so on stderr.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget


class TrainPrompts:
    def __init__(self, parent: QWidget):
        self.parent = parent
        self.interactive = QGuiApplication.platformName() != "offscreen"

    def _unattended(self, text: str, answer):
        print(
            f"torchcanvas: {text} (no screen to ask on: {answer or 'nothing chosen'})",
            file=sys.stderr,
        )
        return answer

    def stop_run_on_close(self, description: str) -> bool:
        """The window is closing while a run goes: True to stop it (with a checkpoint) and
        close, False to keep both."""
        if not self.interactive:
            return self._unattended(f"stop the run {description} to close the window", False)
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "A run is going",
            f"The run {description} is still training.",
            QMessageBox.StandardButton.NoButton,
            self.parent,
        )
        box.setInformativeText(
            "Stop it and close? It saves a checkpoint first, so Resume can continue it later."
        )
        stop = box.addButton("Stop and Close", QMessageBox.ButtonRole.DestructiveRole)
        keep = box.addButton("Keep Training", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(keep)
        box.setEscapeButton(keep)
        box.exec()
        return box.clickedButton() is stop

    def data_file(self, title: str, directory: Path, filters: str) -> Path | None:
        if not self.interactive:
            return self._unattended(title.lower(), None)
        name, _ = QFileDialog.getOpenFileName(self.parent, title, str(directory), filters)
        return Path(name) if name else None

    def data_folder(self, title: str, directory: Path) -> Path | None:
        if not self.interactive:
            return self._unattended(title.lower(), None)
        name = QFileDialog.getExistingDirectory(self.parent, title, str(directory))
        return Path(name) if name else None

    def error(self, title: str, text: str, details: str = "") -> None:
        """A run that failed, or could not start: the runner's own one line, in a dialog."""
        if not self.interactive:
            print(f"torchcanvas: {title}: {text} {details}".rstrip(), file=sys.stderr)
            return
        box = QMessageBox(
            QMessageBox.Icon.Critical, title, text, QMessageBox.StandardButton.Ok, self.parent
        )
        if details:
            box.setInformativeText(details)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()  # not exec(): progress of other things keeps flowing while it shows
