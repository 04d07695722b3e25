"""The edit rules without a window: which connections are refused and why, what new layers
are called, and where a layer inserted into a connection goes."""

from __future__ import annotations

import pytest

from graph_schema import validate
from graph_schema.catalog import all_specs
from graph_schema.document import Edge, Node, Position, Project
from graph_schema.edit_rules import (
    base_name,
    connection_problem,
    insert_problem,
    new_node,
    new_node_id,
    plan_insert,
    replaced_edges,
    unique_name,
)
from graph_schema.inference import Inference
from tests.graphs import block, chain_edges, edges, node, project

# The names new layers of these types got from the controller's table before the catalog
# carried them as hints: they must not change.
OLD_BASE_NAMES = {
    "io.Input": "x",
    "io.Output": "out",
    "nn.Linear": "fc",
    "nn.Bilinear": "bilinear",
    "nn.BatchNorm1d": "bn",
    "nn.BatchNorm2d": "bn",
    "nn.BatchNorm3d": "bn",
    "nn.MultiheadAttention": "attn",
    "nn.TransformerEncoderLayer": "encoder_layer",
    "nn.TransformerDecoderLayer": "decoder_layer",
}


def image_chain() -> Project:
    """x (N, 3, 16, 16) -> conv -> y, and loose relu, fc and lstm layers."""
    nodes = [node("x", "io.Input", "x", shape=["N", 3, 16, 16]),
             node("conv", "nn.Conv2d", "conv", out_channels=8, kernel_size=3),
             node("y", "io.Output", "y"),
             node("relu", "nn.ReLU", "relu"),
             node("fc", "nn.Linear", "fc", out_features=4),
             node("lstm", "nn.LSTM", "lstm", hidden_size=4)]
    return project(nodes, chain_edges("x", "conv", "y"))


def problem(proj: Project, source: str, target: str, source_port: int = 0,
            target_port: int = 0) -> str | None:
    network = proj.networks[0]
    edge = Edge(source=source, source_port=source_port, target=target,
                target_port=target_port)
    return connection_problem(proj, network, Inference(network, proj), edge)


# -- connections -----------------------------------------------------------------------------
def test_a_layer_cannot_feed_itself():
    assert problem(image_chain(), "conv", "conv") == "'conv' cannot feed itself"


def test_missing_ports_are_refused():
    proj = image_chain()
    assert problem(proj, "conv", "relu", source_port=1) == "'conv' has no output 1"
    assert problem(proj, "conv", "relu", target_port=1) == "'relu' (nn.ReLU) has no input 1"


def test_a_tensor_of_a_rank_the_layer_never_takes_is_refused():
    message = problem(image_chain(), "conv", "lstm")
    assert message.startswith("cannot connect: 'lstm' (nn.LSTM) input 0: ")
    assert problem(image_chain(), "conv", "fc") is None  # a Linear takes any rank


def test_a_wrong_size_is_allowed_to_show_as_a_diagnostic():
    proj = image_chain()
    proj.networks[0].nodes.append(node("conv5", "nn.Conv2d", "conv5", in_channels=5,
                                       out_channels=8, kernel_size=3))
    assert problem(proj, "x", "conv5") is None


def test_a_connection_that_closes_a_cycle_is_refused():
    proj = image_chain()
    proj.networks[0].edges += edges(("conv", "fc"), ("fc", "relu"))
    assert problem(proj, "relu", "conv") == (
        "connecting 'relu' to 'conv' would make a cycle: 'relu' already depends on 'conv'")


def test_an_occupied_input_is_no_problem_the_connection_replaces_its_edge():
    proj = image_chain()
    network = proj.networks[0]
    new = Edge(source="x", target="y")
    assert problem(proj, "x", "y") is None
    assert replaced_edges(network, new) == [Edge(source="conv", target="y")]
    assert replaced_edges(network, Edge(source="x", target="relu")) == []


def test_the_ports_of_a_block_placement_come_from_the_project():
    head = block("Head", [node("i", "io.Input", "x", shape=["N", 8]),
                          node("l", "nn.Linear", "fc", out_features=2),
                          node("o", "io.Output", "y")], chain_edges("i", "l", "o"))
    proj = project([node("x", "io.Input", "x", shape=["N", 8]),
                    node("h", "block:Head", "head"), node("y", "io.Output", "y")],
                   chain_edges("x", "h", "y"), blocks=[head])
    assert problem(proj, "x", "h", target_port=1) == "'head' (block:Head) has no input 1"


# -- names and ids ---------------------------------------------------------------------------
def test_the_catalog_hints_the_names_the_controller_used_to_give():
    hinted = {spec.type: spec.name_hint for spec in all_specs() if spec.name_hint}
    assert hinted == OLD_BASE_NAMES
    assert {type_name: base_name(type_name) for type_name in hinted} == OLD_BASE_NAMES


