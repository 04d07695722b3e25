"""The tensor ops' (``op.*``) shape rules agree with torch, and refuse what torch refuses.

Every case runs the catalog's rule through the real inference engine and the op itself through
its ``OpCall`` in real torch on meta tensors (tests/torch_eval.call_op), so the catalog's idea of
how an op is spelled is checked along with its shapes.
"""

from __future__ import annotations

import pytest

from graph_schema.catalog import all_specs
from tests.catalog_case import check_against_torch, infer_single, torch_outputs
from tests.test_catalog_compare import COMPARE_CASES  # ops_compare's own file
from tests.test_catalog_mask_ops import MASK_OP_CASES  # ops_mask's own file
from tests.test_catalog_similarity import COSINE_CASES  # ops_similarity's own file
from tests.test_catalog_transformer_ops import TRANSFORMER_OP_CASES  # their own file

# -- elementwise and merging ops --------------------------------------------------------------
MERGE_CASES = [
    ("op.add", {}, [(2, 3, 4), (2, 3, 4)]),
    ("op.add", {}, [(2, 3, 4), (4,)]),  # broadcast from the last dimension
    ("op.add", {}, [(2, 1, 4), (3, 1)]),  # both sides grow
    ("op.add", {}, [(), (2, 3)]),  # a scalar tensor broadcasts to anything
    ("op.sub", {}, [(5, 1, 7), (1, 6, 1)]),
    ("op.sub", {}, [(3,), (2, 3)]),
    ("op.mul", {}, [(2, 8, 4, 4), (2, 8, 1, 1)]),  # squeeze-excitation gating
    ("op.mul", {}, [(1,), (4, 2)]),
    ("op.div", {}, [(2, 3), (2, 1)]),
    ("op.div", {}, [(6, 1, 2), (5, 1)]),
    ("op.matmul", {}, [(3, 4), (4, 5)]),
    ("op.matmul", {}, [(4,), (4,)]),  # dot product: a scalar
    ("op.matmul", {}, [(4,), (4, 5)]),
    ("op.matmul", {}, [(2, 3, 4), (4,)]),
    ("op.matmul", {}, [(2, 1, 3, 4), (5, 4, 6)]),  # batch dimensions broadcast
    ("op.matmul", {}, [(7, 2, 3), (3, 2)]),
    ("op.cat", {"dim": 1}, [(2, 3, 5), (2, 4, 5)]),
    ("op.cat", {"dim": -1}, [(2, 3, 5), (2, 3, 1), (2, 3, 2)]),
    ("op.cat", {}, [(2, 3), (4, 3)]),
    ("op.cat", {"dim": 0}, [(6,)]),  # one input
    ("op.stack", {}, [(2, 3), (2, 3)]),
    ("op.stack", {"dim": -1}, [(2, 3), (2, 3), (2, 3)]),
    ("op.stack", {"dim": 2}, [(2, 3), (2, 3)]),  # a new last dimension
    ("op.stack", {"dim": 1}, [(4,)]),
]

POINTWISE_CASES = [
    *((name, {}, [shape]) for name in ("op.relu", "op.sigmoid", "op.tanh", "op.silu",
                                       "op.neg", "op.abs", "op.exp", "op.log", "op.sqrt")
      for shape in [(2, 3, 4), ()]),
    ("op.gelu", {}, [(2, 3)]),
    ("op.gelu", {"approximate": "tanh"}, [(2, 3, 4, 5)]),
    ("op.pow", {}, [(2, 3)]),
    ("op.pow", {"exponent": 0.5}, [()]),
    ("op.scale", {"factor": 0.5}, [(2, 3)]),
    ("op.scale", {"factor": -3}, [(7,)]),
    ("op.add_scalar", {"value": 1.0}, [(2, 3)]),
    ("op.add_scalar", {"value": -2}, [(4, 1, 2)]),
]

