"""The scene mirrors, the view interacts: gestures on a bare view, with no window around it.

A CanvasView is built on a CanvasScene and given the controller; real mouse events on its
viewport connect ports, move nodes (one undo step) and pan, and each gesture says whether it
handled an event, so the rest goes on to Qt (selection, rubber band).
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest

from builder.gui.controller import EditController
from builder.gui.interactions import Interaction, MoveTracker, Pan
from builder.gui.project_document import ProjectDocument, network_key
from builder.gui.scene import CanvasScene
from builder.gui.theme import theme_named
from builder.gui.view import CanvasView
from graph_schema.dims import format_shape
from graph_schema.document import Network, Node, Position, Project

KEY = network_key("main")


def bare_view(qtbot) -> CanvasView:
    network = Network(name="main", nodes=[
        Node(id="x", type="io.Input", name="x", params={"shape": ["N", 8]},
             position=Position(x=0, y=0)),
        Node(id="fc", type="nn.Linear", name="fc", params={"out_features": 4},
             position=Position(x=0, y=200)),
    ])
    doc = ProjectDocument(Project(name="bare", networks=[network]))
    controller = EditController(doc)
    scene = CanvasScene(doc, KEY, theme_named("light"))
    view = CanvasView(scene, controller)
    scene.setParent(view)  # as the tabs do: the scene lives as long as its view
    qtbot.addWidget(view)
    view.resize(800, 600)
    view.show()
    view.centerOn(view.canvas.itemsBoundingRect().center())
    return view


def port(view: CanvasView, node_id: str, kind: str) -> QPoint:
    return view.mapFromScene(view.canvas.nodes[node_id].port_scene_pos(kind, 0))


def drag(view: CanvasView, start: QPoint, end: QPoint,
         button=Qt.MouseButton.LeftButton) -> None:
    viewport = view.viewport()
    QTest.mousePress(viewport, button, Qt.KeyboardModifier.NoModifier, start)
    QTest.mouseMove(viewport, (start + end) / 2)
    QTest.mouseMove(viewport, end)
    QTest.mouseRelease(viewport, button, Qt.KeyboardModifier.NoModifier, end)


def test_the_scene_keeps_no_controller(qtbot):
    view = bare_view(qtbot)
    assert not hasattr(view.canvas, "controller")
    assert isinstance(view.controller, EditController)


def test_dragging_from_an_output_to_an_input_connects_them(qtbot):
    view = bare_view(qtbot)
    drag(view, port(view, "x", "out"), port(view, "fc", "in"))
    edges = view.canvas.doc.graph(KEY).edges
    assert [(e.source, e.target) for e in edges] == [("x", "fc")]
    assert view.controller.undo_stack.count() == 1
    assert view.interaction is None  # the gesture ended with the release
    assert [format_shape(s) for s in view.canvas.doc.analysis(KEY).inference.states["fc"].outputs] \
        == ["(N, 4)"]


def test_dragging_a_node_is_one_move_on_the_views_controller(qtbot):
    view = bare_view(qtbot)
    item = view.canvas.nodes["fc"]
    before = item.pos()
    start = view.mapFromScene(item.sceneBoundingRect().center())
    drag(view, start, start + QPoint(120, 40))
    assert item.pos() != before
    assert view.controller.undo_stack.count() == 1
    view.controller.undo_stack.undo()
    assert item.pos() == before


def test_a_ctrl_drag_of_an_unselected_node_is_still_recorded(qtbot):
    view = bare_view(qtbot)
    item = view.canvas.nodes["fc"]
    start = view.mapFromScene(item.sceneBoundingRect().center())
    end = start + QPoint(100, 60)
    viewport, ctrl = view.viewport(), Qt.KeyboardModifier.ControlModifier
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, ctrl, start)
    QTest.mouseMove(viewport, (start + end) / 2)
    QTest.mouseMove(viewport, end)
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, ctrl, end)
    saved = view.canvas.doc.node(KEY, "fc").position
    assert (saved.x, saved.y) == (item.pos().x(), item.pos().y())  # document and canvas agree


def test_a_middle_drag_pans_and_selects_nothing(qtbot):
    view = bare_view(qtbot)
    view.canvas.setSceneRect(-5000, -5000, 10000, 10000)  # room to scroll
    bars = view.horizontalScrollBar(), view.verticalScrollBar()
    before = [bar.value() for bar in bars]
    start = view.mapFromScene(view.canvas.nodes["fc"].sceneBoundingRect().center())
    drag(view, start, start + QPoint(-60, -50), Qt.MouseButton.MiddleButton)
    assert [bar.value() for bar in bars] != before
    assert view.canvas.selected_node_ids() == set()
    assert view.controller.undo_stack.count() == 0


def test_gestures_say_which_events_they_handle(qtbot):
    view = bare_view(qtbot)
    anywhere = QPointF(10, 10)
    idle = Interaction()
    assert not idle.mouse_press(anywhere) and not idle.mouse_move(anywhere) \
        and not idle.mouse_release(anywhere)
    # A node drag leaves the press and moves to Qt, which selects and drags the items.
    tracker = MoveTracker(view.canvas, view.controller)
    assert not tracker.mouse_press(anywhere) and not tracker.mouse_move(anywhere)
    assert not tracker.mouse_release(anywhere)
    pan = Pan(view, QPoint(0, 0))
    assert pan.mouse_press(anywhere) and pan.mouse_move(anywhere) and pan.mouse_release(anywhere)
