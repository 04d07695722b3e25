"""Edges on the canvas go round the node boxes, with their shape labels where they are seen
(issue 15), in a real window with real mouse events.

The BasicBlock of examples/resnet18.json after Auto Layout is the case the issue showed: the
input sits above the first conv, so a curve from it straight to the add runs through every
layer of the block; its route must go beside them.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest

from builder.gui import edge_routes
from builder.gui.items import EdgeItem, NodeItem
from builder.gui.project_document import block_key
from builder.gui.scene import UNKNOWN_SHAPE
from graph_schema.document import Position
from graph_schema.route_check import label_overlaps, route_crossings
from graph_schema.routing import route_edges
from tests.gui.route_support import drawn_labels, drawn_path, drawn_problems, node_boxes
from tests.gui.windows import open_window


def basic_block(qtbot, arranged: bool = True):
    window = open_window(qtbot, "resnet18.json")
    view = window.tabs.open_graph(block_key("BasicBlock"))
    if arranged:
        with qtbot.waitSignal(view.canvas.routes_updated):
            window.structure.auto_layout()  # Edit > Auto Layout, as a user would
    view.reset_zoom()
    return window, view, view.canvas


def skip_edge(scene):
    """The identity shortcut: from the block's input straight to the add."""
    (key,) = [k for k in scene.edges
              if scene.nodes[k[2]].look.is_merge and k[0] == "x"]
    return key, scene.edges[key]


def ends_at_its_ports(item: EdgeItem) -> bool:
    start, end = item.ports()
    points = drawn_path(item)
    return (QPointF(*points[0]) - start).manhattanLength() < 0.5 and \
        (QPointF(*points[-1]) - end).manhattanLength() < 0.5


def fresh_routes(scene) -> dict:
    boxes, edges, labels = scene.edge_routes.inputs()
    routing = route_edges(boxes, edges, flow=scene.doc.project.flow, label_sizes=labels)
    return routing.routes


def drawn_routes(scene) -> dict:
    return {key: item.route for key, item in scene.edges.items()}


def foreign_crossings(scene, key, item) -> list:
    return route_crossings(node_boxes(scene), {key: (key[0], key[2])},
                           {key: drawn_path(item)})


def test_the_skip_edge_goes_beside_the_layers_it_skips(qtbot):
    window, view, scene = basic_block(qtbot)
    key, item = skip_edge(scene)
    assert item.routed and ends_at_its_ports(item)
    # The straight curve the canvas drew before runs through the layers in between.
    assert foreign_crossings(scene, key, item) == []
    assert drawn_problems(scene) == []


def test_every_label_is_on_top_where_it_is_drawn(qtbot):
    window, view, scene = basic_block(qtbot)
    for key, item in scene.edges.items():
        centre = item.label_rect().center()
        top = next(i for i in scene.items(centre) if isinstance(i, (NodeItem, EdgeItem)))
        assert top is item, f"the label of {key} is under {top}"
        assert item.label.startswith("N×64")


def drag_node(qtbot, view, item: NodeItem, by: QPoint, during=None) -> None:
    viewport = view.viewport()
    start = view.mapFromScene(item.sceneBoundingRect().center())
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    QTest.mouseMove(viewport, start + by / 2)
    QTest.mouseMove(viewport, start + by)
    if during is not None:
        during()
    with qtbot.waitSignal(view.canvas.routes_updated):
        QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton,
                           Qt.KeyboardModifier.NoModifier, start + by)


def test_dragging_a_layer_into_the_skip_edge_reroutes_it_round_the_layer(qtbot):
    window, view, scene = basic_block(qtbot)
    relu = scene.nodes["r1"]
    view.centerOn(relu)
    key, skip = skip_edge(scene)
    before = skip.route
    seen = {}

    def mid_drag():
        # Qt has moved the node, the document has not heard of it: the edges follow.
        seen["moved"] = relu.pos().x()
        seen["attached"] = all(ends_at_its_ports(e) for e in relu.edges)
        seen["routed"] = [e.routed for e in relu.edges]
        seen["skip clear"] = foreign_crossings(scene, key, skip)

    drag_node(qtbot, view, relu, QPoint(120, 0), mid_drag)
    assert seen["moved"] > 60 and seen["attached"] and all(seen["routed"])
    assert seen["skip clear"] == []
    assert window.doc.node(scene.key, "r1").position.x == relu.pos().x()
    assert skip.route != before  # it had to make way
    assert foreign_crossings(scene, key, skip) == []
    assert drawn_routes(scene) == fresh_routes(scene)  # the same as routing it all afresh
    assert drawn_problems(scene) == []
    window.controller.undo_stack.undo()
    assert drawn_routes(scene) == fresh_routes(scene) and skip.route == before


