"""Diagnostics of the graph itself: types, parameters, wiring, names, reachability.

Each code has a test where it fires (code, node, port and message written out), a
near-identical correct graph where it must not, and its fix applied where it has one.
tests/test_diagnostic_coverage.py checks that every code the package can emit has one here
or in a sibling file.
"""

from __future__ import annotations

from graph_schema import validate
from graph_schema.catalog.registry import _SPECS
from graph_schema.catalog.spec import LayerSpec
from tests.diagnosis import apply_fix, codes, every, the
from tests.graphs import chain_edges, edges, node, project


def mlp(*middle, shape=("N", 8), extra_edges=(), chain=True):
    """x -> middle... -> y, wired as a chain unless told otherwise."""
    nodes = [node("in", "io.Input", "x", shape=list(shape)), *middle,
             node("out", "io.Output", "y")]
    wires = chain_edges("in", *(n.id for n in middle), "out") if chain else []
    return project(nodes, wires + edges(*extra_edges))


# -- types and parameters --------------------------------------------------------------------
def test_unknown_type_names_the_type():
    d = the(mlp(node("c", "nn.Conv4d", "conv")), "unknown-type")
    assert (d.node_id, d.port, d.severity) == ("c", None, "error")
    assert d.message == "unknown layer type 'nn.Conv4d'"


def test_a_known_type_is_not_unknown():
    assert "unknown-type" not in codes(mlp(node("c", "nn.ReLU", "act")))


def test_unknown_param_names_the_param_and_the_type():
    d = the(mlp(node("fc", "nn.Linear", "fc", out_features=3, widht=3)), "unknown-param")
    assert (d.node_id, d.port) == ("fc", None)
    assert d.message == "nn.Linear has no parameter 'widht'"


def test_a_known_param_is_not_unknown():
    assert validate(mlp(node("fc", "nn.Linear", "fc", out_features=3, bias=False))) == []


def test_bad_param_says_what_the_value_must_be():
    d = the(mlp(node("fc", "nn.Linear", "fc", out_features=0)), "bad-param")
    assert (d.node_id, d.port, d.severity) == ("fc", None, "error")
    assert d.message == "out_features must be at least 1, got 0"
    assert validate(mlp(node("fc", "nn.Linear", "fc", out_features=1))) == []


def test_bad_param_from_a_shape_rule_comes_with_its_fix():
    conv = node("c", "nn.Conv2d", "conv", out_channels=8, kernel_size=3, padding="same",
                stride=2)
    broken = mlp(conv, shape=("N", 3, 8, 8))
    d = the(broken, "bad-param")
    assert (d.node_id, d.port) == ("c", None)
    assert d.message == "padding='same' needs stride=1 in PyTorch"
    assert (d.fix.kind, d.fix.args) == ("set_param", {"param": "padding", "value": 0})
    assert validate(apply_fix(broken, d)) == []


def test_an_input_shape_with_minus_one_is_a_bad_param():
    d = the(mlp(shape=("N", -1)), "bad-param")
    assert (d.node_id, d.port) == ("in", None)
    assert "cannot contain -1" in d.message and "name the dimension" in d.message
    assert "bad-param" not in codes(mlp(shape=("N", "L")))


def test_missing_param_names_the_param_to_set():
    d = the(mlp(node("c", "nn.Conv2d", "conv", kernel_size=3), shape=("N", 3, 8, 8)),
            "missing-param")
    assert (d.node_id, d.port, d.severity) == ("c", None, "error")
    assert d.message == "out_channels must be set"
    fine = mlp(node("c", "nn.Conv2d", "conv", kernel_size=3, out_channels=4),
               shape=("N", 3, 8, 8))
    assert validate(fine) == []


