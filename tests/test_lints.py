"""The architecture lints: valid graphs that are probably mistakes. Each lint has a graph
where it fires, a near-identical correct one where it must not, and its fix applied."""

from __future__ import annotations

import pytest

from graph_schema import validate
from graph_schema.dims import Sym
from graph_schema.document import Training
from graph_schema.inference import Inference
from tests.diagnosis import apply_fix, codes, the
from tests.graphs import block, chain_edges, node, project

N = Sym.named("N")


def chain(shape, *middle, loss="mse"):
    nodes = [node("in", "io.Input", "x", shape=list(shape)), *middle,
             node("out", "io.Output", "y")]
    return project(nodes, chain_edges("in", *(n.id for n in middle), "out"),
                   training=Training(loss=loss))


def fc(node_id, width, **params):
    return node(node_id, "nn.Linear", node_id, out_features=width, **params)


# -- softmax before a loss that applies it ---------------------------------------------------
def test_softmax_before_cross_entropy_offers_to_remove_it():
    broken = chain(["N", 8], fc("fc", 3), node("s", "nn.Softmax", "probs", dim=1),
                   loss="cross_entropy")
    d = the(broken, "softmax-before-loss")
    assert (d.node_id, d.port, d.severity) == ("s", None, "warning")
    assert d.message == ("feeds output 'y', but the training loss cross_entropy applies "
                         "log-softmax itself, so the network should output raw logits")
    assert (d.fix.label, d.fix.kind) == ("remove 'probs'", "remove_node")
    fixed = apply_fix(broken, d)
    assert validate(fixed) == []
    assert [e.source for e in fixed.networks[0].edges if e.target == "out"] == ["fc"]


def test_softmax_before_nll_asks_for_log_softmax():
    d = the(chain(["N", 8], fc("fc", 3), node("s", "nn.Softmax", "probs", dim=1), loss="nll"),
            "softmax-before-loss")
    assert d.node_id == "s"
    assert d.message.endswith("the training loss nll expects log-probabilities: use LogSoftmax "
                              "instead")


@pytest.mark.parametrize("last, loss", [
    (node("s", "nn.Softmax", "probs", dim=1), "mse"),
    (node("s", "nn.LogSoftmax", "log_probs", dim=1), "nll"),
    (node("s", "nn.ReLU", "act"), "cross_entropy"),
], ids=["softmax-mse", "log-softmax-nll", "relu-cross-entropy"])
def test_no_softmax_warning_where_the_pairing_is_right(last, loss):
    fine = chain(["N", 8], fc("fc", 3), last, loss=loss)
    assert "softmax-before-loss" not in codes(fine)


def test_no_softmax_warning_inside_a_block():
    head = block("Head", [node("i", "io.Input", "x", shape=["N", 3]),
                          node("s", "nn.Softmax", "probs", dim=1), node("o", "io.Output", "y")],
                 chain_edges("i", "s", "o"))
    placed = chain(["N", 3], node("h", "block:Head", "head"), loss="mse")
    placed.blocks.append(head)
    assert validate(placed) == []


# -- two Linears in a row --------------------------------------------------------------------
def test_linear_after_linear_offers_an_activation_between():
    broken = chain(["N", 8], fc("fc1", 16), fc("fc2", 4))
    d = the(broken, "linear-linear")
    assert (d.node_id, d.port, d.severity) == ("fc2", 0, "warning")
    assert d.message == ("follows Linear 'fc1' with no activation between: two Linear layers "
                         "in a row collapse into one linear map")
    assert (d.fix.kind, d.fix.args) == ("insert_node", {"type": "nn.ReLU", "params": {}})
    fixed = apply_fix(broken, d)
    assert validate(fixed) == []
    assert [n.type for n in fixed.networks[0].nodes if n.id == "inserted"] == ["nn.ReLU"]


def test_dropout_between_two_linears_is_no_activation():
    d = the(chain(["N", 8], fc("fc1", 16), node("d", "nn.Dropout", "drop"), fc("fc2", 4)),
            "linear-linear")
    assert (d.node_id, d.port) == ("fc2", 0)
    assert "follows Linear 'fc1'" in d.message


@pytest.mark.parametrize("between", ["nn.ReLU", "nn.GELU", "nn.Tanh"])
def test_an_activation_between_two_linears_is_fine(between):
    fine = chain(["N", 8], fc("fc1", 16), node("a", between, "act"), fc("fc2", 4))
    assert validate(fine) == []


