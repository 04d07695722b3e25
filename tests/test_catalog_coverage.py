"""Meta-tests over the whole catalog.

1. Every layer type is checked against real torch in at least two settings by the case tables
   of the ``test_catalog_*.py`` modules, so a new type without a torch check fails the suite.
2. Symbolic sizes flow through every type that accepts them: each torch-checked case is run
   again with one of its sizes replaced by a name (``N`` for the batch, ``L`` otherwise), and
   the symbolic result, evaluated at two different sizes, must equal what torch computes at
   those sizes. A symbolic batch therefore stays symbolic, and opaque sizes such as
   ``(L - 1)//2`` are evaluated too, not taken on trust.
"""

from __future__ import annotations

import ast
import importlib
import math
import warnings
from collections import Counter
from pathlib import Path

import pytest

from graph_schema.catalog import all_specs, get_spec
from graph_schema.dims import Sym, ceil_div
from tests.catalog_case import infer_single, torch_outputs

_HERE = Path(__file__).resolve().parent
_MODULES = sorted(p.stem for p in _HERE.glob("test_catalog_*.py") if p.stem != Path(__file__).stem)


# -- the case tables -------------------------------------------------------------------------
def _parametrized(function, argname: str) -> list:
    """The values a test function is parametrized with for ``argname``."""
    for mark in getattr(function, "pytestmark", []):
        if mark.name == "parametrize" and mark.args[0] == argname:
            return list(mark.args[1])
    return []


def _module_cases(module) -> list[tuple]:
    """(type, params, shapes, dtypes) from a module's upper-case tables.

    A table holds tuples ``(type, params, shapes)`` or ``(type, params, shapes, dtypes)``.
    A table of bare class names (PLAIN_ACTIVATIONS) holds layers run at their defaults on
    each shape the test that uses it is parametrized with.
    """
    cases = []
    for name, table in vars(module).items():
        if not name.isupper() or not isinstance(table, list) or not table:
            continue
        if all(isinstance(item, str) for item in table):
            runner = getattr(module, "test_plain_activation_matches_torch", None)
            shapes = _parametrized(runner, "shape") if runner else []
            cases += [(f"nn.{item}", {}, [shape], None) for item in table for shape in shapes]
            continue
        for item in table:
            # Only cases on concrete sizes are shape checks against torch (the MACs tables
            # name the batch N).
            if isinstance(item, tuple) and len(item) in (3, 4) and isinstance(item[0], str) \
                    and isinstance(item[1], dict) and isinstance(item[2], list) \
                    and all(isinstance(d, int) for shape in item[2] for d in shape):
                type_name, params, shapes, *dtypes = item
                cases.append((type_name, params, shapes, dtypes[0] if dtypes else None))
    return cases


def torch_checked_cases() -> list[tuple]:
    """Every torch-checked case of every catalog test module, without duplicates."""
    seen, cases = set(), []
    for stem in _MODULES:
        for case in _module_cases(importlib.import_module(f"tests.{stem}")):
            key = repr(case)
            if key not in seen:
                seen.add(key)
                cases.append(case)
    return cases


CASES = torch_checked_cases()


def test_case_tables_are_found():
    assert len(_MODULES) >= 6, _MODULES
    assert len(CASES) > 400


def test_every_type_is_checked_against_torch_in_two_settings():
    settings = Counter(case[0] for case in CASES)
    unknown = sorted(t for t in settings if get_spec(t) is None)
    assert not unknown, f"case tables name types the catalog lacks: {unknown}"
    thin = {s.type: settings[s.type] for s in all_specs()
            if s.family != "io" and settings[s.type] < 2}
    assert not thin, ("types checked against torch in fewer than two settings (add cases to a "
                      f"test_catalog_*.py table): {thin}")


# -- evaluating symbolic sizes ---------------------------------------------------------------
_BINARY = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
           ast.Mult: lambda a, b: a * b, ast.FloorDiv: lambda a, b: a // b,
           ast.Div: lambda a, b: a / b}
_CALLS = {"ceil": math.ceil, "floor": math.floor}


