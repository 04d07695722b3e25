"""The ops transformer models need, against torch: scaled_dot_product_attention, bmm, baddbmm,
einsum, masked_fill, where, gather, clamp (numbers or tensors), erf, arange and expand_as.

Each case runs the catalog's rule through the real inference engine and the op through its
OpCall in real torch (tests/catalog_case.py); what torch refuses on CPU the catalog refuses
on the right port, in words that name the input and the dimension. Properties drawn by
hypothesis sweep the broadcasting and einsum edges; MACs are checked against torch's own
FlopCounterMode. The generated code is run in tests/test_codegen_transformer_ops.py.
"""

from __future__ import annotations

import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.utils.flop_counter import FlopCounterMode

from graph_schema.catalog import get_spec
from graph_schema.dims import Sym
from graph_schema.summary import summarize
from tests.catalog_case import (
    assert_refused_like_torch,
    check_against_torch,
    infer_single,
    one_layer,
    torch_outputs,
)

SDPA = "op.scaled_dot_product_attention"
F32, BOOL, I64 = "float32", "bool", "int64"

# (type, params, input shapes[, dtypes]): read by tests/test_catalog_coverage.py as well.
ATTENTION_OP_CASES = [
    (SDPA, {}, [(2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 6)]),  # (N, heads, L, E), S=5, Ev=6
    (SDPA, {}, [(4, 8), (5, 8), (5, 6)]),  # no batch at all
    (SDPA, {"is_causal": True, "scale": 0.5}, [(2, 3, 4, 8), (1, 3, 5, 8), (2, 3, 5, 6)]),
    (SDPA, {"dropout_p": 0.1}, [(3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 6)]),  # batches broadcast
    (SDPA, {}, [(2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 6), (2, 1, 1, 5)], [F32, F32, F32, BOOL]),
    (SDPA, {}, [(2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 6), (4, 5)]),  # a float mask, added
    (SDPA, {}, [(3, 4, 8), (3, 5, 8), (3, 5, 6), (3, 4, 1)], [F32, F32, F32, BOOL]),
    (SDPA, {"enable_gqa": True}, [(2, 4, 4, 8), (2, 2, 5, 8), (2, 1, 5, 6)]),
    ("op.bmm", {}, [(2, 4, 3), (2, 3, 5)]),
    ("op.bmm", {}, [(1, 1, 6), (1, 6, 1)]),
    ("op.baddbmm", {}, [(2, 4, 5), (2, 4, 3), (2, 3, 5)]),
    ("op.baddbmm", {"beta": 0.5, "alpha": 2.0}, [(4, 1), (2, 4, 3), (2, 3, 5)]),
    ("op.baddbmm", {}, [(), (3, 2, 2), (3, 2, 4)]),
    ("op.addmm", {}, [(5,), (4, 3), (3, 5)]),  # a bias, as GPT-2's Conv1D adds it
    ("op.addmm", {"beta": 0.5, "alpha": 2.0}, [(4, 1), (4, 3), (3, 5)]),
]

EINSUM_CASES = [
    ("op.einsum", {"equation": "bhld,bhmd->bhlm"}, [(2, 3, 4, 8), (2, 3, 5, 8)]),  # scores
    ("op.einsum", {"equation": "bhlm,bhmd->bhld"}, [(2, 3, 4, 5), (2, 3, 5, 8)]),
    ("op.einsum", {"equation": "b i d, b j d -> b i j"}, [(2, 4, 8), (2, 5, 8)]),  # spaces
    ("op.einsum", {"equation": "ij,jk"}, [(2, 3), (3, 4)]),  # implicit output: i, k
    ("op.einsum", {"equation": "Ab,ba"}, [(2, 3), (3, 2)]),  # capitals sort first
    ("op.einsum", {"equation": "ij,jk->ik"}, [(2, 1), (3, 4)]),  # a size-1 letter broadcasts
    ("op.einsum", {"equation": "ii->i"}, [(3, 3)]),  # a diagonal
    ("op.einsum", {"equation": "ii"}, [(3, 3)]),  # the trace
    ("op.einsum", {"equation": "iij->ij"}, [(3, 3, 4)]),
    ("op.einsum", {"equation": "...ij,...jk->...ik"}, [(5, 2, 3), (3, 4)]),
    ("op.einsum", {"equation": "...ij,...jk"}, [(5, 2, 3), (7, 1, 3, 4)]),
    ("op.einsum", {"equation": "...ij,...jk->ik"}, [(5, 2, 3), (5, 3, 4)]),  # '...' summed
    ("op.einsum", {"equation": "i...j"}, [(2, 3, 4, 5)]),  # '...' first in the implicit output
    ("op.einsum", {"equation": "ij->...ij"}, [(2, 3)]),  # '...' covering nothing
    ("op.einsum", {"equation": "i,j->ij"}, [(2,), (3,)]),
    ("op.einsum", {"equation": "i->"}, [(3,)]),
    ("op.einsum", {"equation": ",ab->ab"}, [(), (2, 3)]),
    ("op.einsum", {"equation": "ij,jk,kl->il"}, [(2, 3), (3, 4), (4, 5)]),
    ("op.einsum", {"equation": "bn,anm,bm->ba"}, [(2, 3), (4, 3, 5), (2, 5)]),  # bilinear
]

