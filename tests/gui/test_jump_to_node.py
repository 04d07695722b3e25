"""From a table to the canvas: double-clicking a row of the Summary or of the Diagnostics
selects its node and centres it, at a legible zoom, in the right graph's tab."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem

from builder.gui.panels.diagnostics_panel import MESSAGE
from builder.gui.project_document import block_key
from tests.gui.view_support import node_on_screen
from tests.gui.windows import open_window

BIG = (1600, 1000)


def shows_centred(window, key, name: str) -> bool:
    """The tab of ``key`` is current, and its node ``name`` alone is selected and centred."""
    view = window.current_view()
    node_id = next(n.id for n in window.doc.graph(key).nodes if n.name == name)
    offset = node_on_screen(view, node_id).center() - QPointF(view.viewport().rect().center())
    return (window.current_key() == key and view.canvas.selected_node_ids() == {node_id}
            and abs(offset.x()) < 4 and abs(offset.y()) < 4
            and view.zoom() >= view.legible_zoom())


def double_click(tree: QTreeWidget, item: QTreeWidgetItem, column: int = 0) -> None:
    """As a mouse does it: press and release, then the second press (a double-click event)
    and release."""
    tree.scrollToItem(item)
    rect = tree.visualItemRect(item)
    left = max(rect.left(), tree.header().sectionPosition(column))
    point = QPoint(left + 10, rect.center().y())
    QTest.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=point)
    QTest.mouseDClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=point)


def show_summary(qtbot, window):
    checks = window.docks["checks"].widget()
    bar = checks.tabBar()
    index = checks.indexOf(window.panels.summary)
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
    tree = window.panels.summary.tree
    qtbot.waitUntil(lambda: tree.topLevelItemCount() > 0)
    return tree


def row(tree: QTreeWidget, *names: str) -> QTreeWidgetItem:
    """The row ``names[-1]``, under ``names[:-1]``."""
    items = [tree.topLevelItem(i) for i in range(tree.topLevelItemCount())]
    for name in names:
        found = next(i for i in items if i.text(0) == name)
        items = [found.child(i) for i in range(found.childCount())]
    return found


def test_double_clicking_a_summary_row_centres_its_layer(qtbot):
    window = open_window(qtbot, "resnet18.json", size=BIG)
    tree = show_summary(qtbot, window)
    network = window.current_key()
    double_click(tree, row(tree, "fc"))
    assert shows_centred(window, network, "fc")
    double_click(tree, row(tree, "layer3_1"))
    assert shows_centred(window, network, "layer3_1")


def test_a_summary_row_inside_a_block_opens_the_blocks_tab(qtbot):
    window = open_window(qtbot, "resnet18.json", size=BIG)
    tree = show_summary(qtbot, window)
    double_click(tree, row(tree, "layer1_1", "conv2"))
    assert shows_centred(window, block_key("BasicBlock"), "conv2")


def test_double_clicking_a_problem_centres_its_node_in_its_graph(qtbot):
    window = open_window(qtbot, "resnet18.json", size=BIG)
    network = window.current_key()
    block = block_key("BasicBlock")
    conv2 = next(n.id for n in window.doc.graph(block).nodes if n.name == "conv2")
    window.controller.set_param(block, conv2, "in_channels", 3)
    tree = window.panels.diagnostics.tree
    qtbot.waitUntil(lambda: tree.topLevelItemCount() == 2)
    rows = [tree.topLevelItem(i) for i in range(tree.topLevelItemCount())]
    # The diagnostics dock, one line while there was no problem, opened to show them.
    qtbot.waitUntil(lambda: tree.viewport().rect().contains(tree.visualItemRect(rows[1])))
    in_block = next(r for r in rows if r.text(2) == "conv2")
    in_network = next(r for r in rows if r.text(2) == "layer1_0")
    double_click(tree, in_block, MESSAGE)
    assert shows_centred(window, block, "conv2")
    double_click(tree, in_network, MESSAGE)  # back to the network's tab
    assert shows_centred(window, network, "layer1_0")
