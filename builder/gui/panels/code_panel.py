"""The generated module, live: regenerated shortly after each edit while the panel is shown.

Generation waits for edits to settle (a 200 ms debounce) and runs only while the panel is
visible; a hidden panel just remembers that it is out of date. While the project has errors
there is no code to generate: a banner says how many errors, and the last code generated
stays, dimmed, so the user keeps their bearings.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QGuiApplication, QPalette, QTextOption
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from builder.gui.panels.common import LazyRefresh, on_any_edit
from builder.gui.panels.highlighter import PythonHighlighter
from builder.gui.project_document import ProjectDocument
from builder.gui.theme import ERROR_COLOR, mono_font
from codegen import GenerationError, generate_source

DEBOUNCE_MS = 200


class CodePanel(QWidget):
    def __init__(self, doc: ProjectDocument, parent: QWidget | None = None):
        super().__init__(parent)
        self.doc = doc
        self.generations = 0  # how many times code was generated (the debounce is observable)
        self.source = ""  # the last code generated without errors
        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet(
            f"background: {ERROR_COLOR}; color: white; padding: 6px; border-radius: 3px;")
        self.banner.hide()
        self.status = QLabel()
        self.status.setEnabled(False)
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip("Copy the generated module to the clipboard")
        self.copy_button.clicked.connect(self.copy)
        self.editor = QPlainTextEdit()
        self.editor.setReadOnly(True)
        self.editor.setWordWrapMode(QTextOption.WrapMode.NoWrap)
        self.editor.setFont(mono_font(9.5))
        self.editor.setPlaceholderText("The generated module appears here once the project has "
                                       "no errors.")
        self.editor.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                            | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        self.highlighter = PythonHighlighter(self.editor.document(), self._theme_name())
        bar = QHBoxLayout()
        bar.addWidget(self.status, 1)
        bar.addWidget(self.copy_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.banner)
        layout.addLayout(bar)
        layout.addWidget(self.editor, 1)
        self.lazy = LazyRefresh(self, DEBOUNCE_MS, self.regenerate)
        on_any_edit(doc, self.lazy.changed)

    def regenerate(self) -> None:
        self.generations += 1
        try:
            source = generate_source(self.doc.session)
        except GenerationError as err:
            self._show_failure(err)
        else:
            self._show_source(source)

    # -- showing ---------------------------------------------------------------------------
    def _show_source(self, source: str) -> None:
        self.banner.hide()
        self._dim(False)
        self.source = source
        if self.editor.toPlainText() != source:
            scroll = self.editor.verticalScrollBar().value()
            self.editor.setPlainText(source)
            self.editor.verticalScrollBar().setValue(scroll)
        lines = source.count("\n")
        self.status.setText(f"{len(self.doc.project.networks)} network(s) · {lines} lines · "
                            "imports only torch")
        self.copy_button.setEnabled(True)

    def _show_failure(self, err: GenerationError) -> None:
        errors = len(err.diagnostics)
        if errors:
            what = f"The project has {errors} error{'s' * (errors != 1)}, so there is no code " \
                   "for it yet; see the Diagnostics panel."
        else:
            what = f"No code can be generated: {err}."
        if self.source:
            what += " Below: the code from before the error, dimmed."
        self.banner.setText(what)
        self.banner.show()
        self._dim(True)
        if self.editor.toPlainText() != self.source:
            self.editor.setPlainText(self.source)
        self.status.setText("out of date" if self.source else "")
        self.copy_button.setEnabled(bool(self.source))

    def _dim(self, dimmed: bool) -> None:
        self.highlighter.set_dimmed(dimmed)
        self.editor.setStyleSheet("QPlainTextEdit { color: #9aa0a6; }" if dimmed else "")

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.editor.toPlainText())

    # -- theme -------------------------------------------------------------------------------
    def _theme_name(self) -> str:
        window = self.palette().color(QPalette.ColorRole.Base)
        return "dark" if window.lightness() < 128 else "light"

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "highlighter"):
            self.highlighter.set_theme(self._theme_name())
