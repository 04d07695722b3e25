"""Containers in generated code: sequential blocks become nn.Sequential, repeated blocks and
declared module lists become nn.ModuleList, and weights are saved under the names that
implies (``features.0.weight``, ``layers.2.conv.weight``)."""

from __future__ import annotations

import json

import pytest
import torch

from codegen import generate_source
from graph_schema import project_from_json, validate
from graph_schema.document import FORMAT_VERSION, Block, ModuleList, Network, Project
from tests.codegen_support import generate_and_import
from tests.graphs import block, chain_edges, edges, node, project
from tests.import_models.checks import check_generated


def conv_chain_block(name="Stem", kind="sequential", **arguments) -> Block:
    nodes = [node("i", "io.Input", "x"),
             node("c", "nn.Conv2d", "conv", out_channels={"arg": "channels"} if arguments
                  else 8, kernel_size=3, padding=1),
             node("b", "nn.BatchNorm2d", "bn"),
             node("r", "nn.ReLU", "relu"),
             node("o", "io.Output", "y")]
    made = block(name, nodes, chain_edges("i", "c", "b", "r", "o"), **arguments)
    return made.model_copy(update={"kind": kind})


def residual_block() -> Block:
    nodes = [node("i", "io.Input", "x"),
             node("c", "nn.Conv2d", "conv", out_channels=8, kernel_size=3, padding=1),
             node("r", "nn.ReLU", "relu"),
             node("a", "op.add", "residual"),
             node("o", "io.Output", "y")]
    return block("Residual", nodes, edges(("i", "c"), ("c", "r"), ("r", "a"), ("i", "a", 0, 1),
                                          ("a", "o")))


def image_input(channels=3):
    return node("in", "io.Input", "image", shape=["N", channels, 8, 8])


def keys(model) -> set[str]:
    return set(model.state_dict())


# -- nn.Sequential ---------------------------------------------------------------------------
def test_sequential_block_placed_once_is_written_in_place(tmp_path):
    nodes = [image_input(), node("s", "block:Stem", "stem"),
             node("p", "nn.AdaptiveAvgPool2d", "pool", output_size=1),
             node("out", "io.Output", "y")]
    p = project(nodes, chain_edges("in", "s", "p", "out"), blocks=[conv_chain_block()])
    source, module, _ = generate_and_import(p, tmp_path)
    assert "class Stem" not in source
    assert "self.stem = nn.Sequential(\n" in source
    assert "nn.Conv2d(3, 8, 3, padding=1),  # -> (N, 8, 8, 8)" in source
    assert "x = self.stem(image)  # -> (N, 8, 8, 8)" in source
    model, _ = check_generated(p, p.networks[0], module.Main)
    assert {"stem.0.weight", "stem.1.running_mean"} <= keys(model)


def test_sequential_block_with_arguments_is_a_sequential_subclass(tmp_path):
    nodes = [image_input(), node("a", "block:Stem", "stem1"),
             node("b", "block:Stem", "stem2", channels=16), node("out", "io.Output", "y")]
    p = project(nodes, chain_edges("in", "a", "b", "out"),
                blocks=[conv_chain_block(channels=8)])
    source, module, _ = generate_and_import(p, tmp_path)
    assert "class Stem(nn.Sequential):" in source
    assert "super().__init__(\n" in source
    assert "self.stem2 = Stem(channels=16, conv_in_channels=8)" in source
    assert "nn.BatchNorm2d(channels)" in source
    model, _ = check_generated(p, p.networks[0], module.Main)
    assert model.stem2[0].out_channels == 16
    assert "stem2.1.weight" in keys(model)


def test_empty_sequential_and_a_sequential_network(tmp_path):
    empty = block("Shortcut", [node("i", "io.Input", "x"), node("o", "io.Output", "y")],
                  chain_edges("i", "o")).model_copy(update={"kind": "sequential"})
    nodes = [node("in", "io.Input", "x", shape=["N", 4]), node("s", "block:Shortcut", "skip"),
             node("fc", "nn.Linear", "fc", out_features=3), node("out", "io.Output", "y")]
    net = Network(name="head", kind="sequential", nodes=nodes,
                  edges=chain_edges("in", "s", "fc", "out"))
    p = Project(networks=[net], blocks=[empty])
    source, module, _ = generate_and_import(p, tmp_path)
    assert "class Head(nn.Sequential):" in source
    assert "nn.Sequential(),  # -> (N, 4)" in source
    model, _ = check_generated(p, p.networks[0], module.Head)
    assert keys(model) == {"1.weight", "1.bias"}


