"""Room for the canvas: narrow docks by default, a diagnostics dock of one line while there is
no problem, the Inspector brought forward by a selection, and View > Panels to bring back any
closed panel."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QAbstractButton, QTabBar

from tests.gui.view_support import choose, node_on_screen
from tests.gui.windows import open_window

BIG = (1600, 1000)


def dock_tab_bar(window, title: str) -> QTabBar:
    """The tab bar of the docks tabbed together with the dock titled ``title``."""
    return next(bar for bar in window.findChildren(QTabBar)
                if title in [bar.tabText(i) for i in range(bar.count())] and bar.isVisible())


def front_tab(window, title: str) -> str:
    bar = dock_tab_bar(window, title)
    return bar.tabText(bar.currentIndex())


def click_tab(qtbot, bar: QTabBar, title: str) -> None:
    index = next(i for i in range(bar.count()) if bar.tabText(i).startswith(title))
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())


def test_the_canvas_gets_most_of_the_window(qtbot):
    window = open_window(qtbot, "resnet18.json", size=BIG)
    assert window.tabs.width() >= 0.62 * window.width()
    assert window.tabs.height() >= 0.8 * window.height()  # no problems: diagnostics is a line


def test_no_problems_is_one_line_and_a_problem_opens_the_dock(qtbot):
    window = open_window(qtbot, "lenet.json", size=BIG)
    dock, panel = window.docks["checks"], window.panels.diagnostics
    line = panel.empty.fontMetrics().height()
    assert panel.empty.isVisible() and panel.empty.text().startswith("✓  No problems")
    assert panel.empty.height() >= line  # the line is whole, not cut
    assert dock.widget().height() < 3 * line + dock.widget().tabBar().height()
    key = window.current_key()
    c1 = next(n.id for n in window.doc.graph(key).nodes if n.name == "c1")
    window.controller.set_param(key, c1, "out_channels", 8)  # c3 still expects 6
    qtbot.waitUntil(lambda: panel.tree.isVisible() and dock.height() >= 150)
    window.controller.undo_stack.undo()
    qtbot.waitUntil(lambda: dock.widget().height() < 3 * line + dock.widget().tabBar().height())
    # The summary is a table: choosing its tab opens the dock again.
    click_tab(qtbot, dock.widget().tabBar(), "Summary")
    qtbot.waitUntil(lambda: dock.height() >= 150)
    click_tab(qtbot, dock.widget().tabBar(), "Diagnostics")
    qtbot.waitUntil(lambda: dock.widget().height() < 3 * line + dock.widget().tabBar().height())


def test_selecting_a_node_brings_the_inspector_forward(qtbot):
    window = open_window(qtbot, "resnet18.json", size=BIG, active=True)
    click_tab(qtbot, dock_tab_bar(window, "Code"), "Code")
    qtbot.waitUntil(lambda: front_tab(window, "Code") == "Code")
    view = window.current_view()
    conv1 = next(n.id for n in window.doc.graph(window.current_key()).nodes
                 if n.name == "conv1")
    box = node_on_screen(view, conv1)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton,
                     pos=QPoint(int(box.center().x()), int(box.top() + 12)))
    assert view.canvas.selected_node_ids() == {conv1}
    qtbot.waitUntil(lambda: front_tab(window, "Code") == "Inspector")
    assert window.panels.inspector.isVisible()


def test_a_closed_inspector_stays_closed_on_selection(qtbot):
    window = open_window(qtbot, "resnet18.json", size=BIG)
    window.docks["inspector"].close()
    window.current_view().focus_node(window.doc.graph(window.current_key()).nodes[1].id)
    assert window.docks["inspector"].isHidden()


def test_view_panels_brings_back_a_closed_palette(qtbot):
    window = open_window(qtbot, "resnet18.json", size=BIG, active=True)
    palette = window.docks["palette"]
    close = next(b for b in palette.findChildren(QAbstractButton)
                 if b.objectName() == "qt_dockwidget_closebutton")
    qtbot.mouseClick(close, Qt.MouseButton.LeftButton)
    assert palette.isHidden()
    choose(qtbot, window, "View", "Panels", "Layers")
    assert palette.isVisible() and window.palette.isVisible()
    window.docks["code"].close()
    window.docks["checks"].close()
    choose(qtbot, window, "View", "Panels", "Show All Panels")
    assert all(not dock.isHidden() for dock in window.docks.values())