def evaluate_text(text: str, values: dict[str, int]):
    """Evaluate a printed size (``2*L + 1``, ``(L - 1)//2``, ``ceil(L/2)``, ``len(L[1:-1])``)
    without eval: only arithmetic, ceil/floor, and len of a slice of a size."""

    def walk(item):
        if isinstance(item, ast.Expression):
            return walk(item.body)
        if isinstance(item, ast.Constant) and isinstance(item.value, (int, float)):
            return item.value
        if isinstance(item, ast.Name):
            return values[item.id]
        if isinstance(item, ast.UnaryOp) and isinstance(item.op, ast.USub):
            return -walk(item.operand)
        if isinstance(item, ast.BinOp) and type(item.op) in _BINARY:
            return _BINARY[type(item.op)](walk(item.left), walk(item.right))
        if isinstance(item, ast.Call) and isinstance(item.func, ast.Name) and \
                len(item.args) == 1:
            if item.func.id == "len" and isinstance(item.args[0], ast.Subscript):
                target = item.args[0]
                bounds = [None if b is None else walk(b) for b in
                          (target.slice.lower, target.slice.upper, target.slice.step)]
                return len(range(walk(target.value))[slice(*bounds)])
            return _CALLS[item.func.id](walk(item.args[0]))
        raise ValueError(f"cannot evaluate {ast.dump(item)} in {text!r}")

    return walk(ast.parse(text, mode="eval"))


def evaluate(dim, values: dict[str, int]) -> int:
    """A size's value, from its terms (opaque atoms evaluated from their printed formula)."""
    if isinstance(dim, int):
        return dim
    total = 0
    for mono, coeff in dim.terms:
        term = coeff
        for atom in mono:
            term *= evaluate_text(atom, values)
        total += term
    return total


