"""Readable at every zoom: a graph opens (and ends an auto layout) at a zoom where its
smallest text is about 9 px high, at its inputs; Fit still fits; far out, names and shapes
are written at a fixed size on screen instead of vanishing."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QFontInfo
from PySide6.QtTest import QTest

from builder.gui.far_text import text_color_on
from builder.gui.glyphs import DETAIL_LOD, TYPE_FONT
from builder.gui.items import EDGE_FONT
from builder.gui.overview import OVERVIEW_ZOOM
from graph_schema import load_project
from graph_schema.document import Position
from tests.gui.view_support import colours_in, ink, large_project, node_on_screen, shown
from tests.gui.windows import ROOT, open_window

BIG = (1600, 1000)


def node(window, name: str) -> str:
    return next(n.id for n in window.doc.graph(window.current_key()).nodes if n.name == name)


def test_resnet18_opens_legible_at_its_input(qtbot):
    window = open_window(qtbot, "resnet18.json", size=BIG)
    view = window.current_view()
    # The smallest text on the canvas, an edge's shape, is at least 9 px high on screen.
    for font in (EDGE_FONT, TYPE_FONT):
        assert QFontInfo(font).pixelSize() * view.zoom() >= 9 - 0.5
    assert view.zoom() <= 1.0 and not view.canvas.far
    # The input is at the top of the view, not somewhere in a fitted drawing.
    image = node_on_screen(view, node(window, "image"))
    port = view.viewport().rect()
    assert port.contains(image.toRect())
    assert image.top() < port.height() * 0.15
    assert abs(image.center().x() - port.center().x()) < port.width() * 0.1


def test_a_network_that_flows_right_opens_at_its_left(qtbot):
    project = load_project(ROOT / "examples" / "resnet18.json")
    project.flow = "right"
    for n in project.networks[0].nodes:  # the column turned on its side
        n.position = Position(x=n.position.y * 2, y=n.position.x)
    window = open_window(qtbot, project=project, size=BIG)
    view = window.current_view()
    assert view.zoom() >= view.legible_zoom() - 1e-9
    image = node_on_screen(view, node(window, "image"))
    port = view.viewport().rect()
    assert port.contains(image.toRect())
    assert image.left() < port.width() * 0.1
    assert abs(image.center().y() - port.center().y()) < port.height() * 0.2


def test_a_small_network_opens_whole(qtbot):
    window = open_window(qtbot, "mlp.json", size=BIG)
    view = window.current_view()
    assert shown(view).contains(view.canvas.itemsBoundingRect())
    assert view.zoom() >= view.legible_zoom()


def test_f_fits_and_far_nodes_keep_their_names(qtbot):
    window = open_window(qtbot, "resnet18.json", size=BIG, active=True)
    view = window.current_view()
    view.setFocus()
    QTest.keyClick(view, Qt.Key.Key_F)
    assert shown(view).contains(view.canvas.itemsBoundingRect().adjusted(20, 20, -20, -20))
    assert view.zoom() < DETAIL_LOD  # a tall network: far out, where boxes used to be bare
    image = view.viewport().grab().toImage()
    for name in ("conv1", "layer2_0", "fc"):
        item = view.canvas.nodes[node(window, name)]
        fill = window.theme.family_color(item.look.family)
        box = view.mapFromScene(item.mapToScene(QRectF(0, 0, *item.size))).boundingRect()
        assert text_color_on(fill.name()).name() in colours_in(image, box), name


def test_the_overview_writes_names_inside_boxes_and_beside_them(qtbot):
    window = open_window(qtbot, project=large_project(200), size=BIG)
    view = window.current_view()
    view.zoom_by(0.2 / view.zoom())
    view.centerOn(view.canvas.nodes[node(window, "n0")].sceneBoundingRect().center())
    assert view.canvas.far and view.zoom() < OVERVIEW_ZOOM
    image = view.viewport().grab().toImage()
    first = view.canvas.nodes[node(window, "n0")]
    box = node_on_screen(view, first.node_id)
    white = text_color_on(window.theme.family_color(first.look.family).name()).name()
    assert white in colours_in(image, box.adjusted(6, 6, -6, -6))
    # Fitted, the 200 layers are a line a few pixels wide: some names stand beside it.
    view.fit()
    image = view.viewport().grab().toImage()
    drawing = view.mapFromScene(view.canvas.itemsBoundingRect()).boundingRect()
    port = view.viewport().rect()
    beside = port.adjusted(0, 0, drawing.left() - 2 - port.right(), 0)
    left_of = colours_in(image, beside)
    beside = port.adjusted(drawing.right() + 2, 0, 0, 0)
    right_of = colours_in(image, beside)
    assert window.theme.node_text.name() in left_of | right_of


def test_far_edges_keep_their_shapes(qtbot):
    window = open_window(qtbot, "resnet18.json", size=BIG)
    view = window.current_view()
    view.zoom_by(0.42 / view.zoom())
    conv1 = view.canvas.nodes[node(window, "conv1")]
    view.centerOn(conv1.sceneBoundingRect().center())
    assert view.zoom() < DETAIL_LOD  # the edge items draw only a hairline
    image = view.viewport().grab().toImage()
    image_box = node_on_screen(view, node(window, "image"))
    gap = QRectF(QPointF(image_box.left(), image_box.bottom()),
                 QPointF(image_box.right(), node_on_screen(view, conv1.node_id).top()))
    assert ink(image, gap, {window.theme.edge.name()}) > 20  # "N×3×224×224" is written there


def test_focus_node_zooms_in_to_legible(qtbot):
    window = open_window(qtbot, "resnet18.json", size=BIG)
    view = window.current_view()
    view.zoom_by(0.05 / view.zoom())
    fc = node(window, "fc")
    view.focus_node(fc)
    assert view.zoom() == view.legible_zoom()
    assert view.canvas.selected_node_ids() == {fc}
    centre = node_on_screen(view, fc).center() - QPointF(view.viewport().rect().center())
    assert abs(centre.x()) < 4 and abs(centre.y()) < 4
