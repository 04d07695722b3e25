"""A wire let go on empty canvas opens quick-add there and connects the chosen layer; while a
wire is drawn, the ports that cannot take it are dimmed and the reason shows at the cursor."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor
from PySide6.QtTest import QTest

from builder.gui.link_feedback import LinkFeedback
from graph_schema.document import Edge, Position
from graph_schema.files import project_to_json
from tests.graphs import chain_edges, node, project
from tests.gui.drawing_support import LEFT, NO_KEYS, Actions, glyph_rect, overlapping, port_point
from tests.gui.windows import open_window


def empty_point_below(window, node_id: str, distance: int = 150) -> QPoint:
    point = port_point(window, node_id, "out") + QPoint(0, distance)
    view = window.current_view()
    assert view.canvas.node_item_at(view.mapToScene(point)) is None
    return point


def test_a_wire_from_an_output_dropped_on_empty_canvas_gets_a_connected_layer(qtbot):
    window = open_window(qtbot, active=True)
    view, key = window.current_view(), window.current_key()
    window.controller.move(key, {"n2": Position(x=400, y=320)})  # the output out of the way
    drop = empty_point_below(window, "n1")
    dropped_at = view.mapToScene(drop)  # the view follows the new layer: keep the spot
    user = Actions()

    user.drag(view.viewport(), port_point(window, "n1", "out"), drop)
    popup = window.quick_add
    assert popup.isVisible() and popup.hint.text() == "after x · N×1×28×28"
    assert window.controller.undo_stack.count() == 1  # the move; nothing added yet
    user.type(popup.edit, "conv2d 8 3")
    user.key(popup.edit, Qt.Key.Key_Return)

    (new,) = view.canvas.selected_node_ids()
    assert Edge(source="n1", target=new) in window.doc.graph(key).edges
    assert window.doc.node(key, new).params == {"out_channels": 8, "kernel_size": 3}
    # Its input port is where the wire was let go (within the grid's step).
    arrived = view.canvas.nodes[new].port_scene_pos("in", 0) - dropped_at
    assert abs(arrived.x()) <= 4 and abs(arrived.y()) <= 4
    assert window.controller.undo_stack.count() == 2  # one step for layer and connection
    assert user.count == 3  # the drag, the typed entry, Enter


def test_a_wire_from_an_input_dropped_on_empty_canvas_gets_a_layer_feeding_it(qtbot):
    window = open_window(qtbot, active=True)
    view, key = window.current_view(), window.current_key()
    # A new network comes wired Input -> Output; a wire from a free input is the case here.
    window.controller.disconnect(key, list(window.doc.graph(key).edges))
    drop = port_point(window, "n2", "in") - QPoint(160, 60)
    assert view.canvas.node_item_at(view.mapToScene(drop)) is None
    Actions().drag(view.viewport(), port_point(window, "n2", "in"), drop)
    popup = window.quick_add
    assert popup.hint.text() == "feeding y, input 0"
    offered = [popup.list.item(i).text() for i in range(popup.list.count())]
    assert "io.Output" not in offered  # it could feed nothing
    QTest.keyClicks(popup.edit, "linear 4")
    QTest.keyClick(popup.edit, Qt.Key.Key_Return)
    (new,) = view.canvas.selected_node_ids()
    assert Edge(source=new, target="n2") in window.doc.graph(key).edges
    assert overlapping(view) == []


def test_esc_closes_the_wire_drop_quick_add_with_nothing_changed(qtbot):
    window = open_window(qtbot, active=True)
    view = window.current_view()
    before = project_to_json(window.doc.project)
    wired = list(window.doc.graph(window.current_key()).edges)  # a new network's Input -> Output
    Actions().drag(view.viewport(), port_point(window, "n1", "out"),
                   port_point(window, "n1", "out") + QPoint(-200, 60))
    popup = window.quick_add
    assert popup.isVisible()
    QTest.keyClicks(popup.edit, "relu")
    with qtbot.waitSignal(popup.dismissed):
        QTest.keyClick(popup.edit, Qt.Key.Key_Escape)
    assert not popup.isVisible()
    assert project_to_json(window.doc.project) == before
    assert window.controller.undo_stack.count() == 0
    # The dropped wire is forgotten: the next quick-add adds at its own place, unconnected.
    view.canvas.clearSelection()
    view.setFocus()
    QTest.keyClick(view, Qt.Key.Key_Tab)
    QTest.keyClicks(popup.edit, "relu")
    QTest.keyClick(popup.edit, Qt.Key.Key_Return)
    assert list(window.doc.graph(window.current_key()).edges) == wired


def test_a_picked_up_connection_dropped_on_empty_canvas_is_still_removed(qtbot):
    proj = project([node("x", "io.Input", "x", shape=["N", 4]), node("y", "io.Output", "y")],
                   chain_edges("x", "y"))
    proj.networks[0].nodes[1].position = Position(x=0, y=200)
    window = open_window(qtbot, project=proj, active=True)
    view = window.current_view()
    Actions().drag(view.viewport(), port_point(window, "y", "in"),
                   port_point(window, "y", "in") + QPoint(-220, -40))
    assert not window.quick_add.isVisible()
    assert window.doc.graph(window.current_key()).edges == []


# -- what the wire can connect to ----------------------------------------------------------
def dimming_window(qtbot):
    """x (N, 4) -> fc (Linear) -> y, and a loose conv (Conv2d: takes 3-D or 4-D only)."""
    nodes = [node("x", "io.Input", "x", shape=["N", 4]),
             node("fc", "nn.Linear", "fc", out_features=8), node("y", "io.Output", "y"),
             node("conv", "nn.Conv2d", "conv", out_channels=4, kernel_size=3),
             node("relu", "nn.ReLU", "relu")]
    for n, (x, y) in zip(nodes, [(0, 0), (0, 120), (0, 240), (224, 240), (-224, 240)]):
        n.position = Position(x=x, y=y)
    window = open_window(qtbot, project=project(nodes, chain_edges("x", "fc", "y")),
                         active=True, size=(1600, 900))
    window.current_view().reset_zoom()
    window.current_view().centerOn(glyph_rect(window.current_view().canvas.nodes["fc"]).center())
    return window


def feedback_of(view) -> LinkFeedback:
    (feedback,) = [i for i in view.canvas.items() if isinstance(i, LinkFeedback)]
    return feedback


def pixel(view, point: QPoint) -> QColor:
    return view.viewport().grab().toImage().pixelColor(point)


def test_ports_that_cannot_take_the_wire_are_dimmed_and_the_reason_shows(qtbot, tmp_path):
    window = dimming_window(qtbot)
    view = window.current_view()
    viewport = view.viewport()
    conv_in = port_point(window, "conv", "in")
    relu_in = port_point(window, "relu", "in")
    before = pixel(view, conv_in), pixel(view, relu_in)

    QTest.mousePress(viewport, LEFT, NO_KEYS, port_point(window, "fc", "out"))
    QTest.mouseMove(viewport, port_point(window, "fc", "out") + QPoint(0, 40))
    feedback = feedback_of(view)
    qtbot.waitUntil(lambda: feedback.settled)
    refused = feedback.refused()
    assert ("conv", 0) in refused and "expected a 3-D or 4-D input" in refused[("conv", 0)]
    assert ("fc", 0) in refused  # a layer cannot feed itself
    assert ("relu", 0) not in refused and ("y", 0) not in refused

    QTest.mouseMove(viewport, conv_in)
    assert feedback.reason.startswith("cannot connect: 'conv' (nn.Conv2d) input 0")
    assert feedback.tag.isVisible()
    during = pixel(view, conv_in), pixel(view, relu_in)
    assert during[0] != before[0]  # the refused port is drawn dimmed...
    assert during[1] == before[1]  # ...the one that can take it is not
    view.grab().save(str(tmp_path / "dimmed.png"))  # a picture to look at
    QTest.mouseMove(viewport, relu_in)
    assert feedback.reason == ""

    QTest.mouseRelease(viewport, LEFT, NO_KEYS, conv_in)
    assert feedback.scene() is None  # the overlay went with the wire
    assert pixel(view, conv_in) == before[0]
    assert Edge(source="fc", target="conv") not in window.doc.graph(window.current_key()).edges
    assert "expected a 3-D or 4-D input" in window.statusBar().currentMessage()
