"""Ops that pick elements: ``x.masked_fill(mask, value)``, ``torch.where(condition, x, y)``,
``torch.gather(x, dim, index=index)``.

The masks and conditions are bool tensors and gather's index an int64 one; the catalog
checks their shapes (torch checks their dtypes when the model runs). masked_fill and where
broadcast all their tensors as ``a + b`` does, so a (N, 1, 1, S) padding mask fills the
(N, heads, L, S) attention scores.
"""

from __future__ import annotations

from graph_schema.catalog.helpers import norm_axis
from graph_schema.catalog.ops_common import Number, broadcast, function, method
from graph_schema.catalog.params import ParamSpec
from graph_schema.catalog.registry import register
from graph_schema.catalog.spec import LayerSpec, PortSpec, ShapeError
from graph_schema.dims import format_shape


def _masked_fill_rule(_p, inputs):
    return [broadcast([inputs[0], inputs[1]], ["input", "mask"], [0, 1])]


def _where_rule(_p, inputs):
    names = ["condition", "input", "other"]
    return [broadcast(list(inputs[:3]), names, [0, 1, 2])]


def _gather_rule(p, inputs):
    shape, index = inputs[0], inputs[1]
    # torch reads a scalar as one element: a 0-D and a 1-D tensor pair up either way.
    if max(len(shape), 1) != max(len(index), 1):
        raise ShapeError(
            f"expected index to have the {len(shape)} dimensions of input "
            f"{format_shape(shape)}, received {format_shape(index)}: gather picks one "
            f"element of input per element of index", port=1, code="rank-mismatch")
    axis = norm_axis(p["dim"], max(len(shape), 1), shape=shape)
    for d, (size, limit) in enumerate(zip(index, shape)):
        if d == axis:
            continue
        if isinstance(size, int) and isinstance(limit, int) and size > limit:
            raise ShapeError(
                f"expected dimension {d} of index {format_shape(index)} to be at most "
                f"{limit}, dimension {d} of input {format_shape(shape)}, received {size}: "
                f"outside dim={p['dim']} index may not be larger than input",
                port=1)
    return [tuple(index)]


register(
    LayerSpec(
        type="op.masked_fill",
        family="op",
        rule=_masked_fill_rule,
        params=(Number("value", "literal", required=True,
                       doc="written where mask is True, e.g. the smallest float, "
                           "torch.finfo(torch.float32).min, to hide a position from softmax"),),
        inputs=(PortSpec("input"), PortSpec("mask")),
        call=method("masked_fill", positional=("value",)),
        summary_params=("value",),
        description="Writes value wherever the bool mask is True (x.masked_fill(mask, "
                    "value)); mask broadcasts against the input, as attention masks do.",
    ),
    LayerSpec(
        type="op.where",
        family="op",
        rule=_where_rule,
        inputs=(PortSpec("condition"), PortSpec("input"), PortSpec("other")),
        call=function("torch.where"),
        description="Takes input where the bool condition is True and other where it is "
                    "False (torch.where(condition, input, other)); all three broadcast.",
    ),
    LayerSpec(
        type="op.gather",
        family="op",
        rule=_gather_rule,
        params=(ParamSpec("dim", "int", required=True, doc="the dimension index points into"),),
        inputs=(PortSpec("input"), PortSpec("index")),
        call=function("torch.gather", positional=("dim",), named_inputs=("index",)),
        summary_params=("dim",),
        description="Picks elements of input along dim at the int64 positions in index "
                    "(torch.gather): the output has the shape of index, which may be no "
                    "larger than input outside dim.",
    ),
)
