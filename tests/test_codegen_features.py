"""Generated code features: weight init, constructor arguments, blocks, multi-output layers,
several networks, the ``generate`` command, and a large chain."""

from __future__ import annotations

import inspect
import time
from pathlib import Path

import pytest
import torch

from builder.cli import main
from codegen import GenerationError, generate_source
from graph_schema import save_project
from graph_schema.catalog import get_spec
from graph_schema.document import Network, Node, Project
from graph_schema.summary import summarize
from tests.codegen_support import check_model, check_project, generate_and_import
from tests.graphs import block, chain_edges, edges, node, project

ROOT = Path(__file__).resolve().parent.parent


def needs(*types: str):
    """Skip while a layer type has not landed in the catalog yet."""
    missing = [t for t in types if get_spec(t) is None]
    return pytest.mark.skipif(bool(missing), reason=f"catalog lacks {missing}")


def with_init(item: Node, scheme: str) -> Node:
    return item.model_copy(update={"init": scheme})


# -- weight initialisation -------------------------------------------------------------------
def init_project(scheme: str, layer: Node | None = None) -> Project:
    layer = layer or node("fc", "nn.Linear", "fc", out_features=8)
    nodes = [node("in", "io.Input", "x", shape=["N", 8]), with_init(layer, scheme),
             node("out", "io.Output", "y")]
    return project(nodes, chain_edges("in", layer.id, "out"))


@pytest.mark.parametrize("scheme", ["kaiming_normal", "kaiming_uniform", "xavier_normal",
                                    "xavier_uniform", "normal", "zeros", "orthogonal"])
def test_init_scheme_adds_reset_parameters_called_from_init(scheme, tmp_path):
    p = init_project(scheme)
    source, module, _ = generate_and_import(p, tmp_path)
    assert "def reset_parameters(self) -> None:" in source
    assert "self.reset_parameters()" in source
    model = module.Main()
    assert torch.count_nonzero(model.fc.bias) == 0  # biases start at zero whatever the scheme
    check_model(p, p.networks[0], module.Main)


def test_default_init_writes_no_reset_parameters():
    source = generate_source(init_project("default"))
    assert "reset_parameters" not in source and "_init_weights" not in source


def test_zeros_init_zeroes_every_parameter(tmp_path):
    _, module, _ = generate_and_import(init_project("zeros"), tmp_path)
    assert all(torch.count_nonzero(p) == 0 for p in module.Main().parameters())


def test_orthogonal_init_gives_orthogonal_square_weights(tmp_path):
    _, module, _ = generate_and_import(init_project("orthogonal"), tmp_path)
    weight = module.Main().fc.weight.detach()
    assert torch.allclose(weight @ weight.T, torch.eye(8), atol=1e-5)


def test_normal_init_uses_a_small_std(tmp_path):
    layer = node("fc", "nn.Linear", "fc", out_features=512)
    _, module, _ = generate_and_import(init_project("normal", layer), tmp_path)
    std = module.Main().fc.weight.std().item()
    assert 0.015 < std < 0.025


def test_kaiming_init_on_conv_and_untouched_neighbours(tmp_path):
    nodes = [node("in", "io.Input", "x", shape=["N", 3, 8, 8]),
             with_init(node("c1", "nn.Conv2d", "conv1", out_channels=64, kernel_size=3),
                       "kaiming_normal"),
             node("c2", "nn.Conv2d", "conv2", out_channels=4, kernel_size=3, bias=True),
             node("out", "io.Output", "y")]
    p = project(nodes, chain_edges("in", "c1", "c2", "out"))
    source, module, _ = generate_and_import(p, tmp_path)
    assert "self.conv2" not in source.split("def reset_parameters")[1].split("def forward")[0]
    torch.manual_seed(0)
    model = module.Main()
    fan_in = 3 * 3 * 3
    assert abs(model.conv1.weight.std().item() - (2 / fan_in) ** 0.5) < 0.05
    assert torch.count_nonzero(model.conv1.bias) == 0
    assert torch.count_nonzero(model.conv2.bias) > 0  # default torch init left alone
    check_model(p, p.networks[0], module.Main)


