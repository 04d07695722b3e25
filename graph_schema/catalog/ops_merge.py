"""Ops that combine tensors: the arithmetic operators with broadcasting, matmul, cat, stack."""

from __future__ import annotations

from graph_schema.catalog.helpers import norm_axis
from graph_schema.catalog.ops_common import broadcast, conflict, function, merge
from graph_schema.catalog.params import ParamSpec
from graph_schema.catalog.registry import register
from graph_schema.catalog.spec import Fix, LayerSpec, OpCall, PortSpec, ShapeError
from graph_schema.dims import format_dim, format_shape, product

_PAIR = (PortSpec("input"), PortSpec("other"))
_TENSORS = (PortSpec("tensors", variadic=True),)


def _broadcast_rule(_p, inputs):
    return [broadcast([inputs[0], inputs[1]], ["input 0", "input 1"], [0, 1])]


def _operator(name: str, symbol: str, verb: str) -> LayerSpec:
    return LayerSpec(
        type=f"op.{name}",
        family="merge",
        rule=_broadcast_rule,
        inputs=_PAIR,
        call=OpCall("operator", symbol),
        description=f"{verb} two tensors elementwise (a {symbol} b), with PyTorch "
                    f"broadcasting: sizes must be equal or 1, aligned from the last dimension.",
    )


# -- matmul ----------------------------------------------------------------------------------
def _matmul_parts(a, b):
    """Shapes as torch.matmul sees them: a 1-D left gets a leading 1, a 1-D right a trailing 1."""
    for port, shape in enumerate((a, b)):
        if not shape:
            raise ShapeError(f"expected input {port} to have at least 1 dimension (matmul "
                             f"multiplies vectors or matrices), received a scalar ()",
                             port=port, code="rank-mismatch")
    a2 = (1, *a) if len(a) == 1 else tuple(a)
    b2 = (*b, 1) if len(b) == 1 else tuple(b)
    if conflict(a2[-1], b2[-2]):
        where = "dimension 0" if len(b) == 1 else f"dimension {len(b) - 2} (rows)"
        raise ShapeError(
            f"expected {where} of input 1 to be {format_dim(a2[-1])}, the last dimension of "
            f"input 0 {format_shape(a)}, received {format_shape(b)}: matmul needs the inner "
            f"dimensions to agree", port=1)
    return a2, b2


def _matmul_rule(_p, inputs):
    a, b = inputs[0], inputs[1]
    a2, b2 = _matmul_parts(a, b)
    batch = broadcast([a2[:-2], b2[:-2]],
                      ["the batch dimensions of input 0", "the batch dimensions of input 1"],
                      [0, 1])
    rows = (a2[-2],) if len(a) > 1 else ()
    cols = (b2[-1],) if len(b) > 1 else ()
    return [(*batch, *rows, *cols)]


def _matmul_macs(_p, inputs, outputs):
    a2, b2 = _matmul_parts(inputs[0], inputs[1])
    return product(outputs[0]) * merge(a2[-1], b2[-2])


# -- cat and stack ---------------------------------------------------------------------------
def _same_rank(inputs, rank_of_first, what):
    reference = inputs[0]
    for port, shape in enumerate(inputs[1:], start=1):
        if len(shape) != rank_of_first:
            raise ShapeError(
                f"expected a {rank_of_first}-D input like input 0 {format_shape(reference)} "
                f"({what}), received {format_shape(shape)}", port=port, code="rank-mismatch")


def _interpolate_fix(reference, shape, differing, axis):
    """Resizing the odd input's spatial dimensions repairs the common U-Net/FPN mistake."""
    rank = len(reference)
    if rank not in (3, 4, 5) or axis >= 2 or any(d < 2 for d in differing):
        return None
    size = list(reference[2:])
    if not all(isinstance(s, int) for s in size):
        return None
    label = "×".join(str(s) for s in size)
    return Fix(f"insert interpolate to {label}", "insert_node",
               {"type": "op.interpolate", "params": {"size": size}})


def _cat_rule(p, inputs):
    reference = inputs[0]
    if not reference:
        raise ShapeError("expected inputs with at least 1 dimension, received a scalar ()",
                         port=0, code="rank-mismatch")
    rank = len(reference)
    axis = norm_axis(p["dim"], rank, shape=reference)
    _same_rank(inputs, rank, f"cat joins tensors of one rank along dim {p['dim']}")
    out = list(reference)
    for port, shape in enumerate(inputs[1:], start=1):
        differing = [d for d in range(rank) if d != axis and conflict(reference[d], shape[d])]
        if differing:
            d = differing[0]
            raise ShapeError(
                f"expected input {port} to match input 0 {format_shape(reference)} in every "
                f"dimension except dim {axis}, received {format_shape(shape)}: dimension {d} "
                f"is {format_dim(shape[d])}, not {format_dim(reference[d])}",
                port=port, fix=_interpolate_fix(reference, shape, differing, axis))
        out = [size if d == axis else merge(size, shape[d]) for d, size in enumerate(out)]
    out[axis] = sum((shape[axis] for shape in inputs[1:]), reference[axis])
    return [tuple(out)]


def _stack_rule(p, inputs):
    reference = inputs[0]
    rank = len(reference)
    axis = norm_axis(p["dim"], rank + 1, shape=reference)
    _same_rank(inputs, rank, "stack needs tensors of equal shape")
    out = list(reference)
    for port, shape in enumerate(inputs[1:], start=1):
        differing = [d for d in range(rank) if conflict(reference[d], shape[d])]
        if differing:
            d = differing[0]
            raise ShapeError(
                f"expected input {port} to have the shape of input 0 "
                f"{format_shape(reference)}, received {format_shape(shape)}: dimension {d} is "
                f"{format_dim(shape[d])}, not {format_dim(reference[d])} (stack needs equal "
                f"shapes; cat joins along an existing dimension)", port=port)
        out = [merge(size, shape[d]) for d, size in enumerate(out)]
    out.insert(axis, len(inputs))
    return [tuple(out)]


register(
    _operator("add", "+", "Adds"),
    _operator("sub", "-", "Subtracts"),
    _operator("mul", "*", "Multiplies"),
    _operator("div", "/", "Divides"),
    LayerSpec(
        type="op.matmul",
        family="op",
        rule=_matmul_rule,
        inputs=_PAIR,
        call=OpCall("operator", "@"),
        macs=_matmul_macs,
        description="Matrix product a @ b (torch.matmul): (…, n, m) @ (…, m, p) -> (…, n, p); "
                    "1-D operands act as vectors and batch dimensions broadcast.",
    ),
    LayerSpec(
        type="op.cat",
        family="merge",
        rule=_cat_rule,
        params=(ParamSpec("dim", "int", default=0),),
        inputs=_TENSORS,
        call=function("torch.cat", inputs="list", keyword=("dim",)),
        summary_params=("dim",),
        description="Concatenates tensors along an existing dimension (torch.cat); every "
                    "other dimension must match.",
    ),
    LayerSpec(
        type="op.stack",
        family="merge",
        rule=_stack_rule,
        params=(ParamSpec("dim", "int", default=0),),
        inputs=_TENSORS,
        call=function("torch.stack", inputs="list", keyword=("dim",)),
        summary_params=("dim",),
        description="Stacks tensors of equal shape along a new dimension (torch.stack).",
    ),
)
