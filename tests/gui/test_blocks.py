"""Blocks on the canvas: group a selection into a block (every outside shape unchanged, the
generated code still runs), expand it back, edit it and see every placement follow, and add,
rename and delete block definitions; each one undo step."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRectF, Qt
from PySide6.QtTest import QTest

from builder.gui import edit_actions
from builder.gui.block_edits import delete_block, group_into_block, new_block, rename_block
from builder.gui.block_expand import expand_block
from builder.gui.graph_edits import add_network
from builder.gui.mainwindow import MainWindow
from builder.gui.project_document import block_key, network_key
from graph_schema.document import Edge, Network, Node, Position, Project
from graph_schema.files import project_to_json
from tests.codegen_support import check_project
from tests.gui.windows import open_window


def refusals(window: MainWindow) -> list[str]:
    said: list[str] = []
    window.controller.refused.connect(said.append)
    return said


def edge_labels(window: MainWindow, key) -> dict[tuple, str]:
    """Every connection drawn on the graph's canvas, by node names, with its shape label."""
    scene = window.tabs.open_graph(key, focus=False).canvas
    names = {n.id: n.name for n in window.doc.graph(key).nodes}
    return {(names[s], sp, names[t], tp): item.label for (s, sp, t, tp), item in
            scene.edges.items()}


def drawing(window: MainWindow, key) -> tuple[list, set]:
    """The graph with ids left out: nodes by what a user sees, edges by node names."""
    graph = window.doc.graph(key)
    names = {n.id: n.name for n in graph.nodes}
    nodes = [(n.name, n.type, n.params, n.position, n.init) for n in graph.nodes]
    edges = {(names[e.source], e.source_port, names[e.target], e.target_port)
             for e in graph.edges}
    return nodes, edges


def test_group_the_resnet_stem_keeps_every_shape_and_the_code_runs(qtbot, monkeypatch,
                                                                   tmp_path):
    window = open_window(qtbot, "resnet18.json", active=True)
    key, view = window.current_key(), window.current_view()
    chosen = {"stem_conv", "stem_bn", "stem_relu"}
    names = {window.doc.node(key, n).name for n in chosen}
    before_labels = edge_labels(window, key)
    before = project_to_json(window.doc.project)
    monkeypatch.setattr(edit_actions, "ask_text", lambda *args: "Stem")
    view.setFocus()
    view.canvas.select_nodes(chosen)

    QTest.keyClick(view, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)

    (instance,) = view.canvas.selected_node_ids()
    node = window.doc.node(key, instance)
    assert node.type == "block:Stem" and instance not in chosen
    assert not chosen & set(view.canvas.nodes)
    block = window.doc.project.block("Stem")
    assert [n.name for n in block.inputs()] == ["x"] and [n.name for n in block.outputs()] == \
        ["out"]
    # Every connection outside the block shows exactly the shape it showed before; the
    # ones that crossed the boundary now start or end at the instance.
    expected = {}
    for (source, sp, target, tp), label in before_labels.items():
        if source in names and target in names:
            continue
        if source in names:
            source, sp = node.name, 0
        if target in names:
            target, tp = node.name, 0
        expected[(source, sp, target, tp)] = label
    assert edge_labels(window, key) == expected
    assert all(expected.values())
    assert not window.doc.diagnostics()
    check_project(window.doc.project, tmp_path)  # generate, lint, import from a file, forward
    after = project_to_json(window.doc.project)
    assert window.controller.undo_stack.count() == 1
    window.controller.undo_stack.undo()
    assert project_to_json(window.doc.project) == before
    assert edge_labels(window, key) == before_labels
    window.controller.undo_stack.redo()
    assert project_to_json(window.doc.project) == after


