"""Ops whose result takes its sizes from another tensor: ``x.expand_as(other)``, and the
position ids of a transformer, ``torch.arange(x.size(1), device=x.device)``.

arange makes a new tensor rather than transforming one: its input ``like`` is never read,
only its device (the positions must live where the model runs) and, where ``end`` names one
of its dimensions (``L``), that size at run time.
"""

from __future__ import annotations

import math

from graph_schema.catalog.helpers import first
from graph_schema.catalog.ops_common import Number, bad_param, conflict, function, merge, method
from graph_schema.catalog.params import ParamError
from graph_schema.catalog.registry import register
from graph_schema.catalog.spec import LayerSpec, PortSpec, ShapeError
from graph_schema.dims import Dim, Sym, ceil_div, format_dim, format_shape


class SizeOrName(Number):
    """A number, or the name of a dimension of the op's input (``L``), whose size the
    generated code reads at run time (``x.size(1)``)."""

    def check_value(self, value):
        if isinstance(value, str):
            if not value.isidentifier():
                raise ParamError(f"{self.name} must be a number or a dimension name such as "
                                 f"L, got {value[:40]!r}")
            return value
        return super().check_value(value)


def _named_size(name: str, like) -> Sym:
    symbol = Sym.named(name)
    if symbol not in like:
        raise ShapeError(f"expected like to have a dimension named {name} (end counts up to "
                         f"it), received {format_shape(like)}", port=0, code="bad-dim")
    return symbol


def _count(start, end, step) -> int:
    """How many values torch.arange gives, exactly as torch counts them (an int range in
    integer arithmetic, any other in double precision)."""
    if all(isinstance(v, int) for v in (start, end, step)):
        return -((start - end) // step)
    return math.ceil((end - start) / step)


def _symbolic_count(start, end: Dim, step) -> Dim:
    if not (isinstance(start, int) and isinstance(step, int) and step > 0):
        raise ShapeError(
            f"cannot count from start={start} in steps of {step} up to the symbolic size "
            f"{format_dim(end)} before run time: give whole numbers and a positive step, or "
            f"give like a fixed size", port=0, code="symbolic-size")
    return ceil_div(end - start, step)


def _arange_rule(p, inputs):
    like = first(inputs)
    start, step = p["start"], p["step"]
    end = _named_size(p["end"], like) if isinstance(p["end"], str) else p["end"]
    if step == 0:
        raise bad_param("step must not be 0: arange would never reach end")
    if isinstance(end, Sym):
        return [(_symbolic_count(start, end, step),)]
    count = _count(start, end, step)
    if count < 0:
        direction = "up" if step > 0 else "down"
        raise bad_param(f"start={start} and end={end} do not fit step={step}: counting "
                        f"{direction} from {start} never reaches {end}")
    if count == 0:
        raise ShapeError(f"start={start} and end={end} make an empty range (size 0); end is "
                         f"not included", port=None, code="empty")
    return [(count,)]


# -- expand_as ---------------------------------------------------------------------------------
def _expand_as_rule(_p, inputs):
    shape, other = inputs[0], inputs[1]
    if len(shape) > len(other):
        raise ShapeError(
            f"expected input {format_shape(shape)} to have at most the {len(other)} "
            f"dimensions of other {format_shape(other)}: expand_as only adds leading "
            f"dimensions and grows size-1 ones", port=0, code="rank-mismatch")
    new = len(other) - len(shape)
    out = list(other)
    for axis, size in enumerate(shape):
        target = other[new + axis]
        if size != 1 and conflict(size, target):
            raise ShapeError(
                f"expected dimension {axis} of input {format_shape(shape)} to be 1 or "
                f"{format_dim(target)} (dimension {new + axis} of other "
                f"{format_shape(other)}), received {format_dim(size)}: only size-1 "
                f"dimensions can grow", port=0)
        if size != 1:
            out[new + axis] = merge(target, size)
    return [tuple(out)]


register(
    LayerSpec(
        type="op.arange",
        family="op",
        rule=_arange_rule,
        params=(Number("start", "literal", default=0, doc="the first value"),
                SizeOrName("end", "literal", required=True,
                           doc="where counting stops (not included): a number, or the name "
                               "of a dimension of like, such as L, read at run time"),
                Number("step", "literal", default=1, doc="the distance between values")),
        inputs=(PortSpec("like"),),
        call=function("torch.arange", inputs="like", positional=("start", "end"),
                      keyword=("step",)),
        summary_params=("end",),
        description="Counts from start up to end (torch.arange): the position ids of a "
                    "transformer, torch.arange(x.size(1), device=x.device). The input lends "
                    "its device and, where end names one of its dimensions, that size. Whole "
                    "numbers count in int64 (for an embedding), decimals in float32.",
    ),
    LayerSpec(
        type="op.expand_as",
        family="reshape",
        rule=_expand_as_rule,
        inputs=(PortSpec("input"), PortSpec("other")),
        call=method("expand_as"),
        description="Repeats size-1 dimensions without copying until the tensor has the "
                    "shape of other (x.expand_as(other)); leading dimensions may be added.",
    ),
)