def test_init_on_recurrent_layer_and_block_instance(tmp_path):
    inner = block("Dense", [node("bi", "io.Input", "x"),
                            node("fc", "nn.Linear", "fc", out_features=6),
                            node("bo", "io.Output", "y")], chain_edges("bi", "fc", "bo"))
    nodes = [node("in", "io.Input", "x", shape=["L", "N", 4]),
             with_init(node("rnn", "nn.GRU", "gru", hidden_size=5), "orthogonal"),
             with_init(node("b", "block:Dense", "head"), "zeros"),
             node("out", "io.Output", "y")]
    p = project(nodes, edges(("in", "rnn"), ("rnn", "b"), ("b", "out")), blocks=[inner])
    _, module, _ = generate_and_import(p, tmp_path)
    model = module.Main()
    assert all(torch.count_nonzero(p) == 0 for p in model.head.parameters())
    assert all(torch.count_nonzero(b) == 0 for n, b in model.gru.named_parameters()
               if "bias" in n)
    w = model.gru.weight_hh_l0.detach()  # (3 * 5, 5): orthonormal columns
    assert torch.allclose(w.T @ w, torch.eye(5), atol=1e-5)
    check_model(p, p.networks[0], module.Main)


# -- network and block arguments ---------------------------------------------------------------
def classifier(num_classes=10, **arguments) -> Project:
    nodes = [node("in", "io.Input", "x", shape=["N", 16]),
             node("fc", "nn.Linear", "fc", out_features={"arg": "num_classes"}),
             node("out", "io.Output", "logits")]
    network = Network(name="classifier", nodes=nodes, edges=chain_edges("in", "fc", "out"),
                      arguments={"num_classes": num_classes, **arguments})
    return Project(networks=[network])


def test_network_argument_becomes_keyword_only_constructor_argument(tmp_path):
    p = classifier()
    source, module, _ = generate_and_import(p, tmp_path)
    assert "def __init__(self, *, num_classes: int = 10) -> None:" in source
    assert "nn.Linear(16, num_classes)" in source
    check_model(p, p.networks[0], module.Classifier)
    model = module.Classifier(num_classes=3)
    assert model(torch.randn(2, 16)).shape == (2, 3)
    with pytest.raises(TypeError):
        module.Classifier(3)  # keyword-only, as the signature says
    check_model(classifier(3), classifier(3).networks[0], module.Classifier,
                kwargs={"num_classes": 3})


def test_argument_types_and_unused_arguments(tmp_path):
    p = classifier(4, dropout=0.25, use_bias=True, tag="a \"quoted\" 'tag'", sizes=[1, 2])
    p.networks[0].nodes[1].params["bias"] = {"arg": "use_bias"}
    source, module, _ = generate_and_import(p, tmp_path)
    signature = inspect.signature(module.Classifier.__init__)
    assert {k: v.default for k, v in signature.parameters.items() if k != "self"} == {
        "num_classes": 4, "dropout": 0.25, "use_bias": True, "tag": "a \"quoted\" 'tag'",
        "sizes": (1, 2)}
    assert module.Classifier(use_bias=False).fc.bias is None
    check_model(p, p.networks[0], module.Classifier)


def conv_block(**arguments):
    return block("ConvBlock", [
        node("bi", "io.Input", "x"),
        node("c", "nn.Conv2d", "conv", out_channels={"arg": "channels"} if arguments else 8,
             kernel_size=3, padding=1),
        node("r", "nn.ReLU", "relu"),
        node("bo", "io.Output", "y")], chain_edges("bi", "c", "r", "bo"), **arguments)


def test_block_placed_twice_with_different_inputs_is_one_class(tmp_path):
    nodes = [node("in", "io.Input", "image", shape=["N", 3, 8, 8]),
             node("b1", "block:ConvBlock", "stage1"),
             node("b2", "block:ConvBlock", "stage2"),
             node("out", "io.Output", "y")]
    p = project(nodes, chain_edges("in", "b1", "b2", "out"), blocks=[conv_block()])
    source, module, _ = generate_and_import(p, tmp_path)
    assert source.count("class ConvBlock(nn.Module):") == 1
    assert "def __init__(self, *, conv_in_channels: int = 3) -> None:" in source
    model = module.Main()
    assert model.stage1.conv.in_channels == 3 and model.stage2.conv.in_channels == 8
    check_model(p, p.networks[0], module.Main)


def test_block_arguments_per_instance_and_nested_blocks(tmp_path):
    outer = block("Stage", [
        node("si", "io.Input", "x"),
        node("a", "block:ConvBlock", "first", channels={"arg": "width"}),
        node("b", "block:ConvBlock", "second", channels={"arg": "width"}),
        node("so", "io.Output", "y")], chain_edges("si", "a", "b", "so"), width=4)
    nodes = [node("in", "io.Input", "image", shape=["N", 3, 8, 8]),
             node("s1", "block:Stage", "stage1"),
             node("s2", "block:Stage", "stage2", width=6),
             node("out", "io.Output", "y")]
    p = project(nodes, chain_edges("in", "s1", "s2", "out"),
                blocks=[conv_block(channels=16), outer])
    source, module, _ = generate_and_import(p, tmp_path)
    assert source.index("class ConvBlock") < source.index("class Stage") < \
        source.index("class Main")
    model = module.Main()
    assert model.stage2.second.conv.out_channels == 6
    check_model(p, p.networks[0], module.Main)


