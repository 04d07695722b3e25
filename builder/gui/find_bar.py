"""Find a layer by name or type: a small bar over the top right of the canvas (Ctrl+F).

Typing looks for the text in every node's name and type of the current graph (``conv`` finds
``conv1`` and every ``nn.Conv2d``), and shows the first match; Enter or F3 goes to the next
one, Shift+Enter or Shift+F3 to the previous, in reading order (top to bottom, or left to
right when the project flows right). The match is selected and centred at a legible zoom
(CanvasView.focus_node). "2 of 7" says where you are; Esc closes the bar and gives the
keyboard back to the canvas.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QLineEdit, QToolButton

from builder.gui.graph_tabs import GraphTabs

NO_MATCHES = "No matches"
OFFSET = 6  # pixels between the bar and the canvas's top right corner (its scroll bar)


def matching_nodes(doc, key, text: str) -> list[str]:
    """The ids of the graph's nodes whose name or type contains ``text`` (case ignored), in
    reading order."""
    needle = text.strip().casefold()
    if not needle or not doc.has_graph(key):
        return []
    right = getattr(doc.project, "flow", "down") == "right"
    found = [n for n in doc.graph(key).nodes
             if needle in n.name.casefold() or needle in n.type.casefold()]
    found.sort(key=lambda n: (n.position.x, n.position.y) if right
               else (n.position.y, n.position.x))
    return [n.id for n in found]


class FindField(QLineEdit):
    """The search text: Enter and Shift+Enter step through the matches, Esc closes."""

    stepped = Signal(int)  # +1: next match, -1: previous
    escaped = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            shift = event.modifiers() & Qt.KeyboardModifier.ShiftModifier
            self.stepped.emit(-1 if shift else +1)
            return
        if event.key() == Qt.Key.Key_Escape:
            self.escaped.emit()
            return
        super().keyPressEvent(event)


class FindBar(QFrame):
    def __init__(self, tabs: GraphTabs):
        super().__init__(tabs)
        self.tabs = tabs
        self.current: str | None = None  # the node shown last
        self.setObjectName("find_bar")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.edit = FindField()
        self.edit.setPlaceholderText("Find layer by name or type")
        self.edit.setClearButtonEnabled(True)
        self.edit.setMinimumWidth(220)
        self.count = QLabel()
        self.count.setMinimumWidth(70)
        self.previous_button = self._button("▲", "Previous match (Shift+Enter, Shift+F3)",
                                            self.find_previous)
        self.next_button = self._button("▼", "Next match (Enter, F3)", self.find_next)
        self.close_button = self._button("✕", "Close (Esc)", self.close_bar)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 4, 4, 4)
        layout.setSpacing(4)
        for widget in (self.edit, self.count, self.previous_button, self.next_button,
                       self.close_button):
            layout.addWidget(widget)
        self.edit.textEdited.connect(self._on_edit_text_edited)
        self.edit.stepped.connect(self._step)
        self.edit.escaped.connect(self.close_bar)
        tabs.resized.connect(self.place)
        self.hide()

    def _button(self, text: str, tip: str, slot) -> QToolButton:
        button = QToolButton(text=text)
        button.setToolTip(tip)
        button.setAutoRaise(True)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the keyboard stays in the field
        button.clicked.connect(lambda _checked=False: slot())
        return button

    # -- opening and closing ---------------------------------------------------------------
    def open(self) -> None:
        self.adjustSize()
        self.place()
        self.show()
        self.raise_()
        self.edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.edit.selectAll()
        self._show_count()

    def close_bar(self) -> None:
        self.hide()
        view = self.tabs.current_view()
        if view is not None:
            view.setFocus(Qt.FocusReason.OtherFocusReason)

    def place(self) -> None:
        top = self.tabs.tabBar().height() + OFFSET
        self.move(self.tabs.width() - self.width() - 3 * OFFSET, top)

    # -- finding ---------------------------------------------------------------------------
    def matches(self) -> list[str]:
        key = self.tabs.current_key()
        return matching_nodes(self.tabs.doc, key, self.edit.text()) if key is not None else []

    def find_next(self) -> None:
        self._step(+1)

    def find_previous(self) -> None:
        self._step(-1)

    def _step(self, direction: int) -> None:
        if not self.isVisible():  # F3 with the bar closed: find the last text again
            self.open()
        found = self.matches()
        if not found:
            self.current = None
        elif self.current in found:
            self.current = found[(found.index(self.current) + direction) % len(found)]
        else:
            self.current = found[0 if direction > 0 else -1]
        self._show_current(found)

    def _on_edit_text_edited(self, _text: str) -> None:
        found = self.matches()
        self.current = found[0] if found else None
        self._show_current(found)

    def _show_current(self, found: list[str]) -> None:
        if self.current is not None:
            self.tabs.focus_node(self.tabs.current_key(), self.current)
        self._show_count(found)

    def _show_count(self, found: list[str] | None = None) -> None:
        found = self.matches() if found is None else found
        if not self.edit.text().strip():
            self.count.setText("")
        elif not found:
            self.count.setText(NO_MATCHES)
        elif self.current in found:
            self.count.setText(f"{found.index(self.current) + 1} of {len(found)}")
        else:
            self.count.setText(f"{len(found)} found")