SELECT_CASES = [
    ("op.masked_fill", {"value": -1e9}, [(2, 3, 4, 5), (2, 1, 1, 5)], [F32, BOOL]),
    ("op.masked_fill", {"value": 0}, [(3,), (2, 3)], [F32, BOOL]),  # the mask grows the result
    ("op.masked_fill", {"value": 1.5}, [(2, 3), ()], [F32, BOOL]),
    ("op.where", {}, [(2, 1), (3,), (4, 1, 1)], [BOOL, F32, F32]),
    ("op.where", {}, [(2, 3), (2, 3), (2, 3)], [BOOL, F32, F32]),
    ("op.where", {}, [(1, 1, 4, 4), (2, 3, 4, 4), ()], [BOOL, F32, F32]),  # a causal mask
    ("op.gather", {"dim": 1}, [(3, 4), (3, 2)], [F32, I64]),
    ("op.gather", {"dim": 1}, [(3, 4), (2, 7)], [F32, I64]),  # any size along dim
    ("op.gather", {"dim": -1}, [(2, 5, 6), (2, 5, 1)], [F32, I64]),
    ("op.gather", {"dim": 0}, [(5,), ()], [F32, I64]),  # a scalar index pairs with 1-D
]

ELEMENTWISE_CASES = [
    ("op.clamp", {"min": 0.0}, [(2, 3)]),
    ("op.clamp", {"max": 1}, [(4,)]),
    ("op.clamp", {"min": 1.0, "max": 0.0}, [(2, 3, 4)]),  # min above max: all max, as torch
    ("op.clamp_tensors", {}, [(3,), (2, 1)]),  # min only: the bound grows the result
    ("op.clamp_tensors", {}, [(3,), (2, 1), (4, 1, 1)]),
    ("op.clamp_tensors", {}, [(2, 3), (3,), (2, 3)]),
    ("op.erf", {}, [(2, 3)]),
    ("op.erf", {}, [()]),
]

LIKE_CASES = [
    ("op.arange", {"end": 10}, [(2, 5)]),
    ("op.arange", {"end": 10, "step": 3}, [(2, 5)]),
    ("op.arange", {"start": 2, "end": 9}, [(3,)]),
    ("op.arange", {"start": 0.0, "end": 1, "step": 0.1}, [(2, 5)]),  # float32, 10 values
    ("op.arange", {"start": 10, "end": 0, "step": -3}, [(2, 5)]),
    ("op.arange", {"start": -1.5, "end": 2.25, "step": 0.75}, [(4,)]),
    ("op.expand_as", {}, [(3, 1), (2, 3, 4)]),
    ("op.expand_as", {}, [(2, 3, 4), (2, 3, 4)]),
    ("op.expand_as", {}, [(), (2, 3)]),
    ("op.expand_as", {}, [(1, 1, 8), (2, 5, 8)]),  # a class token to the batch
]

TRANSFORMER_OP_CASES = (ATTENTION_OP_CASES + EINSUM_CASES + SELECT_CASES + ELEMENTWISE_CASES
                        + LIKE_CASES)


def _id(case) -> str:
    return f"{case[0][3:]}-{case[1]}-{case[2]}"