# -- multi-output layers -------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore:LSTM with projections")
def test_lstm_outputs_and_initial_states(tmp_path):
    nodes = [node("in", "io.Input", "x", shape=["N", "L", 4]),
             node("h0", "io.Input", "h0", shape=[4, "N", 3]),
             node("c0", "io.Input", "c0", shape=[4, "N", 6]),
             node("lstm", "nn.LSTM", "lstm", hidden_size=6, num_layers=2, batch_first=True,
                  bidirectional=True, proj_size=3),
             node("fc", "nn.Linear", "fc", out_features=2),
             node("o1", "io.Output", "y"), node("o2", "io.Output", "h_n"),
             node("o3", "io.Output", "c_n")]
    p = project(nodes, edges(("in", "lstm"), ("h0", "lstm", 0, 1), ("c0", "lstm", 0, 2),
                             ("lstm", "fc"), ("fc", "o1"), ("lstm", "o2", 1, 0),
                             ("lstm", "o3", 2, 0)))
    source, module, _ = generate_and_import(p, tmp_path)
    assert "self.lstm(x, (h0, c0))" in source
    check_model(p, p.networks[0], module.Main)


def test_lstm_with_only_the_output_used(tmp_path):
    nodes = [node("in", "io.Input", "x", shape=["L", "N", 4]),
             node("lstm", "nn.LSTM", "lstm", hidden_size=6),
             node("out", "io.Output", "y")]
    p = project(nodes, chain_edges("in", "lstm", "out"))
    source, module, _ = generate_and_import(p, tmp_path)
    assert "x, (_, _) = self.lstm(x)" in source or "x, _ = self.lstm(x)" in source
    check_model(p, p.networks[0], module.Main)


@pytest.mark.parametrize("kind", ["GRU", "RNN"])
def test_gru_and_rnn_with_initial_state(kind, tmp_path):
    nodes = [node("in", "io.Input", "x", shape=["L", "N", 4]),
             node("h0", "io.Input", "h0", shape=[1, "N", 5]),
             node("r", f"nn.{kind}", "rnn", hidden_size=5),
             node("o1", "io.Output", "y"), node("o2", "io.Output", "h")]
    p = project(nodes, edges(("in", "r"), ("h0", "r", 0, 1), ("r", "o1"), ("r", "o2", 1, 0)))
    _, module, _ = generate_and_import(p, tmp_path)
    check_model(p, p.networks[0], module.Main)


def test_cells_step_with_state(tmp_path):
    nodes = [node("in", "io.Input", "x", shape=["N", 4]),
             node("h", "io.Input", "h", shape=["N", 5]),
             node("c", "io.Input", "c", shape=["N", 5]),
             node("lc", "nn.LSTMCell", "lstm_cell", hidden_size=5),
             node("gc", "nn.GRUCell", "gru_cell", hidden_size=5),
             node("rc", "nn.RNNCell", "rnn_cell", hidden_size=5),
             node("o1", "io.Output", "h1"), node("o2", "io.Output", "c1"),
             node("o3", "io.Output", "g"), node("o4", "io.Output", "r")]
    p = project(nodes, edges(("in", "lc"), ("h", "lc", 0, 1), ("c", "lc", 0, 2),
                             ("lc", "o1"), ("lc", "o2", 1, 0),
                             ("in", "gc"), ("lc", "gc", 0, 1), ("gc", "o3"),
                             ("in", "rc"), ("rc", "o4")))
    _, module, _ = generate_and_import(p, tmp_path)
    check_model(p, p.networks[0], module.Main)


@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("average", [True, False])
def test_multihead_attention_with_and_without_weights(need_weights, average, tmp_path):
    nodes = [node("q", "io.Input", "query", shape=["N", "L", 8]),
             node("kv", "io.Input", "memory", shape=["N", "S", 6]),
             node("att", "nn.MultiheadAttention", "attn", num_heads=2, batch_first=True,
                  kdim=6, vdim=6, need_weights=need_weights, average_attn_weights=average,
                  add_bias_kv=True),
             node("self_att", "nn.MultiheadAttention", "self_attn", num_heads=4,
                  batch_first=True),
             node("o1", "io.Output", "y")]
    edge_list = [("q", "att"), ("kv", "att", 0, 1), ("kv", "att", 0, 2),
                 ("att", "self_att"), ("self_att", "o1")]
    if need_weights:
        nodes.append(node("o2", "io.Output", "weights"))
        edge_list.append(("att", "o2", 1, 0))
    p = project(nodes, edges(*edge_list))
    source, module, _ = generate_and_import(p, tmp_path)
    assert "self.self_attn(x, x, x)" in source
    check_model(p, p.networks[0], module.Main, sizes={"S": 7})


