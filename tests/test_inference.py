"""The inference engine: resolved params, diagnostics at ports, incremental updates, blocks."""

from graph_schema.dims import Sym
from graph_schema.inference import Inference
from tests.graphs import block, chain_edges, edges, node, project

N = Sym.named("N")


def conv_chain():
    nodes = [
        node("in", "io.Input", "image", shape=["N", 3, 32, 32]),
        node("c1", "nn.Conv2d", "conv1", out_channels=8, kernel_size=3, padding=1),
        node("c2", "nn.Conv2d", "conv2", out_channels=16, kernel_size=3, stride=2),
        node("fl", "nn.Flatten", "flatten"),
        node("fc", "nn.Linear", "fc", out_features=10),
        node("out", "io.Output", "logits"),
    ]
    return project(nodes, chain_edges("in", "c1", "c2", "fl", "fc", "out"))


def test_shapes_and_inferred_params_flow_down_the_chain():
    p = conv_chain()
    inf = Inference(p.networks[0], p)
    assert inf.output_shape("c1") == (N, 8, 32, 32)
    assert inf.output_shape("c2") == (N, 16, 15, 15)
    assert inf.output_shape("fc") == (N, 10)
    assert inf.states["c2"].params["in_channels"] == 8
    assert inf.states["c2"].inferred == frozenset({"in_channels"})
    assert inf.states["fc"].params["in_features"] == 16 * 15 * 15
    assert inf.diagnostics() == []


def test_incremental_update_touches_only_what_changes():
    p = conv_chain()
    network = p.networks[0]
    inf = Inference(network, p)
    before = {k: v for k, v in inf.states.items()}
    network.node("c2").params["stride"] = 1
    changed = inf.update({"c2"})
    assert changed == {"c2", "fl", "fc"}  # the output's input shape is unchanged: (N, 10)
    assert inf.output_shape("fc") == (N, 10)
    assert inf.states["fc"].params["in_features"] == 16 * 30 * 30
    assert inf.states["c1"] is before["c1"]  # upstream untouched


def test_edit_that_does_not_change_outputs_stops_the_wave():
    p = conv_chain()
    network = p.networks[0]
    inf = Inference(network, p)
    fc_state = inf.states["fc"]
    network.node("c1").params["bias"] = False
    assert inf.update({"c1"}) == {"c1"}
    assert inf.states["fc"] is fc_state


def test_structure_change_rebuilds_and_reports_removed_nodes():
    p = conv_chain()
    network = p.networks[0]
    inf = Inference(network, p)
    network.edges = [e for e in network.edges if e.target != "fc"]
    changed = inf.update({"fc"}, structure_changed=True)
    assert "fc" in changed
    assert [d.code for d in inf.states["fc"].diagnostics] == ["unconnected-input"]
    assert inf.states["fc"].diagnostics[0].port == 0


def test_mismatch_is_pinned_to_the_port_with_a_fix():
    p = conv_chain()
    p.networks[0].node("c2").params["in_channels"] = 4
    inf = Inference(p.networks[0], p)
    (diag,) = inf.diagnostics()
    assert (diag.node_id, diag.port, diag.code) == ("c2", 0, "shape-mismatch")
    assert diag.message == "expected dimension 1 to be 4 (in_channels), received (N, 8, 32, 32)"
    assert diag.fix.label == "set in_channels=8"
    assert diag.format("f.json") == (
        "f.json: network 'main', node 'conv2' (nn.Conv2d), input 0: expected dimension 1 to be "
        "4 (in_channels), received (N, 8, 32, 32) (fix: set in_channels=8)")


def test_linear_after_conv_without_flatten_suggests_flatten():
    nodes = [node("in", "io.Input", "x", shape=["N", 16, 5, 5]),
             node("fc", "nn.Linear", "fc1", in_features=400, out_features=10),
             node("out", "io.Output", "y")]
    p = project(nodes, chain_edges("in", "fc", "out"))
    (diag,) = Inference(p.networks[0], p).diagnostics()
    assert ("expected the last dimension to be 400 (in_features), received (N, 16, 5, 5)"
            in diag.message)
    assert diag.fix.label == "insert Flatten"


