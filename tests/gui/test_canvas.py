"""The canvas with real widgets and real mouse and keyboard events (offscreen)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QGraphicsItem

from builder.gui.glyphs import BAND
from builder.gui.items import GRID, EdgeItem, NodeItem
from builder.gui.mainwindow import MainWindow
from builder.gui.project_document import network_key
from builder.gui.theme import FAMILY_COLORS
from builder.gui.view import MIN_ZOOM, NUDGE
from graph_schema.document import Position
from graph_schema.files import project_to_json
from tests.gui.windows import open_window


def palette_item(window: MainWindow, type_name: str):
    tree = window.palette.tree
    for group_index in range(tree.topLevelItemCount()):
        group = tree.topLevelItem(group_index)
        for index in range(group.childCount()):
            if group.child(index).data(0, Qt.ItemDataRole.UserRole) == type_name:
                return group.child(index)
    raise AssertionError(f"{type_name} is not in the palette")


def drop_from_palette(window: MainWindow, type_name: str, scene_point: QPointF) -> str:
    """Deliver the palette's own drag data to the canvas as a real drop would."""
    view = window.current_view()
    mime = window.palette.tree.mimeData([palette_item(window, type_name)])
    local = view.mapFromScene(scene_point)
    before = set(view.canvas.nodes)
    actions = Qt.DropAction.CopyAction
    enter = QDragEnterEvent(local, actions, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(view.viewport(), enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(local), actions, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(view.viewport(), drop)
    (added,) = set(view.canvas.nodes) - before
    return added


def port_point(window: MainWindow, node_id: str, kind: str, index: int = 0) -> QPoint:
    view = window.current_view()
    item = view.canvas.nodes[node_id]
    return view.mapFromScene(item.port_scene_pos(kind, index))


def drag(window: MainWindow, start: QPoint, end: QPoint) -> None:
    viewport = window.current_view().viewport()
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    middle = (start + end) / 2
    QTest.mouseMove(viewport, middle)
    QTest.mouseMove(viewport, end)
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)


def edge_between(window: MainWindow, source: str, target: str) -> EdgeItem:
    scene = window.current_view().canvas
    (item,) = [e for k, e in scene.edges.items() if k[0] == source and k[2] == target]
    return item


@pytest.mark.filterwarnings("ignore:Function.*QDragEnterEvent:DeprecationWarning")
def test_drag_a_conv_from_the_palette_connect_it_and_see_the_shape(qtbot):
    window = open_window(qtbot)
    key = network_key("main")
    view = window.current_view()
    view.reset_zoom()
    view.centerOn(QPointF(100, 160))
    conv = drop_from_palette(window, "nn.Conv2d", QPointF(0, 160))
    node = window.doc.node(key, conv)
    assert node.type == "nn.Conv2d" and node.name == "conv1"
    assert isinstance(view.canvas.nodes[conv], NodeItem)
    # Conv2d needs out_channels; until then it says so on the node.
    assert any(d.code == "missing-param" for d in window.doc.analysis(key).by_node[conv])
    window.controller.set_param(key, conv, "out_channels", 6)
    window.controller.set_param(key, conv, "kernel_size", 3)
    drag(window, port_point(window, "n1", "out"), port_point(window, conv, "in"))
    edge = edge_between(window, "n1", conv)
    assert edge.label == "N×1×28×28"
    drag(window, port_point(window, conv, "out"), port_point(window, "n2", "in"))
    assert edge_between(window, conv, "n2").label == "N×6×26×26"
    assert window.doc.analysis(key).inference.states[conv].params["in_channels"] == 1
    assert not [d for d in window.doc.diagnostics() if d.is_error]


def test_wrong_in_channels_shows_on_the_node_and_undo_restores(qtbot):
    window = open_window(qtbot, "digits_cnn.json", active=True)
    key = window.current_key()
    scene = window.current_view().canvas
    conv = next(n for n in window.doc.graph(key).nodes if n.type == "nn.Conv2d")
    actual = window.doc.analysis(key).inference.states[conv.id].params["in_channels"]
    params = dict(conv.params)
    window.controller.set_param(key, conv.id, "in_channels", actual + 5)
    assert window.doc.node(key, conv.id).params["in_channels"] == actual + 5
    item = scene.nodes[conv.id]
    assert item.look.severity == "error"
    assert "in_channels" in item.toolTip()
    incoming = next(e for k, e in scene.edges.items() if k[2] == conv.id)
    assert incoming.error and "in_channels" in incoming.error
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.doc.node(key, conv.id).params == params
    assert item.look.severity is None
    assert incoming.error is None
    QTest.keyClick(window, Qt.Key.Key_Z,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert window.doc.node(key, conv.id).params["in_channels"] == actual + 5
    assert item.look.severity == "error"


def xy(window: MainWindow, key, node_id: str) -> tuple[float, float]:
    """A node's document position, copied (the document's Position objects are replaced)."""
    position = window.doc.node(key, node_id).position
    return position.x, position.y


def snapped(value: float) -> float:
    return round(value / GRID) * GRID


def test_dragging_a_node_moves_it_by_the_drag_and_is_one_undo_step(qtbot):
    window = open_window(qtbot, "mlp.json")
    view = window.current_view()
    view.reset_zoom()
    key = window.current_key()
    node_id = window.doc.graph(key).nodes[1].id
    item = view.canvas.nodes[node_id]
    view.centerOn(item)
    stack = window.controller.undo_stack
    count = stack.count()
    original = xy(window, key, node_id)
    start = view.mapFromScene(item.sceneBoundingRect().center())
    drag(window, start, start + QPoint(61, 43))  # off the grid on purpose: the item snaps
    moved = xy(window, key, node_id)
    # At 100 % zoom a pixel is a scene unit: the node followed the mouse, onto the grid.
    assert moved == (snapped(original[0] + 61), snapped(original[1] + 43))
    assert moved != original and abs(moved[0] - original[0] - 61) <= GRID / 2
    assert item.pos() == QPointF(*moved)
    assert stack.count() == count + 1 and stack.command(count).text() == "Move 1 layer"
    stack.undo()
    assert xy(window, key, node_id) == original
    assert item.pos() == QPointF(*original)
    stack.redo()
    assert xy(window, key, node_id) == moved
    assert item.pos() == QPointF(*moved)
    assert stack.count() == count + 1


def test_a_run_of_arrow_key_nudges_is_one_undo_step(qtbot):
    window = open_window(qtbot, "mlp.json")
    view = window.current_view()
    key = window.current_key()
    first, second = (n.id for n in window.doc.graph(key).nodes[1:3])
    stack = window.controller.undo_stack
    count = stack.count()
    original = xy(window, key, first)
    view.canvas.select_nodes([first])
    view.setFocus()
    for arrow in (Qt.Key.Key_Right, Qt.Key.Key_Right, Qt.Key.Key_Right, Qt.Key.Key_Down):
        QTest.keyClick(view, arrow)
    nudged = (original[0] + 3 * NUDGE, original[1] + NUDGE)
    assert xy(window, key, first) == nudged
    assert view.canvas.nodes[first].pos() == QPointF(*nudged)
    assert stack.count() == count + 1  # four presses, one step
    # Nudging other nodes is a step of its own: merging is for the same selection only.
    other = xy(window, key, second)
    view.canvas.select_nodes([second])
    QTest.keyClick(view, Qt.Key.Key_Left)
    assert xy(window, key, second) == (other[0] - NUDGE, other[1])
    assert stack.count() == count + 2
    stack.undo()
    assert xy(window, key, second) == other and xy(window, key, first) == nudged
    stack.undo()  # one undo takes back all four presses
    assert xy(window, key, first) == original
    assert view.canvas.nodes[first].pos() == QPointF(*original)
    assert stack.index() == count
    stack.redo()
    assert xy(window, key, first) == nudged
    assert view.canvas.nodes[first].pos() == QPointF(*nudged)


def test_delete_key_removes_the_selection(qtbot):
    window = open_window(qtbot, "mlp.json")
    view = window.current_view()
    key = window.current_key()
    layer = next(n for n in window.doc.graph(key).nodes if n.type == "nn.Linear")
    before = project_to_json(window.doc.project)
    view.canvas.select_nodes([layer.id])
    assert view.canvas.selected_node_ids() == {layer.id}
    view.setFocus()
    QTest.keyClick(view, Qt.Key.Key_Delete)
    assert layer.id not in view.canvas.nodes
    assert layer.id not in {n.id for n in window.doc.graph(key).nodes}
    assert not [k for k in view.canvas.edges if layer.id in (k[0], k[2])]  # its edges too
    assert window.controller.undo_stack.count() == 1
    window.controller.undo_stack.undo()
    assert project_to_json(window.doc.project) == before  # the node, its place and its edges
    assert layer.id in view.canvas.nodes


def test_dropping_a_connection_on_empty_canvas_removes_it(qtbot):
    window = open_window(qtbot)
    key = network_key("main")
    view = window.current_view()
    view.reset_zoom()
    (edge,) = window.doc.graph(key).edges  # a new project's input is wired to its output
    assert (edge.source, edge.target) == ("n1", "n2")
    assert edge_between(window, "n1", "n2").isVisible()
    view.centerOn(view.canvas.nodes["n2"])
    drag(window, port_point(window, "n2", "in"), port_point(window, "n2", "in") + QPoint(300, 0))
    assert not window.doc.graph(key).edges
    assert not view.canvas.edges
    assert window.controller.undo_stack.count() == 1  # the removal
    window.controller.undo_stack.undo()
    assert window.doc.graph(key).edges == [edge]
    assert edge_between(window, "n1", "n2").isVisible()


def test_refused_connection_says_why_in_the_status_bar(qtbot):
    window = open_window(qtbot, "mlp.json")
    key = window.current_key()
    nodes = window.doc.graph(key).nodes
    last_layer = [n for n in nodes if n.type == "nn.Linear"][-1]
    edges = list(window.doc.graph(key).edges)
    window.controller.connect(key, last_layer.id, 0, nodes[1].id, 0)
    assert "cycle" in window.statusBar().currentMessage()
    assert window.doc.graph(key).edges == edges  # nothing was connected
    assert window.controller.undo_stack.count() == 0


def test_palette_search_and_quick_add(qtbot):
    window = open_window(qtbot)
    window.palette.search.setText("batch norm")
    assert window.palette.best_type() == "nn.BatchNorm2d"  # the common one of its kind
    # The layer's own name beats a mention in another's description (GELU's tanh).
    for typed, best in (("tanh", "nn.Tanh"), ("conv", "nn.Conv2d"), ("avgpool2d",
                        "nn.AvgPool2d"), ("relu", "nn.ReLU"), ("linear", "nn.Linear")):
        window.palette.search.setText(typed)
        assert window.palette.best_type() == best, typed
    window.show_quick_add(QPointF(400, 0))
    popup = window.quick_add
    assert popup.isVisible()
    QTest.keyClicks(popup.edit, "dropout2d")
    QTest.keyClick(popup.edit, Qt.Key.Key_Return)
    key = network_key("main")
    added = [n for n in window.doc.graph(key).nodes if n.type == "nn.Dropout2d"]
    assert len(added) == 1 and added[0].position.x == 400


def test_tab_on_the_canvas_opens_quick_add(qtbot):
    window = open_window(qtbot)
    view = window.current_view()
    view.setFocus()
    QTest.keyClick(view, Qt.Key.Key_Tab)
    assert window.quick_add.isVisible()
    window.quick_add.hide()


def test_a_graph_opens_legible_at_its_inputs(qtbot):
    window = open_window(qtbot, "resnet18.json")
    view = window.current_view()
    assert view.zoom() >= 0.6 and not view.canvas.far
    first = view.canvas.nodes[window.doc.graph(window.current_key()).nodes[0].id]
    shown = view.mapToScene(view.viewport().rect()).boundingRect()
    assert shown.contains(first.sceneBoundingRect().center())


def test_zoom_fit_and_pan_keep_nodes_in_view(qtbot):
    window = open_window(qtbot, "resnet18.json")
    view = window.current_view()
    view.fit()
    rect = view.mapFromScene(view.canvas.itemsBoundingRect()).boundingRect()
    assert view.viewport().rect().adjusted(-2, -2, 2, 2).contains(rect)
    zoom = view.zoom()
    view.zoom_by(2.0)
    assert abs(view.zoom() - min(4.0, zoom * 2.0)) < 1e-6
    view.zoom_by(1e-6)
    assert view.zoom() == MIN_ZOOM
    assert view.canvas.far  # far out, the overview paints instead of the items
    drawing = view.mapFromScene(view.canvas.itemsBoundingRect()).boundingRect()
    image = view.viewport().grab().toImage().copy(drawing)
    painted = colours(image) - {window.theme.background.name()}
    # Even a whole ResNet a few pixels tall is boxes in family colours and edge hairlines
    # (names, written beside it where there is room, are outside the drawing).
    assert painted and painted <= set(FAMILY_COLORS.values()) | {window.theme.edge.name()}
    view.reset_zoom()
    assert not view.canvas.far


def colours(image: QImage) -> set[str]:
    return {image.pixelColor(x, y).name() for x in range(image.width())
            for y in range(image.height())}


def band_point(view, item: NodeItem, y: float = 4.0) -> QPoint:
    """A viewport pixel inside the node's coloured band, clear of its icon and ports."""
    return view.mapFromScene(item.mapToScene(QPointF(BAND / 2, y)))


def test_far_out_the_overview_paints_each_node_in_its_family_colour(qtbot):
    window = open_window(qtbot, "mlp.json")
    view = window.current_view()
    view.reset_zoom()
    view.zoom_by(0.25)
    assert view.canvas.far
    view.centerOn(view.canvas.itemsBoundingRect().center())
    items = view.canvas.nodes.values()
    assert all(i.flags() & QGraphicsItem.GraphicsItemFlag.ItemHasNoContents for i in items)
    image = view.viewport().grab().toImage()
    for item in items:
        # Left of the middle, clear of the name written across it (builder/gui/far_text.py).
        inside = view.mapFromScene(item.mapToScene(QPointF(6, item.size[1] / 2)))
        assert image.pixelColor(inside).name() == FAMILY_COLORS[item.look.family], \
            item.look.name
    drawing = view.mapFromScene(view.canvas.itemsBoundingRect()).boundingRect()
    beside = QPoint(drawing.right() + 40, drawing.center().y())
    assert view.viewport().rect().contains(beside)
    assert image.pixelColor(beside) == window.theme.background
    # Selecting repaints the overview: the selected box takes the selection colour.
    chosen = view.canvas.nodes["n1"]
    view.canvas.select_nodes(["n1"])
    image = view.viewport().grab().toImage()
    centre = view.mapFromScene(chosen.mapToScene(QPointF(chosen.size[0] / 2, 8)))
    assert image.pixelColor(centre) == window.theme.selection


def test_the_canvas_paints_a_node_where_the_document_puts_it(qtbot):
    window = open_window(qtbot, "mlp.json")
    view = window.current_view()
    view.reset_zoom()
    key = window.current_key()
    item = view.canvas.nodes["n1"]
    colour = FAMILY_COLORS[item.look.family]
    view.centerOn(item.sceneBoundingRect().center() + QPointF(160, 0))
    before = band_point(view, item)
    image = view.viewport().grab().toImage()
    assert image.pixelColor(before).name() == colour
    assert image.pixelColor(band_point(view, item, item.size[1] - 4)).name() == colour
    old = window.doc.node(key, "n1").position
    window.controller.move(key, {"n1": Position(x=old.x + 320, y=old.y)})
    after = band_point(view, item)
    assert after == before + QPoint(320, 0)
    image = view.viewport().grab().toImage()
    assert image.pixelColor(after).name() == colour
    assert image.pixelColor(before).name() != colour  # nothing is left behind