@pytest.mark.parametrize("case", TRANSFORMER_OP_CASES, ids=[_id(c) for c in TRANSFORMER_OP_CASES])
def test_shape_rule_matches_torch(case):
    type_name, params, shapes, *dtypes = case
    check_against_torch(type_name, params, shapes, dtypes[0] if dtypes else None)


# -- what torch refuses on CPU, the catalog refuses: on the right port, saying why ---------------
# (type, params, input shapes, dtypes or None, the port (None: a parameter), code, words)
REFUSED = [
    ("op.addmm", {}, [(5,), (4, 3), (2, 5)], None, 2, "shape-mismatch",
     ["dimension 0 of mat2 (2, 5) to be 3"]),
    ("op.addmm", {}, [(5,), (2, 4, 3), (3, 5)], None, 1, "rank-mismatch", ["a 2-D mat1"]),
    (SDPA, {}, [(2, 3, 4, 8), (2, 3, 5, 7), (2, 3, 5, 6)], None, 1, "shape-mismatch",
     ["last dimension of key (2, 3, 5, 7) to be 8", "query (2, 3, 4, 8)", "received 7"]),
    (SDPA, {}, [(2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 6, 6)], None, 2, "shape-mismatch",
     ["dimension -2 of value (2, 3, 6, 6) to be 5", "length S of key"]),
    (SDPA, {}, [(8,), (5, 8), (5, 6)], None, 0, "rank-mismatch",
     ["query with at least 2 dimensions (N, ..., L, E)", "received (8,)"]),
    (SDPA, {}, [(2, 3, 4, 8), (2, 2, 5, 8), (2, 2, 5, 6)], None, 1, "shape-mismatch",
     ["batch dimensions of key", "at dimension -1 the sizes 3 and 2"]),
    (SDPA, {}, [(2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 6), (2, 2, 4, 5)], None, 3,
     "shape-mismatch", ["dimension 1 of attn_mask (2, 2, 4, 5) to be 1 or 3",
                        "attention weights (2, 3, 4, 5)"]),
    (SDPA, {}, [(3, 4, 8), (3, 5, 8), (3, 5, 6), (2, 3, 4, 5)], None, 3, "rank-mismatch",
     ["attn_mask to have at most the 3 dimensions", "received (2, 3, 4, 5)"]),
    (SDPA, {}, [(2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 6), (5,)], None, 3, "rank-mismatch",
     ["attn_mask with at least 2 dimensions (..., L, S)", "received (5,)"]),
    (SDPA, {"is_causal": True}, [(2, 4, 8), (2, 5, 8), (2, 5, 6), (4, 5)], None, 3,
     "bad-param", ["no attn_mask with is_causal=True"]),
    (SDPA, {"enable_gqa": True}, [(2, 3, 4, 8), (2, 2, 5, 8), (2, 2, 5, 6)], None, 1,
     "shape-mismatch", ["heads of key (2, 2, 5, 8) (dimension -3, 2) to divide the 3 heads"]),
    (SDPA, {"enable_gqa": True}, [(4, 8), (5, 8), (5, 6)], None, 0, "rank-mismatch",
     ["at least 3 dimensions", "enable_gqa reads the heads at dimension -3"]),
    ("op.bmm", {}, [(4, 3), (3, 5)], None, 0, "rank-mismatch", ["3-D input (b, n, m)"]),
    ("op.bmm", {}, [(2, 4, 3), (3, 3, 5)], None, 1, "shape-mismatch",
     ["dimension 0 of mat2 (3, 3, 5) to be 2", "bmm does not broadcast"]),
    ("op.bmm", {}, [(1, 4, 3), (2, 3, 5)], None, 1, "shape-mismatch", ["the batch of input"]),
    ("op.bmm", {}, [(2, 4, 3), (2, 4, 5)], None, 1, "shape-mismatch",
     ["dimension 1 of mat2 (2, 4, 5) to be 3", "inner dimensions must agree"]),
    ("op.baddbmm", {}, [(3, 4, 5), (2, 4, 3), (2, 3, 5)], None, 0, "shape-mismatch",
     ["dimension 0 of input (3, 4, 5) to be 1 or 2", "batch1 @ batch2 (2, 4, 5)"]),
    ("op.baddbmm", {}, [(1, 2, 4, 5), (2, 4, 3), (2, 3, 5)], None, 0, "rank-mismatch",
     ["at most the 3 dimensions"]),
    ("op.baddbmm", {}, [(2, 4, 5), (2, 4, 3), (2, 4, 5)], None, 2, "shape-mismatch",
     ["dimension 1 of batch2 (2, 4, 5) to be 3"]),
    ("op.einsum", {"equation": "ij,jk->ik"}, [(2, 3), (4, 4)], None, 1, "shape-mismatch",
     ["dimension 0 of operand 1 (4, 4) to be 3 or 1", "subscript j in operand 0 (2, 3)"]),
    ("op.einsum", {"equation": "ii->i"}, [(3, 4)], None, 0, "shape-mismatch",
     ["dimensions 0 and 1 of operand 0 (3, 4) to be equal", "subscript i is repeated"]),
    ("op.einsum", {"equation": "ij"}, [(2, 3, 4)], None, 0, "rank-mismatch",
     ["operand 0 to have 2 dimensions, one per subscript of 'ij'", "received (2, 3, 4)"]),
    ("op.einsum", {"equation": "...ijk"}, [(2, 3)], None, 0, "rank-mismatch",
     ["at least 3 dimensions"]),
    ("op.einsum", {"equation": "i...,j...->ij..."}, [(2, 3), (4, 5)], None, 1,
     "shape-mismatch", ["dimensions '...' covers in operand 1", "3 and 5"]),
    ("op.einsum", {"equation": "ij,jk->ik"}, [(2, 3)], None, None, "bad-param",
     ["has 2 operands, but 1 tensor is connected"]),
    ("op.einsum", {"equation": "i1"}, [(2, 3)], None, None, "bad-param",
     ["'1' at index 1 is not a subscript"]),
    ("op.einsum", {"equation": "i.j"}, [(2, 3)], None, None, "bad-param",
     ["'.' at index 1 is not part of an ellipsis"]),
    ("op.einsum", {"equation": "a......"}, [(2,)], None, None, "bad-param",
     ["second ellipsis"]),
    ("op.einsum", {"equation": "ij->k"}, [(2, 3)], None, None, "bad-param",
     ["output subscript k appears in no operand"]),
    ("op.einsum", {"equation": "ij->ii"}, [(2, 3)], None, None, "bad-param",
     ["output subscript i appears twice"]),
    ("op.einsum", {"equation": "ij->j->i"}, [(2, 3)], None, None, "bad-param",
     ["'->' twice"]),
    ("op.masked_fill", {"value": 0.0}, [(2, 3), (2,)], [F32, BOOL], 1, "shape-mismatch",
     ["mask to broadcast with (2, 3)", "received (2,)", "3 and 2"]),
    ("op.where", {}, [(2, 3), (4, 3), (2, 3)], [BOOL, F32, F32], 1, "shape-mismatch",
     ["input to broadcast with (2, 3)", "received (4, 3)"]),
    ("op.where", {}, [(2, 3), (2, 3), (5,)], [BOOL, F32, F32], 2, "shape-mismatch",
     ["other to broadcast"]),
    ("op.gather", {"dim": 1}, [(3, 4), (4, 2)], [F32, I64], 1, "shape-mismatch",
     ["dimension 0 of index (4, 2) to be at most 3", "input (3, 4)"]),
    ("op.gather", {"dim": 1}, [(3, 4), (3,)], [F32, I64], 1, "rank-mismatch",
     ["index to have the 2 dimensions of input (3, 4)"]),
    ("op.gather", {"dim": 2}, [(3, 4), (3, 2)], [F32, I64], 0, "bad-dim",
     ["dimension 2 is out of range"]),
    ("op.clamp", {}, [(2, 3)], None, None, "bad-param", ["set min, max or both"]),
    ("op.clamp_tensors", {}, [(3,), (2,)], None, 1, "shape-mismatch",
     ["min to broadcast with (3,)", "received (2,)"]),
    ("op.arange", {"start": 5, "end": 0}, [(2,)], None, None, "bad-param",
     ["start=5 and end=0 do not fit step=1", "counting up from 5 never reaches 0"]),
    ("op.arange", {"end": 5, "step": 0}, [(2,)], None, None, "bad-param", ["step must not be 0"]),
    ("op.expand_as", {}, [(3, 2), (2, 3, 4)], None, 0, "shape-mismatch",
     ["dimension 1 of input (3, 2) to be 1 or 4", "dimension 2 of other (2, 3, 4)",
      "only size-1 dimensions can grow"]),
    ("op.expand_as", {}, [(2, 3, 4), (3, 4)], None, 0, "rank-mismatch",
     ["at most the 2 dimensions of other (3, 4)"]),
]


