"""The ops GPT-2's root builds its causal and padding mask from, against torch: to (a cast),
cumsum, diff (with prepend and append), index (by integer index tensors) and new_ones.

Each case runs the catalog's rule through the real inference engine and the op through its
OpCall in real torch (tests/catalog_case.py); what torch refuses on CPU the catalog refuses on
the right port. The generated code is run at the end.
"""

from __future__ import annotations

import pytest
import torch

from graph_schema.document import Edge, Network, Node, Project
from tests.catalog_case import (
    assert_refused_like_torch,
    check_against_torch,
    infer_single,
    torch_outputs,
)
from tests.codegen_support import generate_and_import

F32, BOOL, I64 = "float32", "bool", "int64"

# (type, params, input shapes[, dtypes]): read by tests/test_catalog_coverage.py as well.
MASK_OP_CASES = [
    ("op.to", {"dtype": "bool"}, [(2, 3)]),
    ("op.to", {"dtype": "float16"}, [()], [I64]),
    ("op.cumsum", {"dim": -1}, [(2, 5)], [BOOL]),  # counts the true ones
    ("op.cumsum", {"dim": 0}, [(4,)]),
    ("op.diff", {}, [(2, 6)]),
    ("op.diff", {"n": 2, "dim": 0}, [(5, 3)]),
    ("op.diff", {"dim": -1}, [(2, 8), (2, 1)], [I64, I64]),  # GPT-2's prepend
    ("op.diff", {"dim": 1}, [(2, 3, 4), (2, 2, 4), (2, 5, 4)]),  # prepend and append
    ("op.index", {}, [(5, 6, 7), (2, 1), (4,)], [F32, I64, I64]),  # broadcast indices
    ("op.index", {}, [(5, 6, 7), (3,)], [F32, I64]),  # one index: the rest stays
    ("op.index", {}, [(4, 8), (4, 1, 1, 1), (1, 1, 8, 1)], [BOOL, I64, I64]),  # GPT-2's mask
    ("op.new_ones", {"size": [], "dtype": "bool"}, [(2, 3)]),
    ("op.new_ones", {"size": [2, 4]}, [(3,)]),
]


@pytest.mark.parametrize("case", MASK_OP_CASES, ids=[f"{c[0][3:]}-{c[1]}-{c[2]}"
                                                     for c in MASK_OP_CASES])
def test_shape_rule_matches_torch(case):
    type_name, params, shapes, *dtypes = case
    check_against_torch(type_name, params, shapes, dtypes[0] if dtypes else None)


# (type, params, input shapes, dtypes or None, the port (None: a parameter), code, words)
REFUSED = [
    ("op.cumsum", {"dim": 2}, [(2, 3)], None, 0, "bad-dim", ["dimension 2 is out of range"]),
    ("op.diff", {}, [()], None, 0, "rank-mismatch", ["at least 1 dimension"]),
    ("op.diff", {}, [(2, 3), (1,)], None, 1, "rank-mismatch",
     ["prepend to have the 2 dimensions of the input (2, 3)"]),
    ("op.diff", {"dim": -1}, [(2, 3), (1, 1)], None, 1, "shape-mismatch",
     ["dimension 0 of prepend (1, 1) to be 2", "only dimension 1"]),
    ("op.index", {}, [(5, 6), (2,), (3,)], [F32, I64, I64], 2, "shape-mismatch",
     ["index 1 to broadcast with (2,)"]),
    ("op.index", {}, [(5,), (2,), (2,)], [F32, I64, I64], 2, "rank-mismatch",
     ["at most 1 index tensors for the input (5,)"]),
]


@pytest.mark.parametrize("type_name, params, shapes, dtypes, port, code, words", REFUSED,
                         ids=[f"{c[0][3:]}-{c[1]}-{c[2]}" for c in REFUSED])
def test_refuses_what_torch_refuses_on_the_right_port(type_name, params, shapes, dtypes, port,
                                                      code, words):
    assert_refused_like_torch(type_name, params, shapes, dtypes, port, code, words)