def test_evaluate_reads_the_formulas_the_catalog_prints():
    length = Sym.named("L")
    values = {"L": 12}
    half = (length - 1) // 2  # 5: an opaque atom
    for dim, expected in [(half + 1, 6), (2 * half, 10), (-half, -5), (half * length, 60),
                          (half * half, 25), ((half - 1) // 2, 2), (2 * half // 3, 3),
                          (3 * length + 1, 37), (ceil_div(length, 5) * 2, 6),
                          (ceil_div(length - 4, 3), 3)]:
        assert evaluate(dim, values) == expected, dim
        # The printed formula reads the same way: 2*(L - 1)//2 would be 11, not 10.
        assert evaluate_text(str(dim), values) == expected, str(dim)
    assert evaluate_text("len(L[-3:5])", values) == 0
    assert evaluate_text("floor(L*1.5)", values) == 18


# -- symbolic sizes through every type ---------------------------------------------------------
def _with_value(shapes, old: int, new):
    return [tuple(new if d == old else d for d in shape) for shape in shapes]


def _run_on_cpu(type_name, params, shapes, dtypes):
    """torch_outputs on small CPU tensors: far quicker than meta tensors, whose kernels are
    Python decompositions, for the thousands of runs below."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch_outputs(type_name, params, shapes, dtypes, device="cpu")


def _torch_shapes(type_name, params, shapes, dtypes):
    """What torch makes of the case as written at these sizes, or None when the catalog
    refuses them (a size to evaluate a symbol at must be one both accept). Where the catalog
    accepts the sizes torch must run them, with the catalog's shapes: a torch error there is
    a disagreement, not a size to skip."""
    state = infer_single(type_name, params, shapes)
    if state.outputs is None:
        return None
    found = _run_on_cpu(type_name, params, shapes, dtypes)
    assert found == state.outputs, \
        f"{type_name} {params} on {shapes}: torch {found}, the catalog {state.outputs}"
    return found


def _variants(case):
    """(symbol, value): each size of input 0 but 1 becomes a name in turn; the batch
    (dimension 0 of a batched input) is called N."""
    _, _, shapes, _ = case
    first = shapes[0]
    seen = []
    for axis, size in enumerate(first):
        if size > 1 and size not in seen:
            seen.append(size)
            yield ("N" if axis == 0 and len(first) >= 2 else "L"), size


def _slice_clips(case, size: int) -> bool:
    """op.getitem on a symbolic size assumes its slice bounds fall inside the dimension."""
    type_name, params, _, _ = case
    if type_name != "op.getitem":
        return False
    bounds = [b for item in params["index"] if ":" in item for b in item.split(":")[:2] if b]
    return any(abs(int(b)) > size for b in bounds)


def _evaluation_sizes(value: int) -> list[int]:
    """Sizes to try for a symbol, the first two torch accepts are used: a multiple of the
    case's own size (keeping whatever divisibility it needs), then its neighbours (the other
    parity), all large enough that slices and chunks do not run out, as they do not for a
    batch or a sequence length."""
    multiple = value * -(-16 // value)
    return [multiple, multiple + 1, multiple + 3, multiple + value]


def _check_variant(case, symbol: str, value: int) -> str:
    """'flows' when the symbolic result agrees with torch at two sizes, 'refused' when the
    catalog says the size must be a number, 'n/a' when torch needs that exact value."""
    type_name, params, shapes, dtypes = case
    expected = {}
    for size in _evaluation_sizes(value):
        if _slice_clips(case, size):
            continue
        found = _torch_shapes(type_name, params, _with_value(shapes, value, size), dtypes)
        if found is not None:
            expected[size] = found
            if len(expected) == 2:
                break
    if len(expected) < 2:
        return "n/a"
    state = infer_single(type_name, params, _with_value(shapes, value, symbol))
    errors = [d for d in state.diagnostics if d.is_error]
    where = f"{type_name} {params} on {shapes} with {value} as {symbol}"
    if errors:
        assert all(d.code == "symbolic-size" for d in errors), \
            f"{where}: torch runs it at {sorted(expected)}, the catalog says " \
            f"{[d.message for d in errors]}"
        assert all(symbol in d.message for d in errors), [d.message for d in errors]
        return "refused"
    outputs = state.outputs
    for size, torch_shapes in expected.items():
        got = [None if s is None else tuple(evaluate(d, {symbol: size}) for d in s)
               for s in outputs]
        assert got == torch_shapes, f"{where}: symbolic {outputs} gives {got} at {size}, " \
                                    f"torch {torch_shapes}"
        printed = [None if s is None else tuple(evaluate_text(str(d), {symbol: size})
                                                for d in s) for s in outputs]
        assert printed == torch_shapes, f"{where}: {outputs} prints as a different formula"
    return "flows"


# Types that take no symbolic batch, and why (none so far).
NO_SYMBOLIC_BATCH: dict[str, str] = {}


def _cases_by_type() -> dict[str, list[tuple]]:
    grouped: dict[str, list[tuple]] = {}
    for case in CASES:
        grouped.setdefault(case[0], []).append(case)
    return grouped


CASES_BY_TYPE = _cases_by_type()


@pytest.mark.parametrize("type_name", sorted(CASES_BY_TYPE))
def test_symbolic_sizes_agree_with_torch(type_name):
    outcomes = {f"{symbol}:{_check_variant(case, symbol, value)}"
                for case in CASES_BY_TYPE[type_name] for symbol, value in _variants(case)}
    if type_name not in NO_SYMBOLIC_BATCH:
        assert "N:flows" in outcomes, \
            f"no case of {type_name} keeps a symbolic batch N through it: {sorted(outcomes)}"


def test_ceil_mode_on_a_symbolic_size_drops_the_window_in_the_padding():
    """torch drops a last window that would start in the right padding; whether it does
    depends on the size, so the symbolic result must say so exactly (it once was one more)."""
    params = {"kernel_size": 2, "stride": 2, "padding": 1, "ceil_mode": True}
    state = infer_single("nn.MaxPool1d", params, [("N", 3, "L")])
    (out,) = state.outputs
    for length in (84, 85):
        expected = _run_on_cpu("nn.MaxPool1d", params, [(2, 3, length)], None)
        assert [tuple(evaluate(d, {"N": 2, "L": length}) for d in out)] == expected
