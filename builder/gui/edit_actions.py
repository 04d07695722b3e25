"""The window's structural edits: clipboard, blocks and layout, as menu actions with
shortcuts and as the canvas's context menu. Each acts on the current tab's canvas and goes
through the controller (fragments.py, blocks.py and arrange.py build the undo steps).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QPoint, QPointF
from PySide6.QtGui import QCursor, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QInputDialog, QMenu, QWidget

from builder.gui import arrange, block_expand, blocks, clipboard
from builder.gui.canvas_menu import build_canvas_menu, insert_layer
from builder.gui.fragments import block_name_of
from builder.gui.palette import QuickAdd
from builder.gui.scene import CanvasScene
from builder.gui.view import CanvasView
from graph_schema.document import Edge

if TYPE_CHECKING:
    from builder.gui.mainwindow import MainWindow


def ask_text(parent: QWidget, title: str, label: str, text: str = "") -> str | None:
    """A one-line question; None when cancelled or left empty (tests replace this).

    Under Qt's offscreen platform nobody could answer, and the dialog would wait forever."""
    if QGuiApplication.platformName() == "offscreen":
        print(f"torchcanvas: no answer to {title!r} under the offscreen platform",
              file=sys.stderr)
        return None
    answer, ok = QInputDialog.getText(parent, title, label, text=text)
    return answer.strip() if ok and answer.strip() else None