@pytest.mark.parametrize("type_name, expected", [
    ("nn.Conv2d", "conv"), ("nn.ConvTranspose2d", "conv_transpose"),
    ("nn.LeakyReLU", "leaky_relu"), ("nn.ReLU6", "relu6"), ("nn.GELU", "gelu"),
    ("nn.PReLU", "prelu"), ("op.add", "add"), ("block:MLPHead", "mlp_head"),
    ("custom.match", "match_layer"),  # a soft keyword is no attribute name
])
def test_other_types_are_named_after_their_short_name(type_name, expected):
    assert base_name(type_name) == expected


def test_unique_names_number_layers_and_keep_a_bare_first_io_name():
    assert unique_name("conv", set()) == "conv1"
    assert unique_name("conv", {"conv1", "conv2"}) == "conv3"
    assert unique_name("x", set(), numbered=False) == "x"
    assert unique_name("x", {"x"}, numbered=False) == "x2"


def test_new_ids_follow_the_highest_numbered_one():
    assert new_node_id(set()) == "n1"
    assert new_node_id({"n1", "n7", "a9", "n3x"}) == "n8"


def test_a_new_node_gets_a_free_name_and_id():
    network = image_chain().networks[0]
    network.nodes.append(node("n4", "nn.Conv2d", "conv1"))
    made = new_node(network, "nn.Conv2d", Position(x=1, y=2), {"kernel_size": 3})
    assert (made.id, made.name, made.params) == ("n5", "conv2", {"kernel_size": 3})
    assert made.position == Position(x=1, y=2)
    assert new_node(network, "nn.ReLU", Position(), name="act").name == "act"
    assert new_node(network, "nn.ReLU", Position(), name="relu").name == "relu1"
    assert new_node(network, "io.Input", Position()).name == "x2"
    pasted = new_node(network, "nn.Conv2d", Position(), taken_ids={"n9"},
                      taken_names={"conv2"})
    assert (pasted.id, pasted.name) == ("n10", "conv3")


# -- inserting a layer into a connection -----------------------------------------------------
def activation_chain() -> Project:
    """x (N, 3, 16, 16) -> conv -> relu -> y, one rank apart."""
    nodes = [Node(id=i, type=t, name=i, params=p, position=Position(x=0, y=100.0 * rank))
             for rank, (i, t, p) in enumerate([
                 ("x", "io.Input", {"shape": ["N", 3, 16, 16]}),
                 ("conv", "nn.Conv2d", {"out_channels": 8, "kernel_size": 3, "bias": False}),
                 ("relu", "nn.ReLU", {}),
                 ("y", "io.Output", {})])]
    return project(nodes, chain_edges("x", "conv", "relu", "y"))


def test_an_inserted_layer_takes_the_targets_place_and_pushes_what_is_below():
    proj = activation_chain()
    network = proj.networks[0]
    edge = Edge(source="conv", target="relu")
    assert insert_problem(proj, network, edge, "nn.BatchNorm2d") is None
    plan = plan_insert(network, Inference(network, proj), edge, "nn.BatchNorm2d", step=50)
    assert (plan.node.type, plan.node.name) == ("nn.BatchNorm2d", "bn1")
    assert plan.node.position == Position(x=0, y=200)
    assert plan.removed == edge
    assert plan.added == (Edge(source="conv", target=plan.node.id),
                          Edge(source=plan.node.id, target="relu"))
    assert plan.moved_from == {"relu": Position(x=0, y=200), "y": Position(x=0, y=300)}
    assert plan.moved_to == {"relu": Position(x=0, y=250), "y": Position(x=0, y=350)}

    network.edges.remove(plan.removed)
    network.nodes.append(plan.node)
    network.edges += plan.added
    assert validate(proj) == []
    assert Inference(network, proj).states[plan.node.id].params["num_features"] == 8


def test_the_plan_keeps_the_target_port_and_the_fix_params():
    proj = project([node("a", "io.Input", "a", shape=["N", 4]),
                    node("b", "io.Input", "b", shape=["N", 4]),
                    node("add", "op.add", "add"), node("y", "io.Output", "y")],
                   edges(("a", "add"), ("b", "add", 0, 1), ("add", "y")))
    network = proj.networks[0]
    edge = Edge(source="b", target="add", target_port=1)
    plan = plan_insert(network, Inference(network, proj), edge, "nn.Dropout", {"p": 0.1},
                       step=10)
    assert plan.node.params == {"p": 0.1}
    assert plan.added[1] == Edge(source=plan.node.id, target="add", target_port=1)
    assert set(plan.moved_from) == {"add", "y"}


@pytest.mark.parametrize("type_name", ["io.Input", "io.Output", "nn.NoSuchLayer"])
def test_only_a_layer_with_an_input_and_an_output_goes_into_a_connection(type_name):
    proj = activation_chain()
    assert insert_problem(proj, proj.networks[0], Edge(source="conv", target="relu"),
                          type_name) == (f"Cannot insert {type_name} into a connection: it "
                                         f"needs an input and an output")


def test_nothing_goes_into_a_connection_that_is_gone():
    proj = activation_chain()
    assert insert_problem(proj, proj.networks[0], Edge(source="x", target="relu"),
                          "nn.ReLU") == "Cannot insert a layer: the connection is gone"
