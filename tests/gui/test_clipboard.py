"""Copy, cut, paste and duplicate through the real system clipboard, within a network, into
another network and into another window's project; junk on the clipboard is refused."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest

from builder.gui.clipboard import FRAGMENT_MIME
from builder.gui.graph_edits import add_network
from builder.gui.mainwindow import MainWindow
from builder.gui.project_document import network_key
from graph_schema.document import Edge, Network, Node, Project
from graph_schema.files import project_to_json
from tests.gui.windows import open_window


def overlapping(view) -> list[tuple[str, str]]:
    """Pairs of nodes whose glyphs overlap on the canvas."""
    items = list(view.canvas.nodes.items())
    found = []
    for i, (a, item_a) in enumerate(items):
        rect_a = item_a.mapRectToScene(0, 0, *item_a.size)
        for b, item_b in items[i + 1:]:
            if rect_a.intersects(item_b.mapRectToScene(0, 0, *item_b.size)):
                found.append((a, b))
    return found


def names_by_id(window: MainWindow, key) -> dict[str, str]:
    return {n.id: n.name for n in window.doc.graph(key).nodes}


def refusals(window: MainWindow) -> list[str]:
    said: list[str] = []
    window.controller.refused.connect(said.append)
    return said


def test_copy_paste_in_the_same_network_makes_new_ids_names_and_keeps_edges(qtbot):
    window = open_window(qtbot, "lenet.json")
    key, scene = window.current_key(), window.current_view().canvas
    scene.select_nodes(["n1", "n2"])  # c1 -> act1
    window.structure.copy()
    before = project_to_json(window.doc.project)
    steps = window.controller.undo_stack.count()

    new = window.structure.paste(at=None)  # no point: offset from the originals

    assert len(new) == 2 and not set(new) & {"n1", "n2"}
    assert scene.selected_node_ids() == set(new)
    names = names_by_id(window, key)
    assert len(set(names.values())) == len(names)  # still unique
    assert {names[n] for n in new} == {"c2", "act2"}  # next free number of each stem
    edges = {(e.source, e.target) for e in window.doc.graph(key).edges}
    copy_of = {names[n]: n for n in new}
    assert (copy_of["c2"], copy_of["act2"]) in edges
    moves = set()
    for old_id, new_name in (("n1", "c2"), ("n2", "act2")):
        original = window.doc.node(key, old_id).position
        pasted = window.doc.node(key, copy_of[new_name]).position
        moves.add((pasted.x - original.x, pasted.y - original.y))
    (move,) = moves  # the copies keep their arrangement
    # A step aside would put them on the chain they were copied from: they go beside it,
    # on none of its layers.
    assert move[0] > 0 and move[0] % 8 == 0 and move[1] % 8 == 0
    assert not overlapping(window.current_view())
    assert window.controller.undo_stack.count() == steps + 1
    window.controller.undo_stack.undo()
    assert project_to_json(window.doc.project) == before


def test_paste_into_a_second_network_at_a_point(qtbot):
    window = open_window(qtbot, "lenet.json")
    window.current_view().canvas.select_nodes(["n1", "n2", "n3"])
    window.structure.copy()
    assert add_network(window.controller, "second")
    key = network_key("second")
    assert window.current_key() == key

    new = window.structure.paste(QPointF(400, 200))

    graph = window.doc.graph(key)
    pasted = [n for n in graph.nodes if n.id in new]
    assert [n.name for n in pasted] == ["c1", "act1", "s2"]  # free here: kept
    assert min(n.position.x for n in pasted) == 400 and min(n.position.y for n in pasted) == 200
    names = {n.id: n.name for n in graph.nodes}
    assert {(names[e.source], names[e.target]) for e in graph.edges} >= \
        {("c1", "act1"), ("act1", "s2")}
    # Connected to this network's input, the pasted layers infer as they did in LeNet.
    window.controller.set_param(key, "n1", "shape", ["N", 1, 32, 32])
    window.controller.connect(key, "n1", 0, new[0], 0)
    lenet = window.doc.analysis(network_key("lenet5")).inference
    here = window.doc.analysis(key).inference
    assert here.output_shape(new[2]) == lenet.output_shape("n3") is not None


def test_paste_into_another_window_brings_the_block_definitions(qtbot):
    source = open_window(qtbot, "resnet18.json")
    source.current_view().canvas.select_nodes(["l11", "l20"])  # BasicBlock, DownsampleBlock
    source.structure.copy()
    target = open_window(qtbot)
    before = project_to_json(target.doc.project)

    new = target.structure.paste(QPointF(0, 500))

    project = target.doc.project
    assert [b.name for b in project.blocks] == ["BasicBlock", "DownsampleBlock"]
    assert project.block("BasicBlock") == source.doc.project.block("BasicBlock")
    types = [target.doc.node(target.current_key(), n).type for n in new]
    assert types == ["block:BasicBlock", "block:DownsampleBlock"]
    assert "BasicBlock" in [target.palette.tree.topLevelItem(i).child(j).text(0)
                            for i in range(target.palette.tree.topLevelItemCount())
                            for j in range(target.palette.tree.topLevelItem(i).childCount())]
    # The definitions came in the same undo step as the layers.
    target.controller.undo_stack.undo()
    assert project_to_json(target.doc.project) == before
    target.controller.undo_stack.redo()
    assert len(target.doc.project.blocks) == 2


def test_a_different_block_of_the_same_name_is_added_under_a_new_name(qtbot):
    source = open_window(qtbot, "resnet18.json")
    source.current_view().canvas.select_nodes(["l11"])
    source.structure.copy()
    target = open_window(qtbot, "resnet18.json")
    key = target.current_key()
    target.controller.set_param(("block", "BasicBlock"), "c1", "padding", 2)  # now differs

    (new,) = target.structure.paste(QPointF(300, 0))

    assert target.doc.node(key, new).type == "block:BasicBlock_2"
    assert target.doc.project.block("BasicBlock_2") == source.doc.project.block("BasicBlock") \
        .model_copy(update={"name": "BasicBlock_2"})
    # Pasting the same again reuses the copy added the first time.
    (again,) = target.structure.paste(QPointF(600, 0))
    assert target.doc.node(key, again).type == "block:BasicBlock_2"
    assert len(target.doc.project.blocks) == 3


def test_an_argument_the_target_lacks_becomes_its_value(qtbot):
    project = Project(networks=[
        Network(name="wide", arguments={"width": 24}, nodes=[
            Node(id="a", type="nn.Conv2d", name="conv",
                 params={"in_channels": 3, "out_channels": {"arg": "width"}, "kernel_size": 3}),
        ]),
        Network(name="plain"),
    ])
    window = open_window(qtbot, project=project)
    window.current_view().canvas.select_nodes(["a"])
    window.structure.copy()
    same = window.structure.paste(QPointF(0, 200))
    assert window.doc.node(window.current_key(), same[0]).params["out_channels"] == \
        {"arg": "width"}  # the argument exists here: still refers to it
    window.tabs.open_graph(network_key("plain"))
    (other,) = window.structure.paste(QPointF(0, 0))
    assert window.doc.node(network_key("plain"), other).params["out_channels"] == 24


def test_cut_is_copy_and_delete_in_one_step_and_duplicate_leaves_the_clipboard(qtbot):
    window = open_window(qtbot, "mlp.json")
    key, scene = window.current_key(), window.current_view().canvas
    ids = [n.id for n in window.doc.graph(key).nodes if n.type == "nn.Linear"][:1]
    scene.select_nodes(ids)
    before = project_to_json(window.doc.project)
    window.structure.cut()
    assert ids[0] not in names_by_id(window, key)
    assert FRAGMENT_MIME in QGuiApplication.clipboard().mimeData().formats()
    window.controller.undo_stack.undo()
    assert project_to_json(window.doc.project) == before

    QGuiApplication.clipboard().setText("what the user copied elsewhere")
    scene.select_nodes(ids)
    (copy,) = window.structure.duplicate()
    assert QGuiApplication.clipboard().text() == "what the user copied elsewhere"
    assert window.doc.node(key, copy).type == "nn.Linear"
    assert scene.selected_node_ids() == {copy}


def test_keyboard_shortcuts_copy_and_paste_and_duplicate(qtbot):
    window = open_window(qtbot, "lenet.json", active=True)
    key, view = window.current_key(), window.current_view()
    view.setFocus()
    view.canvas.select_nodes(["n4"])
    QTest.keyClick(view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert json.loads(QGuiApplication.clipboard().text())["nodes"][0]["name"] == "c3"
    count = len(window.doc.graph(key).nodes)
    conv_type = window.doc.node(key, "n4").type
    QTest.keyClick(view, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    (pasted,) = view.canvas.selected_node_ids()
    assert pasted != "n4" and len(window.doc.graph(key).nodes) == count + 1
    assert window.doc.node(key, pasted).type == conv_type
    assert window.doc.node(key, pasted).name not in ("c3", "")
    QTest.keyClick(view, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    (duplicate,) = view.canvas.selected_node_ids()
    assert duplicate not in ("n4", pasted) and len(window.doc.graph(key).nodes) == count + 2
    assert window.doc.node(key, duplicate).type == conv_type


def fragment_text(**changes) -> str:
    fragment = {"kind": "torchcanvas-fragment", "version": 1,
                "nodes": [{"id": "a", "type": "nn.ReLU", "name": "relu"}], "edges": []}
    fragment.update(changes)
    return json.dumps(fragment)


JUNK = [
    ("not json at all {", "not a copy made by TorchCanvas"),
    ('{"some": "other program"}', "does not hold TorchCanvas layers"),
    (fragment_text(version=99), "newer TorchCanvas"),
    (fragment_text(nodes=[{"id": "a", "type": "nn.ReLU", "name": "__import__('os')"}]),
     "unusable name"),
    (fragment_text(nodes=[{"id": "a", "type": "nn.ReLU", "name": "__class__"}]),
     "unusable name"),
    (fragment_text(nodes=[{"id": "a", "type": "evil.Thing", "name": "x"}]), "unknown type"),
    (fragment_text(nodes=[{"id": "a", "type": "block:Ghost", "name": "g"}]),
     "without its definition"),
    (fragment_text(edges=[{"source": "a", "target": "zz"}]), "does not hold"),
    (fragment_text(nodes=[{"id": "a b", "type": "nn.ReLU", "name": "r"}]), "malformed"),
    (fragment_text(nodes="many"), "malformed"),
    (fragment_text(nodes=[]), "no layers"),
    (fragment_text(nodes=[{"id": "a", "type": "nn.ReLU", "name": "r",
                           "position": {"x": 1e8, "y": 0}},
                          {"id": "b", "type": "nn.ReLU", "name": "s",
                           "position": {"x": -9e8, "y": 0}}]), "cannot be placed"),
    ('{"kind": "torchcanvas-fragment", "version": 1, "nodes": [{"x": NaN}]}', "not a copy"),
    ("[" * 100_000, "not a copy"),
    ("", "holds no layers"),
]


@pytest.mark.parametrize(("text", "reason"), JUNK, ids=[r for _, r in JUNK])
def test_junk_on_the_clipboard_is_refused_with_the_reason(qtbot, text, reason):
    window = open_window(qtbot, "lenet.json")
    said = refusals(window)
    before = project_to_json(window.doc.project)
    QGuiApplication.clipboard().setText(text)

    assert window.structure.paste(QPointF(900, 900)) == []

    assert len(said) == 1 and said[0].startswith("Cannot paste: ") and reason in said[0], said
    assert window.statusBar().currentMessage() == said[0]
    assert project_to_json(window.doc.project) == before
    assert window.controller.undo_stack.count() == 0


def test_junk_under_our_own_mime_type_is_refused_too(qtbot):
    from PySide6.QtCore import QMimeData

    window = open_window(qtbot, "lenet.json")
    said = refusals(window)
    data = QMimeData()
    data.setData(FRAGMENT_MIME, b"\xff\xfe not utf-8")
    QGuiApplication.clipboard().setMimeData(data)
    assert window.structure.paste(QPointF(0, 0)) == []
    assert said == ["Cannot paste: the clipboard holds no layers"]


def test_a_block_cannot_be_pasted_into_itself(qtbot):
    window = open_window(qtbot, "resnet18.json")
    window.current_view().canvas.select_nodes(["l11"])
    window.structure.copy()
    window.structure.open_block("BasicBlock")
    said = refusals(window)
    assert window.structure.paste(QPointF(0, 0)) == []
    assert "cannot contain itself" in said[0]
    assert window.controller.undo_stack.count() == 0


def shared_linear_project() -> Project:
    """fc2 calls fc1's module again (shared weights), as an imported model can."""
    return Project(networks=[Network(name="net", nodes=[
        Node(id="i", type="io.Input", name="x", params={"shape": ["N", 4]}),
        Node(id="a", type="nn.Linear", name="fc1", params={"in_features": 4, "out_features": 4}),
        Node(id="b", type="nn.Linear", name="fc2", reuses="a"),
        Node(id="o", type="io.Output", name="y"),
    ], edges=[Edge(source="i", target="a"), Edge(source="a", target="b"),
              Edge(source="b", target="o")])])


def test_copies_of_shared_modules_share_the_copy_or_stand_alone(qtbot):
    window = open_window(qtbot, project=shared_linear_project())
    key, scene = window.current_key(), window.current_view().canvas
    scene.select_nodes(["a", "b"])
    window.structure.copy()
    first, second = window.structure.paste(QPointF(400, 0))
    assert window.doc.node(key, second).reuses == first  # the pair shares its own module

    scene.select_nodes(["b"])
    window.structure.copy()
    (alone,) = window.structure.paste(QPointF(800, 0))
    node = window.doc.node(key, alone)
    assert node.reuses is None and node.params == {"in_features": 4, "out_features": 4}
    codes = {d.code for d in window.doc.diagnostics() if d.node_id in (first, second, alone)
             and d.is_error}
    assert codes == {"unconnected-input"}  # nothing wrong but what a paste always leaves
