"""Tabs of canvases: one per network, plus the blocks the user opened to edit.

A block tab edits the block's definition, so every placement of it follows; a block kept as
source has nothing to edit, and its tab shows, read-only, what one run of it did inside.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QTabWidget

from builder.gui.controller import EditController
from builder.gui.kept_block_tab import KeptBlockView
from builder.gui.kept_view_scene import KeptBlockScene, kept_block
from builder.gui.minimap import Minimap
from builder.gui.project_document import GraphKey, ProjectDocument
from builder.gui.scene import CanvasScene
from builder.gui.theme import Theme
from builder.gui.view import CanvasView


def tab_title(key: GraphKey, read_only: bool = False) -> str:
    title = key[1] if key[0] == "network" else f"▣ {key[1]}"
    return f"{title} (read-only)" if read_only else title


class GraphTabs(QTabWidget):
    current_graph_changed = Signal(object)  # GraphKey or None
    selection_changed = Signal(object, object)  # GraphKey, set of node ids
    node_activated = Signal(object, str)  # GraphKey, node id (double-click)
    view_created = Signal(object)  # CanvasView: the window wires its menus and popups
    resized = Signal()  # (the find bar keeps to the top right corner)

    def __init__(self, doc: ProjectDocument, controller: EditController, theme: Theme,
                 parent=None):
        super().__init__(parent)
        self.doc = doc
        self.controller = controller
        self.theme = theme
        self.minimaps_wanted = True  # View > Show Minimap
        self.setDocumentMode(True)
        self.setMovable(True)
        self.setTabsClosable(True)
        self.tabCloseRequested.connect(self._on_tab_close_requested)
        self.currentChanged.connect(self._on_current_changed)
        doc.graph_added.connect(self._on_doc_graph_added)
        doc.graph_removed.connect(self._on_doc_graph_removed)
        doc.graph_renamed.connect(self._on_doc_graph_renamed)
        doc.project_replaced.connect(self.rebuild)
        self.rebuild()

    # -- reading ---------------------------------------------------------------------------
    def views(self) -> list[CanvasView]:
        return [self.widget(i) for i in range(self.count())]

    def view_for(self, key: GraphKey) -> CanvasView | None:
        return next((v for v in self.views() if v.canvas.key == key), None)

    def current_view(self) -> CanvasView | None:
        return self.currentWidget()

    def current_key(self) -> GraphKey | None:
        view = self.current_view()
        return view.canvas.key if view is not None else None

    # -- opening and closing ---------------------------------------------------------------
    def rebuild(self) -> None:
        while self.count():
            self._close_index(0)
        for key in self.doc.graph_keys():
            if key[0] == "network":
                self.open_graph(key, focus=False)
        if self.count():
            self.setCurrentIndex(0)
            self._on_current_changed(0)

    def open_graph(self, key: GraphKey, focus: bool = True) -> CanvasView:
        view = self.view_for(key)
        if view is None:
            view = self._new_view(key)
            self.addTab(view, tab_title(key, isinstance(view, KeptBlockView)))
            self.view_created.emit(view)
            view.show_start()
        if focus:
            self.setCurrentWidget(view)
        return view

    def _new_view(self, key: GraphKey) -> CanvasView:
        if kept_block(self.doc, key) is not None:
            scene = KeptBlockScene(self.doc, key, self.theme)
            view = KeptBlockView(scene, self.controller)
        else:
            scene = CanvasScene(self.doc, key, self.theme)
            view = CanvasView(scene, self.controller)
            # Bound methods, not lambdas: Qt drops the connection when either side dies.
            scene.node_activated.connect(self._on_scene_node_activated)
            view.minimap = Minimap(view)
            view.minimap.set_wanted(self.minimaps_wanted)
        scene.setParent(view)  # the scene lives and dies with its view
        scene.selectionChanged.connect(self._on_scene_selection_changed)
        return view

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self.resized.emit()

    def set_minimaps_wanted(self, wanted: bool) -> None:
        """Show or hide the minimap in the corner of every canvas (a kept block's recorded
        view is small and has none)."""
        self.minimaps_wanted = wanted
        for view in self.views():
            minimap = getattr(view, "minimap", None)
            if minimap is not None:
                minimap.set_wanted(wanted)

    def focus_node(self, key: GraphKey, node_id: str) -> CanvasView | None:
        """Open the graph's tab, then select and centre the node there (a row of the summary
        or of the diagnostics, a find result)."""
        if not self.doc.has_graph(key):
            return None
        view = self.open_graph(key)
        view.focus_node(node_id)
        return view

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        for view in self.views():
            view.canvas.set_theme(theme)
            view.viewport().update()

    def _close_index(self, index: int) -> None:
        view = self.widget(index)
        self.removeTab(index)
        view.canvas.detach()
        view.deleteLater()

    def _on_tab_close_requested(self, index: int) -> None:
        key = self.widget(index).canvas.key
        networks = [v for v in self.views() if v.canvas.key[0] == "network"]
        if key[0] == "network" and len(networks) == 1:
            return  # the last network tab stays: there must be something to draw on
        self._close_index(index)

    def _on_current_changed(self, _index: int) -> None:
        self.current_graph_changed.emit(self.current_key())
        view = self.current_view()
        if view is not None:
            self._on_scene_selection(view.canvas)

    def _on_scene_selection_changed(self) -> None:
        self._on_scene_selection(self.sender())

    def _on_scene_node_activated(self, node_id: str) -> None:
        scene = self.sender()
        if isinstance(scene, CanvasScene):
            self.node_activated.emit(scene.key, node_id)

    def _on_scene_selection(self, scene) -> None:
        view = self.current_view()
        if isinstance(scene, CanvasScene) and view is not None and view.canvas is scene:
            self.selection_changed.emit(scene.key, scene.selected_node_ids())

    # -- document signals ------------------------------------------------------------------
    def _on_doc_graph_added(self, key: GraphKey) -> None:
        if key[0] == "network":
            self.open_graph(key)

    def _on_doc_graph_removed(self, key: GraphKey) -> None:
        view = self.view_for(key)
        if view is not None:
            self._close_index(self.indexOf(view))

    def _on_doc_graph_renamed(self, old: GraphKey, new: GraphKey) -> None:
        # The scene may or may not have seen the rename yet: look for either key.
        view = self.view_for(old) or self.view_for(new)
        if view is not None:
            self.setTabText(self.indexOf(view), tab_title(new, isinstance(view, KeptBlockView)))