def _refused_id(case) -> str:
    return f"{case[0][3:]}-{case[1]}-{case[2]}"


@pytest.mark.parametrize("type_name, params, shapes, dtypes, port, code, words", REFUSED,
                         ids=[_refused_id(c) for c in REFUSED])
def test_refuses_what_torch_refuses_on_the_right_port(type_name, params, shapes, dtypes, port,
                                                      code, words):
    assert_refused_like_torch(type_name, params, shapes, dtypes, port, code, words)


def test_an_empty_range_is_refused_where_it_is_made():
    """torch makes the empty tensor and a later layer fails on it; the catalog refuses it
    here, as it refuses every op that leaves a dimension empty (helpers.empty_result)."""
    (error,) = infer_single("op.arange", {"start": 3, "end": 3}, [(2,)]).diagnostics
    assert error.code == "empty" and "empty range" in error.message
    assert torch_outputs("op.arange", {"start": 3, "end": 3}, [(2,)]) == [(0,)]


def test_an_explicit_mask_with_is_causal_offers_to_drop_is_causal():
    state = infer_single(SDPA, {"is_causal": True}, [(2, 4, 8), (2, 5, 8), (2, 5, 6), (4, 5)])
    (error,) = state.diagnostics
    assert error.fix.label == "set is_causal=False"


