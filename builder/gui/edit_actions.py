"""The window's structural edits: clipboard, delete, blocks and layout. StructureActions owns
these actions (with their shortcuts); the window puts them in its Edit and Network menus and
the canvas's context menu (canvas_menu.py) reuses the very same ones. Each acts on the
current tab's canvas and goes through the controller (fragments.py, block_edits.py and arrange.py
build the undo steps).
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, QPointF
from PySide6.QtGui import QAction, QCursor, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QInputDialog, QMenu, QStatusBar, QWidget

from builder.gui import arrange, block_edits, block_expand, clipboard
from builder.gui.actions import MenuEntry, make_action
from builder.gui.controller import EditController
from builder.gui.graph_tabs import GraphTabs
from builder.gui.project_document import ProjectDocument
from builder.gui.scene import CanvasScene
from builder.gui.view import CanvasView


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
    """The actions act on the current tab of ``tabs``, through its scene's controller (a kept
    block's read-only tab has one that refuses every edit); the project's blocks change
    through ``controller``. ``host`` parents the dialogs."""

    def __init__(self, host: QWidget, doc: ProjectDocument, controller: EditController,
                 tabs: GraphTabs, status_bar: QStatusBar):
        super().__init__(host)
        self.host = host
        self.doc = doc
        self.controller = controller
        self.tabs = tabs
        self.status_bar = status_bar
        self._build_edit_actions()
        self._build_block_actions()

    # -- actions ---------------------------------------------------------------------------
    def _build_edit_actions(self) -> None:
        def act(text: str, slot, shortcut=None) -> QAction:
            return make_action(self, text, slot, shortcut)

        self.cut_action = act("Cu&t", self.cut, QKeySequence.StandardKey.Cut)
        self.copy_action = act("&Copy", self.copy, QKeySequence.StandardKey.Copy)
        self.paste_action = act("&Paste", self.paste, QKeySequence.StandardKey.Paste)
        self.duplicate_action = act("D&uplicate", self.duplicate, "Ctrl+D")
        self.delete_action = act("&Delete", self.delete, QKeySequence.StandardKey.Delete)
        self.group_action = act("&Group into Block…", self.group, "Ctrl+G")
        self.expand_action = act("E&xpand Block", self.expand, "Ctrl+Shift+G")
        self.layout_action = act("Auto &Layout", self.auto_layout, "Ctrl+L")
        self.arrange_action = act("Arrange &Selection", self.arrange_selection, "Ctrl+Shift+L")

    def _build_block_actions(self) -> None:
        self.new_block_action = make_action(self, "New &Block…", self.new_block)
        self.open_block_menu = QMenu("&Open Block", self.host)
        self.open_block_menu.aboutToShow.connect(self._on_open_block_menu_about_to_show)
        self.rename_block_action = make_action(self, "Rena&me Block…", self.rename_block)
        self.delete_block_action = make_action(self, "Delete B&lock", self.delete_block)

    def clipboard_entries(self) -> list[MenuEntry]:
        """Cut, Copy, Paste, Duplicate, Delete: the top of the Edit menu."""
        return [self.cut_action, self.copy_action, self.paste_action, self.duplicate_action,
                self.delete_action]

    def block_and_layout_entries(self) -> list[MenuEntry]:
        """Grouping and layout: further down the Edit menu (None: a separator)."""
        return [self.group_action, self.expand_action, None,
                self.layout_action, self.arrange_action]

    def network_entries(self) -> list[MenuEntry]:
        """Blocks in the Network menu."""
        return [self.new_block_action, self.open_block_menu, self.rename_block_action,
                self.delete_block_action]

    def _on_open_block_menu_about_to_show(self) -> None:
        self.open_block_menu.clear()
        for block in self.doc.project.blocks:
            action = self.open_block_menu.addAction(block.name)
            action.triggered.connect(lambda _c=False, n=block.name: self.open_block(n))
        if not self.doc.project.blocks:
            self.open_block_menu.addAction("(no blocks)").setEnabled(False)

    # -- the canvas ------------------------------------------------------------------------
    def scene(self) -> CanvasScene | None:
        view = self.tabs.current_view()
        return view.canvas if view is not None else None

    def _controller(self) -> EditController:
        """The current tab's controller: a kept block's read-only tab has one that refuses."""
        return self.tabs.current_view().controller

    def _status(self, message: str) -> None:
        self.status_bar.showMessage(message, 8000)

    # -- clipboard -------------------------------------------------------------------------
    def copy(self) -> None:
        scene = self.scene()
        if scene is not None and clipboard.copy_selection(self.tabs.current_view()):
            self._status(f"Copied {clipboard.layers_label(len(scene.selected_node_ids()))}")

    def cut(self) -> None:
        if self.scene() is not None:
            clipboard.cut_selection(self.tabs.current_view())

    def paste(self, at: QPointF | None = None) -> list[str]:
        view = self.tabs.current_view()
        if view is None:
            return []
        if at is None:
            at = self._cursor_point(view)
        return clipboard.paste(view, at)

    def duplicate(self) -> list[str]:
        view = self.tabs.current_view()
        return clipboard.duplicate_selection(view) if view is not None else []

    def delete(self) -> None:
        view = self.tabs.current_view()
        if view is not None:
            view.delete_selection()

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
        problem = block_edits.group_problem(self._controller(), scene.key, chosen)
        if problem:
            self._controller().refused.emit(f"Cannot group into a block: {problem}")
            return None
        name = ask_text(self.host, "Group into block",
                        "Name of the new block (it becomes a class in generated code):",
                        self._free_block_name())
        if name is None:
            return None
        sizes = {n: scene.nodes[n].size for n in scene.nodes}
        instance = block_edits.group_into_block(self._controller(), scene.key, chosen, name, sizes)
        if instance is not None:
            scene.select_nodes([instance])
        return instance

    def _free_block_name(self) -> str:
        taken = {b.name for b in self.doc.project.blocks}
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
                         if self.doc.node(scene.key, n).block_name is not None]
            if len(instances) != 1:
                self._controller().refused.emit("Expand block: select one block instance")
                return None
            node_id = instances[0]
        made = block_expand.expand_block(self._controller(), scene.key, node_id)
        if made is not None:
            scene.select_nodes(made)
        return made

    def open_block(self, name: str) -> None:
        if self.doc.has_graph(("block", name)):
            self.tabs.open_graph(("block", name))

    def new_block(self) -> None:
        name = ask_text(self.host, "New block", "Name of the new block:",
                        self._free_block_name())
        if name is not None and block_edits.new_block(self.controller, name):
            self.open_block(name)

    def _chosen_block(self) -> str | None:
        """The block in the current tab, or the one the selected instance places."""
        key = self.tabs.current_key()
        if key is not None and key[0] == "block":
            return key[1]
        scene = self.scene()
        names = ({self.doc.node(scene.key, n).block_name
                  for n in scene.selected_node_ids()} - {None}) if scene else set()
        if len(names) == 1:
            return names.pop()
        self.controller.refused.emit("Open a block's tab, or select one of its instances, "
                                     "first")
        return None

    def rename_block(self) -> None:
        name = self._chosen_block()
        if name is None:
            return
        new = ask_text(self.host, "Rename block", f"New name for block '{name}':", name)
        if new is not None and new != name:
            block_edits.rename_block(self.controller, name, new)

    def delete_block(self) -> None:
        name = self._chosen_block()
        if name is not None:
            block_edits.delete_block(self.controller, name)

    # -- nodes and connections ---------------------------------------------------------------
    def rename_node(self, node_id: str) -> None:
        scene = self.scene()
        if scene is None or node_id not in scene.nodes:
            return
        old = self.doc.node(scene.key, node_id).name
        name = ask_text(self.host, "Rename layer", "New name (an attribute in generated "
                        "code):", old)
        if name is not None and name != old:
            self._controller().rename(scene.key, node_id, name)

    # -- layout ----------------------------------------------------------------------------
    def auto_layout(self) -> None:
        view = self.tabs.current_view()
        if view is None:
            return
        scene = view.canvas
        sizes = {n: item.size for n, item in scene.nodes.items()}
        engine = arrange.auto_layout(self._controller(), scene.key, sizes)
        view.show_start()  # legible, at the inputs: a fit of a big graph reads as nothing
        self._status(f"Auto layout by {arrange.engine_label(engine)}")

    def arrange_selection(self) -> None:
        scene = self.scene()
        if scene is None:
            return
        sizes = {n: item.size for n, item in scene.nodes.items()}
        engine = arrange.arrange_selection(self._controller(), scene.key,
                                           scene.selected_node_ids(), sizes)
        if engine is not None:
            self._status(f"Arranged the selection by {arrange.engine_label(engine)}")
