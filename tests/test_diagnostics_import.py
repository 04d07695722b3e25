"""Diagnostics of what import adds to a graph: shared modules, modules never called, tied
weights, module lists and the sequential kind. Each decides the names weights are saved
under, so a mistake here would give code whose state_dict no longer fits the model."""

from __future__ import annotations

import pytest

from graph_schema import validate
from graph_schema.document import ModuleList, Network, Node, Project, Tie
from tests.diagnosis import codes, every, the
from tests.graphs import chain_edges, edges, node


def graph(*middle, wires=None, **network):
    """x -> fc (Linear 8) -> middle... -> y, as one network 'main'."""
    nodes = [node("in", "io.Input", "x", shape=["N", 8]),
             node("fc", "nn.Linear", "fc", out_features=8), *middle,
             node("out", "io.Output", "y")]
    if wires is None:
        wires = chain_edges("in", "fc", *(n.id for n in middle if n.called), "out")
    return Project(networks=[Network(name="main", nodes=nodes, edges=wires, **network)])


def again(reuses="fc", type_name="nn.Linear", **fields):
    return Node(id="fc2", type=type_name, name="fc_again", reuses=reuses, **fields)


# -- reuse -----------------------------------------------------------------------------------
def test_reusing_the_module_of_another_node_is_fine():
    assert "bad-reuse" not in codes(graph(node("r", "nn.ReLU", "act"), again()))


@pytest.mark.parametrize("reused, message", [
    (again(reuses="nope"), "reuses node id 'nope', which does not exist"),
    (again(type_name="nn.ReLU"), "reuses 'fc', which is a nn.Linear, not a nn.ReLU"),
    (again(params={"out_features": 8}),
     "reuses the module of 'fc', so it cannot have params, an init or be uncalled of its own"),
], ids=["missing", "other-type", "own-params"])
def test_bad_reuse_says_what_is_wrong(reused, message):
    d = the(graph(node("r", "nn.ReLU", "act"), reused), "bad-reuse")
    assert (d.node_id, d.port, d.severity) == ("fc2", None, "error")
    assert d.message == message


def test_reusing_a_node_that_reuses_is_bad_reuse():
    third = Node(id="fc3", type="nn.Linear", name="fc_third", reuses="fc2")
    d = the(graph(node("r", "nn.ReLU", "act"), again(), node("t", "nn.Tanh", "act2"), third),
            "bad-reuse")
    assert d.node_id == "fc3"
    assert d.message == ("reuses 'fc_again', which itself reuses another node; reuse the node "
                         "that builds the module")


# -- uncalled --------------------------------------------------------------------------------
def spare(**fields):
    return Node(id="spare", type="nn.Linear", name="spare", called=False,
                params={"in_features": 8, "out_features": 2}, **fields)


def test_an_uncalled_layer_without_connections_is_fine():
    assert validate(graph(spare())) == []


def test_an_uncalled_layer_that_is_connected():
    wires = chain_edges("in", "fc", "out") + edges(("fc", "spare"))
    d = the(graph(spare(), wires=wires), "uncalled-connected")
    assert (d.node_id, d.port, d.severity) == ("spare", None, "error")
    assert d.message == ("is marked as never called, but it is connected; connect it and mark "
                         "it called, or disconnect it")


def test_only_a_layer_can_be_kept_uncalled():
    op = Node(id="spare", type="op.add", name="spare", called=False)
    d = the(graph(op), "uncalled-connected")
    assert d.node_id == "spare"
    assert d.message == "only a layer or block can be kept uncalled, not op.add"


# -- tied weights ----------------------------------------------------------------------------
def test_tying_two_attributes_of_modules_is_fine():
    head = node("h", "nn.Linear", "head", out_features=8)
    assert validate(graph(node("r", "nn.ReLU", "act"), head,
                          tied=[Tie(target="head.weight", source="fc.weight")])) == []


@pytest.mark.parametrize("tie, kind, message", [
    (Tie(target="fc.weight", source="head.weight"), "class",
     "tied weight 'head.weight': 'head' is not a module, module list or held tensor of this "
     "graph"),
    (Tie(target="fc", source="fc.weight"), "class",
     "tied weight 'fc' must be an attribute of a module, other than its source"),
    (Tie(target="fc.weight", source="fc.bias"), "sequential",
     "a sequential graph cannot tie weights"),
], ids=["unknown-head", "not-an-attribute", "sequential"])
def test_bad_tie(tie, kind, message):
    d = the(graph(kind=kind, tied=[tie]), "bad-tie")
    assert (d.node_id, d.network, d.severity) == (None, "main", "error")
    assert d.message == message