def test_dropout_p_outside_zero_to_one_is_a_bad_parameter():
    state = infer_single(SDPA, {"dropout_p": 1.5}, [(4, 8), (5, 8), (5, 6)])
    (error,) = state.diagnostics
    assert error.code == "bad-param" and "dropout_p must be at most 1" in error.message


# -- symbolic sizes --------------------------------------------------------------------------------
def _text(state) -> list[tuple[str, ...]]:
    return [tuple(str(d) for d in shape) for shape in state.outputs]


def test_attention_keeps_the_batch_heads_and_lengths_symbolic():
    state = infer_single(SDPA, {}, [("N", "H", "L", 16), ("N", "H", "S", 16),
                                    ("N", "H", "S", 8), ("N", 1, 1, "S")])
    assert _text(state) == [("N", "H", "L", "8")]


def test_einsum_follows_named_sizes():
    state = infer_single("op.einsum", {"equation": "bhld,bhmd->bhlm"},
                         [("N", 2, "L", 8), ("N", 2, "S", 8)])
    assert _text(state) == [("N", "2", "L", "S")]


def test_arange_counts_up_to_a_named_dimension_of_like():
    assert _text(infer_single("op.arange", {"end": "L"}, [("N", "L")])) == [("L",)]
    # start 1 in steps of 2 up to L: ceil((L - 1) / 2) values
    assert _text(infer_single("op.arange", {"start": 1, "end": "L", "step": 2},
                              [("N", "L")])) == [("ceil((L - 1)/2)",)]


@pytest.mark.parametrize("params, shapes, code, words", [
    ({"end": "T"}, [("N", "L")], "bad-dim", ["like to have a dimension named T",
                                             "received (N, L)"]),
    ({"end": "L", "step": 0.5}, [("N", "L")], "symbolic-size", ["steps of 0.5", "L"]),
    ({"end": "L", "step": -1}, [("N", "L")], "symbolic-size", ["positive step"]),
])
def test_arange_up_to_a_name_refuses_what_it_cannot_count(params, shapes, code, words):
    (error,) = infer_single("op.arange", params, shapes).diagnostics
    assert error.code == code and error.port == 0, error
    for word in words:
        assert word in error.message


