"""The canvas's context menu: what can be done to the node, connection or empty spot under
the cursor. Every entry calls the same code as the window's menus (edit_actions.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QMenu

from builder.gui.controller import EditController
from builder.gui.document import GraphKey
from builder.gui.fixes import apply_fix
from builder.gui.fragments import block_name_of
from builder.gui.items import EdgeItem
from builder.gui.view import CanvasView
from graph_schema import edit_rules
from graph_schema.document import Edge

if TYPE_CHECKING:
    from builder.gui.edit_actions import StructureActions

RANK_STEP = 112.0  # how far an inserted layer pushes the layers below it


def build_canvas_menu(actions: StructureActions, view: CanvasView, scene_pos: QPointF,
                      node_id: str | None) -> QMenu:
    menu = QMenu(view)
    if node_id is not None and node_id in view.canvas.nodes:
        _node_entries(menu, actions, view, node_id)
        return menu
    edge = edge_at(view, scene_pos)
    if edge is not None:
        _edge_entries(menu, actions, view, edge, scene_pos)
    else:
        _canvas_entries(menu, actions, view, scene_pos)
    return menu


def _add(menu: QMenu, text: str, slot, enabled: bool = True):
    action = menu.addAction(text)
    action.triggered.connect(lambda _checked=False: slot())
    action.setEnabled(enabled)
    return action


def _node_entries(menu: QMenu, actions: StructureActions, view: CanvasView,
                  node_id: str) -> None:
    scene = view.canvas
    node = scene.doc.node(scene.key, node_id)
    block = block_name_of(node.type)
    if block is not None and scene.doc.project.block(block) is not None:
        _add(menu, f"Open Block {block}", lambda: actions.open_block(block))
        _add(menu, "Expand Block", lambda: actions.expand(node_id))
        kept = actions.window.files.kept_source
        if kept.is_untrusted(block):
            _add(menu, "Review Kept Source…", lambda: kept.review(block))
        menu.addSeparator()
    fixes = [d for d in scene.doc.analysis(scene.key).by_node.get(node_id, []) if d.fix]
    for diagnostic in fixes:
        _add(menu, f"Apply Fix: {diagnostic.fix.label}",
             lambda d=diagnostic: apply_fix(scene.controller, scene.key, d))
    if fixes:
        menu.addSeparator()
    _add(menu, "Group into Block…", actions.group)
    _add(menu, "Duplicate", actions.duplicate)
    _add(menu, "Copy", actions.copy)
    _add(menu, "Cut", actions.cut)
    _add(menu, "Delete", lambda: scene.controller.delete(scene.key, scene.selected_node_ids()))
    menu.addSeparator()
    _add(menu, "Rename…", lambda: actions.rename_node(node_id))


def _edge_entries(menu: QMenu, actions: StructureActions, view: CanvasView, edge: Edge,
                  scene_pos: QPointF) -> None:
    scene = view.canvas
    _add(menu, "Delete Connection", lambda: scene.controller.disconnect(scene.key, [edge]))
    _add(menu, "Insert Layer…", lambda: actions.insert_layer_into(edge, scene_pos))


def _canvas_entries(menu: QMenu, actions: StructureActions, view: CanvasView,
                    scene_pos: QPointF) -> None:
    _add(menu, "Add Layer…", lambda: actions.window.show_quick_add(scene_pos))
    _add(menu, "Paste", lambda: actions.paste(scene_pos))
    menu.addSeparator()
    _add(menu, "Auto Layout", actions.auto_layout)
    _add(menu, "Fit to Window", view.fit)


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
    everything below it moved down a rank to make room. One undo step."""
    doc = controller.doc
    problem = edit_rules.insert_problem(doc.project, doc.graph(key), edge, type_name)
    if problem:
        controller.refused.emit(problem)
        return None
    plan = edit_rules.plan_insert(doc.graph(key), doc.analysis(key).inference, edge,
                                  type_name, step=RANK_STEP)
    label = type_name.split(":", 1)[-1].split(".", 1)[-1]
    controller.push(f"Insert {label}", controller.insertion_steps(key, plan))
    return plan.node.id
