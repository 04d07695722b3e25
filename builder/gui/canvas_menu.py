"""The canvas's context menu: what can be done to the node, connection or empty spot under
the cursor. Entries that do what a window menu entry does are that entry's own QAction
(StructureActions owns them, with their shortcuts); the rest act on the very node, connection
or point the menu was opened on."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QPoint, QPointF
from PySide6.QtWidgets import QMenu, QWidget

from builder.gui.block_expand import expand_all_instances
from builder.gui.controller import EditController
from builder.gui.edit_actions import StructureActions
from builder.gui.fixes import apply_fix, distinct_fixes
from builder.gui.graph_tabs import GraphTabs
from builder.gui.inline_actions import edit_inner_node, inline_of
from builder.gui.items import EdgeItem
from builder.gui.kept_source import KeptSourceReview
from builder.gui.placing import insert_plan
from builder.gui.project_document import GraphKey, ProjectDocument
from builder.gui.quick_add import QuickAdd
from builder.gui.view import CanvasView
from graph_schema import edit_rules
from graph_schema.document import Edge


class CanvasMenu(QObject):
    """Pops up the context menu of every canvas in ``tabs``. ``add_layer_at(point)`` is the
    window's Add Layer… popup; ``kept_source`` reviews a block's kept source."""

    def __init__(self, host: QWidget, doc: ProjectDocument, controller: EditController,
                 tabs: GraphTabs, structure: StructureActions, kept_source: KeptSourceReview,
                 add_layer_at: Callable[[QPointF], None]):
        super().__init__(host)
        self.doc = doc
        self.controller = controller
        self.tabs = tabs
        self.structure = structure
        self.kept_source = kept_source
        self.add_layer_at = add_layer_at
        self.edge_quick_add = QuickAdd(doc, host)  # Insert Layer…: what goes into the edge
        self.edge_quick_add.chosen.connect(self._on_edge_quick_add_chosen)
        self._edge_to_split: tuple[GraphKey, Edge] | None = None
        self.shown_menu: QMenu | None = None  # the menu on screen (tests read it)
        for view in tabs.views():
            self._on_tabs_view_created(view)
        tabs.view_created.connect(self._on_tabs_view_created)

    def _on_tabs_view_created(self, view: CanvasView) -> None:
        view.context_menu_requested.connect(
            lambda global_pos, scene_pos, node_id, v=view:
            self.show(v, global_pos, scene_pos, node_id))

    def show(self, view: CanvasView, global_pos: QPoint, scene_pos: QPointF,
             node_id: str | None) -> None:
        menu = self.context_menu(view, scene_pos, node_id)
        menu.aboutToHide.connect(menu.deleteLater)
        self.shown_menu = menu
        menu.popup(global_pos)

    def context_menu(self, view: CanvasView, scene_pos: QPointF, node_id: str | None) -> QMenu:
        menu = QMenu(view)
        if node_id is not None and node_id in view.canvas.nodes:
            self._node_entries(menu, view, node_id)
            return menu
        if self._frame_entries(menu, view, scene_pos):
            return menu
        edge = edge_at(view, scene_pos)
        if edge is not None:
            self._edge_entries(menu, view, edge, scene_pos)
        else:
            self._canvas_entries(menu, view, scene_pos)
        return menu

    def _node_entries(self, menu: QMenu, view: CanvasView, node_id: str) -> None:
        key, structure = view.canvas.key, self.structure
        block = self.doc.node(key, node_id).block_name
        if block is not None and self.doc.project.block(block) is not None:
            _add(menu, f"Open Block {block}", lambda: structure.open_block(block))
            _add(menu, "Expand Block", lambda: structure.expand(node_id))
            self._in_place_entries(menu, view, node_id, block)
            if self.kept_source.is_untrusted(block):
                _add(menu, "Review Kept Source…", lambda: self.kept_source.review(block))
            menu.addSeparator()
        # Errors first, as the inspector lists them; one entry per repair.
        diagnostics = sorted(self.doc.analysis(key).by_node.get(node_id, []),
                             key=lambda d: not d.is_error)
        fixes = distinct_fixes(diagnostics)
        for diagnostic in fixes:
            _add(menu, f"Apply Fix: {diagnostic.fix.label}",
                 lambda d=diagnostic: apply_fix(view.controller, key, d))
        if fixes:
            menu.addSeparator()
        # The menu opened on a node selects it first (view.py): these act on the selection.
        menu.addActions([structure.group_action, structure.duplicate_action,
                         structure.copy_action, structure.cut_action, structure.delete_action])
        menu.addSeparator()
        _add(menu, "Rename…", lambda: structure.rename_node(node_id))

    # -- blocks seen in place (inline_blocks.py) and expanded for good (block_expand.py) ------
    def _in_place_entries(self, menu: QMenu, view: CanvasView, node_id: str,
                          block: str) -> None:
        key, inline = view.canvas.key, inline_of(view)
        _add(menu, f"Expand All {block} Instances",
             lambda: expand_all_instances(view.controller, key, block))
        if inline is not None and inline.can_open(node_id):
            _add(menu, "Expand in Place", lambda: inline.open((node_id,)))
            _add(menu, f"Expand All {block} in Place", lambda: inline.open_all_of(block))

    def _frame_entries(self, menu: QMenu, view: CanvasView, scene_pos: QPointF) -> bool:
        """The entries of a block open in place, when the menu was opened on one."""
        inline = inline_of(view)
        frame = inline.frame_at(scene_pos) if inline is not None else None
        if frame is None:
            return False
        body, inner = frame.body, inline.inner_node_at(scene_pos)
        if inner is not None:
            name = body.inference.nodes[inner.node_id].name
            _add(menu, f"Edit {name} in {body.block.name}",
                 lambda: edit_inner_node(self.tabs, body.key, inner.node_id))
            if inline.can_open_inside(body, inner.node_id):
                _add(menu, f"Expand {name} in Place",
                     lambda: inline.open((*body.path, inner.node_id)))
            menu.addSeparator()
        _add(menu, f"Collapse {body.instance.name}", lambda: inline.close(body.path))
        _add(menu, "Collapse All Blocks", inline.close_all)
        _add(menu, f"Open Block {body.block.name}",
             lambda: self.structure.open_block(body.block.name))
        return True

    def _edge_entries(self, menu: QMenu, view: CanvasView, edge: Edge,
                      scene_pos: QPointF) -> None:
        scene = view.canvas
        _add(menu, "Delete Connection", lambda: view.controller.disconnect(scene.key, [edge]))
        _add(menu, "Insert Layer…", lambda: self.insert_layer_into(view, edge, scene_pos))

    def _canvas_entries(self, menu: QMenu, view: CanvasView, scene_pos: QPointF) -> None:
        # Add Layer and Paste put the layer where the menu was opened, not where the window's
        # entries would (the middle of the view, the mouse pointer).
        _add(menu, "Add Layer…", lambda: self.add_layer_at(scene_pos))
        _add(menu, "Paste", lambda: self.structure.paste(scene_pos))
        menu.addSeparator()
        menu.addAction(self.structure.layout_action)
        _add(menu, "Fit to Window", view.fit)

    # -- Insert Layer… ---------------------------------------------------------------------
    def insert_layer_into(self, view: CanvasView, edge: Edge, scene_pos: QPointF) -> None:
        self._edge_to_split = (view.canvas.key, edge)
        local = view.mapFromScene(scene_pos)
        self.edge_quick_add.popup(view.viewport().mapToGlobal(local))

    def _on_edge_quick_add_chosen(self, type_name: str) -> None:
        if self._edge_to_split is None:
            return
        key, edge = self._edge_to_split
        self._edge_to_split = None
        new = insert_layer(self.controller, key, edge, type_name)
        view = self.tabs.view_for(key)
        if new is not None and view is not None:
            view.canvas.select_nodes([new])


def _add(menu: QMenu, text: str, slot, enabled: bool = True):
    action = menu.addAction(text)
    action.triggered.connect(lambda _checked=False: slot())
    action.setEnabled(enabled)
    return action


def edge_at(view: CanvasView, scene_pos: QPointF) -> Edge | None:
    """The connection under a scene point (its curve or its shape label)."""
    scene = view.canvas
    for item in scene.items(scene_pos):
        if isinstance(item, EdgeItem):
            for key, edge_item in scene.edges.items():
                if edge_item is item:
                    return Edge(source=key[0], source_port=key[1], target=key[2],
                                target_port=key[3])
    return None


def insert_layer(controller: EditController, key: GraphKey, edge: Edge,
                 type_name: str) -> str | None:
    """Put a new layer into a connection: source -> new -> target, with the target and
    everything below it moved as far as it takes to make room. One undo step."""
    doc = controller.doc
    problem = edit_rules.insert_problem(doc.project, doc.graph(key), edge, type_name)
    if problem:
        controller.refused.emit(problem)
        return None
    plan = insert_plan(doc, key, edge, type_name)
    label = type_name.split(":", 1)[-1].split(".", 1)[-1]
    controller.push(f"Insert {label}", controller.insertion_steps(key, plan))
    return plan.node.id
