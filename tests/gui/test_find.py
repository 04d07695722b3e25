"""Find a layer by name or type: Ctrl+F, type, Enter/F3 next, Shift+Enter/Shift+F3
previous, "2 of 7", the match selected and centred at a legible zoom, Esc closes."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest

from builder.gui.find_bar import NO_MATCHES
from tests.gui.view_support import node_on_screen
from tests.gui.windows import open_window

BIG = (1600, 1000)
SHIFT = Qt.KeyboardModifier.ShiftModifier


def names_selected(window) -> set[str]:
    scene = window.current_view().canvas
    return {window.doc.node(scene.key, n).name for n in scene.selected_node_ids()}


def centred(window, name: str) -> bool:
    view = window.current_view()
    node_id = next(n.id for n in window.doc.graph(view.canvas.key).nodes if n.name == name)
    offset = node_on_screen(view, node_id).center() - QPointF(view.viewport().rect().center())
    return abs(offset.x()) < 4 and abs(offset.y()) < 4 and view.zoom() >= view.legible_zoom()


def open_find(qtbot, window):
    view = window.current_view()
    view.setFocus()
    QTest.keyClick(view, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    bar = window.find_bar
    assert bar.isVisible() and bar.edit.hasFocus()
    return bar


def test_ctrl_f_type_enter_and_shift_enter_walk_the_matches(qtbot):
    window = open_window(qtbot, "resnet18.json", size=BIG, active=True)
    bar = open_find(qtbot, window)
    QTest.keyClicks(bar.edit, "layer")
    # The eight residual blocks, top to bottom: the first is shown at once.
    assert names_selected(window) == {"layer1_0"} and bar.count.text() == "1 of 8"
    assert centred(window, "layer1_0")
    QTest.keyClick(bar.edit, Qt.Key.Key_Return)
    assert names_selected(window) == {"layer1_1"} and bar.count.text() == "2 of 8"
    assert centred(window, "layer1_1")
    QTest.keyClick(bar.edit, Qt.Key.Key_Return, SHIFT)
    QTest.keyClick(bar.edit, Qt.Key.Key_Return, SHIFT)
    assert names_selected(window) == {"layer4_1"} and bar.count.text() == "8 of 8"  # wrapped
    assert centred(window, "layer4_1")


def test_f3_and_shift_f3_step_and_esc_gives_the_canvas_back(qtbot):
    window = open_window(qtbot, "resnet18.json", size=BIG, active=True)
    bar = open_find(qtbot, window)
    QTest.keyClicks(bar.edit, "batchnorm")  # a type: nn.BatchNorm2d
    assert names_selected(window) == {"bn1"} and bar.count.text() == "1 of 1"
    QTest.keyClicks(bar.edit, "x")
    assert bar.count.text() == NO_MATCHES
    QTest.keyClick(bar.edit, Qt.Key.Key_Backspace)
    for _ in range(3):
        QTest.keyClick(bar.edit, Qt.Key.Key_Backspace)
    assert bar.edit.text() == "batchn" and names_selected(window) == {"bn1"}
    QTest.keyClick(bar.edit, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClicks(bar.edit, "pool")
    assert names_selected(window) == {"maxpool"} and bar.count.text() == "1 of 2"
    QTest.keyClick(bar.edit, Qt.Key.Key_F3)
    assert names_selected(window) == {"avgpool"} and bar.count.text() == "2 of 2"
    assert centred(window, "avgpool")
    QTest.keyClick(bar.edit, Qt.Key.Key_F3, SHIFT)
    assert names_selected(window) == {"maxpool"}
    QTest.keyClick(bar.edit, Qt.Key.Key_Escape)
    assert not bar.isVisible()
    view = window.current_view()
    assert view.hasFocus()
    # F3 with the bar closed opens it again on the same text and goes on.
    QTest.keyClick(view, Qt.Key.Key_F3)
    assert bar.isVisible() and names_selected(window) == {"avgpool"}


def test_a_match_far_out_is_zoomed_in_to_and_the_buttons_step_too(qtbot):
    window = open_window(qtbot, "resnet18.json", size=BIG, active=True)
    view = window.current_view()
    view.zoom_by(0.05 / view.zoom())
    bar = open_find(qtbot, window)
    QTest.keyClicks(bar.edit, "fc")
    assert centred(window, "fc")
    qtbot.mouseClick(bar.next_button, Qt.MouseButton.LeftButton)
    assert names_selected(window) == {"fc"} and bar.count.text() == "1 of 1"
    qtbot.mouseClick(bar.close_button, Qt.MouseButton.LeftButton)
    assert not bar.isVisible()


def test_the_bar_sits_over_the_top_right_of_the_canvas(qtbot):
    window = open_window(qtbot, "resnet18.json", size=BIG, active=True)
    bar = open_find(qtbot, window)
    tabs = window.tabs
    assert tabs.rect().contains(bar.geometry())
    assert bar.geometry().top() >= tabs.tabBar().height()
    assert tabs.width() - bar.geometry().right() < 60
    window.resize(1300, 900)
    assert tabs.width() - bar.geometry().right() < 60
