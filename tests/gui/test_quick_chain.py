"""Typing a chain: with one node selected, quick-add (Tab) and the palette put the new layer
after it, connected, selected, as one undo step; Tab inside quick-add goes on to the next.

The acceptance walk draws LeNet-5 (examples/lenet.json: 1×32×32 in, 61,706 parameters) on a
new network with the keyboard and mouse only, and counts what the user did.
"""

from __future__ import annotations

from PySide6.QtCore import Qt

from builder.gui.palette import TYPE_ROLE
from graph_schema import validate
from graph_schema.files import project_to_json
from graph_schema.summary import summarize
from tests.gui.drawing_support import (
    Actions,
    chain_from,
    glyph_rect,
    node_point,
    overlapping,
)
from tests.gui.windows import open_window

LENET = [("conv2d 6 5", "nn.Conv2d"), ("tanh", "nn.Tanh"), ("avgpool2d 2", "nn.AvgPool2d"),
         ("conv2d 16 5", "nn.Conv2d"), ("tanh", "nn.Tanh"), ("avgpool2d 2", "nn.AvgPool2d"),
         ("flatten", "nn.Flatten"), ("linear 120", "nn.Linear"), ("tanh", "nn.Tanh"),
         ("linear 84", "nn.Linear"), ("tanh", "nn.Tanh"), ("linear 10", "nn.Linear")]
SHAPES = ["N×1×32×32", "N×6×28×28", "N×6×28×28", "N×6×14×14", "N×16×10×10", "N×16×10×10",
          "N×16×5×5", "N×400", "N×120", "N×120", "N×84", "N×84", "N×10"]
# One click to pick the input; a click, Ctrl+A, the typed shape and Enter to retype it; one
# click back on the canvas; Tab; each of the 12 layers typed, then Tab (Enter at the end);
# the chain goes into the new network's Input -> Output wire. A typed entry counts as one
# action (drawing_support.Actions).
LENET_ACTIONS = 1 + 4 + 1 + 1 + 2 * 12
# The same network typed as one chain: the input's shape as above, then Tab, the chain, Enter.
LENET_CHAIN = ", ".join(typed for typed, _ in LENET)
LENET_CHAIN_ACTIONS = 1 + 4 + 3


class QTestKeys:
    """Quick-add from the keyboard, for the tests that count nothing."""

    def __init__(self, window):
        self.window = window
        self.actions = Actions()

    def open(self) -> None:
        view = self.window.current_view()
        view.setFocus()
        self.actions.key(view, Qt.Key.Key_Tab)
        assert self.window.quick_add.isVisible()

    def type(self, text: str) -> None:
        self.actions.type(self.window.quick_add.edit, text)

    def key(self, key: Qt.Key) -> None:
        self.actions.key(self.window.quick_add.edit, key)

    def add(self, typed: str) -> None:
        self.open()
        self.type(typed)
        self.key(Qt.Key.Key_Return)


