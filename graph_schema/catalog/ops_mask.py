"""Ops that attention masks and position ids are built from, as GPT-2's root class builds
them: a cast (``mask.to(torch.bool)``), a running count (``torch.cumsum``), differences of
neighbours (``torch.diff(position_ids, prepend=first)``), picking elements by index tensors
(``padding[batch_idx, kv_idx]``) and a tensor of ones made where another lives
(``x.new_ones((), dtype=torch.bool)``).

Shapes only: a cast keeps the shape and changes the element type, which the diagram does not
follow. Indexing by tensors follows torch's rule for integer index tensors (they broadcast
with each other, and their shape replaces the dimensions they index); a bool mask as an index
gives a size no design-time shape knows, so it is not this op.
"""

from __future__ import annotations

from graph_schema.catalog.helpers import empty_result, first, norm_axis
from graph_schema.catalog.ops_common import bad_param, broadcast, conflict, function, method
from graph_schema.catalog.params import ParamSpec
from graph_schema.catalog.registry import register
from graph_schema.catalog.spec import LayerSpec, OpCall, PortSpec, ShapeError
from graph_schema.dims import Dim, format_dim, format_shape


def _same_shape(_p, inputs):
    return [first(inputs)]


# -- cumsum ------------------------------------------------------------------------------------
def _cumsum_rule(p, inputs):
    shape = first(inputs)
    norm_axis(p["dim"], max(len(shape), 1), shape=shape)
    return [shape]


# -- diff --------------------------------------------------------------------------------------
def _diff_rule(p, inputs):
    shape = first(inputs)
    if not shape:
        raise ShapeError("expected an input with at least 1 dimension, received a 0-D tensor "
                         "(diff takes differences along a dimension)", port=0,
                         code="rank-mismatch")
    axis = norm_axis(p["dim"], len(shape), shape=shape)
    length: Dim = shape[axis]
    for port, name in ((1, "prepend"), (2, "append")):
        added = inputs[port] if len(inputs) > port else None
        if added is not None:
            _fits_beside(added, shape, axis, name, port)
            length = length + added[axis]
    length = length - p["n"]
    if isinstance(length, int) and length <= 0:
        # torch gives an empty dimension, which some later layer refuses far from here
        raise empty_result(f"n={p['n']} differences", axis, shape)
    return [(*shape[:axis], length, *shape[axis + 1:])]


def _fits_beside(added, shape, axis: int, name: str, port: int) -> None:
    """prepend and append are glued on along ``dim``: every other size must be the input's."""
    if len(added) != len(shape):
        raise ShapeError(f"expected {name} to have the {len(shape)} dimensions of the input "
                         f"{format_shape(shape)}, received {format_shape(added)}", port=port,
                         code="rank-mismatch")
    for other, (size, wanted) in enumerate(zip(added, shape)):
        if other != axis and conflict(size, wanted):
            raise ShapeError(
                f"expected dimension {other} of {name} {format_shape(added)} to be "
                f"{format_dim(wanted)}, as the input's {format_shape(shape)}: only dimension "
                f"{axis}, the one differenced, may differ; received {format_dim(size)}",
                port=port)


# -- indexing by tensors -----------------------------------------------------------------------
def _index_rule(_p, inputs):
    shape = first(inputs)
    indices = [index for index in inputs[1:] if index is not None]  # one at least: required
    if len(indices) > len(shape):
        raise ShapeError(f"expected at most {len(shape)} index tensors for the input "
                         f"{format_shape(shape)}, received {len(indices)}", port=len(shape) + 1,
                         code="rank-mismatch")
    names = [f"index {port}" for port in range(len(indices))]
    picked = broadcast(indices, names, list(range(1, len(indices) + 1)))
    return [(*picked, *shape[len(indices):])]


# -- new_ones ----------------------------------------------------------------------------------
def _new_ones_rule(p, inputs):
    first(inputs)  # only its device and element type are read
    if any(size < 0 for size in p["size"]):
        raise bad_param(f"size {tuple(p['size'])} has a negative size")
    return [tuple(p["size"])]


register(
    LayerSpec(
        type="op.to",
        family="op",
        rule=_same_shape,
        params=(ParamSpec("dtype", "dtype", default="float32", required=True,
                          doc="the element type the tensor is cast to"),),
        call=method("to", positional=("dtype",)),
        summary_params=("dtype",),
        description="Casts every element to another type (x.to(torch.bool)); the shape stays.",
    ),
    LayerSpec(
        type="op.cumsum",
        family="op",
        rule=_cumsum_rule,
        params=(ParamSpec("dim", "int", default=-1, required=True,
                          doc="the dimension the sum runs along"),),
        call=function("torch.cumsum", positional=("dim",)),
        summary_params=("dim",),
        description="Running sum along one dimension (torch.cumsum(x, dim)); the shape stays.",
    ),
    LayerSpec(
        type="op.diff",
        family="op",
        rule=_diff_rule,
        params=(ParamSpec("n", "int", default=1, minimum=0,
                          doc="how many times the differences are taken"),
                ParamSpec("dim", "int", default=-1, doc="the dimension differenced")),
        inputs=(PortSpec("input"), PortSpec("prepend", optional=True),
                PortSpec("append", optional=True)),
        call=function("torch.diff", keyword=("n", "dim"), named_inputs=("prepend", "append")),
        summary_params=("dim",),
        description="Differences of neighbours along a dimension, x[i+1] - x[i] "
                    "(torch.diff), with prepend and append glued on first: the size along "
                    "dim becomes L + P + A - n.",
    ),
    LayerSpec(
        type="op.index",
        family="op",
        rule=_index_rule,
        inputs=(PortSpec("input"), PortSpec("index", variadic=True)),
        call=OpCall("index", ""),
        description="Picks elements by integer index tensors, x[i, j] (advanced indexing): "
                    "the index tensors broadcast together, and their shape replaces the "
                    "dimensions they index.",
    ),
    LayerSpec(
        type="op.new_ones",
        family="op",
        rule=_new_ones_rule,
        params=(ParamSpec("size", "int_list", default=(), doc="the shape of the new tensor"),
                ParamSpec("dtype", "dtype", default=None, optional=True,
                          doc="its element type; none: the input's")),
        call=method("new_ones", positional=("size",), keyword=("dtype",)),
        summary_params=("size", "dtype"),
        description="A tensor of ones of a fixed size, on the input's device "
                    "(x.new_ones(size, dtype=...)); the input's values are not read.",
    ),
)
