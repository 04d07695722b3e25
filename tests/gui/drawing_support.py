"""Real mouse and keyboard on the canvas, counted as a user would count them.

``Actions`` sends real QTest events and counts one action per key press, per word typed
(``"conv2d 6 5"`` is three) and per click or drag, so a test can say how many actions a
drawing took.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QWidget

from builder.gui.mainwindow import MainWindow

LEFT = Qt.MouseButton.LeftButton
NO_KEYS = Qt.KeyboardModifier.NoModifier


class Actions:
    def __init__(self):
        self.count = 0
        self.log: list[str] = []

    def _did(self, what: str, count: int = 1) -> None:
        self.count += count
        self.log.append(what)

    def key(self, widget: QWidget, key: Qt.Key, modifiers=NO_KEYS) -> None:
        QTest.keyClick(widget, key, modifiers)
        self._did(f"key {key.name}")

    def type(self, widget: QWidget, text: str) -> None:
        """Typing one entry (a name, a shape, a chain) is one action, as the issue counts
        "Tab, 'conv', Enter"; the log keeps the text."""
        QTest.keyClicks(widget, text)
        self._did(f"type {text!r}")

    def click(self, widget: QWidget, at: QPoint | None = None) -> None:
        if at is None:
            QTest.mouseClick(widget, LEFT)
        else:
            QTest.mouseClick(widget, LEFT, NO_KEYS, at)
        self._did("click")

    def double_click(self, widget: QWidget, at: QPoint) -> None:
        QTest.mouseClick(widget, LEFT, NO_KEYS, at)  # a double-click starts as a click
        QTest.mouseDClick(widget, LEFT, NO_KEYS, at)
        self._did("double-click")

    def drag(self, widget: QWidget, start: QPoint, end: QPoint) -> None:
        QTest.mousePress(widget, LEFT, NO_KEYS, start)
        QTest.mouseMove(widget, (start + end) / 2)
        QTest.mouseMove(widget, end)
        QTest.mouseRelease(widget, LEFT, NO_KEYS, end)
        self._did("drag")


def node_point(window: MainWindow, node_id: str) -> QPoint:
    """The middle of a node's glyph, in viewport coordinates."""
    view = window.current_view()
    item = view.canvas.nodes[node_id]
    return view.mapFromScene(item.mapToScene(QPointF(item.size[0] / 2, item.size[1] / 2)))


def port_point(window: MainWindow, node_id: str, kind: str, index: int = 0) -> QPoint:
    view = window.current_view()
    return view.mapFromScene(view.canvas.nodes[node_id].port_scene_pos(kind, index))


def glyph_rect(item):
    return item.mapRectToScene(0, 0, *item.size)


def overlapping(view) -> list[tuple[str, str]]:
    """Pairs of nodes whose glyphs overlap on the canvas."""
    items = list(view.canvas.nodes.items())
    found = []
    for i, (a, item_a) in enumerate(items):
        for b, item_b in items[i + 1:]:
            if glyph_rect(item_a).intersects(glyph_rect(item_b)):
                found.append((a, b))
    return found


def chain_from(graph, start: str) -> list[str]:
    """The node types along the first-output path from ``start``."""
    nodes = graph.node_map()
    types, current = [], start
    while True:
        types.append(nodes[current].type)
        following = [e.target for e in graph.edges if e.source == current]
        if not following:
            return types
        current = following[0]