def test_more_differences_than_values_is_refused_where_it_empties_the_dimension():
    """torch gives (2, 0), which only a later layer would refuse (the catalog's rule for
    every op that empties a dimension, test_catalog_ops.EMPTY_CASES)."""
    state = infer_single("op.diff", {"n": 3}, [(2, 3)])
    (error,) = [d for d in state.diagnostics if d.is_error]
    assert (error.port, error.code) == (0, "empty") and "n=3 differences" in error.message
    assert torch_outputs("op.diff", {"n": 3}, [(2, 3)], device="cpu") == [(2, 0)]


def test_a_negative_size_for_new_ones_is_a_bad_parameter():
    state = infer_single("op.new_ones", {"size": [2, -1]}, [(3,)])
    assert [d.code for d in state.diagnostics if d.is_error] == ["bad-param"]


# -- the generated code ----------------------------------------------------------------------
def _mask_project() -> Project:
    """GPT-2's packed-sequence mask in miniature: position ids, their differences from the
    one before (the first against itself minus one), a running count of where they jump,
    picked pairwise by index tensors, cast to bool and anded with a one."""
    nodes = [
        Node(id="pos", type="io.Input", name="positions", params={"shape": ["N", 6],
                                                                 "dtype": "int64"}),
        Node(id="rows", type="io.Input", name="rows", params={"shape": ["N", 1],
                                                             "dtype": "int64"}),
        Node(id="cols", type="io.Input", name="cols", params={"shape": [1, 6],
                                                             "dtype": "int64"}),
        Node(id="first", type="op.getitem", name="first", params={"index": [":", ":1"]}),
        Node(id="before", type="op.add_scalar", name="before", params={"value": -1}),
        Node(id="diff", type="op.diff", name="steps", params={"dim": -1}),
        Node(id="jump", type="op.ne_scalar", name="jumps", params={"value": 1}),
        Node(id="count", type="op.cumsum", name="sequence", params={"dim": -1}),
        Node(id="pick", type="op.index", name="picked"),
        Node(id="cast", type="op.to", name="as_float", params={"dtype": "float32"}),
        Node(id="one", type="op.new_ones", name="one", params={"size": [],
                                                               "dtype": "float32"}),
        Node(id="both", type="op.mul", name="both"),
        Node(id="out", type="io.Output", name="mask"),
    ]
    pairs = [("pos", "first", 0), ("first", "before", 0), ("pos", "diff", 0),
             ("before", "diff", 1), ("diff", "jump", 0), ("jump", "count", 0),
             ("count", "pick", 0), ("rows", "pick", 1), ("cols", "pick", 2),
             ("pick", "cast", 0), ("cast", "one", 0), ("one", "both", 0),
             ("cast", "both", 1), ("both", "out", 0)]
    edges = [Edge(source=s, target=t, target_port=p) for s, t, p in pairs]
    return Project(networks=[Network(name="mask", nodes=nodes, edges=edges)])


def test_generated_code_computes_what_torch_does(tmp_path):
    source, module, _ = generate_and_import(_mask_project(), tmp_path)
    for call in ("torch.diff(", "prepend=", "torch.cumsum(", ".to(torch.float32)",
                 ".new_ones((), dtype=torch.float32)"):
        assert call in source, call
    positions = torch.tensor([[0, 1, 2, 0, 1, 2], [0, 1, 2, 3, 4, 5]])
    rows = torch.arange(2).unsqueeze(1)
    cols = torch.arange(6).unsqueeze(0)
    got = module.Mask()(positions, rows, cols)
    first = positions[:, :1] - 1
    expected = (torch.diff(positions, dim=-1, prepend=first) != 1).cumsum(-1)[rows, cols]
    assert torch.equal(got, expected.to(torch.float32))
    assert got.tolist()[0] == [0, 0, 0, 1, 1, 1]
