"""The problems of one node, as the inspector lists them: severity, message, a fix button."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QLabel, QPushButton, QWidget

from builder.gui.panels.common import severity_icon
from graph_schema.diagnostics import Diagnostic


def fix_button_text(diagnostic: Diagnostic) -> str:
    return f"Fix: {diagnostic.fix.label}" if diagnostic.fix is not None else ""


def problem_text(diagnostic: Diagnostic) -> str:
    where = f"input {diagnostic.port}: " if diagnostic.port is not None else ""
    return f"{where}{diagnostic.message}"


class ProblemList(QWidget):
    fix_requested = Signal(object)  # the Diagnostic whose fix the user clicked

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setHorizontalSpacing(6)
        self._grid.setColumnStretch(1, 1)
        self._shown: list[Diagnostic] = []
        self.buttons: list[QPushButton] = []

    def show_problems(self, diagnostics: list[Diagnostic]) -> None:
        ordered = sorted(diagnostics, key=lambda d: not d.is_error)
        if ordered == self._shown:
            return
        self._shown = ordered
        while self._grid.count():
            widget = self._grid.takeAt(0).widget()
            if widget is not None:
                widget.deleteLater()
        self.buttons = []
        row = 0
        for diagnostic in ordered:
            icon = QLabel()
            icon.setPixmap(severity_icon(diagnostic.severity).pixmap(16, 16))
            icon.setToolTip(diagnostic.severity)
            message = QLabel(problem_text(diagnostic))
            message.setWordWrap(True)
            message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self._grid.addWidget(icon, row, 0, Qt.AlignmentFlag.AlignTop)
            self._grid.addWidget(message, row, 1)
            row += 1
            if diagnostic.fix is not None:
                button = QPushButton(fix_button_text(diagnostic))
                button.clicked.connect(lambda _=False, d=diagnostic: self.fix_requested.emit(d))
                self._grid.addWidget(button, row, 1, Qt.AlignmentFlag.AlignLeft)
                self.buttons.append(button)
                row += 1