REDUCE_CASES = [
    ("op.mean", {}, [(2, 3, 4)]),  # every dimension: a scalar
    ("op.mean", {"dim": 1}, [(2, 3, 4)]),
    ("op.mean", {"dim": [-1, -2], "keepdim": True}, [(2, 3, 4, 5)]),  # global pooling
    ("op.sum", {"dim": [0, 2]}, [(2, 3, 4)]),
    ("op.sum", {"dim": -1, "keepdim": True}, [(5,)]),
    ("op.sum", {"dim": None, "keepdim": True}, [(2, 3)]),
    ("op.amax", {"dim": 1}, [(2, 3, 4)]),
    ("op.amax", {"dim": [0, -1], "keepdim": True}, [(2, 3, 4)]),
    ("op.amin", {"dim": -2}, [(2, 3, 4)]),
    ("op.amin", {"dim": 0, "keepdim": True}, [(6,)]),
    ("op.max", {"dim": 1}, [(2, 3, 4)]),
    ("op.max", {"dim": -1, "keepdim": True}, [(2, 3, 4)]),
    ("op.max", {"dim": 0}, [(5,)]),
    ("op.softmax", {"dim": -1}, [(2, 3, 4)]),
    ("op.softmax", {"dim": 0}, [(3,)]),
    ("op.log_softmax", {"dim": 1}, [(2, 10)]),
    ("op.log_softmax", {"dim": -3}, [(2, 3, 4)]),
]

# -- ops that rearrange or select -------------------------------------------------------------
SHAPE_CASES = [
    ("op.reshape", {"shape": [2, 12]}, [(2, 3, 4)]),
    ("op.reshape", {"shape": [-1, 4]}, [(2, 3, 4)]),
    ("op.reshape", {"shape": [2, -1, 2]}, [(2, 3, 4)]),
    ("op.reshape", {"shape": [-1]}, [(2, 3, 4)]),
    ("op.reshape", {"shape": [1, -1]}, [()]),
    ("op.view", {"shape": [6, 4]}, [(2, 3, 4)]),
    ("op.view", {"shape": [2, 3, 2, -1]}, [(2, 3, 4)]),
    ("op.permute", {"dims": [0, 2, 1]}, [(2, 3, 4)]),
    ("op.permute", {"dims": [-1, 0, -2]}, [(2, 3, 4)]),  # negative dims
    ("op.permute", {"dims": [0, 2, 3, 1]}, [(2, 3, 4, 5)]),  # NCHW -> NHWC
    ("op.transpose", {}, [(2, 3, 4)]),
    ("op.transpose", {"dim0": -1, "dim1": 1}, [(2, 3, 4, 5)]),
    ("op.transpose", {"dim0": 0, "dim1": 0}, [(2, 3)]),
    ("op.transpose", {"dim0": -1, "dim1": 0}, [()]),
    ("op.flatten", {}, [(2, 3, 4)]),
    ("op.flatten", {"start_dim": 1}, [(2, 3, 4, 5)]),
    ("op.flatten", {"start_dim": 1, "end_dim": 2}, [(2, 3, 4, 5)]),
    ("op.flatten", {"start_dim": -2}, [(2, 3, 4)]),
    ("op.flatten", {"start_dim": 2, "end_dim": 2}, [(2, 3, 4)]),
    ("op.flatten", {}, [()]),
    ("op.squeeze", {}, [(1, 3, 1, 4)]),  # every size-1 dimension
    ("op.squeeze", {"dim": [1]}, [(2, 1, 4)]),
    ("op.squeeze", {"dim": [0]}, [(2, 1, 4)]),  # not size 1: kept, as torch keeps it
    ("op.squeeze", {"dim": [-1, 0]}, [(1, 3, 1)]),
    ("op.squeeze", {"dim": [-1]}, [(2, 3)]),
    ("op.unsqueeze", {"dim": 0}, [(2, 3)]),
    ("op.unsqueeze", {"dim": -1}, [(2, 3)]),
    ("op.unsqueeze", {"dim": 2}, [(2, 3)]),
    ("op.unsqueeze", {"dim": -3}, [(2, 3)]),
    ("op.unsqueeze", {"dim": 0}, [()]),
    ("op.expand", {"sizes": [2, 3, 4]}, [(2, 1, 4)]),
    ("op.expand", {"sizes": [-1, 5, -1]}, [(2, 1, 4)]),
    ("op.expand", {"sizes": [3, -1, -1]}, [(1, 4)]),  # a new leading dimension
    ("op.expand", {"sizes": [6, 2, 3]}, [(3,)]),
    ("op.contiguous", {}, [(2, 3)]),
    ("op.contiguous", {}, [()]),
]