def test_init_reaches_layers_inside_a_sequential(tmp_path):
    stem = conv_chain_block()
    stem.nodes[1] = stem.nodes[1].model_copy(update={"init": "zeros"})
    nodes = [image_input(), node("s", "block:Stem", "stem"), node("out", "io.Output", "y")]
    p = project(nodes, chain_edges("in", "s", "out"), blocks=[stem])
    source, module, _ = generate_and_import(p, tmp_path)
    assert "_init_weights(self.stem[0], nn.init.zeros_)" in source
    assert torch.count_nonzero(module.Main().stem[0].weight) == 0


@pytest.mark.parametrize("bad, code", [
    ("branch", "sequential-not-chain"), ("op", "sequential-not-chain"),
    ("lstm", "sequential-not-chain")])
def test_sequential_that_is_not_a_plain_chain_is_refused(bad, code):
    nodes = [node("i", "io.Input", "x", shape=["N", 4]),
             node("a", "nn.Linear", "fc", out_features=4), node("o", "io.Output", "y")]
    links = chain_edges("i", "a", "o")
    if bad == "branch":
        nodes.insert(2, node("b", "nn.ReLU", "relu"))
        links = edges(("i", "a"), ("i", "b"), ("a", "o"))
    elif bad == "op":
        nodes[1] = node("a", "op.relu", "act")
    else:
        nodes[0] = node("i", "io.Input", "x", shape=["L", "N", 4])
        nodes[1] = node("a", "nn.LSTM", "lstm", hidden_size=4)
    p = Project(networks=[Network(name="n", kind="sequential", nodes=nodes, edges=links)])
    problems = [d for d in validate(p) if d.code == code]
    assert problems and all(d.is_error for d in problems)
    assert "sequential" in problems[0].format()


# -- nn.ModuleList ---------------------------------------------------------------------------
def repeated(count: int, first_channels=8) -> Project:
    nodes = [image_input(first_channels)]
    nodes += [node(f"b{i}", "block:Residual", f"layer{i + 1}") for i in range(count)]
    nodes += [node("out", "io.Output", "y")]
    ids = ["in", *(f"b{i}" for i in range(count)), "out"]
    return project(nodes, chain_edges(*ids), blocks=[residual_block()])


def test_three_placements_in_a_row_become_a_module_list_loop(tmp_path):
    p = repeated(4)
    source, module, _ = generate_and_import(p, tmp_path)
    assert "num_layers: int = 4" in source
    assert "self.layers = nn.ModuleList([Residual() for _ in range(num_layers)])" in source
    assert "for layer in self.layers:\n            x = layer(x)  # -> (N, 8, 8, 8)" in source
    model, _ = check_generated(p, p.networks[0], module.Main)
    assert "layers.3.conv.weight" in keys(model)
    deeper = module.Main(num_layers=6)
    assert len(deeper.layers) == 6
    assert deeper(torch.randn(2, 8, 8, 8)).shape == (2, 8, 8, 8)


def test_two_placements_stay_separate_attributes(tmp_path):
    source = generate_source(repeated(2))
    assert "ModuleList" not in source
    assert "self.layer1 = Residual()" in source and "self.layer2 = Residual()" in source


def test_run_that_changes_shape_keeps_a_fixed_count(tmp_path):
    down = block("Down", [node("i", "io.Input", "x"),
                          node("c", "nn.Conv2d", "conv", out_channels=8, kernel_size=3),
                          node("o", "io.Output", "y")], chain_edges("i", "c", "o"))
    nodes = [node("in", "io.Input", "x", shape=["N", 8, 16, 16])]
    nodes += [node(f"d{i}", "block:Down", f"down_{i}") for i in range(3)]
    nodes += [node("out", "io.Output", "y")]
    p = project(nodes, chain_edges("in", "d0", "d1", "d2", "out"), blocks=[down])
    source, module, _ = generate_and_import(p, tmp_path)
    assert "self.downs = nn.ModuleList([Down() for _ in range(3)])" in source
    assert "num_downs" not in source
    check_generated(p, p.networks[0], module.Main)


