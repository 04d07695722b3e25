"""Shape diagnostics from the catalog's rules: what a layer expected at which input, what it
received, and the fix when one is obvious. Each fix is applied to the document and the
project validated again."""

from __future__ import annotations

import pytest

from graph_schema import validate
from graph_schema.dims import Sym
from graph_schema.inference import Inference
from tests.diagnosis import apply_fix, codes, the
from tests.graphs import chain_edges, edges, node, project

N = Sym.named("N")


def chain(shape, *middle, **kw):
    nodes = [node("in", "io.Input", "x", shape=list(shape)), *middle,
             node("out", "io.Output", "y")]
    return project(nodes, chain_edges("in", *(n.id for n in middle), "out"), **kw)


def two_branches(shape, left, right, merge):
    """x -> left -> merge input 0, x -> right -> merge input 1, merge -> y."""
    nodes = [node("in", "io.Input", "x", shape=list(shape)), left, right, merge,
             node("out", "io.Output", "y")]
    return project(nodes, edges(("in", left.id), ("in", right.id), (left.id, merge.id),
                                (right.id, merge.id, 0, 1), (merge.id, "out")))


# -- shape-mismatch ---------------------------------------------------------------------------
def test_linear_on_a_feature_map_says_expected_and_received_and_offers_flatten():
    broken = chain(["N", 16, 4, 4], node("fc", "nn.Linear", "fc1", in_features=256,
                                         out_features=10))
    d = the(broken, "shape-mismatch")
    assert (d.node_id, d.port, d.severity) == ("fc", 0, "error")
    assert d.message == ("expected the last dimension to be 256 (in_features), "
                         "received (N, 16, 4, 4)")
    assert (d.fix.label, d.fix.kind) == ("insert Flatten", "insert_node")
    assert d.fix.args == {"type": "nn.Flatten", "params": {}}
    fixed = apply_fix(broken, d)
    assert validate(fixed) == []
    assert Inference(fixed.networks[0], fixed).output_shape("inserted") == (N, 256)


def test_a_wrong_in_features_offers_the_right_one():
    broken = chain(["N", 16], node("fc", "nn.Linear", "fc1", in_features=256, out_features=10))
    d = the(broken, "shape-mismatch")
    assert (d.node_id, d.port) == ("fc", 0)
    assert d.message == "expected the last dimension to be 256 (in_features), received (N, 16)"
    assert d.fix.args == {"param": "in_features", "value": 16}
    assert validate(apply_fix(broken, d)) == []
    assert validate(chain(["N", 256], node("fc", "nn.Linear", "fc1", in_features=256,
                                           out_features=10))) == []


def test_wrong_in_channels_offers_the_right_one():
    conv = node("c", "nn.Conv2d", "conv", in_channels=1, out_channels=8, kernel_size=3)
    broken = chain(["N", 3, 28, 28], conv)
    d = the(broken, "shape-mismatch")
    assert (d.node_id, d.port) == ("c", 0)
    assert d.message == "expected dimension 1 to be 1 (in_channels), received (N, 3, 28, 28)"
    assert d.fix.args == {"param": "in_channels", "value": 3}
    assert validate(apply_fix(broken, d)) == []


def test_adding_a_skip_that_was_not_projected():
    conv = node("c", "nn.Conv2d", "conv", out_channels=64, kernel_size=3, padding=1)
    skip = node("s", "nn.Identity", "skip")
    broken = two_branches(["N", 32, 16, 16], conv, skip, node("a", "op.add", "residual"))
    d = the(broken, "shape-mismatch")
    assert (d.node_id, d.port) == ("a", 1)
    assert d.message == ("expected input 1 to broadcast with (N, 64, 16, 16), received "
                         "(N, 32, 16, 16): at dimension -3 the sizes 64 and 32 are neither "
                         "equal nor 1")
    projected = node("s", "nn.Conv2d", "skip", out_channels=64, kernel_size=1)
    assert validate(two_branches(["N", 32, 16, 16], conv, projected,
                                 node("a", "op.add", "residual"))) == []


def test_cat_of_different_sizes_offers_interpolate():
    down = node("d", "nn.MaxPool2d", "down", kernel_size=2)
    broken = two_branches(["N", 16, 32, 32], down, node("s", "nn.Identity", "skip"),
                          node("a", "op.cat", "merge", dim=1))
    d = the(broken, "shape-mismatch")
    assert (d.node_id, d.port) == ("a", 1)
    assert "expected input 1 to match input 0 (N, 16, 16, 16)" in d.message
    assert "received (N, 16, 32, 32): dimension 2 is 32, not 16" in d.message
    assert d.fix.args == {"type": "op.interpolate", "params": {"size": [16, 16]}}
    assert validate(apply_fix(broken, d)) == []


# -- rank-mismatch ----------------------------------------------------------------------------
def test_conv2d_on_a_flat_input_is_a_rank_mismatch():
    d = the(chain(["N", 784], node("c", "nn.Conv2d", "conv", out_channels=8, kernel_size=3)),
            "rank-mismatch")
    assert (d.node_id, d.port, d.severity) == ("c", 0, "error")
    assert d.message == "expected a 3-D or 4-D input (N, C, H, W), received (N, 784)"
    assert validate(chain(["N", 1, 28, 28], node("c", "nn.Conv2d", "conv", out_channels=8,
                                                 kernel_size=3))) == []


