"""The main window: canvas tabs in the middle, palette on the left, panels around, menus.

It wires parts together and owns no editing logic: edits go through the controller, and
every panel listens to the document.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from PySide6.QtCore import QByteArray, QPointF, QSettings, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QDockWidget, QInputDialog, QMainWindow, QMenu, QWidget

from builder.gui.actions import fill_menu, make_action
from builder.gui.canvas_menu import CanvasMenu
from builder.gui.controller import EditController
from builder.gui.edit_actions import StructureActions
from builder.gui.file_controller import FileController
from builder.gui.find_bar import FindBar
from builder.gui.flow_action import FlowActions
from builder.gui.graph_edits import add_network, remove_network, rename_graph
from builder.gui.graph_tabs import GraphTabs
from builder.gui.init_badges import InitBadges
from builder.gui.inline_actions import InlineActions
from builder.gui.palette import Palette
from builder.gui.panels import install as install_panels
from builder.gui.project_document import GraphKey, ProjectDocument
from builder.gui.quick_add import QuickAdd
from builder.gui.theme import apply_to_application, system_theme, theme_named
from builder.gui.train.dock import install as install_train_panel
from builder.gui.view import CanvasView
from graph_schema.dims import format_shape_compact
from graph_schema.edit_rules import PortEnd
from graph_schema.suggest import NOTHING, Wanted

SETTINGS_ORG, SETTINGS_APP = "TorchCanvas", "TorchCanvas"


def settings() -> QSettings:
    """The app's settings, under the application's organisation and name (app.py sets them;
    tests set their own, so they never touch a user's settings)."""
    return QSettings()


class WindowOpener(Protocol):
    """The application's side of a window: it opens the other windows (builder/gui/app.py)."""

    def open_beside(self, window: MainWindow) -> MainWindow:
        """A new window on a new project, shown beside ``window``."""


class MainWindow(QMainWindow):
    """``windows`` is the application, which made this window and opens any other one."""

    closed = Signal(object)  # this window: it accepted closing (nothing unsaved was kept)

    def __init__(self, doc: ProjectDocument | None = None, parent: QWidget | None = None, *,
                 windows: WindowOpener):
        super().__init__(parent)
        self.doc = doc or ProjectDocument()
        self.controller = EditController(self.doc, self)
        self.theme_name = settings().value("theme", "system")
        if self.theme_name != "system":
            apply_to_application(self.theme_name)
        self.theme = theme_named(self.theme_name)
        self.tabs = GraphTabs(self.doc, self.controller, self.theme)
        self.tabs.set_minimaps_wanted(_setting_bool("view/minimap", True))
        self.setCentralWidget(self.tabs)
        self.find_bar = FindBar(self.tabs)
        self.docks: dict[str, QDockWidget] = {}
        self.palette = Palette(self.doc)
        self.quick_add = QuickAdd(self.doc, self)
        # The graph the open quick-add adds to, and how (at a point, after a node, at a wire)
        self._quick_add_for: tuple[GraphKey, Callable[[CanvasView, str, dict], str]] | None = \
            None
        self.add_dock("palette", "Layers", self.palette, Qt.DockWidgetArea.LeftDockWidgetArea)
        self._build_parts(windows)
        self._build_menus()
        self._wire()
        for view in self.tabs.views():
            self._on_tabs_view_created(view)
        self.resize(1400, 900)
        self._update_title()
        self.panels = install_panels(self, self.files.kept_source.review)
        self.train = install_train_panel(self)  # a dock tabbed with the Project panel
        self._on_panels_menu_about_to_show()  # with the panels just docked

    # -- parts ------------------------------------------------------------------------------
    def _build_parts(self, windows: WindowOpener) -> None:
        """The parts that own menu actions, each given what it works on."""
        doc, controller, tabs, status_bar = self.doc, self.controller, self.tabs, \
            self.statusBar()
        # File menu, exports, kept source, autosave, drops of project files.
        # The init check's badges on the canvases (the Train panel's Check init fills them).
        self.init_badges = InitBadges(doc, tabs, status_bar)
        self.files = FileController(self, doc, controller, tabs, status_bar,
                                    open_window=lambda: windows.open_beside(self).files)
        # Cut/Copy/Paste/Duplicate/Delete, blocks and auto layout (Edit and Network menus).
        self.structure = StructureActions(self, doc, controller, tabs, status_bar)
        self.flow_actions = FlowActions(self, controller, tabs, status_bar)  # View > Flow
        self.canvas_menu = CanvasMenu(self, doc, controller, tabs, self.structure,
                                      self.files.kept_source, self.show_quick_add)
        self.inline = InlineActions(self, tabs)  # View > Blocks in Place, inner double-click

    def add_dock(self, name: str, title: str, widget: QWidget,
                 area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{name}")  # saveState() needs names
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        self.docks[name] = dock
        return dock

    def current_view(self) -> CanvasView | None:
        return self.tabs.current_view()

    def current_key(self) -> GraphKey | None:
        return self.tabs.current_key()

    def _wire(self) -> None:
        self.controller.refused.connect(self._on_controller_refused)
        self.controller.undo_stack.cleanChanged.connect(self._update_title)
        self.doc.path_changed.connect(self._update_title)
        self.doc.project_changed.connect(self._update_title)
        self.doc.project_replaced.connect(self._update_title)
        self.tabs.view_created.connect(self._on_tabs_view_created)
        self.tabs.node_activated.connect(self._on_tabs_node_activated)
        self.palette.layer_chosen.connect(self._on_palette_layer_chosen)
        self.quick_add.chosen.connect(self._on_quick_add_chosen)
        self.quick_add.chained.connect(self._on_quick_add_chained)
        self.quick_add.chain_chosen.connect(self._on_quick_add_chain_chosen)
        self.quick_add.dismissed.connect(self._on_quick_add_dismissed)

    # -- menus ------------------------------------------------------------------------------
    def action(self, text: str, slot, shortcut=None, menu: QMenu | None = None) -> QAction:
        act = make_action(self, text, slot, shortcut)
        if menu is not None:
            menu.addAction(act)
        return act

    def _build_menus(self) -> None:
        bar = self.menuBar()
        self.file_menu = bar.addMenu("&File")
        self.edit_menu = bar.addMenu("&Edit")
        self.view_menu = bar.addMenu("&View")
        self.network_menu = bar.addMenu("&Network")
        fill_menu(self.file_menu, self.files.menu_entries())
        self._build_edit_menu()
        self._build_view_menu()
        self._build_network_menu()

    def _build_edit_menu(self) -> None:
        menu = self.edit_menu
        undo = self.controller.undo_stack.createUndoAction(self, "&Undo")
        undo.setShortcut(QKeySequence.StandardKey.Undo)
        redo = self.controller.undo_stack.createRedoAction(self, "&Redo")
        redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        fill_menu(menu, [undo, redo, None, *self.structure.clipboard_entries()])
        self.action("Select &All", self.select_all, QKeySequence.StandardKey.SelectAll, menu)
        menu.addSeparator()
        self.action("Add Layer…", self.show_quick_add, None, menu)
        fill_menu(menu, [None, *self.structure.block_and_layout_entries(),
                         None, self.files.kept_source.action])
        self._build_find_entries(menu)

    def _build_find_entries(self, menu: QMenu) -> None:
        """Find a layer by name or type (builder/gui/find_bar.py). F3, not the platform's
        FindNext: on some desktops that is Ctrl+G, which groups into a block here."""
        menu.addSeparator()
        self.action("&Find Layer…", self.find_bar.open, QKeySequence.StandardKey.Find, menu)
        self.action("Find &Next", self.find_bar.find_next, "F3", menu)
        self.action("Find Pre&vious", self.find_bar.find_previous, "Shift+F3", menu)

    def _build_view_menu(self) -> None:
        menu = self.view_menu
        self.action("&Fit to Window", self._fit, "F", menu)
        self.action("Zoom &In", lambda: self._zoom(1.25), QKeySequence.StandardKey.ZoomIn, menu)
        self.action("Zoom &Out", lambda: self._zoom(0.8), QKeySequence.StandardKey.ZoomOut, menu)
        self.action("&Actual Size", self._reset_zoom, "Ctrl+0", menu)
        fill_menu(menu, [None, *self.flow_actions.entries()])
        fill_menu(menu, [None, *self.inline.menu_entries()])
        menu.addSeparator()
        themes = menu.addMenu("&Theme")
        for name, label in (("system", "Follow System"), ("light", "Light"), ("dark", "Dark")):
            act = self.action(label, lambda n=name: self.set_theme(n), None, themes)
            act.setCheckable(True)
            act.setChecked(name == self.theme_name)
        self._theme_actions = themes.actions()
        menu.addSeparator()
        self._build_room_entries(menu)

    def _build_room_entries(self, menu: QMenu) -> None:
        """The minimap toggle, and Panels: every dock (the palette too) can be shown again
        after it was closed."""
        minimap = self.action("Show &Minimap", self._on_minimap_toggled, None, menu)
        minimap.setCheckable(True)
        minimap.setChecked(self.tabs.minimaps_wanted)
        self.minimap_action = minimap
        self.panels_menu = menu.addMenu("&Panels")
        self._show_all_panels = make_action(self, "Show &All Panels", self.show_all_panels)
        self.panels_menu.aboutToShow.connect(self._on_panels_menu_about_to_show)
        self._on_panels_menu_about_to_show()

    def _on_panels_menu_about_to_show(self) -> None:
        menu = self.panels_menu
        menu.clear()
        for dock in self.docks.values():
            menu.addAction(dock.toggleViewAction())
        menu.addSeparator()
        menu.addAction(self._show_all_panels)

    def show_all_panels(self) -> None:
        for dock in self.docks.values():
            dock.show()

    def _on_minimap_toggled(self) -> None:
        wanted = self.minimap_action.isChecked()
        self.tabs.set_minimaps_wanted(wanted)
        settings().setValue("view/minimap", wanted)

    def _build_network_menu(self) -> None:
        menu = self.network_menu
        self.action("&New Network…", self.new_network, None, menu)
        self.action("&Rename…", self.rename_current_graph, None, menu)
        self.action("&Delete Network", self.delete_current_network, None, menu)
        fill_menu(menu, [None, *self.structure.network_entries()])

    # -- edit actions -----------------------------------------------------------------------
    def select_all(self) -> None:
        view = self.current_view()
        if view is not None:
            for item in view.canvas.nodes.values():
                item.setSelected(True)

    def show_quick_add(self, at: QPointF | None = None) -> None:
        """Edit > Add Layer… (no point: after the one selected node, else mid-view) and the
        canvas menu's Add Layer… (at the point it was opened on)."""
        view = self.current_view()
        if view is None:
            return
        anchor = _only_selected(view) if at is None else None
        if anchor is not None:
            self._quick_add_after(view, anchor)
            return
        point = at if at is not None else view.mapToScene(view.viewport().rect().center())
        self._open_quick_add(view, point,
                             lambda v, type_name, params: v.add_layer(type_name, point, params))

    def _on_view_quick_add_requested(self, point: QPointF) -> None:
        """Tab: after the one selected node, else at the cursor."""
        view = self.current_view()
        if view is None:
            return
        anchor = _only_selected(view)
        if anchor is not None:
            self._quick_add_after(view, anchor)
        else:
            self._open_quick_add(view, point, lambda v, type_name, params:
                                 v.add_layer(type_name, point, params))

    def _on_view_link_dropped(self, point: QPointF, end: PortEnd) -> None:
        """A wire let go on empty canvas: the chosen layer goes there, connected to it."""
        view = self.current_view()
        if view is None or end.node_id not in view.canvas.nodes:
            return
        key = view.canvas.key
        name = self.doc.node(key, end.node_id).name
        if end.kind == "out":
            shape = self.doc.analysis(key).inference.output_shape(end.node_id, end.port)
            wanted, hint = Wanted(shape=shape, fed=True), _after_hint(name, shape)
        else:
            wanted, hint = Wanted(feeding=True), f"feeding {name}, input {end.port}"
        self._open_quick_add(view, point, lambda v, type_name, params:
                             v.add_layer_at_link(type_name, point, end, params), wanted, hint)

    def _quick_add_after(self, view: CanvasView, anchor: str) -> None:
        key = view.canvas.key
        shape = self.doc.analysis(key).inference.output_shape(anchor, 0)
        item = view.canvas.nodes[anchor]
        below = item.mapToScene(QPointF(item.size[0] / 2, item.size[1] + 16))
        self._open_quick_add(view, below, lambda v, type_name, params:
                             v.add_layer_after(anchor, type_name, params),
                             Wanted(shape=shape, fed=True),
                             _after_hint(self.doc.node(key, anchor).name, shape))

    def _open_quick_add(self, view: CanvasView, point: QPointF,
                        add: Callable[[CanvasView, str, dict], str],
                        wanted: Wanted = NOTHING, hint: str = "") -> None:
        self._quick_add_for = (view.canvas.key, add)
        local = view.mapFromScene(point)
        self.quick_add.popup(view.viewport().mapToGlobal(local), wanted, hint, chains=True)

    def _on_quick_add_chosen(self, type_name: str) -> str | None:
        pending, self._quick_add_for = self._quick_add_for, None
        if pending is None:
            return None
        key, add = pending
        view = self.tabs.view_for(key)
        params = dict(self.quick_add.chosen_params)
        return add(view, type_name, params) if view is not None else None

    def _on_quick_add_chained(self, type_name: str) -> None:
        """Tab in quick-add: add the layer, then offer the next one after it."""
        added = self._on_quick_add_chosen(type_name)
        view = self.current_view()
        if added is not None and view is not None and added in view.canvas.nodes:
            self._quick_add_after(view, added)

    def _on_quick_add_chain_chosen(self, go_on: bool) -> None:
        """A chain typed in one entry: its layers one after another where the first one was
        asked for, as one undo step; with Tab, then the next one after the last."""
        pending, self._quick_add_for = self._quick_add_for, None
        links = self.quick_add.chain
        view = self.tabs.view_for(pending[0]) if pending is not None else None
        if view is None or not links:
            return
        stack = self.controller.undo_stack
        stack.beginMacro(f"Add {len(links)} layers")
        try:
            added = pending[1](view, links[0].type_name, dict(links[0].params))
            for link in links[1:]:
                added = view.add_layer_after(added, link.type_name, dict(link.params))
        finally:
            stack.endMacro()
        if go_on and added in view.canvas.nodes:
            self._quick_add_after(view, added)

    def _on_quick_add_dismissed(self) -> None:
        self._quick_add_for = None

    def _on_palette_layer_chosen(self, type_name: str) -> None:
        """A double-click (or Enter) in the palette: after the one selected node, else in
        the middle of the view, on no other node."""
        view = self.current_view()
        if view is None:
            return
        anchor = _only_selected(view)
        if anchor is not None:
            view.add_layer_after(anchor, type_name)
        else:
            view.add_layer(type_name, view.mapToScene(view.viewport().rect().center()))

    def _on_tabs_view_created(self, view: CanvasView) -> None:
        view.quick_add_requested.connect(self._on_view_quick_add_requested)
        view.link_dropped.connect(self._on_view_link_dropped)

    def _on_tabs_node_activated(self, key: GraphKey, node_id: str) -> None:
        block = self.doc.node(key, node_id).block_name
        if block is not None and self.doc.has_graph(("block", block)):
            self.tabs.open_graph(("block", block))

    def _on_controller_refused(self, message: str) -> None:
        self.statusBar().showMessage(message, 8000)

    # -- view actions -----------------------------------------------------------------------
    def _fit(self) -> None:
        if self.current_view():
            self.current_view().fit()

    def _zoom(self, factor: float) -> None:
        if self.current_view():
            self.current_view().zoom_by(factor)

    def _reset_zoom(self) -> None:
        if self.current_view():
            self.current_view().reset_zoom()

    def set_theme(self, name: str) -> None:
        self.theme_name = name
        apply_to_application(name)
        self.theme = theme_named(name) if name != "system" else system_theme()
        settings().setValue("theme", name)
        for act, wanted in zip(self._theme_actions, ("system", "light", "dark")):
            act.setChecked(wanted == name)
        self.tabs.set_theme(self.theme)

    # -- networks ---------------------------------------------------------------------------
    def new_network(self) -> None:
        name, ok = QInputDialog.getText(self, "New network", "Name of the new network:")
        if ok and name.strip():
            add_network(self.controller, name.strip())

    def rename_current_graph(self) -> None:
        key = self.current_key()
        if key is None:
            return
        name, ok = QInputDialog.getText(self, "Rename", f"New name for {key[0]} '{key[1]}':",
                                        text=key[1])
        if ok and name.strip() and name.strip() != key[1]:
            rename_graph(self.controller, key, name.strip())

    def delete_current_network(self) -> None:
        key = self.current_key()
        if key is not None and key[0] == "network":
            remove_network(self.controller, key)

    # -- window -----------------------------------------------------------------------------
    def _update_title(self, *_args) -> None:
        path = self.doc.path
        name = path.name if path is not None else self.doc.project.name
        self.setWindowTitle(f"{name}[*] — TorchCanvas")
        self.setWindowModified(not self.controller.undo_stack.isClean())

    def restore_layout(self) -> None:
        store = settings()
        geometry, state = store.value("window/geometry"), store.value("window/state")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        if isinstance(state, QByteArray):
            self.restoreState(state)

    def save_layout(self) -> None:
        store = settings()
        store.setValue("window/geometry", self.saveGeometry())
        store.setValue("window/state", self.saveState())

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        # A run going: stop it (with a checkpoint)? Then unsaved work: Save / Discard / Cancel.
        # The run is stopped only once both answers let the window close.
        if not self.train.confirm_close() or not self.files.confirm_close():
            event.ignore()
            return
        self.train.shut_down()
        self.save_layout()
        super().closeEvent(event)
        self.closed.emit(self)


def _setting_bool(name: str, default: bool) -> bool:
    """A yes/no setting: an INI file gives back the text "true" or "false"."""
    value = settings().value(name, default)
    return value if isinstance(value, bool) else str(value).lower() == "true"


def _only_selected(view: CanvasView) -> str | None:
    """The selected node when exactly one is selected: what quick-add adds after."""
    selected = view.canvas.selected_node_ids()
    return next(iter(selected)) if len(selected) == 1 else None


def _after_hint(name: str, shape) -> str:
    return f"after {name}" + (f" · {format_shape_compact(shape)}" if shape is not None else "")
