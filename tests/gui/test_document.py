"""The document and its commands, without widgets: edits change the project, derived state
follows incrementally, and undo/redo re-emit exactly the signals of the original action."""

from __future__ import annotations

from pathlib import Path

import pytest

from builder.gui.controller import REMOVE, EditController
from builder.gui.fixes import apply_fix
from builder.gui.project_document import ProjectDocument, block_key, network_key
from graph_schema import load_project
from graph_schema.dims import Sym
from graph_schema.document import Position
from graph_schema.edit_rules import base_name
from graph_schema.files import project_to_json

ROOT = Path(__file__).resolve().parents[2]
SIGNALS = ("node_added", "node_removed", "node_changed", "nodes_moved", "edge_added",
           "edge_removed", "shapes_changed", "diagnostics_changed", "graph_added",
           "graph_removed", "graph_renamed", "project_changed")


class Recorder:
    def __init__(self, doc: ProjectDocument):
        self.events: list[tuple] = []
        for name in SIGNALS:
            getattr(doc, name).connect(lambda *args, n=name: self.events.append(
                (n, *[_frozen(a) for a in args])))

    def take(self) -> list[tuple]:
        events, self.events = self.events, []
        return events


def _frozen(value):
    if isinstance(value, (set, list)):
        return frozenset(value)
    if hasattr(value, "model_dump"):
        return tuple(sorted(value.model_dump().items()))
    return value


def open_example(name: str) -> tuple[ProjectDocument, EditController]:
    doc = ProjectDocument(load_project(ROOT / "examples" / name))
    return doc, EditController(doc)


def chain_doc(qapp):
    """x (N, 3, 16, 16) -> conv -> y, built through the controller."""
    doc = ProjectDocument()
    controller = EditController(doc)
    key = network_key("main")
    x, y = "n1", "n2"
    controller.set_param(key, x, "shape", ["N", 3, 16, 16])
    conv = controller.add_node(key, "nn.Conv2d", Position(x=0, y=120),
                               {"out_channels": 8, "kernel_size": 3})
    controller.connect(key, x, 0, conv, 0)
    controller.connect(key, conv, 0, y, 0)
    return doc, controller, key, conv


def test_new_nodes_get_readable_unique_names(qapp):
    assert base_name("nn.Conv2d") == "conv"
    assert base_name("nn.BatchNorm2d") == "bn"
    assert base_name("nn.LeakyReLU") == "leaky_relu"
    assert base_name("nn.ConvTranspose2d") == "conv_transpose"
    assert base_name("nn.GELU") == "gelu"
    assert base_name("nn.ReLU6") == "relu6"
    assert base_name("nn.SiLU") == "silu"
    assert base_name("nn.PReLU") == "prelu"
    assert base_name("op.add") == "add"
    doc, controller, key, conv = chain_doc(qapp)
    second = controller.add_node(key, "nn.Conv2d", Position(x=0, y=240))
    assert doc.node(key, conv).name == "conv1"
    assert doc.node(key, second).name == "conv2"
    assert second != conv


def test_shapes_and_inferred_params_follow_edits(qapp):
    doc, controller, key, conv = chain_doc(qapp)
    state = doc.analysis(key).inference.states[conv]
    assert state.outputs == [(Sym.named("N"), 8, 14, 14)]
    assert "in_channels" in state.inferred and state.params["in_channels"] == 3
    controller.set_param(key, conv, "padding", 1)
    assert doc.analysis(key).inference.output_shape(conv) == (Sym.named("N"), 8, 16, 16)
    controller.set_param(key, conv, "padding", REMOVE)
    assert doc.analysis(key).inference.output_shape(conv) == (Sym.named("N"), 8, 14, 14)
    assert not doc.diagnostics()


@pytest.mark.parametrize("action", ["add", "connect", "edit", "rename", "move", "delete",
                                    "notes"])
def test_undo_and_redo_re_emit_the_same_signals(qapp, action):
    doc, controller, key, conv = chain_doc(qapp)
    before = project_to_json(doc.project)
    recorder = Recorder(doc)
    if action == "add":
        controller.add_node(key, "nn.ReLU", Position(x=200, y=120))
    elif action == "connect":
        relu = controller.add_node(key, "nn.ReLU", Position(x=200, y=120))
        before = project_to_json(doc.project)
        recorder.take()
        controller.connect(key, conv, 0, relu, 0)
    elif action == "edit":
        controller.set_param(key, conv, "out_channels", 16)
    elif action == "rename":
        controller.rename(key, conv, "stem")
    elif action == "move":
        controller.move(key, {conv: Position(x=40, y=160)})
    elif action == "delete":
        controller.delete(key, {conv})
    elif action == "notes":
        controller.set_project_field("notes", "From the paper, table 2.")
    done = recorder.take()
    after = project_to_json(doc.project)
    assert done and after != before
    controller.undo_stack.undo()
    assert project_to_json(doc.project) == before
    recorder.take()
    controller.undo_stack.redo()
    assert recorder.take() == done
    assert project_to_json(doc.project) == after


def test_delete_removes_edges_and_undo_restores_order(qapp):
    doc, controller, key, conv = chain_doc(qapp)
    before = project_to_json(doc.project)
    controller.delete(key, {conv})
    graph = doc.graph(key)
    assert conv not in {n.id for n in graph.nodes}
    assert not [e for e in graph.edges if conv in (e.source, e.target)]
    assert any(d.code == "unconnected-input" for d in doc.diagnostics())
    controller.undo_stack.undo()
    assert project_to_json(doc.project) == before
    assert controller.undo_stack.count() == 5  # shape, add, 2 connects, delete


