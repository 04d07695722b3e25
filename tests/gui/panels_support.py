"""Shared helpers of the inspector and panel tests: a real main window on an example."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit

from builder.gui.mainwindow import MainWindow
from builder.gui.project_document import GraphKey
from tests.gui.windows import open_window

ROOT = Path(__file__).resolve().parents[2]


def open_example(qtbot, example: str) -> MainWindow:
    return open_window(qtbot, example, size=(1300, 850))


def node_id(window: MainWindow, name: str, key: GraphKey | None = None) -> str:
    graph = window.doc.graph(key or window.current_key())
    return next(n.id for n in graph.nodes if n.name == name)


def select(window: MainWindow, name: str) -> str:
    """Select a node on the current canvas (as a click would) and return its id."""
    found = node_id(window, name)
    window.current_view().canvas.select_nodes([found])
    return found


def retype(qtbot, edit: QLineEdit, text: str, finish: bool = True) -> None:
    """Replace a line edit's text with real key presses; Enter finishes the edit."""
    edit.setFocus()
    edit.selectAll()
    qtbot.keyClick(edit, Qt.Key.Key_Backspace)
    qtbot.keyClicks(edit, text)
    if finish:
        qtbot.keyClick(edit, Qt.Key.Key_Return)


def edge_label(window: MainWindow, source: str, target: str) -> str:
    canvas = window.current_view().canvas
    ids = node_id(window, source), node_id(window, target)
    (item,) = [item for key, item in canvas.edges.items() if (key[0], key[2]) == ids]
    return item.label
