"""The comparison and boolean-logic ops (graph_schema/catalog/ops_compare.py) against torch:
their shapes through the real inference engine, what torch refuses refused on the right port,
and the generated code's values and dtype beside torch's own operators."""

from __future__ import annotations

import pytest
import torch

from tests.catalog_case import check_against_torch, infer_single, torch_outputs
from tests.codegen_support import generate_and_import
from tests.graphs import edges, node, project

F32, BOOL, I64 = "float32", "bool", "int64"
_NAMES = ("eq", "ne", "lt", "le", "gt", "ge")

# (type, params, input shapes[, dtypes]): read by tests/test_catalog_ops.py and
# tests/test_catalog_coverage.py as well.
COMPARE_CASES = [
    *((f"op.{name}", {}, [(2, 3), (2, 3)]) for name in _NAMES),
    *((f"op.{name}", {}, [(3,), (2, 1, 3)]) for name in _NAMES),  # the two broadcast
    ("op.lt", {}, [(1, 5), (4, 1)], [I64, I64]),  # arange(n)[None, :] < lengths[:, None]
    ("op.eq", {}, [(), (2, 3)]),
    *((f"op.{name}_scalar", {"value": 0}, [(2, 3)]) for name in _NAMES),
    *((f"op.{name}_scalar", {"value": 0.5}, [()]) for name in _NAMES),
    ("op.eq_scalar", {"value": 1}, [(2, 5)], [I64]),
    ("op.logical_and", {}, [(1, 4, 4), (2, 1, 4)], [BOOL, BOOL]),  # causal & padding
    ("op.logical_and", {}, [(2, 3), (2, 3)]),  # floats: nonzero is true
    ("op.logical_or", {}, [(4, 1), (5,)], [BOOL, BOOL]),
    ("op.logical_or", {}, [(2, 3), ()], [F32, BOOL]),
    ("op.logical_not", {}, [(2, 3)], [BOOL]),
    ("op.logical_not", {}, [()]),
]


def _id(case) -> str:
    return f"{case[0][3:]}-{case[1]}-{case[2]}"


@pytest.mark.parametrize("case", COMPARE_CASES, ids=[_id(c) for c in COMPARE_CASES])
def test_shape_rule_matches_torch(case):
    type_name, params, shapes, *dtypes = case
    check_against_torch(type_name, params, shapes, dtypes[0] if dtypes else None)


@pytest.mark.parametrize("type_name", ["op.lt", "op.logical_or"])
def test_inputs_that_do_not_broadcast_are_refused_on_the_second_port(type_name):
    shapes = [(2, 3), (4, 3)]
    (error,) = [d for d in infer_single(type_name, {}, shapes).diagnostics if d.is_error]
    assert (error.port, error.code) == (1, "shape-mismatch")
    assert "input 1 to broadcast with (2, 3)" in error.message and "2 and 4" in error.message
    with pytest.raises(RuntimeError):
        torch_outputs(type_name, {}, shapes, [F32, F32], device="cpu")


def _run(type_name, params, inputs, tmp_path):
    """Generate a network of one op on these tensors, run it, return what it gives."""
    nodes = [node(f"i{k}", "io.Input", f"x{k}", shape=list(t.shape),
                  dtype=str(t.dtype).removeprefix("torch."))
             for k, t in enumerate(inputs)]
    nodes += [node("op", type_name, "op", **params), node("o", "io.Output", "y")]
    wires = [(f"i{k}", "op", 0, k) for k in range(len(inputs))] + [("op", "o")]
    source, module, _ = generate_and_import(project(nodes, edges(*wires)), tmp_path)
    return source, module.Main()(*inputs)


_SYMBOLS = {"eq": "__eq__", "ne": "__ne__", "lt": "__lt__", "le": "__le__", "gt": "__gt__",
            "ge": "__ge__"}


@pytest.mark.parametrize("name", _NAMES)
def test_the_generated_comparisons_give_torch_s_mask(name, tmp_path):
    a = torch.tensor([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]])
    b = torch.tensor([1.0, 1.0, 1.0])
    source, got = _run(f"op.{name}", {}, [a, b], tmp_path)
    assert f"torch.{name}(" in source
    assert got.dtype == torch.bool and torch.equal(got, getattr(a, _SYMBOLS[name])(b))
    _, got = _run(f"op.{name}_scalar", {"value": 1}, [a], tmp_path)
    assert torch.equal(got, getattr(a, _SYMBOLS[name])(1))


def test_the_generated_logic_gives_torch_s_mask(tmp_path):
    causal = torch.tensor([[True, False], [True, True]])
    padding = torch.tensor([True, False])
    _, both = _run("op.logical_and", {}, [causal, padding], tmp_path)
    _, either = _run("op.logical_or", {}, [causal, padding], tmp_path)
    _, neither = _run("op.logical_not", {}, [causal], tmp_path)
    assert torch.equal(both, causal & padding) and torch.equal(either, causal | padding)
    assert torch.equal(neither, ~causal)