INDEX_CASES = [
    ("op.getitem", {"index": [":", "0"]}, [(2, 3, 4)]),
    ("op.getitem", {"index": ["-1"]}, [(2, 3, 4)]),
    ("op.getitem", {"index": ["...", "1:-1"]}, [(2, 3, 5)]),
    ("op.getitem", {"index": [":", "None", "::2"]}, [(2, 5, 4)]),
    ("op.getitem", {"index": ["None", "...", "None"]}, [(2, 3)]),
    ("op.getitem", {"index": ["1:", "-3:", ":5:3"]}, [(4, 4, 7)]),
    ("op.getitem", {"index": ["0", "...", "-2", ":"]}, [(2, 3, 4, 5)]),
    ("op.getitem", {"index": [":", "-100:100:4"]}, [(2, 9)]),  # bounds clipped, as in Python
    ("op.getitem", {"index": [":", "1:-2:3"]}, [(2, 11)]),
    ("op.getitem", {"index": ["...", "0"]}, [(3,)]),
    ("op.split", {"split_size_or_sections": 2}, [(6, 3)]),
    ("op.split", {"split_size_or_sections": 4}, [(6, 3)]),  # the last piece is smaller
    ("op.split", {"split_size_or_sections": 8}, [(6, 3)]),  # one piece
    ("op.split", {"split_size_or_sections": [1, 2], "dim": -1}, [(4, 3)]),
    ("op.split", {"split_size_or_sections": [3], "dim": 1}, [(4, 3)]),
    ("op.chunk", {"chunks": 2}, [(6, 3)]),
    ("op.chunk", {"chunks": 4}, [(6, 3)]),  # 6 in 4 chunks: torch gives 3 pieces of 2
    ("op.chunk", {"chunks": 4, "dim": 1}, [(2, 7)]),
    ("op.chunk", {"chunks": 3, "dim": -1}, [(2, 2)]),  # fewer pieces than asked
    ("op.chunk", {"chunks": 5, "dim": 1}, [(2, 5, 3)]),
]

RESIZE_CASES = [
    ("op.interpolate", {"size": 8}, [(2, 3, 5)]),
    ("op.interpolate", {"size": [4, 6]}, [(2, 3, 5, 5)]),
    ("op.interpolate", {"scale_factor": 2}, [(2, 3, 5, 7)]),
    ("op.interpolate", {"scale_factor": [1.5, 0.5], "mode": "bilinear"}, [(2, 3, 5, 7)]),
    ("op.interpolate", {"scale_factor": 1.7, "mode": "linear", "align_corners": True},
     [(2, 3, 9)]),
    ("op.interpolate", {"size": [2, 3, 4], "mode": "trilinear"}, [(1, 2, 4, 4, 4)]),
    ("op.interpolate", {"scale_factor": 0.5, "mode": "area"}, [(1, 2, 9, 9)]),
    ("op.interpolate", {"size": 5, "mode": "nearest-exact"}, [(1, 2, 3, 3, 3)]),
    ("op.interpolate", {"size": [7, 7], "mode": "bicubic", "align_corners": False},
     [(1, 3, 4, 4)]),
    ("op.pad", {"pad": [1, 2]}, [(2, 3, 4)]),
    ("op.pad", {"pad": [1, 1, 2, 0], "value": 0.5}, [(2, 3, 4)]),
    ("op.pad", {"pad": [0, 0, 0, 0, 1, 1]}, [(2, 3, 4)]),  # pads dimension 0
    ("op.pad", {"pad": [-1, -1]}, [(2, 3, 4)]),  # negative pads crop
    ("op.pad", {"pad": [2, 3], "mode": "reflect"}, [(2, 3, 4)]),
    ("op.pad", {"pad": [1, 1, 1, 1], "mode": "reflect"}, [(3, 4, 5)]),
    ("op.pad", {"pad": [1, 2, 3, 4], "mode": "replicate"}, [(2, 3, 4, 5)]),
    ("op.pad", {"pad": [1, 1, 1, 1, 1, 1], "mode": "replicate"}, [(2, 3, 4, 5, 6)]),
    ("op.pad", {"pad": [2, 1], "mode": "circular"}, [(2, 3, 4)]),
    ("op.pad", {"pad": [1, 1, 0, 2], "mode": "circular"}, [(1, 2, 3, 4)]),
]