class StructureActions(QObject):
    def __init__(self, window: MainWindow):
        super().__init__(window)
        self.window = window
        self.edge_quick_add = QuickAdd(window.doc, window)
        self._edge_to_split: tuple | None = None
        self.shown_menu: QMenu | None = None  # the context menu on screen (tests read it)
        self.edge_quick_add.chosen.connect(self._on_edge_quick_add_chosen)
        self._build_edit_entries()
        self._build_block_entries()

    # -- menus -----------------------------------------------------------------------------
    def _build_edit_entries(self) -> None:
        window, menu = self.window, self.window.edit_menu
        before = window.delete_action
        self.cut_action = window.action("Cu&t", self.cut, QKeySequence.StandardKey.Cut)
        self.copy_action = window.action("&Copy", self.copy, QKeySequence.StandardKey.Copy)
        self.paste_action = window.action("&Paste", self.paste, QKeySequence.StandardKey.Paste)
        self.duplicate_action = window.action("D&uplicate", self.duplicate, "Ctrl+D")
        for action in (self.cut_action, self.copy_action, self.paste_action,
                       self.duplicate_action):
            menu.insertAction(before, action)
        menu.addSeparator()
        self.group_action = window.action("&Group into Block…", self.group, "Ctrl+G", menu)
        self.expand_action = window.action("E&xpand Block", self.expand, "Ctrl+Shift+G", menu)
        menu.addSeparator()
        self.layout_action = window.action("Auto &Layout", self.auto_layout, "Ctrl+L", menu)
        self.arrange_action = window.action("Arrange &Selection", self.arrange_selection,
                                            "Ctrl+Shift+L", menu)

    def _build_block_entries(self) -> None:
        window, menu = self.window, self.window.network_menu
        menu.addSeparator()
        window.action("New &Block…", self.new_block, None, menu)
        self.open_block_menu = menu.addMenu("&Open Block")
        self.open_block_menu.aboutToShow.connect(self._on_open_block_menu_about_to_show)
        window.action("Rena&me Block…", self.rename_block, None, menu)
        window.action("Delete B&lock", self.delete_block, None, menu)

    def _on_open_block_menu_about_to_show(self) -> None:
        self.open_block_menu.clear()
        for block in self.window.doc.project.blocks:
            action = self.open_block_menu.addAction(block.name)
            action.triggered.connect(lambda _c=False, n=block.name: self.open_block(n))
        if not self.window.doc.project.blocks:
            self.open_block_menu.addAction("(no blocks)").setEnabled(False)

    # -- the canvas ------------------------------------------------------------------------
    def scene(self) -> CanvasScene | None:
        view = self.window.current_view()
        return view.canvas if view is not None else None

    def connect_view(self, view: CanvasView) -> None:
        view.context_menu_requested.connect(
            lambda global_pos, scene_pos, node_id, v=view:
            self.show_context_menu(v, global_pos, scene_pos, node_id))

    def context_menu(self, view: CanvasView, scene_pos: QPointF, node_id: str | None) -> QMenu:
        return build_canvas_menu(self, view, scene_pos, node_id)

    def show_context_menu(self, view: CanvasView, global_pos: QPoint, scene_pos: QPointF,
                          node_id: str | None) -> None:
        menu = self.context_menu(view, scene_pos, node_id)
        menu.aboutToHide.connect(menu.deleteLater)
        self.shown_menu = menu
        menu.popup(global_pos)

    def _status(self, message: str) -> None:
        self.window.statusBar().showMessage(message, 8000)

    # -- clipboard -------------------------------------------------------------------------
    def copy(self) -> None:
        scene = self.scene()
        if scene is not None and clipboard.copy_selection(scene):
            self._status(f"Copied {clipboard.layers_label(len(scene.selected_node_ids()))}")

    def cut(self) -> None:
        if self.scene() is not None:
            clipboard.cut_selection(self.scene())

    def paste(self, at: QPointF | None = None) -> list[str]:
        view = self.window.current_view()
        if view is None:
            return []
        if at is None:
            at = self._cursor_point(view)
        return clipboard.paste(view.canvas, at)

    def duplicate(self) -> list[str]:
        return clipboard.duplicate_selection(self.scene()) if self.scene() else []

    @staticmethod
    def _cursor_point(view: CanvasView) -> QPointF | None:
        """Where the mouse is on the canvas, if it is over the canvas at all."""
        local = view.viewport().mapFromGlobal(QCursor.pos())
        return view.mapToScene(local) if view.viewport().rect().contains(local) else None

    # -- blocks ----------------------------------------------------------------------------
    def group(self) -> str | None:
        scene = self.scene()
        if scene is None:
            return None
        chosen = scene.selected_node_ids()
        problem = blocks.group_problem(scene.controller, scene.key, chosen)
        if problem:
            scene.controller.refused.emit(f"Cannot group into a block: {problem}")
            return None
        name = ask_text(self.window, "Group into block",
                        "Name of the new block (it becomes a class in generated code):",
                        self._free_block_name())
        if name is None:
            return None
        sizes = {n: scene.nodes[n].size for n in scene.nodes}
        instance = blocks.group_into_block(scene.controller, scene.key, chosen, name, sizes)
        if instance is not None:
            scene.select_nodes([instance])
        return instance

    def _free_block_name(self) -> str:
        taken = {b.name for b in self.window.doc.project.blocks}
        number = 1
        while f"Block{number}" in taken:
            number += 1
        return f"Block{number}"

    def expand(self, node_id: str | None = None) -> list[str] | None:
        scene = self.scene()
        if scene is None:
            return None
        if node_id is None:
            instances = [n for n in scene.selected_node_ids()
                         if block_name_of(scene.doc.node(scene.key, n).type) is not None]
            if len(instances) != 1:
                scene.controller.refused.emit("Expand block: select one block instance")
                return None
            node_id = instances[0]
        made = block_expand.expand_block(scene.controller, scene.key, node_id)
        if made is not None:
            scene.select_nodes(made)
        return made

    def open_block(self, name: str) -> None:
        if self.window.doc.has_graph(("block", name)):
            self.window.tabs.open_graph(("block", name))

    def new_block(self) -> None:
        name = ask_text(self.window, "New block", "Name of the new block:",
                        self._free_block_name())
        if name is not None and blocks.new_block(self.window.controller, name):
            self.open_block(name)

    def _chosen_block(self) -> str | None:
        """The block in the current tab, or the one the selected instance places."""
        key = self.window.current_key()
        if key is not None and key[0] == "block":
            return key[1]
        scene = self.scene()
        names = ({block_name_of(scene.doc.node(scene.key, n).type)
                  for n in scene.selected_node_ids()} - {None}) if scene else set()
        if len(names) == 1:
            return names.pop()
        self.window.controller.refused.emit("Open a block's tab, or select one of its "
                                            "instances, first")
        return None

    def rename_block(self) -> None:
        name = self._chosen_block()
        if name is None:
            return
        new = ask_text(self.window, "Rename block", f"New name for block '{name}':", name)
        if new is not None and new != name:
            blocks.rename_block(self.window.controller, name, new)

    def delete_block(self) -> None:
        name = self._chosen_block()
        if name is not None:
            blocks.delete_block(self.window.controller, name)

    # -- nodes and connections ---------------------------------------------------------------
    def rename_node(self, node_id: str) -> None:
        scene = self.scene()
        if scene is None or node_id not in scene.nodes:
            return
        old = scene.doc.node(scene.key, node_id).name
        name = ask_text(self.window, "Rename layer", "New name (an attribute in generated "
                        "code):", old)
        if name is not None and name != old:
            scene.controller.rename(scene.key, node_id, name)

    def insert_layer_into(self, edge: Edge, scene_pos: QPointF) -> None:
        view = self.window.current_view()
        if view is None:
            return
        self._edge_to_split = (view.canvas.key, edge)
        local = view.mapFromScene(scene_pos)
        self.edge_quick_add.popup(view.viewport().mapToGlobal(local))

    def _on_edge_quick_add_chosen(self, type_name: str) -> None:
        if self._edge_to_split is None:
            return
        key, edge = self._edge_to_split
        self._edge_to_split = None
        new = insert_layer(self.window.controller, key, edge, type_name)
        view = self.window.tabs.view_for(key)
        if new is not None and view is not None:
            view.canvas.select_nodes([new])

    # -- layout ----------------------------------------------------------------------------
    def auto_layout(self) -> None:
        view = self.window.current_view()
        if view is None:
            return
        scene = view.canvas
        sizes = {n: item.size for n, item in scene.nodes.items()}
        engine = arrange.auto_layout(scene.controller, scene.key, sizes)
        view.fit()
        self._status(f"Auto layout by {arrange.engine_label(engine)}")

    def arrange_selection(self) -> None:
        scene = self.scene()
        if scene is None:
            return
        sizes = {n: item.size for n, item in scene.nodes.items()}
        engine = arrange.arrange_selection(scene.controller, scene.key,
                                           scene.selected_node_ids(), sizes)
        if engine is not None:
            self._status(f"Arranged the selection by {arrange.engine_label(engine)}")