# -- module lists ----------------------------------------------------------------------------
def test_a_module_list_of_layers_is_fine():
    assert validate(graph(module_lists=[ModuleList(name="layers", nodes=["fc"])])) == []


@pytest.mark.parametrize("lists, message", [
    ([ModuleList(name="fc", nodes=["fc"])],
     "module list 'fc': the name is already used by a node or another module list"),
    ([ModuleList(name="class", nodes=["fc"])],
     "module list 'class' cannot be an attribute name: 'class' is a Python keyword"),
    ([ModuleList(name="layers", nodes=["ghost"])],
     "module list 'layers' lists node id 'ghost', which does not exist"),
], ids=["name-taken", "bad-name", "missing-node"])
def test_bad_module_list_on_the_graph(lists, message):
    d = the(graph(module_lists=lists), "bad-module-list")
    assert (d.node_id, d.network, d.severity) == (None, "main", "error")
    assert d.message == message


def test_a_module_in_two_lists_is_pinned_to_the_node():
    lists = [ModuleList(name="layers", nodes=["fc"]), ModuleList(name="more", nodes=["fc"])]
    d = the(graph(module_lists=lists), "bad-module-list")
    assert d.node_id == "fc"
    assert d.message == ("is listed in module list 'layers' and in 'more'; a module lives in "
                         "one list")


def test_a_tensor_op_cannot_be_in_a_module_list():
    wires = edges(("in", "fc"), ("fc", "add"), ("in", "add", 0, 1), ("add", "out"))
    d = the(graph(node("add", "op.add", "plus"), wires=wires,
                  module_lists=[ModuleList(name="layers", nodes=["add"])]), "bad-module-list")
    assert d.node_id == "add"
    assert d.message == ("cannot be in module list 'layers': op.add is written inline in "
                         "forward(), it is not a module")


# -- the sequential kind ---------------------------------------------------------------------
def test_a_chain_of_layers_can_be_sequential():
    assert validate(graph(node("r", "nn.ReLU", "act"), kind="sequential")) == []


def test_a_tensor_op_in_a_sequential_graph():
    wires = edges(("in", "fc"), ("fc", "add"), ("in", "add", 0, 1), ("add", "out"))
    found = every(graph(node("add", "op.add", "plus"), wires=wires, kind="sequential"),
                  "sequential-not-chain")
    assert [(d.node_id, d.message) for d in found] == [
        ("add", "cannot be in a sequential network: op.add is a tensor op, and nn.Sequential "
                "holds only layers")]


def test_a_branch_in_a_sequential_graph():
    wires = edges(("in", "fc"), ("fc", "out"), ("in", "r"))
    d = the(graph(node("r", "nn.ReLU", "act"), wires=wires, kind="sequential"),
            "sequential-not-chain")
    assert d.node_id == "in"
    assert d.message == ("a sequential network must be one unbranched chain from its input to "
                         "its output, but the chain splits or stops here")


def test_a_layer_off_the_chain_of_a_sequential_graph():
    wires = chain_edges("in", "fc", "out")
    d = the(graph(node("r", "nn.ReLU", "act"), wires=wires, kind="sequential"),
            "sequential-not-chain")
    assert d.node_id == "r"
    assert d.message == "is not on the chain from input to output of a sequential network"


def test_a_layer_with_two_outputs_in_a_sequential_graph():
    d = the(graph(node("l", "nn.LSTM", "lstm", hidden_size=4), kind="sequential"),
            "sequential-not-chain")
    assert d.node_id == "l"
    assert d.message.endswith("nn.Sequential passes one tensor from layer to layer, and "
                              "nn.LSTM takes or returns more than one")


def test_a_sequential_graph_with_two_inputs_or_a_module_list():
    two = graph(kind="sequential")
    two.networks[0].nodes.append(node("in2", "io.Input", "x2", shape=["N", 8]))
    d = the(two, "sequential-not-chain")
    assert d.node_id is None
    assert d.message == ("a sequential network has exactly one io.Input and one io.Output "
                         "(found 2 and 1)")
    listed = graph(kind="sequential", module_lists=[ModuleList(name="layers", nodes=["fc"])])
    assert the(listed, "sequential-not-chain").message == ("a sequential network cannot hold "
                                                           "module lists")


# -- a network that is its one kept block ----------------------------------------------------
def test_a_kept_network_must_be_its_one_kept_block():
    """kind "kept" (an imported model whose own class could not be drawn) on a network
    that draws layers of its own is refused: generated code would subclass nothing."""
    d = the(graph(kind="kept"), "bad-kept-network")
    assert (d.node_id, d.network, d.severity) == (None, "main", "error")
    assert "exactly one node besides its inputs and outputs" in d.message