def test_declared_module_list_with_branching_use_is_indexed(tmp_path):
    """Dense connectivity: each member reads the concatenation of everything before it."""
    nodes = [node("in", "io.Input", "x", shape=["N", 4])]
    links = []
    sources = ["in"]
    for i in range(3):
        nodes.append(node(f"fc{i}", "nn.Linear", f"dense{i}", out_features=2))
        if len(sources) == 1:
            links += edges((sources[0], f"fc{i}"))
        else:
            nodes.append(node(f"cat{i}", "op.cat", f"joined{i}", dim=1))
            links += edges(*((s, f"cat{i}", 0, port) for port, s in enumerate(sources)))
            links += edges((f"cat{i}", f"fc{i}"))
        sources.append(f"fc{i}")
    nodes.append(node("out", "io.Output", "y"))
    links += edges(("fc2", "out"))
    net = Network(name="dense", nodes=nodes, edges=links,
                  module_lists=[ModuleList(name="layers", nodes=["fc0", "fc1", "fc2"])])
    p = Project(networks=[net])
    source, module, _ = generate_and_import(p, tmp_path)
    assert "self.layers = nn.ModuleList(" in source
    assert "nn.Linear(4, 2), nn.Linear(6, 2), nn.Linear(8, 2)" in source
    assert "self.layers[1](" in source and "for layer" not in source
    model, _ = check_generated(p, p.networks[0], module.Dense)
    assert keys(model) == {f"layers.{i}.{w}" for i in range(3) for w in ("weight", "bias")}


def test_module_list_of_inline_sequentials(tmp_path):
    heads = [conv_chain_block(f"Head{i}") for i in range(2)]
    nodes = [image_input(), node("h0", "block:Head0", "head0"), node("h1", "block:Head1", "head1"),
             node("out0", "io.Output", "a"), node("out1", "io.Output", "b")]
    net = Network(name="two_heads", nodes=nodes,
                  edges=edges(("in", "h0"), ("in", "h1"), ("h0", "out0"), ("h1", "out1")),
                  module_lists=[ModuleList(name="heads", nodes=["h0", "h1"])])
    p = Project(networks=[net], blocks=heads)
    source, module, _ = generate_and_import(p, tmp_path)
    assert "self.heads = nn.ModuleList(\n            [\n                nn.Sequential(" in source
    model, _ = check_generated(p, p.networks[0], module.TwoHeads)
    assert "heads.1.0.weight" in keys(model)


@pytest.mark.parametrize("change, message", [
    ({"name": "class"}, "keyword"),
    ({"name": "fc"}, "already used"),
    ({"nodes": ["missing"]}, "does not exist"),
    ({"nodes": ["act"]}, "not a module"),
])
def test_bad_module_lists_are_diagnosed(change, message):
    nodes = [node("in", "io.Input", "x", shape=["N", 4]),
             node("fc", "nn.Linear", "fc", out_features=4), node("act", "op.relu", "act"),
             node("out", "io.Output", "y")]
    group = {"name": "layers", "nodes": ["fc"], **change}
    net = Network(name="n", nodes=nodes, edges=chain_edges("in", "fc", "act", "out"),
                  module_lists=[ModuleList(**group)])
    problems = [d for d in validate(Project(networks=[net])) if d.code == "bad-module-list"]
    assert len(problems) == 1 and message in problems[0].message


def test_node_in_two_lists_is_diagnosed():
    nodes = [node("in", "io.Input", "x", shape=["N", 4]),
             node("fc", "nn.Linear", "fc", out_features=4), node("out", "io.Output", "y")]
    net = Network(name="n", nodes=nodes, edges=chain_edges("in", "fc", "out"),
                  module_lists=[ModuleList(name="a", nodes=["fc"]),
                                ModuleList(name="b", nodes=["fc"])])
    problems = [d for d in validate(Project(networks=[net])) if d.code == "bad-module-list"]
    assert len(problems) == 1 and "'a' and in 'b'" in problems[0].message


def test_version_2_files_open_as_plain_classes():
    doc = {"format_version": 2, "name": "old", "networks": [{"name": "n", "nodes": [
        {"id": "a", "type": "io.Input", "name": "x", "params": {"shape": ["N", 3]}}]}]}
    loaded = project_from_json(json.dumps(doc))
    assert loaded.format_version == FORMAT_VERSION
    assert loaded.networks[0].kind == "class" and loaded.networks[0].module_lists == []


def test_containers_are_deterministic():
    p = repeated(5)
    assert generate_source(p) == generate_source(Project.model_validate(p.model_dump()))