def test_transformer_layers(tmp_path):
    common = {"nhead": 2, "dim_feedforward": 16, "dropout": 0.0, "batch_first": True}
    nodes = [node("src", "io.Input", "src", shape=["N", "S", 8]),
             node("tgt", "io.Input", "tgt", shape=["N", "L", 8]),
             node("enc", "nn.TransformerEncoder", "encoder", num_layers=2, **common),
             node("dec", "nn.TransformerDecoderLayer", "decoder", norm_first=True, **common),
             node("full", "nn.Transformer", "transformer", num_encoder_layers=1,
                  num_decoder_layers=1, d_model=8, **common),
             node("o1", "io.Output", "y"), node("o2", "io.Output", "z")]
    p = project(nodes, edges(("src", "enc"), ("tgt", "dec"), ("enc", "dec", 0, 1),
                             ("dec", "o1"), ("src", "full"), ("tgt", "full", 0, 1),
                             ("full", "o2")))
    _, module, _ = generate_and_import(p, tmp_path)
    check_model(p, p.networks[0], module.Main, sizes={"S": 7})


@needs("nn.MaxPool2d")
def test_max_pool_with_indices(tmp_path):
    nodes = [node("in", "io.Input", "x", shape=["N", 3, 8, 8]),
             node("pool", "nn.MaxPool2d", "pool", kernel_size=2, return_indices=True),
             node("relu", "nn.ReLU", "relu"),
             node("o1", "io.Output", "y"), node("o2", "io.Output", "indices")]
    p = project(nodes, edges(("in", "pool"), ("pool", "relu"), ("relu", "o1"),
                             ("pool", "o2", 1, 0)))
    _, module, _ = generate_and_import(p, tmp_path)
    _, (values, indices) = check_model(p, p.networks[0], module.Main)
    assert indices.dtype == torch.int64


def split_types() -> list[str]:
    """Tensor ops whose output count depends on their parameters (split, chunk, unbind)."""
    return [t for t in ("op.split", "op.chunk", "op.unbind", "op.tensor_split")
            if get_spec(t) is not None]


@pytest.mark.skipif(not split_types(), reason="no split/chunk ops in the catalog yet")
def test_split_and_chunk_ops(tmp_path):
    from tests.test_codegen_random import SAMPLES

    for type_name in split_types():
        for params in SAMPLES.get(type_name, [{}]):
            nodes = [node("in", "io.Input", "x", shape=["N", 6, 4]),
                     node("op", type_name, "parts", **params)]
            p = project(nodes, edges(("in", "op")))
            from graph_schema.inference import Inference

            count = len(Inference(p.networks[0], p).states["op"].outputs or [])
            assert count >= 2, (type_name, params)
            outs = [node(f"o{i}", "io.Output", f"y{i}") for i in range(count)]
            p = project([*nodes, *outs],
                        edges(("in", "op"), *(("op", f"o{i}", i, 0) for i in range(count))))
            _, module, _ = generate_and_import(p, tmp_path)
            check_model(p, p.networks[0], module.Main)


# -- several networks, DAGs ------------------------------------------------------------------------
def test_two_networks_become_two_classes(tmp_path):
    generator = Network(name="generator", nodes=[
        node("z", "io.Input", "z", shape=["N", 8]),
        node("fc", "nn.Linear", "fc", out_features=16),
        node("act", "nn.Tanh", "act"),
        node("out", "io.Output", "fake")], edges=chain_edges("z", "fc", "act", "out"))
    discriminator = Network(name="discriminator", nodes=[
        node("x", "io.Input", "x", shape=["N", 16]),
        node("fc", "nn.Linear", "fc", out_features=1),
        node("out", "io.Output", "score")], edges=chain_edges("x", "fc", "out"))
    p = Project(name="gan", networks=[generator, discriminator])
    source = check_project(p, tmp_path)
    assert "class Generator(nn.Module):" in source
    assert "class Discriminator(nn.Module):" in source
    only = generate_source(p, network="discriminator")
    assert "class Generator" not in only
    with pytest.raises(GenerationError):
        generate_source(p, class_name="Both")