def test_arange_keeps_whole_and_decimal_numbers_apart():
    spec = get_spec("op.arange")
    assert spec.param_map["start"].check_value(5) == 5
    assert isinstance(spec.param_map["start"].check_value(5.0), float)  # float32, not int64
    assert spec.param_map["end"].check_value("L") == "L"
    for bad in ("L+1", True, [3], float("inf")):
        with pytest.raises(ValueError):
            spec.param_map["end"].check_value(bad)
    with pytest.raises(ValueError):
        spec.param_map["step"].check_value("L")  # only end may name a dimension


# -- properties: torch is the judge ------------------------------------------------------------
def _torch_verdict(type_name, params, shapes, dtypes):
    """torch's output shapes on CPU, or None where torch refuses."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return torch_outputs(type_name, params, shapes, dtypes, device="cpu")
    except (RuntimeError, ValueError, IndexError):
        return None


def assert_agrees_with_torch(type_name, params, shapes, dtypes=None):
    state = infer_single(type_name, params, shapes)
    expected = _torch_verdict(type_name, params, shapes, dtypes)
    errors = [d.message for d in state.diagnostics if d.is_error]
    where = f"{type_name} {params} on {shapes}"
    if expected is None:
        assert errors, f"{where}: torch refuses, the catalog gives {state.outputs}"
    else:
        assert not errors, f"{where}: torch gives {expected}, the catalog says {errors}"
        assert state.outputs == expected, f"{where}: torch {expected}, catalog {state.outputs}"


_SIZES = st.sampled_from([1, 1, 2, 3])
_SHAPES = st.lists(_SIZES, max_size=4).map(tuple)
_PROPERTY = settings(max_examples=60, deadline=None, derandomize=True)


@_PROPERTY
@given(st.sampled_from(["op.masked_fill", "op.where", "op.clamp_tensors"]),
       st.lists(_SHAPES, min_size=3, max_size=3))
def test_broadcasting_ops_agree_with_torch(type_name, shapes):
    if type_name == "op.masked_fill":
        assert_agrees_with_torch(type_name, {"value": -1.0}, shapes[:2], [F32, BOOL])
    elif type_name == "op.where":
        assert_agrees_with_torch(type_name, {}, shapes, [BOOL, F32, F32])
    else:
        assert_agrees_with_torch(type_name, {}, shapes)


@st.composite
def attention_inputs(draw):
    """Shapes around the edges: batches that broadcast or not, E and S that agree or not,
    masks that fit the weights, grow them or miss them."""
    batch = draw(st.lists(st.sampled_from([1, 2, 3]), max_size=2))
    length, source, embed, value = draw(st.lists(st.sampled_from([2, 3]), min_size=4,
                                                 max_size=4))

    def vary(shape):
        return tuple(draw(st.sampled_from([size, size, 1, 2])) for size in shape)

    query = (*vary(batch), length, embed)
    key = (*vary(batch), source, draw(st.sampled_from([embed, embed, 2])))
    value_shape = (*vary(batch), draw(st.sampled_from([source, source, 3])), value)
    shapes = [query, key, value_shape]
    if draw(st.booleans()):
        shapes.append(vary((*batch, length, source))[draw(st.integers(0, len(batch))):])
    return shapes


@_PROPERTY
@given(attention_inputs(), st.booleans())
def test_attention_agrees_with_torch(shapes, causal):
    dtypes = [F32, F32, F32, BOOL][:len(shapes)]
    assert_agrees_with_torch(SDPA, {"is_causal": causal}, shapes, dtypes)


@st.composite
def einsum_cases(draw):
    """A random equation over up to three operands, with sizes per letter that mostly agree
    (a 1 now and then broadcasts, a 4 now and then does not), an ellipsis sometimes, and an
    explicit or implicit output."""
    letters = "abcdA"
    sizes = {letter: draw(st.sampled_from([2, 3])) for letter in letters}
    count = draw(st.integers(1, 3))
    ellipsis = draw(st.lists(st.sampled_from([1, 2]), max_size=2))
    terms, shapes = [], []
    for _ in range(count):
        term = draw(st.lists(st.sampled_from(letters), max_size=3))
        shape = [draw(st.sampled_from([sizes[x]] * 4 + [1, 4])) for x in term]
        if draw(st.booleans()):
            at = draw(st.integers(0, len(term)))
            covered = ellipsis[draw(st.integers(0, len(ellipsis))):]
            term = [*term[:at], "...", *term[at:]]
            shape = [*shape[:at], *covered, *shape[at:]]
        terms.append("".join(term))
        shapes.append(tuple(shape))
    equation = ",".join(terms)
    if draw(st.booleans()):
        used = sorted({x for term in terms for x in term if x != "."})
        output = draw(st.lists(st.sampled_from(used), unique=True)) if used else []
        dots = ["..."] if draw(st.booleans()) else []
        equation += "->" + "".join(dots + output)
    return equation, shapes


@_PROPERTY
@given(einsum_cases())
def test_einsum_agrees_with_torch(case):
    equation, shapes = case
    assert_agrees_with_torch("op.einsum", {"equation": equation}, shapes)


# -- MACs ------------------------------------------------------------------------------------------
MACS_CASES = [
    (SDPA, {}, [("N", 3, 4, 8), ("N", 3, 5, 8), ("N", 3, 5, 6)]),
    (SDPA, {"is_causal": True}, [("N", 4, 8), ("N", 4, 8), ("N", 4, 8)]),
    (SDPA, {"enable_gqa": True}, [("N", 4, 4, 8), ("N", 2, 5, 8), ("N", 2, 5, 6)]),
    ("op.bmm", {}, [("N", 4, 3), ("N", 3, 5)]),
    ("op.baddbmm", {}, [("N", 4, 5), ("N", 4, 3), ("N", 3, 5)]),
    ("op.addmm", {}, [(5,), ("N", 3), (3, 5)]),
    ("op.einsum", {"equation": "bhld,bhmd->bhlm"}, [("N", 2, 4, 8), ("N", 2, 5, 8)]),
    ("op.einsum", {"equation": "bij,jk->bik"}, [("N", 4, 3), (3, 5)]),
    ("op.einsum", {"equation": "bi,bj->bij"}, [("N", 4), ("N", 3)]),  # no sum: a product
    ("op.einsum", {"equation": "bij,bij->bi"}, [("N", 4, 3), ("N", 4, 3)]),
    ("op.einsum", {"equation": "bij,bjk,bkl->bil"}, [("N", 2, 3), ("N", 3, 4), ("N", 4, 5)]),
    ("op.einsum", {"equation": "bij,bk->bi"}, [("N", 2, 3), ("N", 4)]),  # j, k summed alone
    ("op.einsum", {"equation": "...ij,...jk->...ik"}, [("N", 2, 3, 4), (1, 4, 5)]),
    ("op.einsum", {"equation": "bii->b"}, [("N", 3, 3)]),  # one operand: a sum, no MACs
]


def _at_batch_1(shapes):
    return [tuple(1 if d == "N" else d for d in shape) for shape in shapes]


def counted_macs(type_name: str, params: dict, shapes: list) -> int:
    """Multiply-adds torch performs for one sample (FlopCounterMode's FLOPs / 2)."""
    counter = FlopCounterMode(display=False)
    with counter, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch_outputs(type_name, params, _at_batch_1(shapes), device="cpu")
    return counter.get_total_flops() // 2


@pytest.mark.parametrize("type_name, params, shapes", MACS_CASES,
                         ids=[_id(c) for c in MACS_CASES])
def test_macs_equal_torchs_count(type_name, params, shapes):
    summary = summarize(one_layer(type_name, params, shapes))
    assert summary.total_macs == counted_macs(type_name, params, shapes)


def test_attention_macs_keep_a_symbolic_length():
    summary = summarize(one_layer(SDPA, {}, [("N", 2, "L", 8), ("N", 2, "L", 8),
                                             ("N", 2, "L", 8)]))
    length = Sym.named("L")
    assert summary.total_macs == 2 * length * length * 16


# -- where they show up ------------------------------------------------------------------
def test_attention_draws_with_the_attention_glyph_and_the_rest_as_tensor_ops():
    assert get_spec(SDPA).family == "attention"
    for type_name in ("op.bmm", "op.baddbmm", "op.einsum", "op.masked_fill", "op.where",
                      "op.gather", "op.clamp", "op.clamp_tensors", "op.erf", "op.arange"):
        assert get_spec(type_name).family == "op", type_name
    assert get_spec("op.expand_as").family == "reshape"  # with expand and expand_to