OP_CASES = (MERGE_CASES + POINTWISE_CASES + REDUCE_CASES + SHAPE_CASES + INDEX_CASES
            + RESIZE_CASES)


def _case_id(case):
    type_name, params, shapes = case
    return f"{type_name[3:]}-{params}-{shapes}"


@pytest.mark.parametrize("type_name, params, shapes", OP_CASES,
                         ids=[_case_id(c) for c in OP_CASES])
def test_shape_rule_matches_torch(type_name, params, shapes):
    check_against_torch(type_name, params, shapes)


@pytest.mark.parametrize("type_name", ["op.sum", "op.mean"])
def test_keepdim_without_dim_generates_code_torch_runs(type_name, tmp_path):
    """Stored as {"keepdim": true} with dim left at None: torch has no x.sum(keepdim=True),
    so generated code must spell out dim=None (found by the torch-agreement tests)."""
    import torch

    from tests.codegen_support import generate_and_import
    from tests.graphs import chain_edges, node, project

    drawn = project([node("i", "io.Input", "x", shape=["N", 2, 3]),
                     node("r", type_name, "reduce", keepdim=True), node("o", "io.Output", "y")],
                    chain_edges("i", "r", "o"))
    source, module, _ = generate_and_import(drawn, tmp_path)
    assert "dim=None, keepdim=True" in source
    assert module.Main()(torch.ones(4, 2, 3)).shape == (1, 1, 1)


def test_every_op_of_the_ops_modules_is_checked_against_torch():
    """Here, the ops of graph_schema/catalog/ops_*.py; test_catalog_coverage checks that every
    type of the catalog is checked somewhere."""
    tested = {case[0] for case in
              OP_CASES + COSINE_CASES + TRANSFORMER_OP_CASES + COMPARE_CASES + MASK_OP_CASES}
    ops = {s.type for s in all_specs()
           if s.rule.__module__.startswith("graph_schema.catalog.ops_")}
    assert len(ops) >= 40 and ops == tested