def test_expand_is_the_inverse_of_group(qtbot):
    window = open_window(qtbot, "lenet.json")
    key = window.current_key()
    original = drawing(window, key)
    labels = edge_labels(window, key)
    instance = group_into_block(window.controller, key, {"n1", "n2", "n3"}, "Features")
    grouped = project_to_json(window.doc.project)

    made = expand_block(window.controller, key, instance)

    assert len(made) == 3 and not {"n1", "n2", "n3"} & set(made)
    assert drawing(window, key) == original  # same names, params, positions and wiring
    assert edge_labels(window, key) == labels
    assert window.doc.project.block("Features") is not None  # the definition stays
    window.controller.undo_stack.undo()
    assert project_to_json(window.doc.project) == grouped


def test_group_and_expand_carry_the_network_arguments(qtbot, tmp_path):
    project = Project(networks=[Network(
        name="net", arguments={"width": 8},
        nodes=[Node(id="i", type="io.Input", name="x", params={"shape": ["N", 3, 16, 16]}),
               Node(id="c", type="nn.Conv2d", name="conv",
                    params={"out_channels": {"arg": "width"}, "kernel_size": 3},
                    position=Position(x=0, y=100)),
               Node(id="r", type="nn.ReLU", name="act", position=Position(x=0, y=200)),
               Node(id="o", type="io.Output", name="y", position=Position(x=0, y=300))],
        edges=[Edge(source="i", target="c"), Edge(source="c", target="r"),
               Edge(source="r", target="o")])])
    window = open_window(qtbot, project=project)
    key = network_key("net")
    instance = group_into_block(window.controller, key, {"c", "r"}, "ConvAct")
    block = window.doc.project.block("ConvAct")
    assert block.arguments == {"width": 8}
    assert window.doc.node(key, instance).params == {"width": {"arg": "width"}}
    assert window.doc.analysis(key).inference.output_shape(instance)[1] == 8
    check_project(window.doc.project, tmp_path)
    made = expand_block(window.controller, key, instance)
    conv = next(window.doc.node(key, n) for n in made if window.doc.node(key, n).name == "conv")
    assert conv.params["out_channels"] == {"arg": "width"}


def test_editing_a_grouped_block_changes_every_placement(qtbot):
    window = open_window(qtbot, "lenet.json")
    lenet = window.current_key()
    first = group_into_block(window.controller, lenet, {"n1", "n2", "n3"}, "Features")
    assert add_network(window.controller, "other")
    other = network_key("other")
    window.controller.set_param(other, "n1", "shape", ["N", 1, 32, 32])
    second = window.controller.add_node(other, "block:Features", Position(x=0, y=120))
    window.controller.connect(other, "n1", 0, second, 0)
    window.controller.connect(other, second, 0, "n2", 0)
    shape = window.doc.analysis(other).inference.output_shape
    assert shape(second)[1] == 6

    window.tabs.open_graph(block_key("Features"))
    assert window.current_key() == block_key("Features")
    window.controller.set_param(block_key("Features"), "n1", "out_channels", 8)

    assert shape(second)[1] == 8
    assert window.doc.analysis(lenet).inference.output_shape(first)[1] == 8
    label = edge_labels(window, lenet)[("features1", 0, "c3", 0)]
    assert label == "N×8×14×14"
    assert edge_labels(window, other)[("features1", 0, "y", 0)] == label


def rect(window, key, node_id) -> QRectF:
    scene = window.tabs.view_for(key).canvas
    item = scene.nodes[node_id]
    return QRectF(item.pos().x(), item.pos().y(), *item.size)


def test_expanding_a_resnet_block_makes_room_and_keeps_shapes(qtbot):
    window = open_window(qtbot, "resnet18.json")
    key = window.current_key()
    before = project_to_json(window.doc.project)
    label = edge_labels(window, key)[("layer1_0", 0, "layer1_1", 0)]

    made = expand_block(window.controller, key, "l10")

    names = {n.name for n in window.doc.graph(key).nodes}
    assert len(names) == len(window.doc.graph(key).nodes)
    assert "conv2" in names  # the stem has conv1: the block's conv1 came in as conv2
    assert edge_labels(window, key)[("relu2", 0, "layer1_1", 0)] == label
    assert not window.doc.diagnostics()
    body = [rect(window, key, n) for n in made]
    others = [rect(window, key, n) for n in window.tabs.view_for(key).canvas.nodes
              if n not in made]
    assert not any(a.intersects(b) for a in body for b in others)
    window.controller.undo_stack.undo()
    assert project_to_json(window.doc.project) == before