def test_connections_that_cannot_work_are_refused(qapp):
    doc, controller, key, conv = chain_doc(qapp)
    messages = []
    controller.refused.connect(messages.append)
    count = controller.undo_stack.count()
    assert not controller.connect(key, conv, 0, conv, 0)
    relu = controller.add_node(key, "nn.ReLU", Position(x=200, y=120))
    assert not controller.connect(key, conv, 1, relu, 0)  # a Conv2d has one output
    assert "no output 1" in messages[-1]
    assert not controller.connect(key, conv, 0, relu, 1)  # and a ReLU one input
    assert "no input 1" in messages[-1]
    fc = controller.add_node(key, "nn.Linear", Position(x=0, y=240), {"out_features": 4})
    controller.connect(key, conv, 0, fc, 0)  # any rank works for Linear: allowed
    emb = controller.add_node(key, "nn.LSTM", Position(x=0, y=360), {"hidden_size": 4})
    assert not controller.connect(key, conv, 0, emb, 0)  # a 4-D tensor into an LSTM
    assert "LSTM" in messages[-1] and "input 0" in messages[-1]
    assert not controller.connect(key, fc, 0, conv, 0)  # conv -> fc -> conv is a cycle
    assert "cycle" in messages[-1]
    assert controller.undo_stack.count() == count + 4


def test_connecting_an_occupied_input_replaces_its_edge_in_one_step(qapp):
    doc, controller, key, conv = chain_doc(qapp)
    relu = controller.add_node(key, "nn.ReLU", Position(x=200, y=120))
    controller.connect(key, "n1", 0, relu, 0)
    steps = controller.undo_stack.count()
    controller.connect(key, relu, 0, "n2", 0)
    into_output = [e for e in doc.graph(key).edges if e.target == "n2"]
    assert [e.source for e in into_output] == [relu]
    assert controller.undo_stack.count() == steps + 1
    controller.undo_stack.undo()
    assert [e.source for e in doc.graph(key).edges if e.target == "n2"] == [conv]


def test_wrong_in_channels_is_diagnosed_and_fixed(qapp):
    doc, controller = open_example("broken/wrong_in_channels.json")
    (error,) = [d for d in doc.diagnostics() if d.is_error]
    assert error.code == "shape-mismatch" and error.fix.kind == "set_param"
    key = network_key(error.network)
    assert apply_fix(controller, key, error)
    assert not [d for d in doc.diagnostics() if d.is_error]
    controller.undo_stack.undo()
    assert [d.code for d in doc.diagnostics() if d.is_error] == ["shape-mismatch"]


def test_insert_flatten_fix_rewires_and_moves_downstream(qapp):
    doc, controller = open_example("broken/linear_without_flatten.json")
    error = next(d for d in doc.diagnostics() if d.is_error)
    key = network_key(error.network)
    y_before = doc.node(key, error.node_id).position.y
    assert apply_fix(controller, key, error)
    assert not [d for d in doc.diagnostics() if d.is_error]
    flatten = [n for n in doc.graph(key).nodes if n.type == "nn.Flatten"]
    assert len(flatten) == 1
    assert doc.node(key, error.node_id).position.y > y_before
    assert controller.undo_stack.undoText().startswith("Fix: insert Flatten")


def test_editing_a_block_updates_every_placement(qapp):
    doc, controller = open_example("resnet18.json")
    net = network_key("resnet18")
    block = block_key("BasicBlock")
    placements = [n for k, n in doc.placements("BasicBlock") if k == net]
    assert len(placements) >= 2
    recorder = Recorder(doc)
    conv = next(n for n in doc.graph(block).nodes if n.type == "nn.Conv2d")
    old = {p: doc.analysis(net).inference.states[p].params for p in placements}
    controller.set_param(block, conv.id, "padding", 0)
    events = recorder.take()
    changed = set().union(*[e[2] for e in events if e[0] == "shapes_changed" and e[1] == net])
    assert set(placements) <= changed
    assert any(e[0] == "diagnostics_changed" and e[1] == net for e in events)
    controller.undo_stack.undo()
    assert {p: doc.analysis(net).inference.states[p].params for p in placements} == old


def test_block_tab_shapes_come_from_the_first_placement(qapp):
    doc, _ = open_example("resnet18.json")
    analysis = doc.analysis(block_key("BasicBlock"))
    assert analysis.block_inputs
    shapes = [s for s in analysis.inference.states.values() if s.outputs]
    assert shapes and all(s.outputs[0][0] == Sym.named("N") for s in shapes if s.outputs[0])


def test_networks_are_added_renamed_and_removed_undoably(qapp):
    from builder.gui.graph_edits import add_network, remove_network, rename_graph

    doc, controller = open_example("mlp.json")
    assert add_network(controller, "critic")
    assert network_key("critic") in doc.graph_keys()
    assert not add_network(controller, "critic")
    assert rename_graph(controller, network_key("critic"), "discriminator")
    assert network_key("discriminator") in doc.graph_keys()
    assert remove_network(controller, network_key("discriminator"))
    assert len(doc.project.networks) == 1
    assert not remove_network(controller, network_key(doc.project.networks[0].name))
    for _ in range(3):
        controller.undo_stack.undo()
    assert [n.name for n in doc.project.networks] == ["mlp"]


def test_rename_refuses_keywords_and_duplicates(qapp):
    doc, controller, key, conv = chain_doc(qapp)
    messages = []
    controller.refused.connect(messages.append)
    assert not controller.rename(key, conv, "class")
    assert not controller.rename(key, conv, "x")
    assert not controller.rename(key, conv, "forward")
    assert len(messages) == 3 and "keyword" in messages[0]
    assert controller.rename(key, conv, "stem")