def test_a_rule_that_trips_is_reported_not_raised(monkeypatch):
    def rule(_p, _inputs):
        return [(1 // 0,)]

    monkeypatch.setitem(_SPECS, "test.Broken", LayerSpec("test.Broken", "op", rule))
    d = the(mlp(node("b", "test.Broken", "broken")), "shape-rule-failed")
    assert (d.node_id, d.port) == ("b", None)
    assert d.message == ("cannot infer the output shape from inputs (N, 8) "
                         "(ZeroDivisionError: integer division or modulo by zero)")
    monkeypatch.setitem(_SPECS, "test.Broken", LayerSpec("test.Broken", "op",
                                                         lambda _p, inputs: [inputs[0]]))
    assert "shape-rule-failed" not in codes(mlp(node("b", "test.Broken", "broken")))


# -- wiring ----------------------------------------------------------------------------------
def looped():
    """x -> fc1 -> fc2 -> merge -> y, and merge feeding fc1 back: a loop of three."""
    nodes = [node("in", "io.Input", "x", shape=["N", 8]),
             node("fc1", "nn.Linear", "fc1", out_features=8), node("act", "nn.ReLU", "act"),
             node("add", "op.add", "merge"), node("out", "io.Output", "y")]
    return nodes, edges(("in", "add"), ("add", "fc1", 0, 0), ("fc1", "act"),
                        ("act", "add", 0, 1), ("add", "out"))


def test_cycle_marks_every_node_on_the_loop_and_only_those():
    nodes, wires = looped()
    found = every(project(nodes, wires), "cycle")
    assert sorted(d.node_id for d in found) == ["act", "add", "fc1"]
    assert all(d.port is None and d.severity == "error" for d in found)
    assert found[0].message.startswith("is part of a cycle: data would flow back into itself")


def test_the_same_layers_without_the_back_edge_have_no_cycle():
    nodes, wires = looped()
    straight = [e for e in wires if (e.source, e.target) != ("add", "fc1")]
    straight += edges(("in", "fc1"))
    assert validate(project(nodes, straight)) == []


def test_port_taken_when_one_input_has_two_connections():
    broken = mlp(node("r", "nn.ReLU", "act"), node("in2", "io.Input", "x2", shape=["N", 8]),
                 extra_edges=[("in2", "r")], chain=False)
    broken.networks[0].edges += chain_edges("in", "r", "out")
    d = the(broken, "port-taken")
    assert (d.node_id, d.port) == ("r", 0)
    assert d.message == "is connected twice; an input takes one connection"
    assert "port-taken" not in codes(mlp(node("r", "nn.ReLU", "act")))


def test_no_such_port_on_the_target_side():
    broken = mlp(node("r", "nn.ReLU", "act"), extra_edges=[("in", "r", 0, 1), ("r", "out")],
                 chain=False)
    d = the(broken, "no-such-port")
    assert (d.node_id, d.port) == ("r", 1)
    assert d.message == "nn.ReLU has 1 input; nothing can connect to input 1"
    assert validate(mlp(node("r", "nn.ReLU", "act"))) == []


def test_no_such_port_on_the_source_side():
    broken = mlp(node("r", "nn.ReLU", "act"), extra_edges=[("in", "r", 1, 0), ("r", "out")],
                 chain=False)
    d = the(broken, "no-such-port")
    assert (d.node_id, d.port) == ("r", 0)
    assert d.message == "is connected to output 1 of 'x', which has 1 output(s)"


def test_unconnected_input_names_the_port():
    broken = project([node("in", "io.Input", "x", shape=["N", 8]), node("a", "op.add", "plus"),
                      node("out", "io.Output", "y")], edges(("in", "a"), ("a", "out")))
    d = the(broken, "unconnected-input")
    assert (d.node_id, d.port, d.severity) == ("a", 1, "error")
    assert d.message == "other is not connected"
    broken.networks[0].edges += edges(("in", "a", 0, 1))
    assert validate(broken) == []


def test_edge_dangling_pinned_to_the_end_that_exists():
    broken = mlp(node("r", "nn.ReLU", "act"), extra_edges=[("ghost", "r", 0, 0)], chain=False)
    broken.networks[0].edges += edges(("r", "out"))
    d = the(broken, "edge-dangling")
    assert (d.node_id, d.port, d.severity) == ("r", None, "error")
    assert d.message == ("a connection ghost:0 -> r:0 refers to node id 'ghost', "
                         "which does not exist")
    assert "edge-dangling" not in codes(mlp(node("r", "nn.ReLU", "act")))


def test_edge_dangling_on_the_graph_when_both_ends_are_missing():
    broken = mlp(node("r", "nn.ReLU", "act"), extra_edges=[("ghost", "phantom")])
    d = the(broken, "edge-dangling")
    assert (d.node_id, d.network) == (None, "main")
    assert "'ghost' and 'phantom', which does not exist" in d.message


# -- names -----------------------------------------------------------------------------------
def test_bad_name_says_why():
    d = the(mlp(node("r", "nn.ReLU", "class")), "bad-name")
    assert (d.node_id, d.port, d.node_name) == ("r", None, "class")
    assert d.message == "cannot be used as a name in generated code: 'class' is a Python keyword"
    assert validate(mlp(node("r", "nn.ReLU", "class_"))) == []


def test_duplicate_name_pins_the_second_node_and_names_the_first():
    broken = mlp(node("a", "nn.Linear", "fc", out_features=8),
                 node("b", "nn.Linear", "fc", out_features=4))
    d = the(broken, "duplicate-name")
    assert (d.node_id, d.port, d.severity) == ("b", None, "error")
    assert d.message == ("the name 'fc' is already used by nn.Linear (id a); names must be "
                         "unique within a network")


def test_distinct_names_are_not_duplicates():
    fine = mlp(node("a", "nn.Linear", "fc1", out_features=8), node("r", "nn.ReLU", "act"),
               node("b", "nn.Linear", "fc2", out_features=4))
    assert validate(fine) == []


def test_the_same_name_in_two_networks_is_no_duplicate():
    first = mlp(node("a", "nn.ReLU", "act"))
    second = mlp(node("a", "nn.ReLU", "act")).networks[0].model_copy(update={"name": "other"})
    first.networks.append(second)
    assert "duplicate-name" not in codes(first)


# -- reachability ----------------------------------------------------------------------------
def test_no_input():
    broken = project([node("r", "nn.ReLU", "act"), node("out", "io.Output", "y")],
                     chain_edges("r", "out"))
    d = the(broken, "no-input")
    assert (d.node_id, d.network, d.severity) == (None, "main", "error")
    assert d.message.startswith("has no io.Input node: add one")
    assert "no-input" not in codes(mlp(node("r", "nn.ReLU", "act")))


def test_no_output():
    broken = project([node("in", "io.Input", "x", shape=["N", 8]), node("r", "nn.ReLU", "act")],
                     chain_edges("in", "r"))
    d = the(broken, "no-output")
    assert (d.node_id, d.network, d.severity) == (None, "main", "error")
    assert d.message == "has no io.Output node: connect the last layer to an output"
    assert "no-output" not in codes(mlp(node("r", "nn.ReLU", "act")))


def two_inputs_two_outputs(*wires):
    nodes = [node("in", "io.Input", "x", shape=["N", 8]),
             node("m", "io.Input", "mask", shape=["N", 8]),
             node("r", "nn.ReLU", "act"), node("t", "nn.Tanh", "aux"),
             node("out", "io.Output", "y"), node("out2", "io.Output", "aux_out")]
    return project(nodes, edges(*wires))


def test_unreachable_output_when_only_a_parameter_free_source_feeds_it():
    broken = project([node("in", "io.Input", "x", shape=["N", 8]),
                      node("p", "attr.Parameter", "scale", shape=[8]),
                      node("out", "io.Output", "y"), node("out2", "io.Output", "bias_out")],
                     edges(("in", "out"), ("p", "out2")))
    d = the(broken, "unreachable-output")
    assert (d.node_id, d.port, d.severity) == ("out2", None, "error")
    assert d.message == "no input reaches this output"
    broken.networks[0].nodes.append(node("mul", "op.mul", "scaled"))
    broken.networks[0].edges = edges(("in", "out"), ("in", "mul"), ("p", "mul", 0, 1),
                                     ("mul", "out2"))
    assert validate(broken) == []


def test_unused_input_and_dead_node_are_warnings_on_their_nodes():
    broken = two_inputs_two_outputs(("in", "r"), ("r", "out"), ("r", "t"), ("in", "out2"))
    unused, dead = the(broken, "unused-input"), the(broken, "dead-node")
    assert (unused.node_id, unused.port, unused.severity) == ("m", None, "warning")
    assert unused.message == "this input does not reach any output"
    assert (dead.node_id, dead.port, dead.severity) == ("t", None, "warning")
    assert dead.message == "its result does not reach any output"


def test_every_input_and_node_used_gives_no_reachability_warning():
    fine = two_inputs_two_outputs(("in", "r"), ("r", "out"), ("m", "t"), ("t", "out2"))
    assert validate(fine) == []