# -- what torch refuses, the catalog refuses: on the right port, saying why ----------------------
# (type, params, input shapes, the port the error is pinned to (None: a parameter), its code,
#  words the message must contain)
REFUSED_CASES = [
    ("op.add", {}, [(2, 3), (3, 2)], 1, "shape-mismatch",
     ["input 1", "broadcast with (2, 3)", "received (3, 2)", "2 and 3"]),
    ("op.mul", {}, [(2, 3, 4), (5, 1, 4)], 1, "shape-mismatch",
     ["received (5, 1, 4)", "dimension -3", "neither equal nor 1"]),
    ("op.sub", {}, [(4,), (2, 3)], 1, "shape-mismatch", ["(4,)", "received (2, 3)"]),
    ("op.div", {}, [(2, 8), (2, 4)], 1, "shape-mismatch", ["8 and 4"]),
    ("op.matmul", {}, [(2, 3), (4, 5)], 1, "shape-mismatch",
     ["input 1 to be 3", "received (4, 5)", "inner dimensions"]),
    ("op.matmul", {}, [(3,), (4,)], 1, "shape-mismatch", ["to be 3", "received (4,)"]),
    ("op.matmul", {}, [(), (4,)], 0, "rank-mismatch", ["input 0", "at least 1 dimension"]),
    ("op.matmul", {}, [(4,), ()], 1, "rank-mismatch", ["input 1", "scalar"]),
    ("op.matmul", {}, [(2, 3, 4), (3, 4, 5)], 1, "shape-mismatch",
     ["batch dimensions of input 1", "2 and 3"]),
    ("op.cat", {"dim": 1}, [(2, 3, 8, 8), (2, 3, 7, 7)], 1, "shape-mismatch",
     ["except dim 1", "received (2, 3, 7, 7)", "dimension 2 is 7, not 8"]),
    ("op.cat", {"dim": 0}, [(2, 3), (2, 3), (2, 4)], 2, "shape-mismatch",
     ["input 2", "dimension 1 is 4, not 3"]),
    ("op.cat", {"dim": 0}, [(2, 3), (2, 3, 1)], 1, "rank-mismatch",
     ["2-D input like input 0", "received (2, 3, 1)"]),
    ("op.cat", {"dim": 2}, [(2, 3), (2, 3)], 0, "bad-dim", ["dimension 2", "out of range"]),
    ("op.cat", {}, [(), ()], 0, "rank-mismatch", ["at least 1 dimension", "scalar"]),
    ("op.stack", {}, [(2, 3), (2, 4)], 1, "shape-mismatch",
     ["shape of input 0 (2, 3)", "received (2, 4)", "stack needs equal shapes"]),
    ("op.stack", {"dim": 3}, [(2, 3), (2, 3)], 0, "bad-dim", ["dimension 3", "out of range"]),
    ("op.reshape", {"shape": [5, 5]}, [(2, 3, 4)], 0, "shape-mismatch",
     ["25 elements", "received (2, 3, 4) with 24 elements"]),
    ("op.reshape", {"shape": [5, -1]}, [(2, 3, 4)], 0, "shape-mismatch",
     ["24 elements divide by 5", "(5, -1)"]),
    ("op.view", {"shape": [2, 3, 5]}, [(2, 3, 4)], 0, "shape-mismatch",
     ["30 elements", "24 elements"]),
    ("op.permute", {"dims": [0, 1]}, [(2, 3, 4)], 0, "bad-dim",
     ["all 3 dimensions", "dims=(0, 1)"]),
    ("op.permute", {"dims": [0, 0, 1]}, [(2, 3, 4)], 0, "bad-dim", ["each once"]),
    ("op.permute", {"dims": [0, 1, 3]}, [(2, 3, 4)], 0, "bad-dim", ["permutation of (0, 1, 2)"]),
    # A scalar has nothing to reorder, and x.permute() with no dims does not run.
    ("op.permute", {"dims": []}, [()], 0, "rank-mismatch", ["at least 1 dimension", "scalar"]),
    ("op.transpose", {"dim0": 0, "dim1": 3}, [(2, 3, 4)], 0, "bad-dim",
     ["dimension 3", "out of range", "(2, 3, 4)"]),
    ("op.flatten", {"start_dim": 2, "end_dim": 1}, [(2, 3, 4)], None, "bad-param",
     ["start_dim=2 comes after end_dim=1"]),
    ("op.flatten", {"start_dim": 3}, [(2, 3, 4)], 0, "bad-dim", ["dimension 3"]),
    ("op.squeeze", {"dim": [3]}, [(2, 1, 4)], 0, "bad-dim", ["dimension 3", "out of range"]),
    ("op.squeeze", {"dim": [1, -2]}, [(2, 1, 4)], None, "bad-param", ["a second time"]),
    ("op.unsqueeze", {"dim": 3}, [(2, 3)], 0, "bad-dim", ["dimension 3", "out of range"]),
    ("op.unsqueeze", {"dim": -4}, [(2, 3)], 0, "bad-dim", ["dimension -4"]),
    ("op.expand", {"sizes": [2, 3, 4]}, [(2, 2, 4)], 0, "shape-mismatch",
     ["dimension 1 to be 1 or 3", "received (2, 2, 4)", "only size-1 dimensions can grow"]),
    ("op.expand", {"sizes": [3, 4]}, [(2, 3, 4)], 0, "rank-mismatch",
     ["at most 2 dimensions", "received (2, 3, 4)"]),
    ("op.expand", {"sizes": [-1, 3, 4]}, [(3, 4)], None, "bad-param",
     ["sizes[0] is -1", "dimension 0 is new"]),
    ("op.getitem", {"index": ["::-1"]}, [(2, 3)], None, "bad-param",
     ["positive step", "torch.flip"]),
    ("op.getitem", {"index": ["3"]}, [(2, 3)], 0, "bad-dim",
     ["dimension 0 to have more than 3 entries", "received (2, 3)"]),
    ("op.getitem", {"index": [":", "-4"]}, [(2, 3)], 0, "bad-dim",
     ["dimension 1 to have more than 3 entries"]),
    ("op.getitem", {"index": ["0", "0", "0"]}, [(2, 3)], 0, "rank-mismatch",
     ["at least 3 dimensions", "[0, 0, 0]"]),
    ("op.getitem", {"index": ["0"]}, [()], 0, "rank-mismatch", ["received ()"]),
    ("op.split", {"split_size_or_sections": [2, 2]}, [(6, 3)], 0, "shape-mismatch",
     ["size 4 (the sum of the sections [2, 2])", "received (6, 3)"]),
    ("op.split", {"split_size_or_sections": 0}, [(6, 3)], None, "bad-param",
     ["only split an empty dimension"]),
    ("op.split", {"split_size_or_sections": 2}, [()], 0, "rank-mismatch", ["scalar"]),
    ("op.split", {"split_size_or_sections": 2, "dim": 2}, [(6, 3)], 0, "bad-dim",
     ["dimension 2"]),
    ("op.chunk", {"chunks": 2}, [()], 0, "rank-mismatch", ["scalar"]),
    ("op.chunk", {"chunks": 2, "dim": -3}, [(6, 3)], 0, "bad-dim", ["dimension -3"]),
    ("op.mean", {"dim": [1, 1]}, [(2, 3)], None, "bad-param", ["a second time"]),
    ("op.sum", {"dim": [2]}, [(2, 3)], 0, "bad-dim", ["dimension 2", "(2, 3)"]),
    ("op.amax", {"dim": [0, -3]}, [(2, 3)], 0, "bad-dim", ["dimension -3"]),
    ("op.max", {"dim": 2}, [(2, 3)], 0, "bad-dim", ["dimension 2"]),
    ("op.softmax", {"dim": 2}, [(2, 3)], 0, "bad-dim", ["dimension 2", "out of range"]),
    ("op.log_softmax", {"dim": -3}, [(2, 3)], 0, "bad-dim", ["dimension -3"]),
    ("op.interpolate", {"size": 4}, [(2, 3)], 0, "rank-mismatch",
     ["3-D or 4-D or 5-D", "received (2, 3)"]),
    ("op.interpolate", {"size": [4, 4]}, [(2, 3, 5)], 0, "rank-mismatch",
     ["2 spatial dimension(s)", "size [4, 4]", "with 1"]),
    ("op.interpolate", {"size": 4, "mode": "bilinear"}, [(2, 3, 5)], 0, "rank-mismatch",
     ["4-D input (N, C, H, W) for mode='bilinear'"]),
    ("op.interpolate", {"size": 4, "align_corners": True}, [(2, 3, 5)], None, "bad-param",
     ["align_corners applies only"]),
    ("op.interpolate", {}, [(2, 3, 5)], None, "bad-param", ["set size or scale_factor"]),
    ("op.interpolate", {"size": 4, "scale_factor": 2}, [(2, 3, 5)], None, "bad-param",
     ["not both"]),
    ("op.interpolate", {"scale_factor": 0.1}, [(2, 3, 5)], 0, "too-small",
     ["too small", "would be 0"]),
    ("op.pad", {"pad": [1]}, [(2, 3)], None, "bad-param", ["(left, right) pairs"]),
    ("op.pad", {"pad": [1, 1, 1, 1, 1, 1]}, [(2, 3)], 0, "rank-mismatch",
     ["at least 3 dimensions", "6 pad values"]),
    ("op.pad", {"pad": [3, 0], "mode": "reflect"}, [(2, 3, 3)], 0, "too-small",
     ["padding (3, 0)", "smaller than the size"]),
    ("op.pad", {"pad": [4, 0], "mode": "circular"}, [(2, 3, 3)], 0, "too-small",
     ["padding (4, 0)", "circular"]),
    ("op.pad", {"pad": [1, 1], "mode": "reflect"}, [(2, 3, 4, 5)], 0, "rank-mismatch",
     ["2-D or 3-D input", "received (2, 3, 4, 5)"]),
    ("op.pad", {"pad": [1, 1] * 4, "mode": "replicate"}, [(2, 3, 4, 5, 6)], None, "bad-param",
     ["last 1, 2 or 3 dimensions"]),
    ("op.pad", {"pad": [-3, -2]}, [(2, 3, 4)], 0, "too-small", ["dimension 2 -1"]),
    ("op.pad", {"pad": [-2, -2], "mode": "replicate"}, [(2, 3, 4)], 0, "empty",
     ["padding (-2, -2) leaves dimension 2 empty"]),
]


