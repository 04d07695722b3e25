"""Helpers of the view tests (zoom, minimap, find, jumps, room): what the user sees, menus
clicked with the mouse, and a large laid-out network."""

from __future__ import annotations

from functools import lru_cache

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QMenu

from bench.bench_inference import residual
from builder.gui.arrange import node_sizes
from builder.gui.mainwindow import MainWindow
from builder.gui.project_document import ProjectDocument
from builder.gui.view import CanvasView
from graph_schema.document import Project
from graph_schema.layout import layout_network


def shown(view: CanvasView) -> QRectF:
    """The part of the scene the view shows."""
    return view.mapToScene(view.viewport().rect()).boundingRect()


def node_on_screen(view: CanvasView, node_id: str) -> QRectF:
    """A node's box in the viewport's pixels."""
    return QRectF(view.mapFromScene(view.canvas.nodes[node_id].sceneBoundingRect())
                  .boundingRect())


def colours_in(image: QImage, rect) -> set[str]:
    rect = rect.toRect() if isinstance(rect, QRectF) else rect
    rect = rect.intersected(image.rect())
    return {image.pixelColor(x, y).name() for x in range(rect.left(), rect.right() + 1)
            for y in range(rect.top(), rect.bottom() + 1)}


def ink(image: QImage, rect, besides: set[str] = frozenset()) -> int:
    """How many pixels in ``rect`` are dark, as text is (antialiased text has few pixels of
    exactly its colour), not counting the colours in ``besides``."""
    rect = (rect.toRect() if isinstance(rect, QRectF) else rect).intersected(image.rect())
    return sum(1 for x in range(rect.left(), rect.right() + 1)
               for y in range(rect.top(), rect.bottom() + 1)
               if image.pixelColor(x, y).lightness() < 110
               and image.pixelColor(x, y).name() not in besides)


def choose(qtbot, window: MainWindow, *path: str) -> None:
    """Click through the menu bar: ``choose(qtbot, window, "View", "Panels", "Layers")``."""
    bar = window.menuBar()
    top = next(a for a in bar.actions() if a.text().replace("&", "") == path[0])
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.actionGeometry(top).center())
    menu: QMenu = top.menu()
    qtbot.waitUntil(menu.isVisible)
    for text in path[1:]:
        action = next(a for a in menu.actions() if a.text().replace("&", "") == text)
        qtbot.mouseClick(menu, Qt.MouseButton.LeftButton,
                         pos=menu.actionGeometry(action).center())
        if action.menu() is None:
            break
        menu = action.menu()
        qtbot.waitUntil(menu.isVisible)
    qtbot.waitUntil(lambda: not top.menu().isVisible())


@lru_cache(maxsize=4)
def _large(size: int) -> str:
    project, _, _ = residual(size)
    doc = ProjectDocument(project)
    key = doc.graph_keys()[0]
    result = layout_network(doc.graph(key), node_sizes(doc, key), engine="builtin")
    for node in doc.graph(key).nodes:
        node.position = result.positions[node.id]
    return doc.project.model_dump_json()


def large_project(size: int) -> Project:
    """bench_gui's residual network of ``size`` nodes, laid out by the built-in layout."""
    return Project.model_validate_json(_large(size))