# -- bias before batch norm ------------------------------------------------------------------
def test_bias_before_batch_norm_offers_bias_false():
    conv = node("c", "nn.Conv2d", "conv", out_channels=8, kernel_size=3)
    broken = chain(["N", 3, 16, 16], conv, node("b", "nn.BatchNorm2d", "bn"))
    d = the(broken, "bias-before-batchnorm")
    assert (d.node_id, d.port, d.severity) == ("c", None, "warning")
    assert d.message == ("has a bias, but BatchNorm 'bn' right after it subtracts the mean, so "
                         "the bias is wasted parameters")
    assert d.fix.args == {"param": "bias", "value": False}
    fixed = apply_fix(broken, d)
    assert validate(fixed) == []
    assert fixed.networks[0].node("c").params["bias"] is False


def test_no_bias_warning_without_a_bias_or_with_a_second_consumer():
    conv = node("c", "nn.Conv2d", "conv", out_channels=8, kernel_size=3, bias=False)
    assert validate(chain(["N", 3, 16, 16], conv, node("b", "nn.BatchNorm2d", "bn"))) == []
    branched = chain(["N", 3, 16, 16], node("c", "nn.Conv2d", "conv", out_channels=8,
                                            kernel_size=3), node("b", "nn.BatchNorm2d", "bn"))
    branched.networks[0].nodes.append(node("out2", "io.Output", "raw"))
    branched.networks[0].edges += chain_edges("c", "out2")
    assert "bias-before-batchnorm" not in codes(branched)


# -- dropout before batch norm ---------------------------------------------------------------
def test_dropout_before_batch_norm():
    broken = chain(["N", 8], fc("fc", 16), node("d", "nn.Dropout", "drop"),
                   node("b", "nn.BatchNorm1d", "bn"))
    d = the(broken, "dropout-before-batchnorm")
    assert (d.node_id, d.port, d.severity) == ("b", 0, "warning")
    assert d.message == ("comes right after dropout 'drop': batch statistics then differ "
                         "between training and evaluation (variance shift); put dropout after "
                         "the normalisation")
    assert d.fix is None


def test_dropout_after_batch_norm_is_fine():
    fine = chain(["N", 8], fc("fc", 16, bias=False), node("b", "nn.BatchNorm1d", "bn"),
                 node("d", "nn.Dropout", "drop"))
    assert validate(fine) == []


# -- reshape meant permute -------------------------------------------------------------------
def test_reshape_to_the_same_sizes_in_another_order_offers_permute():
    broken = chain(["N", 64, 49], node("r", "op.reshape", "tokens", shape=["N", 49, 64]))
    d = the(broken, "reshape-not-permute")
    assert (d.node_id, d.port, d.severity) == ("r", None, "warning")
    assert d.message == ("reshapes (N, 64, 49) to (N, 49, 64): the same sizes in another "
                         "order, but reshape keeps the memory order, so values end up mixed "
                         "across dimensions; to swap dimensions use permute(0, 2, 1)")
    assert d.fix.args == {"type": "op.permute", "params": {"dims": [0, 2, 1]}}
    fixed = apply_fix(broken, d)
    assert validate(fixed) == []
    assert Inference(fixed.networks[0], fixed).output_shape("r") == (N, 49, 64)


@pytest.mark.parametrize("shape", [["N", 64, 7, 7], ["N", 3136], ["N", 64, 49]],
                         ids=["unflatten", "flatten", "same"])
def test_a_reshape_that_is_no_reordering_is_fine(shape):
    fine = chain(["N", 64, 49], node("r", "op.reshape", "tokens", shape=shape))
    assert "reshape-not-permute" not in codes(fine)


# -- linear on a feature map -----------------------------------------------------------------
def test_linear_on_a_feature_map_offers_flatten():
    broken = chain(["N", 3, 8, 8], node("c", "nn.Conv2d", "conv", out_channels=16,
                                        kernel_size=5), fc("fc", 10))
    d = the(broken, "linear-on-feature-map")
    assert (d.node_id, d.port, d.severity) == ("fc", 0, "warning")
    assert d.message == ("receives the feature map (N, 16, 4, 4) and acts on its last dimension "
                         "only; insert Flatten to connect every feature")
    assert d.fix.args == {"type": "nn.Flatten", "params": {}}
    fixed = apply_fix(broken, d)
    assert validate(fixed) == []
    inference = Inference(fixed.networks[0], fixed)
    assert inference.states["fc"].params["in_features"] == 256


def test_linear_after_flatten_or_on_a_sequence_is_fine():
    conv = node("c", "nn.Conv2d", "conv", out_channels=16, kernel_size=5)
    assert validate(chain(["N", 3, 8, 8], conv, node("f", "nn.Flatten", "flat"),
                          fc("fc", 10))) == []
    assert validate(chain(["N", 3, 8, 8], fc("fc", 10))) == []
