"""op.cosine_similarity against torch: the shape rule (broadcast x1 and x2, drop dim), what it
refuses and where, its MACs, the code generated for it and what import makes of
F.cosine_similarity / torch.cosine_similarity."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from graph_schema.catalog import get_spec
from graph_schema.summary import summarize
from tests.catalog_case import check_against_torch, infer_single, one_layer, torch_outputs
from tests.codegen_support import check_model, generate_and_import
from tests.graphs import edges, node, project
from tests.import_models.round_trip import round_trip

# (type, params, input shapes): read by tests/test_catalog_coverage.py as well.
COSINE_CASES = [
    ("op.cosine_similarity", {}, [(2, 3, 4), (2, 3, 4)]),  # dim=1 by default
    ("op.cosine_similarity", {"dim": -1}, [(2, 3, 4), (2, 3, 4)]),
    ("op.cosine_similarity", {}, [(2, 3, 4), (4,)]),  # x2 broadcast from the last dimension
    ("op.cosine_similarity", {"dim": -1}, [(2, 1, 4), (5, 4)]),  # both sides grow
    ("op.cosine_similarity", {"dim": 3}, [(2, 5, 1, 6), (2, 1, 7, 6)]),  # all pairs (N, L, L)
    ("op.cosine_similarity", {"dim": -1, "eps": 1e-6}, [(2, 6, 3, 5), (3, 5)]),  # weighted
    ("op.cosine_similarity", {"dim": 0}, [(4,), (2, 4)]),  # dim of the broadcast shape
    ("op.cosine_similarity", {"dim": 0}, [(3,), (3,)]),  # two vectors: a scalar
    ("op.cosine_similarity", {"dim": -1}, [(), ()]),  # scalars take dim 0 or -1
]

# (params, input shapes, the port the error is pinned to, its code, words of the message)
REFUSED = [
    ({}, [(2, 3), (2, 4)], 1, "shape-mismatch",
     ["x2 to broadcast with (2, 3)", "received (2, 4)", "3 and 4"]),
    ({"dim": -1}, [(2, 5, 6), (3, 1, 6)], 1, "shape-mismatch", ["dimension -3", "2 and 3"]),
    ({"dim": 2}, [(2, 3), (2, 3)], 0, "bad-dim",
     ["dim 2 is out of range", "2-D shape (2, 3)", "-2 to 1"]),
    # dim is read against the broadcast shape: pinned to the input of that rank.
    ({"dim": -3}, [(3,), (2, 3)], 1, "bad-dim", ["dim -3", "x1 (3,) and x2 (2, 3)"]),
    ({"dim": 1}, [(), ()], 0, "bad-dim", ["0-D shape ()", "-1 to 0"]),
]


def _id(case):
    return f"{case[1]}-{case[2]}"


@pytest.mark.parametrize("type_name, params, shapes", COSINE_CASES,
                         ids=[_id(c) for c in COSINE_CASES])
def test_shape_rule_matches_torch(type_name, params, shapes):
    check_against_torch(type_name, params, shapes)


def test_a_symbolic_batch_and_length_flow_through():
    state = infer_single("op.cosine_similarity", {"dim": -1},
                         [("N", "L", 1, 50), ("N", 1, "L", 50)])
    assert [tuple(map(str, s)) for s in state.outputs] == [("N", "L", "L")]


@pytest.mark.parametrize("params, shapes, port, code, words", REFUSED,
                         ids=[f"{c[0]}-{c[1]}" for c in REFUSED])
def test_refuses_what_torch_refuses_on_the_right_port(params, shapes, port, code, words):
    state = infer_single("op.cosine_similarity", params, shapes)
    (error,) = [d for d in state.diagnostics if d.is_error]
    assert (error.port, error.code) == (port, code), error
    for word in words:
        assert word in error.message, (word, error.message)
    assert state.outputs is None
    with pytest.raises((RuntimeError, IndexError)):
        torch_outputs("op.cosine_similarity", params, shapes, device="cpu")


def test_an_out_of_range_dim_offers_the_last_dimension():
    (error,) = infer_single("op.cosine_similarity", {"dim": 3}, [(2, 3, 4)] * 2).diagnostics
    assert error.fix.label == "set dim=-1"
    assert infer_single("op.cosine_similarity", {"dim": -1}, [(2, 3, 4)] * 2).outputs == \
        [(2, 3)]


def test_macs_are_three_dot_products_per_output_element():
    # (N, 6, 10, 5) against (10, 5) along the last dimension: 6 * 10 outputs per sample, each
    # from dot products of length 5 (x1.x2, |x1|^2, |x2|^2).
    summary = summarize(one_layer("op.cosine_similarity", {"dim": -1},
                                  [("N", 6, 1, 5), (10, 5)]))
    assert summary.total_macs == 3 * 6 * 10 * 5


def test_generated_code_calls_f_cosine_similarity_and_computes_it(tmp_path):
    drawn = project(
        [node("a", "io.Input", "a", shape=["N", 4, 1, 8]),
         node("b", "io.Input", "b", shape=["N", 1, 5, 8]),
         node("cos", "op.cosine_similarity", "similarity", dim=-1, eps=1e-6),
         node("out", "io.Output", "y")],
        edges(("a", "cos", 0, 0), ("b", "cos", 0, 1), ("cos", "out")))
    source, module, _ = generate_and_import(drawn, tmp_path)  # ruff-checked as well
    assert "F.cosine_similarity(a, b, dim=-1, eps=1e-06)" in source
    assert "import torch.nn.functional as F" in source
    model, (result,) = check_model(drawn, drawn.networks[0], module.Main)
    a, b = torch.randn(3, 4, 1, 8), torch.randn(3, 1, 5, 8)
    torch.testing.assert_close(model(a, b), F.cosine_similarity(a, b, dim=-1, eps=1e-6))


def test_torch_defaults_are_not_written(tmp_path):
    drawn = project(
        [node("a", "io.Input", "a", shape=["N", 8]), node("b", "io.Input", "b", shape=["N", 8]),
         node("cos", "op.cosine_similarity", "similarity"), node("out", "io.Output", "y")],
        edges(("a", "cos", 0, 0), ("b", "cos", 0, 1), ("cos", "out")))
    source, _, _ = generate_and_import(drawn, tmp_path)
    assert "F.cosine_similarity(a, b)" in source


class Similarities(nn.Module):
    """Both spellings, positional and by name."""

    def __init__(self):
        super().__init__()
        self.project = nn.Linear(8, 8)

    def forward(self, a, b):
        pairs = F.cosine_similarity(self.project(a).unsqueeze(2), b.unsqueeze(1), dim=-1)
        return pairs, torch.cosine_similarity(a, b, 2, 1e-6)


def test_import_draws_both_spellings_as_the_op(tmp_path):
    inputs = (torch.randn(2, 5, 8), torch.randn(2, 5, 8))
    imported, source, _ = round_trip(Similarities(), inputs, tmp_path)
    drawn = sorted((n.params["dim"], n.params["eps"]) for n in imported.networks[0].nodes
                   if n.type == "op.cosine_similarity")
    assert drawn == [(-1, 1e-8), (2, 1e-6)]
    assert source.count("F.cosine_similarity(") == 2


def test_the_palette_finds_it_under_the_tensor_ops(qapp):
    from builder.gui.palette import match_rank

    spec = get_spec("op.cosine_similarity")
    assert spec.family == "op"  # drawn with the tensor-op glyph, like op.matmul
    assert match_rank("cosine", spec.type, spec.description)[0] == 1
    assert match_rank("similarity", spec.type, spec.description) is not None
