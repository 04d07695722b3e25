"""Auto layout with the real glyph sizes: no two layers overlap, one undo step, graphviz
when it is installed and the built-in layout otherwise; and the re-layout of project files."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from PySide6.QtCore import QRectF, Qt
from PySide6.QtTest import QTest

from builder.gui.arrange import arrange_selection, auto_layout, node_sizes, relayout_project
from builder.gui.mainwindow import MainWindow
from builder.gui.project_document import ProjectDocument, block_key
from graph_schema import load_project
from graph_schema.document import Position
from graph_schema.files import project_to_json
from graph_schema.layout import graphviz_available
from tests.gui.windows import open_window

ROOT = Path(__file__).resolve().parents[2]
RESNET = ROOT / "examples" / "resnet18.json"



def overlaps(rects: dict[str, QRectF]) -> list[tuple[str, str]]:
    return [(a, b) for (a, ra), (b, rb) in itertools.combinations(rects.items(), 2)
            if ra.intersects(rb)]


def item_rects(window: MainWindow, key, ids=None) -> dict[str, QRectF]:
    scene = window.tabs.view_for(key).canvas
    return {n: QRectF(item.pos().x(), item.pos().y(), *item.size)
            for n, item in scene.nodes.items() if ids is None or n in ids}


def pile_up(window: MainWindow, key) -> None:
    """Put every node at the same spot, so a layout has something to sort out."""
    window.controller.move(key, {n.id: Position(x=0, y=0) for n in window.doc.graph(key).nodes})
    assert overlaps(item_rects(window, key))


def test_ctrl_l_lays_out_without_overlaps_in_one_undo_step(qtbot):
    window = open_window(qtbot, "resnet18.json", active=True)
    key, view = window.current_key(), window.current_view()
    pile_up(window, key)
    before = project_to_json(window.doc.project)
    view.setFocus()

    QTest.keyClick(view, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)

    assert window.controller.undo_stack.count() == 2
    assert overlaps(item_rects(window, key)) == []
    engine = "Graphviz dot" if graphviz_available() else "the built-in layout"
    assert window.statusBar().currentMessage().startswith(f"Auto layout by {engine}")
    positions = [n.position for n in window.doc.graph(key).nodes]
    assert all(p.x % 8 == 0 and p.y % 8 == 0 for p in positions)  # on the canvas grid
    # The view shows the inputs afterwards, legible: a fit of a tall network is unreadable.
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    image = next(n for n in window.doc.graph(key).nodes if n.type == "io.Input")
    assert visible.contains(view.canvas.nodes[image.id].sceneBoundingRect())
    assert view.zoom() == pytest.approx(view.legible_zoom())
    window.controller.undo_stack.undo()
    assert project_to_json(window.doc.project) == before


@pytest.mark.parametrize("engine", ["builtin", "dot"])
def test_both_engines_lay_out_a_block_with_a_shortcut(qtbot, engine):
    if engine == "dot" and not graphviz_available():
        pytest.skip("Graphviz is not installed")
    window = open_window(qtbot, "resnet18.json")
    key = block_key("DownsampleBlock")  # a branch: the shortcut beside the main path
    window.tabs.open_graph(key)
    assert window.current_key() == key
    pile_up(window, key)
    sizes = {n: item.size for n, item in window.current_view().canvas.nodes.items()}

    assert auto_layout(window.controller, key, sizes, engine=engine) == engine

    rects = item_rects(window, key)
    assert overlaps(rects) == []
    inputs = [n.id for n in window.doc.graph(key).nodes if n.type == "io.Input"]
    outputs = [n.id for n in window.doc.graph(key).nodes if n.type == "io.Output"]
    assert rects[inputs[0]].bottom() < min(r.top() for n, r in rects.items() if n != inputs[0])
    assert rects[outputs[0]].top() > max(r.bottom() for n, r in rects.items()
                                         if n != outputs[0])


def test_arrange_selection_moves_only_the_selection(qtbot):
    window = open_window(qtbot, "lenet.json")
    key = window.current_key()
    chosen = {"n1", "n2", "n3", "n4"}
    window.controller.move(key, {n: Position(x=0, y=0) for n in chosen})
    others = {n.id: n.position for n in window.doc.graph(key).nodes if n.id not in chosen}

    assert arrange_selection(window.controller, key, chosen) in ("dot", "builtin")

    assert {n.id: n.position for n in window.doc.graph(key).nodes if n.id not in chosen} == \
        others
    assert overlaps(item_rects(window, key, chosen)) == []
    assert window.controller.undo_stack.count() == 2


def test_relayout_project_lays_out_every_network_and_block(qapp):
    project = load_project(RESNET)

    for graph in [*project.networks, *project.blocks]:  # a pile to sort out
        for node in graph.nodes:
            node.position = Position(x=0, y=0)
    original = project_to_json(project)

    laid = relayout_project(project)

    assert project_to_json(project) == original  # a copy; the input is left alone
    doc = ProjectDocument(laid)
    for key in doc.graph_keys():
        sizes = node_sizes(doc, key)
        rects = {n.id: QRectF(n.position.x, n.position.y, *sizes[n.id])
                 for n in doc.graph(key).nodes}
        assert overlaps(rects) == [], key
    assert [n.name for n in laid.networks[0].nodes] == [n.name for n in project.networks[0].nodes]