def test_bad_and_unknown_params_and_types():
    nodes = [node("in", "io.Input", "x", shape=["N", 3, 8, 8]),
             node("a", "nn.Conv2d", "a", out_channels=10**30, kernel_size=-3, color="red"),
             node("b", "nn.Conv9d", "b"),
             node("out", "io.Output", "y")]
    p = project(nodes, chain_edges("in", "a", "b", "out"))
    codes = sorted((d.node_id, d.code) for d in Inference(p.networks[0], p).diagnostics())
    assert codes == [("a", "bad-param"), ("a", "bad-param"), ("a", "unknown-param"),
                     ("b", "unknown-type")]


def test_missing_required_param():
    nodes = [node("in", "io.Input", "x", shape=["N", 3]), node("fc", "nn.Linear", "fc"),
             node("out", "io.Output", "y")]
    p = project(nodes, chain_edges("in", "fc", "out"))
    (diag,) = Inference(p.networks[0], p).diagnostics()
    assert diag.code == "missing-param" and "out_features" in diag.message


def test_cycle_nodes_are_reported_and_do_not_hang():
    nodes = [node("in", "io.Input", "x", shape=["N", 4]),
             node("a", "nn.Linear", "a", out_features=4),
             node("b", "nn.Linear", "b", out_features=4),
             node("out", "io.Output", "y")]
    p = project(nodes, edges(("in", "a"), ("a", "b"), ("b", "a", 0, 1), ("b", "out")))
    inf = Inference(p.networks[0], p)
    assert inf.cycle_nodes == {"a", "b"}
    assert {d.node_id for d in inf.diagnostics() if d.code == "cycle"} == {"a", "b"}


def test_edge_from_a_missing_output_port():
    nodes = [node("in", "io.Input", "x", shape=["N", 4]),
             node("fc", "nn.Linear", "fc", out_features=2), node("out", "io.Output", "y")]
    p = project(nodes, edges(("in", "fc", 3, 0), ("fc", "out")))
    (diag,) = Inference(p.networks[0], p).diagnostics()
    assert diag.code == "no-such-port" and diag.port == 0


def residual_block():
    inner = [node("bi", "io.Input", "x"),
             node("c", "nn.Conv2d", "conv", out_channels={"arg": "channels"}, kernel_size=3,
                  padding=1),
             node("bo", "io.Output", "y")]
    return block("Body", inner, chain_edges("bi", "c", "bo"), channels=8)


def test_block_instances_infer_through_the_body_with_their_arguments():
    nodes = [node("in", "io.Input", "x", shape=["N", 3, 16, 16]),
             node("b1", "block:Body", "body1"),
             node("b2", "block:Body", "body2", channels=32),
             node("out", "io.Output", "y")]
    p = project(nodes, chain_edges("in", "b1", "b2", "out"), blocks=[residual_block()])
    inf = Inference(p.networks[0], p)
    assert inf.output_shape("b1") == (N, 8, 16, 16)
    assert inf.output_shape("b2") == (N, 32, 16, 16)


def test_block_that_contains_itself_is_an_error_not_a_hang():
    inner = [node("bi", "io.Input", "x"), node("me", "block:Loop", "me"),
             node("bo", "io.Output", "y")]
    loop = block("Loop", inner, chain_edges("bi", "me", "bo"))
    nodes = [node("in", "io.Input", "x", shape=["N", 3]), node("b", "block:Loop", "b"),
             node("out", "io.Output", "y")]
    p = project(nodes, chain_edges("in", "b", "out"), blocks=[loop])
    (diag,) = Inference(p.networks[0], p).diagnostics()
    assert "contains itself" in diag.message
