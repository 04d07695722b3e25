"""The window's side of blocks seen in place: the View menu's entries, and a double-click on a
node inside a frame opening that block's tab with the node selected (where it can be edited;
the frame follows the edit). The canvas's context menu has the per-instance entries
(canvas_menu.py); each canvas keeps its own open frames (inline_blocks.py).
"""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QMenu, QWidget

from builder.gui.actions import MenuEntry, make_action
from builder.gui.graph_tabs import GraphTabs
from builder.gui.inline_blocks import InlineBlocks
from builder.gui.project_document import GraphKey
from builder.gui.view import CanvasView

DEPTHS = (1, 2, 3)
FULLY = 64  # "every level": deeper than any real model nests its blocks


def inline_of(view: CanvasView | None) -> InlineBlocks | None:
    """The open frames of a view's canvas (a kept block's read-only tab has none)."""
    return getattr(view.canvas, "inline", None) if view is not None else None


class InlineActions(QObject):
    def __init__(self, host: QWidget, tabs: GraphTabs):
        super().__init__(host)
        self.tabs = tabs
        self.menu = QMenu("&Blocks in Place", host)
        for depth in DEPTHS:
            levels = "level" if depth == 1 else "levels"
            self.menu.addAction(make_action(self, f"Expand {depth} {levels}",
                                            lambda d=depth: self.open_to_depth(d)))
        self.menu.addAction(make_action(self, "Expand &Fully",
                                        lambda: self.open_to_depth(FULLY)))
        self.menu.addSeparator()
        self.menu.addAction(make_action(self, "&Collapse All", lambda: self.open_to_depth(0)))
        for view in tabs.views():
            self._on_tabs_view_created(view)
        tabs.view_created.connect(self._on_tabs_view_created)

    def menu_entries(self) -> list[MenuEntry]:
        return [self.menu, None]

    def open_to_depth(self, depth: int) -> None:
        inline = inline_of(self.tabs.current_view())
        if inline is not None:
            inline.open_to_depth(depth)

    def _on_tabs_view_created(self, view: CanvasView) -> None:
        inline = inline_of(view)
        if inline is not None:
            inline.inner_node_activated.connect(self.edit_inner_node)

    def edit_inner_node(self, key: GraphKey, node_id: str) -> CanvasView | None:
        return edit_inner_node(self.tabs, key, node_id)


def edit_inner_node(tabs: GraphTabs, key: GraphKey, node_id: str) -> CanvasView | None:
    """Open the block's tab with the node selected (the inspector shows it)."""
    if not tabs.doc.has_graph(key):
        return None
    view = tabs.open_graph(key)
    view.focus_node(node_id)
    return view
