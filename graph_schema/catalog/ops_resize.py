"""F.interpolate and F.pad: the functional forms that change spatial sizes."""

from __future__ import annotations

import math

from graph_schema.catalog.helpers import (
    choice_param,
    empty_result,
    expect_rank,
    first,
    positive,
    set_param_fix,
)
from graph_schema.catalog.ops_common import ScalarOrList, bad_param, function
from graph_schema.catalog.params import ParamSpec
from graph_schema.catalog.registry import register
from graph_schema.catalog.spec import LayerSpec, ShapeError
from graph_schema.dims import Dim, Sym, format_dim, format_shape

_MODES = ("nearest", "linear", "bilinear", "bicubic", "trilinear", "area", "nearest-exact")
_MODE_RANK = {"linear": 3, "bilinear": 4, "bicubic": 4, "trilinear": 5}
_LAYOUTS = {3: "(N, C, L)", 4: "(N, C, H, W)", 5: "(N, C, D, H, W)"}


def _scaled(size: Dim, factor: float) -> Dim:
    """torch's floor(size * scale_factor); a symbolic size times a fraction stays opaque."""
    if isinstance(size, int):
        return math.floor(size * factor)
    if factor.is_integer():
        return size * int(factor)
    return Sym.named(f"floor({format_dim(size)}*{factor:g})")


def _interpolate_rule(p, inputs):
    shape = first(inputs)
    mode = p["mode"]
    if mode in _MODE_RANK:
        rank = _MODE_RANK[mode]
        expect_rank(shape, (rank,), layout_hint=f"{_LAYOUTS[rank]} for mode={mode!r}")
    else:
        expect_rank(shape, (3, 4, 5), layout_hint="(N, C, L), (N, C, H, W) or (N, C, D, H, W)")
    size, scale = p["size"], p["scale_factor"]
    if size is None and scale is None:
        raise bad_param("set size or scale_factor to say how large the output is")
    if size is not None and scale is not None:
        raise bad_param("set either size or scale_factor, not both",
                        fix=set_param_fix("scale_factor", None))
    if p["align_corners"] is not None and mode not in _MODE_RANK:
        raise bad_param(f"align_corners applies only to the modes linear, bilinear, bicubic "
                        f"and trilinear, not {mode!r}", fix=set_param_fix("align_corners", None))
    spatial = shape[2:]
    name, values = ("size", size) if size is not None else ("scale_factor", scale)
    if isinstance(values, tuple):
        if len(values) != len(spatial):
            raise ShapeError(
                f"expected {len(values)} spatial dimension(s) to match {name} "
                f"{list(values)}, received {format_shape(shape)} with {len(spatial)}",
                port=0, code="rank-mismatch")
    else:
        values = (values,) * len(spatial)
    if size is not None:
        out = list(values)
    else:
        out = [positive(_scaled(s, f), "the output size", shape) for s, f in zip(spatial, values)]
    return [(*shape[:2], *out)]


def _pad_rule(p, inputs):
    shape = first(inputs)
    pad, mode = p["pad"], p["mode"]
    rank = len(shape)
    if len(pad) % 2:
        raise bad_param(f"pad must hold (left, right) pairs, from the last dimension backwards; "
                        f"it has {len(pad)} values")
    pairs = len(pad) // 2
    if pairs > rank:
        raise ShapeError(f"expected at least {pairs} dimensions for the {len(pad)} pad values, "
                         f"received {format_shape(shape)}", port=0, code="rank-mismatch")
    if mode != "constant" and (pairs not in (1, 2, 3) or rank not in (pairs + 1, pairs + 2)):
        if pairs not in (1, 2, 3):
            raise bad_param(f"mode={mode!r} pads the last 1, 2 or 3 dimensions (2, 4 or 6 pad "
                            f"values); pad has {len(pad)}")
        raise ShapeError(f"expected a {pairs + 1}-D or {pairs + 2}-D input for mode={mode!r} "
                         f"with {len(pad)} pad values, received {format_shape(shape)}", port=0,
                         code="rank-mismatch")
    out = list(shape)
    for i in range(pairs):
        axis = rank - 1 - i
        left, right, size = pad[2 * i], pad[2 * i + 1], shape[axis]
        if isinstance(size, int) and mode in ("reflect", "circular"):
            limit = size - 1 if mode == "reflect" else size
            if max(left, right) > limit:
                relation = "smaller than" if mode == "reflect" else "at most"
                raise ShapeError(
                    f"expected dimension {axis} to be larger than the padding ({left}, "
                    f"{right}) for mode={mode!r} (padding must be {relation} the size), "
                    f"received {format_shape(shape)}", port=0, code="too-small")
        new = size + left + right
        if isinstance(new, int) and new < 0:
            raise ShapeError(f"input {format_shape(shape)} is too small: padding ({left}, "
                             f"{right}) would make dimension {axis} {new}", port=0,
                             code="too-small")
        if new == 0:
            raise empty_result(f"padding ({left}, {right})", axis, shape)
        out[axis] = new
    return [tuple(out)]


register(
    LayerSpec(
        type="op.interpolate",
        family="op",
        rule=_interpolate_rule,
        params=(ScalarOrList("size", "dims", optional=True, minimum=1,
                             doc="the output's spatial size: one number or one per dimension"),
                ScalarOrList("scale_factor", "floats", optional=True, minimum=1e-6,
                             doc="multiplier of the spatial size (the result is floored)"),
                choice_param("mode", "nearest", _MODES),
                ParamSpec("align_corners", "bool", optional=True,
                          doc="linear modes only: align the corner pixels")),
        call=function("F.interpolate",
                      keyword=("size", "scale_factor", "mode", "align_corners")),
        summary_params=("size", "scale_factor", "mode"),
        description="Resizes the spatial dimensions of (N, C, L), (N, C, H, W) or "
                    "(N, C, D, H, W) to a size or by a factor (F.interpolate).",
        mirrors="nn.Upsample",
    ),
    LayerSpec(
        type="op.pad",
        family="op",
        rule=_pad_rule,
        params=(ParamSpec("pad", "int_list", required=True, minimum=-(2**31 - 1),
                          doc="(left, right) pairs from the last dimension backwards; "
                              "negative values crop"),
                choice_param("mode", "constant", ("constant", "reflect", "replicate",
                                                  "circular")),
                ParamSpec("value", "float", optional=True,
                          doc="fill value for mode='constant' (default 0)")),
        call=function("F.pad", positional=("pad",), keyword=("mode", "value")),
        summary_params=("pad", "mode"),
        description="Pads (or, with negative values, crops) the last dimensions (F.pad): "
                    "constant fill, reflection, edge replication or wrap-around.",
        mirrors="nn.ConstantPad2d",
    ),
)