def test_batchnorm2d_after_a_linear_is_a_rank_mismatch():
    broken = chain(["N", 256], node("b", "nn.BatchNorm2d", "bn"))
    d = the(broken, "rank-mismatch")
    assert (d.node_id, d.port) == ("b", 0)
    assert d.message == "expected a 4-D input (N, C, H, W), received (N, 256)"
    assert validate(chain(["N", 256], node("b", "nn.BatchNorm1d", "bn"))) == []


def test_cat_of_different_ranks_names_the_odd_input():
    broken = project([node("in", "io.Input", "x", shape=["N", 32, 16, 16]),
                      node("in2", "io.Input", "x2", shape=["N", 32, 16]),
                      node("a", "op.cat", "merge", dim=1), node("out", "io.Output", "y")],
                     edges(("in", "a"), ("in2", "a", 0, 1), ("a", "out")))
    d = the(broken, "rank-mismatch")
    assert (d.node_id, d.port) == ("a", 1)
    assert d.message.startswith("expected a 4-D input like input 0 (N, 32, 16, 16)")
    assert d.message.endswith("received (N, 32, 16)")
    broken.networks[0].node("in2").params["shape"] = ["N", 32, 16, 16]
    assert validate(broken) == []


# -- bad-dim, too-small, empty ----------------------------------------------------------------
@pytest.mark.parametrize("layer", [node("s", "nn.Softmax", "soft", dim=4),
                                   node("s", "op.flatten", "soft", start_dim=4)],
                         ids=["softmax", "flatten"])
def test_a_dimension_out_of_range_is_bad_dim(layer):
    d = the(chain(["N", 3, 4, 4], layer), "bad-dim")
    assert (d.node_id, d.port, d.severity) == ("s", 0, "error")
    assert d.message == "dimension 4 is out of range for a 4-D input (N, 3, 4, 4)"
    layer = layer.model_copy(update={"params": {k: 3 for k in layer.params}})
    assert "bad-dim" not in codes(chain(["N", 3, 4, 4], layer))


def test_a_kernel_larger_than_the_input_is_too_small():
    d = the(chain(["N", 3, 4, 4], node("c", "nn.Conv2d", "conv", out_channels=8,
                                       kernel_size=5)), "too-small")
    assert (d.node_id, d.port, d.severity) == ("c", 0, "error")
    assert d.message == "input (N, 3, 4, 4) is too small: the output size would be 0"
    assert validate(chain(["N", 3, 5, 5], node("c", "nn.Conv2d", "conv", out_channels=8,
                                               kernel_size=5))) == []


def test_a_slice_that_keeps_nothing_is_empty():
    d = the(chain(["N", 3, 4, 4], node("s", "op.getitem", "crop", index=[":", ":", "2:2"])),
            "empty")
    assert (d.node_id, d.port, d.severity) == ("s", 0, "error")
    assert d.message == ("index [:, :, 2:2] leaves dimension 2 empty (size 0), from the input "
                         "(N, 3, 4, 4)")
    assert validate(chain(["N", 3, 4, 4], node("s", "op.getitem", "crop",
                                               index=[":", ":", "2:3"]))) == []


# -- in_features from the input, and symbolic sizes ------------------------------------------
def test_in_features_is_inferred_from_a_1d_input():
    # torch.nn.Linear(8, 3) takes a 1-D tensor of 8 features and returns 3.
    p = chain([8], node("fc", "nn.Linear", "fc", out_features=3))
    inference = Inference(p.networks[0], p)
    assert inference.states["fc"].params["in_features"] == 8
    assert inference.states["fc"].inferred == frozenset({"in_features"})
    assert inference.output_shape("fc") == (3,)
    assert validate(p) == []


def test_in_features_is_inferred_from_the_last_dimension():
    p = chain(["N", 5, 8], node("fc", "nn.Linear", "fc", out_features=3))
    inference = Inference(p.networks[0], p)
    assert inference.states["fc"].params["in_features"] == 8
    assert inference.output_shape("fc") == (N, 5, 3)


def test_in_features_cannot_come_from_a_symbolic_size():
    broken = chain(["L"], node("fc", "nn.Linear", "fc", out_features=3))
    d = the(broken, "symbolic-size")
    assert (d.node_id, d.port, d.severity) == ("fc", 0, "error")
    assert d.message == ("in_features cannot be taken from the symbolic size L in (L,); give "
                         "the input a fixed size or set in_features")
    # Setting it, as the message says, is the way out: L may well be 8 at run time.
    broken.networks[0].node("fc").params["in_features"] = 8
    assert validate(broken) == []


def test_a_channel_count_set_by_hand_is_not_read_from_a_symbolic_size():
    conv = node("c", "nn.Conv2d", "conv", in_channels=3, out_channels=4, kernel_size=3)
    assert validate(chain(["N", "C", 8, 8], conv)) == []
    d = the(chain(["N", "C", 8, 8], node("c", "nn.Conv2d", "conv", out_channels=4,
                                         kernel_size=3)), "symbolic-size")
    assert (d.node_id, d.port) == ("c", 0)
    assert d.message.startswith("in_channels cannot be taken from the symbolic size C")


def test_splitting_a_symbolic_size_into_pieces_is_symbolic_size():
    split = node("s", "op.split", "parts", split_size_or_sections=2, dim=2)
    d = the(chain(["N", 3, "L"], split), "symbolic-size")
    assert (d.node_id, d.port) == ("s", 0)
    assert d.message.startswith("cannot split the symbolic size L of (N, 3, L) into pieces of 2")
    assert "symbolic-size" not in codes(chain(["N", 3, 4], split))
