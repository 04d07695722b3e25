"""New layers never land on other layers: the fixes that insert one, paste and duplicate,
and a layer asked for on top of another."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest

from builder.gui.panels.diagnostics_panel import FIX
from tests.gui.drawing_support import glyph_rect, overlapping
from tests.gui.windows import open_window


def click_first_fix(qtbot, window, label_start: str) -> None:
    panel = window.panels.diagnostics
    rows = [panel.tree.topLevelItem(i) for i in range(panel.tree.topLevelItemCount())]
    buttons = [panel.tree.itemWidget(row, FIX) for row in rows]
    button = next(b for b in buttons if b is not None and b.text().startswith(label_start))
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def crossing_edges(view, node_id: str) -> list:
    """Connections of other nodes (their curve or shape label) drawn under the node."""
    rect = glyph_rect(view.canvas.nodes[node_id])
    return [item for key, item in view.canvas.edges.items()
            if node_id not in (key[0], key[2]) and item.mapToScene(item.shape()).intersects(rect)]


@pytest.mark.parametrize("example, fix, source", [
    ("broken/cat_spatial_mismatch.json", "Fix: insert interpolate", "b"),
    ("broken/linear_without_flatten.json", "Fix: insert Flatten", "n3"),
])
def test_an_inserting_fix_puts_the_layer_on_no_node_and_no_connection(qtbot, example, fix,
                                                                      source):
    window = open_window(qtbot, example)
    view = window.current_view()
    before = set(view.canvas.nodes)
    click_first_fix(qtbot, window, fix)
    (new,) = set(view.canvas.nodes) - before
    assert overlapping(view) == []
    assert crossing_edges(view, new) == []
    # It sits under the layer that feeds it, and what it feeds is below it.
    new_rect, source_rect = glyph_rect(view.canvas.nodes[new]), \
        glyph_rect(view.canvas.nodes[source])
    assert new_rect.top() > source_rect.bottom()
    assert abs(new_rect.center().x() - source_rect.center().x()) <= 8
    (target,) = [e.target for e in window.doc.graph(window.current_key()).edges
                 if e.source == new]
    assert glyph_rect(view.canvas.nodes[target]).top() > new_rect.bottom()
    window.controller.undo_stack.undo()
    assert set(view.canvas.nodes) == before


def test_duplicate_goes_beside_what_it_would_land_on(qtbot):
    window = open_window(qtbot, "lenet.json", active=True)
    view = window.current_view()
    view.canvas.select_nodes(["n1", "n2", "n3"])
    view.setFocus()
    QTest.keyClick(view, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert len(view.canvas.selected_node_ids()) == 3
    assert not view.canvas.selected_node_ids() & {"n1", "n2", "n3"}
    assert overlapping(view) == []
    QTest.keyClick(view, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)  # and again
    assert overlapping(view) == []


def test_a_layer_asked_for_on_top_of_another_lands_next_to_it(qtbot):
    window = open_window(qtbot, "lenet.json", active=True)
    view = window.current_view()
    on_c1 = glyph_rect(view.canvas.nodes["n1"]).topLeft() + QPointF(8, 8)
    window.show_quick_add(on_c1)  # what the canvas menu's Add Layer… does there
    QTest.keyClicks(window.quick_add.edit, "relu")
    QTest.keyClick(window.quick_add.edit, Qt.Key.Key_Return)
    (new,) = view.canvas.selected_node_ids()
    assert overlapping(view) == []
    assert glyph_rect(view.canvas.nodes[new]).center().x() > glyph_rect(
        view.canvas.nodes["n1"]).right()  # beside the column, not far down past it


def test_paste_at_a_point_on_other_layers_moves_the_copies_clear(qtbot):
    window = open_window(qtbot, "lenet.json", active=True)
    view = window.current_view()
    view.canvas.select_nodes(["n4", "n5"])
    window.structure.copy()
    pasted = window.structure.paste(QPointF(8, 130))  # right over c1 and act1
    assert len(pasted) == 2 and overlapping(view) == []