def test_lenet_typed_as_a_chain_from_an_empty_canvas(qtbot, tmp_path):
    window = open_window(qtbot, active=True, size=(1200, 900))
    view, key, doc = window.current_view(), window.current_key(), window.doc
    canvas, viewport, popup = view.canvas, view.viewport(), window.quick_add
    user = Actions()

    # The input: LeNet-5 reads 32×32 grey images (a new network's input is 28×28).
    user.click(viewport, node_point(window, "n1"))
    shape = window.panels.inspector.form.rows["shape"].editor.edit
    user.click(shape)
    user.key(shape, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    user.type(shape, "N, 1, 32, 32")
    user.key(shape, Qt.Key.Key_Return)
    user.click(viewport, node_point(window, "n1"))  # back on the canvas, still selected

    user.key(view, Qt.Key.Key_Tab)
    for index, (typed, _type) in enumerate(LENET):
        assert popup.isVisible(), f"quick-add closed before {typed!r}"
        user.type(popup.edit, typed)
        last = index == len(LENET) - 1
        user.key(popup.edit, Qt.Key.Key_Return if last else Qt.Key.Key_Tab)
    assert not popup.isVisible()


    graph = doc.graph(key)
    assert chain_from(graph, "n1") == ["io.Input", *[t for _, t in LENET], "io.Output"]
    assert [d.message for d in validate(doc.project) if d.is_error] == []
    total = sum(row.params or 0 for row in summarize(doc.project, graph).rows)
    assert total == 61_706  # LeNet-5's count
    labels = sorted(((view.canvas.nodes[k[0]].y(), item.label)
                     for k, item in canvas.edges.items()))
    assert [label for _, label in labels] == SHAPES
    assert overlapping(view) == []
    assert user.count == LENET_ACTIONS, user.log
    # A picture to look at: the whole chain, legible (names, shapes, no overlaps).
    window.resize(1200, 1900)
    view.reset_zoom()
    view.zoom_by(0.85)
    view.centerOn(canvas.itemsBoundingRect().center())
    picture = tmp_path / "lenet.png"
    assert view.grab().save(str(picture)) and picture.stat().st_size > 0


def test_lenet_typed_as_one_chain_in_eight_actions(qtbot):
    window = open_window(qtbot, active=True, size=(1200, 900))
    view, key, doc = window.current_view(), window.current_key(), window.doc
    viewport, popup = view.viewport(), window.quick_add
    user = Actions()
    user.click(viewport, node_point(window, "n1"))
    shape = window.panels.inspector.form.rows["shape"].editor.edit
    user.click(shape)
    user.key(shape, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    user.type(shape, "N, 1, 32, 32")
    user.key(shape, Qt.Key.Key_Return)  # the edit is committed and the canvas has the keys
    user.key(view, Qt.Key.Key_Tab)
    user.type(popup.edit, LENET_CHAIN)
    assert popup.preview.text().startswith("12 layers: Conv2d(6, 5) → Tanh → AvgPool2d(2) → ")
    assert popup.list.count() == 12
    user.key(popup.edit, Qt.Key.Key_Return)

    graph = doc.graph(key)
    assert chain_from(graph, "n1") == ["io.Input", *[t for _, t in LENET], "io.Output"]
    assert [d.message for d in validate(doc.project) if d.is_error] == []
    assert sum(row.params or 0 for row in summarize(doc.project, graph).rows) == 61_706
    labels = sorted((view.canvas.nodes[k[0]].y(), item.label)
                    for k, item in view.canvas.edges.items())
    assert [label for _, label in labels] == SHAPES
    assert overlapping(view) == []
    assert user.count == LENET_CHAIN_ACTIONS <= 15, user.log
    (last,) = view.canvas.selected_node_ids()
    assert doc.node(key, last).params == {"out_features": 10}
    # The chain is one undo step on top of the shape edit.
    window.controller.undo_stack.undo()
    assert chain_from(doc.graph(key), "n1") == ["io.Input", "io.Output"]


def test_a_chain_with_a_piece_that_names_no_layer_says_which_and_adds_nothing(qtbot):
    window = open_window(qtbot, active=True)
    view = window.current_view()
    Actions().click(view.viewport(), node_point(window, "n1"))
    keys = QTestKeys(window)
    keys.open()
    keys.type("conv2d 8 3, blorp, relu")
    assert window.quick_add.preview.text() == "⚠ layer 2 ('blorp'): no layer by that name"
    keys.key(Qt.Key.Key_Return)
    assert window.quick_add.isVisible() and window.controller.undo_stack.count() == 0
    for _ in "blorp, relu":
        keys.key(Qt.Key.Key_Backspace)
    keys.type("relu > maxpool 2")  # arrows separate as commas do
    assert window.quick_add.preview.text() == "3 layers: Conv2d(8, 3) → ReLU → MaxPool2d(2)"
    keys.key(Qt.Key.Key_Tab)  # added, and quick-add asks for the next one after the last
    assert window.quick_add.isVisible()
    keys.type("flatten")
    keys.key(Qt.Key.Key_Return)
    graph = window.doc.graph(window.current_key())
    assert chain_from(graph, "n1") == ["io.Input", "nn.Conv2d", "nn.ReLU", "nn.MaxPool2d",
                                       "nn.Flatten", "io.Output"]
    assert window.controller.undo_stack.count() == 2


def test_tab_after_a_selected_node_adds_below_it_connected_in_one_undo_step(qtbot):
    window = open_window(qtbot, active=True)
    view, key, doc = window.current_view(), window.current_key(), window.doc
    user = Actions()
    before = project_to_json(doc.project)
    user.click(view.viewport(), node_point(window, "n1"))

    user.key(view, Qt.Key.Key_Tab)
    assert window.quick_add.hint.text() == "after x · N×1×28×28"
    user.type(window.quick_add.edit, "conv")
    user.key(window.quick_add.edit, Qt.Key.Key_Return)
    (conv,) = view.canvas.selected_node_ids()
    user.key(view, Qt.Key.Key_Tab)
    user.type(window.quick_add.edit, "relu")
    user.key(window.quick_add.edit, Qt.Key.Key_Return)
    (relu,) = view.canvas.selected_node_ids()

    graph = doc.graph(key)
    # Typed into the new network's Input -> Output wire: the output stays last.
    assert chain_from(graph, "n1") == ["io.Input", "nn.Conv2d", "nn.ReLU", "io.Output"]
    x, c, r = (glyph_rect(view.canvas.nodes[n]) for n in ("n1", conv, relu))
    assert x.bottom() < c.top() and c.bottom() < r.top()  # each below the one before
    assert abs(c.center().x() - x.center().x()) <= 8
    assert window.controller.undo_stack.count() == 2
    window.controller.undo_stack.undo()
    assert relu not in view.canvas.nodes and chain_from(doc.graph(key), "n1") == [
        "io.Input", "nn.Conv2d", "io.Output"]
    window.controller.undo_stack.undo()
    assert project_to_json(doc.project) == before


def test_in_a_drawing_that_flows_right_the_layer_goes_beside(qtbot):
    window = open_window(qtbot, active=True)
    window.controller.set_project_field("flow", "right")
    view = window.current_view()
    Actions().click(view.viewport(), node_point(window, "n1"))
    QTestKeys(window).add("relu")
    (relu,) = view.canvas.selected_node_ids()
    x, r = glyph_rect(view.canvas.nodes["n1"]), glyph_rect(view.canvas.nodes[relu])
    assert r.left() > x.right() and abs(r.center().y() - x.center().y()) <= 8


def test_a_chain_pushes_the_unconnected_output_ahead_of_it(qtbot):
    window = open_window(qtbot, active=True)
    view = window.current_view()
    Actions().click(view.viewport(), node_point(window, "n1"))
    keys = QTestKeys(window)
    for typed in ("linear", "relu", "linear", "relu"):
        keys.add(typed)
    output = glyph_rect(view.canvas.nodes["n2"])
    (last,) = view.canvas.selected_node_ids()
    assert output.top() > glyph_rect(view.canvas.nodes[last]).bottom()
    assert overlapping(view) == []


def test_with_nothing_selected_quick_add_adds_where_it_was_asked(qtbot):
    window = open_window(qtbot, active=True)
    view = window.current_view()
    view.canvas.clearSelection()
    before = set(view.canvas.nodes)
    QTestKeys(window).add("relu")
    (new,) = set(view.canvas.nodes) - before
    edges = window.doc.graph(window.current_key()).edges
    assert [e for e in edges if new in (e.source, e.target)] == []  # nothing to chain after
    assert overlapping(view) == []


def test_palette_double_click_adds_after_the_selected_node(qtbot):
    window = open_window(qtbot, active=True)
    view, palette = window.current_view(), window.palette
    Actions().click(view.viewport(), node_point(window, "n1"))
    palette.search.setText("tanh")
    item = next(palette.tree.topLevelItem(i).child(j)
                for i in range(palette.tree.topLevelItemCount())
                for j in range(palette.tree.topLevelItem(i).childCount())
                if palette.tree.topLevelItem(i).child(j).data(0, TYPE_ROLE) == "nn.Tanh")
    palette.tree.scrollToItem(item)
    rect = palette.tree.visualItemRect(item)
    with qtbot.waitSignal(palette.layer_chosen):
        Actions().double_click(palette.tree.viewport(), rect.center())
    assert chain_from(window.doc.graph(window.current_key()), "n1") == ["io.Input", "nn.Tanh",
                                                                         "io.Output"]
    assert window.controller.undo_stack.count() == 1


def test_quick_add_after_a_4d_tensor_offers_2d_layers_first(qtbot):
    window = open_window(qtbot, "lenet.json", active=True)
    view = window.current_view()
    view.centerOn(view.canvas.nodes["n1"])
    Actions().click(view.viewport(), node_point(window, "n1"))  # c1: N×6×28×28
    QTestKeys(window).open()
    popup = window.quick_add
    offered = [popup.list.item(i).data(TYPE_ROLE) for i in range(5)]
    assert offered[:3] == ["nn.Conv2d", "nn.ReLU", "nn.BatchNorm2d"]
    QTestKeys(window).type("pool")
    offered = [popup.list.item(i).data(TYPE_ROLE) for i in range(5)]
    assert offered[:2] == ["nn.MaxPool2d", "nn.AvgPool2d"] and "nn.AvgPool1d" not in offered
    QTestKeys(window).key(Qt.Key.Key_Escape)
    assert not popup.isVisible() and window.controller.undo_stack.count() == 0


def test_numbers_after_the_name_set_its_parameters_or_say_what_it_takes(qtbot):
    window = open_window(qtbot, active=True)
    view = window.current_view()
    Actions().click(view.viewport(), node_point(window, "n1"))
    keys = QTestKeys(window)
    keys.open()
    keys.type("linear 3 4")
    assert window.quick_add.preview.text() == "⚠ Linear takes out_features"
    keys.key(Qt.Key.Key_Return)
    assert window.quick_add.isVisible() and window.controller.undo_stack.count() == 0
    keys.key(Qt.Key.Key_Backspace)
    keys.key(Qt.Key.Key_Backspace)
    assert window.quick_add.preview.text() == "out_features=3"
    keys.key(Qt.Key.Key_Return)
    (fc,) = view.canvas.selected_node_ids()
    assert window.doc.node(window.current_key(), fc).params == {"out_features": 3}


def test_tab_after_the_output_adds_below_it_unconnected_and_says_nothing(qtbot):
    window = open_window(qtbot, active=True)
    view = window.current_view()
    view.centerOn(view.canvas.nodes["n2"])
    Actions().click(view.viewport(), node_point(window, "n2"))
    QTestKeys(window).add("relu")
    (relu,) = view.canvas.selected_node_ids()
    below = glyph_rect(view.canvas.nodes["n2"]).bottom()
    assert glyph_rect(view.canvas.nodes[relu]).top() > below
    edges = window.doc.graph(window.current_key()).edges
    assert [e for e in edges if relu in (e.source, e.target)] == []
    assert window.statusBar().currentMessage() == ""
