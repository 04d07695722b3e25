"""Menu actions as every window part makes them, and menus filled from them.

A part (files, exports, structural edits, kept source) owns its actions; the window only
decides where they go, so the same QAction can sit in a menu bar menu and in the canvas's
context menu, with one shortcut and one slot.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

MenuEntry = QAction | QMenu | None  # None: a separator

Shortcut = QKeySequence | QKeySequence.StandardKey | str | None


def make_action(parent: QObject, text: str, slot: Callable[[], object],
                shortcut: Shortcut = None) -> QAction:
    """An action that calls ``slot()`` (the checked flag of triggered is not passed on)."""
    action = QAction(text, parent)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
        # Only while this window is active: a second window has the same shortcuts.
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    action.triggered.connect(lambda _checked=False: slot())
    return action


def fill_menu(menu: QMenu, entries: Iterable[MenuEntry]) -> None:
    for entry in entries:
        if entry is None:
            menu.addSeparator()
        elif isinstance(entry, QMenu):
            menu.addMenu(entry)
        else:
            menu.addAction(entry)
