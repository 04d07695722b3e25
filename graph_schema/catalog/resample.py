"""Resampling: Upsample (and its two fixed-mode forms), pixel shuffle and channel shuffle.

Upsample follows F.interpolate: exactly one of ``size`` and ``scale_factor``; each is one
value for every spatial dimension or one per dimension; with a scale the output size is
floor(size * scale), computed in floating point as torch does.
"""

from __future__ import annotations

import math

from graph_schema.catalog.helpers import (
    choice_param,
    expect_min_rank,
    expect_rank,
    first,
    int_param,
    set_param_fix,
)
from graph_schema.catalog.params import ParamError, ParamSpec
from graph_schema.catalog.registry import register
from graph_schema.catalog.spec import LayerSpec, ShapeError
from graph_schema.dims import Sym, format_dim, format_shape


class NumberOrList(ParamSpec):
    """One number, kept as a number, or a list of any length (a tuple).

    Upsample needs the difference: size=8 scales every spatial dimension, while size=[8] on a
    4-D input is an error in torch. The "dims" / "floats" kinds would turn both into (8,).
    """

    def check_value(self, value):
        if value is None:
            return super().check_value(value)
        item = ParamSpec(self.name, "int" if self.kind == "dims" else "float",
                         minimum=self.minimum, maximum=self.maximum)
        if not isinstance(value, (list, tuple)):
            return item.check_value(value)
        if not 1 <= len(value) <= 3:
            raise ParamError(f"{self.name} must be one number or a list of 1 to 3, "
                             f"got {len(value)} entries")
        return tuple(item.check_value(v) for v in value)


# The input ranks each interpolation mode supports in F.interpolate.
MODE_RANKS = {
    "nearest": (3, 4, 5),
    "linear": (3,),
    "bilinear": (4,),
    "bicubic": (4,),
    "trilinear": (5,),
    "nearest-exact": (3, 4, 5),
    "area": (3, 4, 5),
}
INTERPOLATING = ("linear", "bilinear", "bicubic", "trilinear")
_LINEAR_FOR_RANK = {3: "linear", 4: "bilinear", 5: "trilinear"}
_LAYOUTS = {3: "(N, C, L)", 4: "(N, C, H, W)", 5: "(N, C, D, H, W)"}


def _bad_param(message: str, fix=None) -> ShapeError:
    return ShapeError(message, port=None, code="bad-param", fix=fix)


def _scaled(size, scale: float):
    if isinstance(size, int):
        # float(size) * scale, then truncate: torch's own arithmetic, bit for bit.
        return math.floor(float(size) * scale)
    if scale.is_integer():
        return size * int(scale)
    return Sym.named(f"floor({format_dim(size)}*{scale:g})")


def _per_dim(value, count: int, name: str, shape):
    if not isinstance(value, tuple):
        return [value] * count
    if len(value) != count:
        raise ShapeError(
            f"expected an input with {len(value)} spatial dimension"
            f"{'s' if len(value) != 1 else ''} to match {name}={list(value)}, "
            f"received {format_shape(shape)} with {count}", code="rank-mismatch")
    return list(value)


def _check_mode_rank(mode: str, shape):
    ranks = MODE_RANKS[mode]
    if len(shape) in ranks:
        return
    if len(ranks) > 1:  # only a 2-D input or one above 5-D fails the nearest modes
        expect_rank(shape, ranks, layout_hint="(N, C, *spatial)")
    fix = None
    if mode in INTERPOLATING and len(shape) in _LINEAR_FOR_RANK:
        fix = set_param_fix("mode", _LINEAR_FOR_RANK[len(shape)])
    raise ShapeError(
        f"expected a {ranks[0]}-D input {_LAYOUTS[ranks[0]]} for mode='{mode}', "
        f"received {format_shape(shape)}", code="rank-mismatch", fix=fix)


def _upsample_output(p, shape, mode):
    size, scale = p["size"], p["scale_factor"]
    if (size is None) == (scale is None):
        given = "both" if size is not None else "neither"
        raise _bad_param(f"give exactly one of size and scale_factor ({given} is set)",
                         fix=set_param_fix("scale_factor", None) if size is not None else None)
    if p.get("recompute_scale_factor") and size is not None:
        raise _bad_param("recompute_scale_factor only applies with scale_factor, not size",
                         fix=set_param_fix("recompute_scale_factor", None))
    if p.get("align_corners") is not None and mode not in INTERPOLATING:
        raise _bad_param(f"align_corners only applies to the modes {', '.join(INTERPOLATING)}, "
                         f"not '{mode}'", fix=set_param_fix("align_corners", None))
    _check_mode_rank(mode, shape)
    spatial = shape[2:]
    if size is not None:
        out = _per_dim(size, len(spatial), "size", shape)
    else:
        scales = _per_dim(scale, len(spatial), "scale_factor", shape)
        if any(s <= 0 for s in scales):
            raise _bad_param(f"scale_factor must be above 0, got {scale}")
        out = [_scaled(n, s) for n, s in zip(spatial, scales)]
    if any(isinstance(n, int) and n <= 0 for n in out):
        raise ShapeError(f"input {format_shape(shape)} is too small: the output size would "
                         f"be {format_shape(tuple(out))}", code="too-small")
    return [(*shape[:2], *out)]