def test_branches_keep_their_names(tmp_path):
    nodes = [node("in", "io.Input", "x", shape=["N", 8]),
             node("a", "nn.Linear", "left", out_features=4),
             node("b", "nn.Linear", "right", out_features=4),
             node("bi", "nn.Bilinear", "join", out_features=3),
             node("o1", "io.Output", "y"), node("o2", "io.Output", "left_out")]
    p = project(nodes, edges(("in", "a"), ("in", "b"), ("a", "bi"), ("b", "bi", 0, 1),
                             ("bi", "o1"), ("a", "o2")))
    source, module, _ = generate_and_import(p, tmp_path)
    assert "self.join(left, " in source
    check_model(p, p.networks[0], module.Main)


@needs("op.add")
def test_residual_connection(tmp_path):
    nodes = [node("in", "io.Input", "x", shape=["N", 4, 8, 8]),
             node("c1", "nn.Conv2d", "conv1", out_channels=4, kernel_size=3, padding=1),
             node("r", "nn.ReLU", "relu"),
             node("c2", "nn.Conv2d", "conv2", out_channels=4, kernel_size=3, padding=1),
             node("add", "op.add", "add"),
             node("out", "io.Output", "y")]
    p = project(nodes, edges(("in", "c1"), ("c1", "r"), ("r", "c2"), ("c2", "add"),
                             ("in", "add", 0, 1), ("add", "out")))
    _, module, _ = generate_and_import(p, tmp_path)
    check_model(p, p.networks[0], module.Main)


# -- the generate command ------------------------------------------------------------------------
def test_cli_generate_writes_a_module(tmp_path, capsys):
    out = tmp_path / "mlp_model.py"
    code = main(["generate", str(ROOT / "examples" / "mlp.json"), "-o", str(out)])
    assert code == 0, capsys.readouterr().err
    assert out.read_text() == generate_source(
        __import__("graph_schema").load_project(ROOT / "examples" / "mlp.json"))


def test_cli_generate_to_stdout(capsys):
    assert main(["generate", str(ROOT / "examples" / "mlp.json")]) == 0
    assert "class Mlp(nn.Module):" in capsys.readouterr().out


@pytest.mark.parametrize("path", sorted((ROOT / "examples" / "broken").glob("*.json")),
                         ids=lambda p: p.stem)
def test_cli_generate_refuses_broken_examples_without_writing(path, tmp_path, capsys):
    out = tmp_path / "model.py"
    code = main(["generate", str(path), "-o", str(out)])
    _, err = capsys.readouterr()
    assert code == 1
    assert "cannot generate code" in err and f"{path}: network 'main', node '" in err
    assert "Traceback" not in err
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("argv", [["--network", "nope"], ["--class-name", "class"],
                                  ["--class-name", "self"], ["--class-name", "not valid"]])
def test_cli_generate_bad_arguments_exit_2(argv, tmp_path, capsys):
    out = tmp_path / "model.py"
    code = main(["generate", str(ROOT / "examples" / "mlp.json"), "-o", str(out), *argv])
    _, err = capsys.readouterr()
    assert code == 2
    assert err.startswith("torchcanvas: ") and "Traceback" not in err
    assert not out.exists()


def test_cli_generate_refuses_bad_node_name_with_exit_1(tmp_path, capsys):
    p = init_project("default")
    p.networks[0].nodes[1].name = "class"
    path = tmp_path / "bad.json"
    save_project(p, path)
    out = tmp_path / "model.py"
    assert main(["generate", str(path), "-o", str(out)]) == 1
    assert "'class' is a Python keyword" in capsys.readouterr().err
    assert not out.exists()


# -- scale --------------------------------------------------------------------------------------
def test_thousand_node_chain(tmp_path):
    count = 1000
    kinds = ["nn.Linear", "nn.ReLU", "nn.Dropout", "nn.Identity"]
    nodes = [node("in", "io.Input", "x", shape=["N", 8])]
    for i in range(count):
        kind = kinds[i % len(kinds)]
        params = {"out_features": 8} if kind == "nn.Linear" else {}
        nodes.append(node(f"n{i}", kind, f"layer{i}", **params))
    nodes.append(node("out", "io.Output", "y"))
    p = project(nodes, chain_edges("in", *(f"n{i}" for i in range(count)), "out"))
    start = time.perf_counter()
    source = generate_source(p)
    elapsed = time.perf_counter() - start
    assert elapsed < 10, f"{elapsed:.1f} s"
    assert source.count("x = self.layer") == count
    _, module, _ = generate_and_import(p, tmp_path)
    assert sum(q.numel() for q in module.Main().parameters()) == \
        summarize(p, p.networks[0]).total_params