def test_a_drag_too_slow_to_route_live_draws_curves_until_the_drop(qtbot, monkeypatch):
    window, view, scene = basic_block(qtbot)
    monkeypatch.setattr(edge_routes, "DRAG_BUDGET_S", 0.0)  # every live step is too slow
    relu = scene.nodes["r1"]
    view.centerOn(relu)
    seen = {}

    def mid_drag():
        seen["attached"] = all(ends_at_its_ports(e) for e in relu.edges)
        seen["routed"] = [e.routed for e in relu.edges]

    drag_node(qtbot, view, relu, QPoint(120, 0), mid_drag)
    # The first step routed live, then the drag gave up: the second step is S-curves.
    assert seen["attached"] and not any(seen["routed"])
    assert drawn_routes(scene) == fresh_routes(scene) and drawn_problems(scene) == []


def test_a_refused_routing_draws_s_curves_and_never_crashes(qtbot, monkeypatch):
    def refuse(*args, **kwargs):
        raise ValueError("routing: the box of 'x' must be finite")

    monkeypatch.setattr(edge_routes, "route_edges", refuse)
    monkeypatch.setattr(edge_routes, "reroute", refuse)
    window, view, scene = basic_block(qtbot, arranged=False)
    assert scene.edge_routes.problem.startswith("routing:")
    for item in scene.edges.values():
        assert not item.routed and ends_at_its_ports(item)
        assert item.label and not item.label_rect().isEmpty()
    relu = scene.nodes["r1"]
    view.centerOn(relu)
    drag_node(qtbot, view, relu, QPoint(40, 0))
    assert all(ends_at_its_ports(e) for e in relu.edges)


def test_deleting_and_restoring_an_edge_routes_it_again(qtbot):
    window, view, scene = basic_block(qtbot)
    key, skip = skip_edge(scene)
    view.centerOn(skip.label_rect().center())
    label = view.mapFromScene(skip.label_rect().center())
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton,
                     Qt.KeyboardModifier.NoModifier, label)
    assert skip.isSelected()
    with qtbot.waitSignal(scene.routes_updated):
        QTest.keyClick(view.viewport(), Qt.Key.Key_Delete)
    assert key not in scene.edges and key not in scene.edge_routes.routing.routes
    with qtbot.waitSignal(scene.routes_updated):
        window.controller.undo_stack.undo()
    assert scene.edges[key].routed and drawn_problems(scene) == []
    assert drawn_routes(scene) == fresh_routes(scene)


def test_a_new_flow_routes_every_edge_again(qtbot):
    window, view, scene = basic_block(qtbot)
    with qtbot.waitSignal(scene.routes_updated):
        window.doc.set_project_field("flow", "right")
    assert scene.edge_routes.routing.flow == "right"
    assert all(ends_at_its_ports(e) for e in scene.edges.values())


def test_edges_below_an_error_say_their_shape_is_unknown(qtbot):
    window = open_window(qtbot, "broken/residual_without_projection.json")
    scene = window.current_view().canvas
    add = next(n for n, item in scene.nodes.items() if item.look.is_merge)
    below = [item for key, item in scene.edges.items() if key[0] == add]
    assert below and all(item.label == UNKNOWN_SHAPE for item in below)
    assert all(not item.label_rect().isEmpty() for item in below)
    assert drawn_problems(scene) == []


def test_after_moves_alone_only_the_moved_nodes_are_measured_again(qtbot, monkeypatch):
    window, view, scene = basic_block(qtbot)
    measured = []
    full_inputs = scene.edge_routes.inputs
    monkeypatch.setattr(scene.edge_routes, "inputs",
                        lambda fresh=True: measured.append(fresh) or full_inputs(fresh))
    relu = window.doc.node(scene.key, "r1").position
    window.controller.move(scene.key, {"r1": Position(x=relu.x + 160, y=relu.y)})
    assert measured == []  # the moved node and its edges only
    points = {key: route.points for key, route in fresh_routes(scene).items()}
    assert {key: item.route.points for key, item in scene.edges.items()} == points
    assert label_overlaps(node_boxes(scene), drawn_labels(scene)) == []

    # A node that changes size without moving (a longer name) is measured again, with the rest.
    measured.clear()  # fresh_routes measured it all
    conv = next(n for n, item in scene.nodes.items() if item.look.family == "conv")
    width = scene.nodes[conv].size[0]
    assert window.controller.rename(scene.key, conv, "a_much_longer_name_for_this_conv")
    assert scene.nodes[conv].size[0] > width
    scene.flush_routes()
    assert measured == [False]
    assert drawn_routes(scene) == fresh_routes(scene)
