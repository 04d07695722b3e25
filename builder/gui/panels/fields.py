"""Form fields that check what is typed as it is typed, and commit only valid values.

A ``CheckedField`` is a line edit with a one-line note under it. Every keystroke runs the
field's parser: a value it refuses gets a red border and the parser's reason in the note,
and nothing is committed. A valid value is committed (``committed`` signal) when editing
finishes (Enter or focus out), and only when the user actually changed the text, so a field
refreshed from the document never sends its own value back. Enter on a valid value also says
the user is done with the field (``entered``), so the window can give the canvas its keys back.

A note line, once shown, keeps its place when the note goes (``NoteLabel``): committing a
value clears "inferred from upstream", and the fields below must not jump under the mouse.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEvent, QObject, QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtGui import QFocusEvent
from PySide6.QtWidgets import QLabel, QLineEdit, QPlainTextEdit, QVBoxLayout, QWidget

from builder.gui.theme import ERROR_COLOR, error_text_color

DERIVED_COLOR = "#8a8f98"  # values the user did not set: readable on light and dark
Parser = Callable[[str], Any]  # text -> value; raises ValueError (or a subclass) saying why not


class NoteLabel(QLabel):
    """The line under a field: hidden until there is something to say, and from then on its
    height stays reserved, empty or not, so the rows below never move."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hide()

    def show_note(self, text: str) -> None:
        if text and not self.reserved:
            policy = self.sizePolicy()
            policy.setRetainSizeWhenHidden(True)
            self.setSizePolicy(policy)
            self.setMinimumHeight(self.fontMetrics().lineSpacing())
        self.setText(text)
        self.setVisible(bool(text))

    @property
    def reserved(self) -> bool:
        return self.sizePolicy().retainSizeWhenHidden()


class CheckedField(QWidget):
    committed = Signal(object)  # the parsed value
    problem_changed = Signal(str)  # "" when the text is valid
    entered = Signal()  # Enter on a valid value: the user is done with this field

    def __init__(self, parser: Parser, parent: QWidget | None = None):
        super().__init__(parent)
        self.parser = parser
        self.edit = QLineEdit()
        self.note = NoteLabel()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(1)
        layout.addWidget(self.edit)
        layout.addWidget(self.note)
        self._dirty = False
        self._problem = ""
        self._hint = ""
        self._derived = False
        self._shown = ""
        self.edit.textEdited.connect(self._on_edit_text_edited)
        self.edit.editingFinished.connect(self._on_edit_editing_finished)
        self.edit.returnPressed.connect(self._on_edit_return_pressed)
        self.edit.installEventFilter(self)

    # -- what the document says ---------------------------------------------------------
    def show_text(self, text: str, derived: bool = False, hint: str = "") -> None:
        """Show a value from the document; the user's unfinished typing is left alone."""
        self._hint, self._derived, self._shown = hint, derived, text
        if not self._dirty:
            with QSignalBlocker(self.edit):
                if self.edit.text() != text:
                    self.edit.setText(text)
            self._problem = ""
        self._restyle()

    def set_placeholder(self, text: str) -> None:
        self.edit.setPlaceholderText(text)

    @property
    def problem(self) -> str:
        return self._problem

    @property
    def dirty(self) -> bool:
        return self._dirty

    # -- what the user types ------------------------------------------------------------
    def _on_edit_text_edited(self, text: str) -> None:
        self._dirty = True
        self._problem = self._check(text)[1]
        self.problem_changed.emit(self._problem)
        self._restyle()

    def _on_edit_editing_finished(self) -> None:
        if not self._dirty:
            return
        value, problem = self._check(self.edit.text())
        if problem:
            return  # stays red, keeps the text; nothing reaches the document
        self._dirty = False
        self._restyle()
        self.committed.emit(value)

    def _on_edit_return_pressed(self) -> None:
        # Qt sends editingFinished right after this signal; commit now so that what comes
        # after Enter (focus leaving for the canvas) follows the commit, not the other way.
        self._on_edit_editing_finished()
        if not self._dirty and not self._problem:
            self.entered.emit()

    def revert(self) -> None:
        """Back to the document's value (Escape): the typing is dropped, nothing committed."""
        self._dirty = False
        self.show_text(self._shown, self._derived, self._hint)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if watched is self.edit and event.type() == QEvent.Type.KeyPress and \
                event.key() == Qt.Key.Key_Escape and self._dirty:
            self.revert()
            return True
        return False

    def _check(self, text: str) -> tuple[Any, str]:
        try:
            return self.parser(text), ""
        except ValueError as err:
            return None, first_line(str(err))

    def _restyle(self) -> None:
        rules = []
        if self._problem:
            rules.append(f"border: 1.5px solid {ERROR_COLOR}; border-radius: 3px; padding: 1px;")
        if self._derived and not self._dirty:
            rules.append(f"color: {DERIVED_COLOR}; font-style: italic;")
        self.edit.setStyleSheet(" ".join(rules))
        note = self._problem or ("" if self._dirty else self._hint)
        self.note.setStyleSheet(f"color: {error_text_color()};" if self._problem
                                else f"color: {DERIVED_COLOR}; font-style: italic;")
        self.note.show_note(note)


def first_line(message: str) -> str:
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    return lines[0] if lines else "invalid value"


class PausingTextEdit(QPlainTextEdit):
    """Free text that is committed when typing pauses (``delay_ms``) or the field loses focus:
    one commit, hence one undo step, per pause rather than per keystroke."""

    paused = Signal(str)  # the text, when it differs from what was last shown or committed

    def __init__(self, delay_ms: int = 1000, parent: QWidget | None = None):
        super().__init__(parent)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(delay_ms)
        self.timer.timeout.connect(self.flush)
        self._known = ""
        self.textChanged.connect(self._on_self_text_changed)

    def show_text(self, text: str) -> None:
        """Show the document's text; when it is what the field holds already (the field's own
        commit coming back), nothing moves, so the cursor stays where the user left it."""
        self._known = text
        if self.toPlainText() == text:
            return
        position = self.textCursor().position()
        with QSignalBlocker(self):
            self.setPlainText(text)
        cursor = self.textCursor()
        cursor.setPosition(min(position, len(text)))
        self.setTextCursor(cursor)
        self.timer.stop()

    def flush(self) -> None:
        self.timer.stop()
        text = self.toPlainText()
        if text != self._known:
            self._known = text
            self.paused.emit(text)

    def _on_self_text_changed(self) -> None:
        if self.toPlainText() != self._known:
            self.timer.start()

    def focusOutEvent(self, event: QFocusEvent) -> None:  # noqa: N802
        self.flush()
        super().focusOutEvent(event)