def _refused_id(case):
    type_name, params, shapes, *_ = case
    return f"{type_name[3:]}-{params}-{shapes}"


@pytest.mark.parametrize("type_name, params, shapes, port, code, words", REFUSED_CASES,
                         ids=[_refused_id(c) for c in REFUSED_CASES])
def test_refuses_what_torch_refuses(type_name, params, shapes, port, code, words):
    state = infer_single(type_name, params, shapes)
    errors = [d for d in state.diagnostics if d.is_error]
    assert len(errors) == 1, [d.message for d in state.diagnostics]
    (error,) = errors
    assert (error.node_id, error.port, error.code) == ("layer", port, code), error
    for word in words:
        assert word in error.message, (word, error.message)
    assert state.outputs is None
    # Real CPU tensors: some meta kernels skip the checks (softmax's dim, for one).
    with pytest.raises((RuntimeError, IndexError, ValueError, TypeError, NotImplementedError)):
        torch_outputs(type_name, params, shapes, device="cpu")


# Empty results: torch makes an empty tensor and carries it on until a layer refuses it (an
# adaptive pool, an interpolation, a recurrent layer...), far from the cause. No input is ever
# empty, so the catalog refuses the op that empties a dimension, pinned to it.
EMPTY_CASES = [
    ("op.getitem", {"index": ["10:", ":"]}, [(4, 4)], 0, "index [10:, :]"),
    ("op.getitem", {"index": [":", "2:1"]}, [(4, 4)], 0, "index [:, 2:1]"),
    ("op.split", {"split_size_or_sections": [2, 0, 2]}, [(4, 3)], None, "a section of size 0"),
    ("op.pad", {"pad": [-2, -2]}, [(2, 3, 4)], 0, "padding (-2, -2)"),
    ("op.pad", {"pad": [0, 0, -3, 0]}, [(2, 3, 4)], 0, "padding (-3, 0)"),
    ("op.expand", {"sizes": [0, 4]}, [(1, 4)], 0, "sizes[0]=0"),
]


@pytest.mark.parametrize("type_name, params, shapes, port, words", EMPTY_CASES,
                         ids=[_refused_id(c) for c in EMPTY_CASES])
def test_an_op_that_empties_a_dimension_is_refused(type_name, params, shapes, port, words):
    state = infer_single(type_name, params, shapes)
    (error,) = [d for d in state.diagnostics if d.is_error]
    assert error.port == port and words in error.message
    assert error.code == ("empty" if port is not None else "bad-param")
    assert any(0 in shape for shape in torch_outputs(type_name, params, shapes, device="cpu"))