@pytest.mark.parametrize(("chosen", "name", "reason"), [
    ({"n0", "n1"}, "B", "'image' is an input or output"),
    ({"n1", "n3"}, "B", "'act1' takes data from the selection and gives it back"),
    (set(), "B", "select the layers"),
    ({"n1"}, "class", "keyword"),
    ({"n1"}, "", "cannot be empty"),
    ({"n1"}, "my block", "not a valid Python identifier"),
])
def test_groups_that_cannot_work_are_refused(qtbot, chosen, name, reason):
    window = open_window(qtbot, "lenet.json")
    said = refusals(window)
    assert group_into_block(window.controller, window.current_key(), chosen, name) is None
    assert len(said) == 1 and reason in said[0], said
    assert window.controller.undo_stack.count() == 0


def test_new_rename_and_delete_blocks(qtbot, monkeypatch):
    window = open_window(qtbot, "resnet18.json")
    said = refusals(window)
    controller = window.controller
    monkeypatch.setattr(edit_actions, "ask_text", lambda *args: "Head")
    window.structure.new_block()
    assert window.current_key() == block_key("Head")
    assert not window.doc.diagnostics()
    assert delete_block(controller, "Head") and window.doc.project.block("Head") is None
    assert block_key("Head") not in [v.canvas.key for v in window.tabs.views()]

    assert rename_block(controller, "BasicBlock", "Basic")
    assert window.doc.node(network_key("resnet18"), "l10").type == "block:Basic"
    assert not rename_block(controller, "Basic", "DownsampleBlock")
    assert "already a block named" in said[-1]
    controller.undo_stack.undo()
    assert window.doc.node(network_key("resnet18"), "l10").type == "block:BasicBlock"

    assert not delete_block(controller, "BasicBlock")
    assert "placed as 'layer1_0' in network 'resnet18'" in said[-1]
    assert not new_block(controller, "BasicBlock")


def test_expanding_what_is_not_a_block_is_refused(qtbot):
    window = open_window(qtbot, "lenet.json")
    said = refusals(window)
    assert expand_block(window.controller, window.current_key(), "n1") is None
    assert said == ["Cannot expand 'c1': it is not a block"]


def test_open_block_from_the_network_menu(qtbot):
    window = open_window(qtbot, "resnet18.json")
    menu = window.structure.open_block_menu
    menu.aboutToShow.emit()
    (action,) = [a for a in menu.actions() if a.text() == "DownsampleBlock"]
    action.trigger()
    assert window.current_key() == block_key("DownsampleBlock")


def test_a_shared_module_is_not_split_by_a_group(qtbot):
    project = Project(networks=[Network(name="net", nodes=[
        Node(id="i", type="io.Input", name="x", params={"shape": ["N", 4]}),
        Node(id="a", type="nn.Linear", name="fc1", params={"in_features": 4, "out_features": 4}),
        Node(id="b", type="nn.Linear", name="fc2", reuses="a"),
        Node(id="o", type="io.Output", name="y"),
    ], edges=[Edge(source="i", target="a"), Edge(source="a", target="b"),
              Edge(source="b", target="o")])])
    window = open_window(qtbot, project=project)
    said = refusals(window)
    key = window.current_key()
    assert group_into_block(window.controller, key, {"b"}, "Half") is None
    assert "'fc2' shares the module of 'fc1'" in said[0]
    instance = group_into_block(window.controller, key, {"a", "b"}, "Both")
    assert window.doc.project.block("Both").node("b").reuses == "a"
    assert not [d for d in window.doc.diagnostics() if d.is_error]
    assert expand_block(window.controller, key, instance) is not None
    (copy_a, copy_b) = [n for n in window.doc.graph(key).nodes if n.type == "nn.Linear"]
    assert copy_b.reuses == copy_a.id
