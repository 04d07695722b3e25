"""Reductions over dimensions (mean, sum, amax, amin, max with indices) and the functional
softmax family, which normalises over one dimension."""

from __future__ import annotations

from graph_schema.catalog.helpers import bool_param, first, norm_axis
from graph_schema.catalog.ops_common import function, method, norm_dims
from graph_schema.catalog.params import ParamSpec
from graph_schema.catalog.registry import register
from graph_schema.catalog.spec import LayerSpec


def _reduced(shape, axes, keepdim):
    if keepdim:
        return tuple(1 if a in axes else size for a, size in enumerate(shape))
    return tuple(size for a, size in enumerate(shape) if a not in axes)


def _reduce_rule(p, inputs):
    shape = first(inputs)
    dims = p["dim"]
    axes = range(len(shape)) if dims is None else norm_dims(dims, len(shape), shape)
    return [_reduced(shape, set(axes), p["keepdim"])]


def _max_rule(p, inputs):
    shape = first(inputs)
    axis = norm_axis(p["dim"], max(len(shape), 1), shape=shape)
    out = _reduced(shape, {axis}, p["keepdim"])
    return [out, out]


def _softmax_rule(p, inputs):
    shape = first(inputs)
    norm_axis(p["dim"], max(len(shape), 1), shape=shape)
    return [shape]


def _reduction(name: str, what: str) -> LayerSpec:
    return LayerSpec(
        type=f"op.{name}",
        family="reduce",
        rule=_reduce_rule,
        params=(ParamSpec("dim", "dims", optional=True,
                          doc="dimensions to reduce; none: all of them"),
                bool_param("keepdim", False, doc="keep reduced dimensions with size 1")),
        call=method(name, keyword=("dim", "keepdim")),
        summary_params=("dim", "keepdim"),
        description=f"{what} over the given dimensions (x.{name}), or over all of them; "
                    f"keepdim leaves them in place with size 1.",
    )


def _softmax(name: str, what: str) -> LayerSpec:
    return LayerSpec(
        type=f"op.{name}",
        family="op",
        rule=_softmax_rule,
        params=(ParamSpec("dim", "int", required=True),),
        call=function(f"F.{name}", keyword=("dim",)),
        summary_params=("dim",),
        tags=frozenset({"softmax"}),
        description=f"{what} over one dimension (F.{name}); the shape is unchanged.",
    )


register(
    _reduction("mean", "Mean"),
    _reduction("sum", "Sum"),
    _reduction("amax", "Maximum value"),
    _reduction("amin", "Minimum value"),
    LayerSpec(
        type="op.max",
        family="reduce",
        rule=_max_rule,
        params=(ParamSpec("dim", "int", required=True),
                bool_param("keepdim", False, doc="keep the reduced dimension with size 1")),
        outputs=("values", "indices"),
        call=function("torch.max", positional=("dim",), keyword=("keepdim",)),
        summary_params=("dim", "keepdim"),
        description="Maximum over one dimension with its position (torch.max(x, dim)): two "
                    "outputs, the values and the indices.",
    ),
    _softmax("softmax", "Softmax: exponentiates and normalises to sum 1"),
    _softmax("log_softmax", "Log of the softmax, computed stably"),
)
