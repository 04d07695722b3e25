"""The minimap: the whole graph in the canvas's corner with the view's rectangle; a click or
a drag there moves the view; View > Show Minimap hides it, and the choice is kept."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from builder.gui.app import Windows
from tests.gui.view_support import choose, colours_in, node_on_screen, shown
from tests.gui.windows import open_window

BIG = (1600, 1000)


def node(window, name: str) -> str:
    return next(n.id for n in window.doc.graph(window.current_key()).nodes if n.name == name)


def test_the_minimap_shows_the_whole_graph_in_the_corner(qtbot):
    window = open_window(qtbot, "resnet18.json", size=BIG)
    view = window.current_view()
    minimap = view.minimap
    assert minimap.isVisible()
    port = view.viewport().geometry()
    corner = minimap.geometry()
    assert port.contains(corner)
    assert port.right() - corner.right() < 30 and port.bottom() - corner.bottom() < 30
    # Every node is drawn, in its family's colour (tinted where the view's rectangle, which
    # is marked too, covers it).
    image = minimap.grab().toImage()
    colours = colours_in(image, image.rect())
    families = {window.theme.family_color(i.look.family).name()
                for i in view.canvas.nodes.values()
                if not shown(view).intersects(i.sceneBoundingRect())}
    assert len(families) >= 4
    assert families <= colours
    assert window.theme.selection.name() in colours
    mark = minimap.shown_on_map()
    assert mark.top() < image.height() / 3  # the view is at the inputs, the top of the map


def test_a_click_in_the_minimap_moves_the_view_there(qtbot):
    window = open_window(qtbot, "resnet18.json", size=BIG)
    view = window.current_view()
    minimap = view.minimap
    logits = node(window, "logits")
    assert not shown(view).contains(view.canvas.nodes[logits].sceneBoundingRect())
    on_map = minimap.to_map().map(view.canvas.nodes[logits].sceneBoundingRect().center())
    qtbot.mouseClick(minimap, Qt.MouseButton.LeftButton, pos=on_map.toPoint())
    assert view.viewport().rect().contains(node_on_screen(view, logits).center().toPoint())


def test_dragging_in_the_minimap_drags_the_view(qtbot):
    window = open_window(qtbot, "resnet18.json", size=BIG)
    view = window.current_view()
    minimap = view.minimap
    zoom = view.zoom()
    start = QPoint(minimap.width() // 2, 10)
    QTest.mousePress(minimap, Qt.MouseButton.LeftButton, pos=start)
    centres = []
    for y in (minimap.height() // 3, minimap.height() * 2 // 3):
        QTest.mouseMove(minimap, QPoint(start.x(), y))
        centres.append(shown(view).center().y())
    QTest.mouseRelease(minimap, Qt.MouseButton.LeftButton, pos=QPoint(start.x(), y))
    assert centres[0] < centres[1]  # the view followed the mouse down the network
    assert view.zoom() == zoom  # moved, not zoomed


def test_view_menu_hides_the_minimap_and_the_choice_is_kept(qtbot):
    window = open_window(qtbot, "resnet18.json", size=BIG, active=True)
    minimap = window.current_view().minimap
    choose(qtbot, window, "View", "Show Minimap")
    assert not minimap.isVisible()
    assert not window.minimap_action.isChecked()
    second = Windows().new_window()
    qtbot.addWidget(second)
    second.show()
    assert not second.minimap_action.isChecked()
    second.close()
    choose(qtbot, window, "View", "Show Minimap")
    assert minimap.isVisible()


def test_the_minimap_follows_an_edit(qtbot):
    window = open_window(qtbot, "resnet18.json", size=BIG)
    minimap = window.current_view().minimap
    height = minimap.height()
    fc = node(window, "fc")
    position = window.doc.node(window.current_key(), fc).position
    window.controller.move(window.current_key(),
                           {fc: position.model_copy(update={"y": position.y + 3000})})
    qtbot.waitUntil(lambda: minimap.height() == height and minimap.width() < height
                    and minimap._drawing.bottom() > position.y + 3000)