def _upsample_rule(p, inputs):
    return _upsample_output(p, first(inputs), p["mode"])


def _fixed_mode_rule(mode):
    # Despite the "2d", torch runs UpsamplingNearest2d on 3-D and 5-D inputs too, as the
    # nearest mode of F.interpolate allows; only the bilinear form is tied to 4-D.
    def rule(p, inputs):
        return _upsample_output({**p, "align_corners": None}, first(inputs), mode)
    return rule


def _size_params():
    return (NumberOrList("size", "dims", optional=True, minimum=1,
                         doc="the output size: one number or one per spatial dimension"),
            NumberOrList("scale_factor", "floats", optional=True, minimum=0.0,
                         doc="the output size multiplier: one or one per spatial dimension"))


# -- shuffles ---------------------------------------------------------------------------------
def _pixel_shuffle_rule(p, inputs):
    shape = first(inputs)
    expect_min_rank(shape, 3)
    r = p["upscale_factor"]
    channels, height, width = shape[-3:]
    if isinstance(channels, int) and channels % (r * r):
        raise ShapeError(f"expected the channels (dimension {len(shape) - 3}) to be divisible "
                         f"by upscale_factor**2={r * r}, received {format_shape(shape)}")
    return [(*shape[:-3], channels // (r * r), height * r, width * r)]


def _pixel_unshuffle_rule(p, inputs):
    shape = first(inputs)
    expect_min_rank(shape, 3)
    r = p["downscale_factor"]
    channels, height, width = shape[-3:]
    for axis, size in ((len(shape) - 2, height), (len(shape) - 1, width)):
        if isinstance(size, int) and size % r:
            raise ShapeError(f"expected dimension {axis} to be divisible by "
                             f"downscale_factor={r}, received {format_shape(shape)}")
    return [(*shape[:-3], channels * r * r, height // r, width // r)]


def _channel_shuffle_rule(p, inputs):
    shape = first(inputs)
    expect_min_rank(shape, 3)
    groups = p["groups"]
    if isinstance(shape[1], int) and shape[1] % groups:
        raise ShapeError(f"expected the channels (dimension 1) to be divisible by "
                         f"groups={groups}, received {format_shape(shape)}")
    return [shape]


register(
    LayerSpec(
        type="nn.Upsample",
        family="resample",
        rule=_upsample_rule,
        params=(*_size_params(),
                choice_param("mode", "nearest", tuple(MODE_RANKS)),
                ParamSpec("align_corners", "bool", optional=True,
                          doc="linear modes only: align the corner pixels"),
                ParamSpec("recompute_scale_factor", "bool", optional=True,
                          doc="scale_factor only: recompute the scale from the output size")),
        torch_class="Upsample",
        summary_params=("size", "scale_factor", "mode"),
        description="Resizes the spatial dimensions of (N, C, *) by interpolation.",
    ),
    LayerSpec(
        type="nn.UpsamplingNearest2d",
        family="resample",
        rule=_fixed_mode_rule("nearest"),
        params=_size_params(),
        torch_class="UpsamplingNearest2d",
        summary_params=("size", "scale_factor"),
        description="Nearest-neighbour resize of (N, C, H, W); torch takes 3-D and 5-D too.",
    ),
    LayerSpec(
        type="nn.UpsamplingBilinear2d",
        family="resample",
        rule=_fixed_mode_rule("bilinear"),
        params=_size_params(),
        torch_class="UpsamplingBilinear2d",
        summary_params=("size", "scale_factor"),
        description="Bilinear resize of (N, C, H, W) with align_corners=True.",
    ),
    LayerSpec(
        type="nn.PixelShuffle",
        family="resample",
        rule=_pixel_shuffle_rule,
        params=(int_param("upscale_factor", required=True),),
        torch_class="PixelShuffle",
        summary_params=("upscale_factor",),
        description="(*, C*r², H, W) -> (*, C, H*r, W*r): channels into space.",
    ),
    LayerSpec(
        type="nn.PixelUnshuffle",
        family="resample",
        rule=_pixel_unshuffle_rule,
        params=(int_param("downscale_factor", required=True),),
        torch_class="PixelUnshuffle",
        summary_params=("downscale_factor",),
        description="(*, C, H*r, W*r) -> (*, C*r², H, W): space into channels.",
    ),
    LayerSpec(
        type="nn.ChannelShuffle",
        family="resample",
        rule=_channel_shuffle_rule,
        params=(int_param("groups", required=True),),
        torch_class="ChannelShuffle",
        summary_params=("groups",),
        description="Interleaves the channels of (N, C, *) across groups (ShuffleNet).",
    ),
)
