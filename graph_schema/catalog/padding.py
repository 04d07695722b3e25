"""Padding layers: zero, constant, reflection, replication and circular, in 1, 2 and 3-D.

``padding`` is one number for every side or 2*d numbers ordered as torch orders them: the last
dimension first, (left, right, top, bottom, front, back). Negative padding crops. Each mode has
torch's own limits:

- zero and constant pads take any input with at least d dimensions; the crop comes first, so
  it may not remove more than the size;
- reflection, replication and circular pads take (N, C, *) or unbatched (C, *) inputs;
- reflection cannot reach past the edge: each pad must be below the size;
- circular padding wraps around at most once: each pad at most the size that is kept.

torch lets zero and constant pads (and reflection and replication, but for one padded
dimension) crop a dimension to nothing; that empty tensor is refused here, where it is made.
"""

from __future__ import annotations

from graph_schema.catalog.helpers import (
    empty_result,
    expect_min_rank,
    expect_rank,
    first,
    float_param,
    ints_param,
    layout,
)
from graph_schema.catalog.registry import register
from graph_schema.catalog.spec import LayerSpec, ShapeError
from graph_schema.dims import format_shape

SIDES = ("left", "right", "top", "bottom", "front", "back")


def _limit_error(message, shape):
    return ShapeError(f"{message}, received {format_shape(shape)}", code="too-small")


def _check_side(mode, shape, axis, pads):
    """One padded dimension; only known sizes can be checked."""
    size = shape[axis]
    if not isinstance(size, int):
        return
    kept = size + min(pads[0], 0) + min(pads[1], 0)
    where = f"at dimension {axis}"
    if mode in ("zero", "constant") and kept < 0:
        raise _limit_error(f"padding {pads} crops more than the size {size} {where}", shape)
    if mode == "reflect" and max(pads) >= size:
        raise _limit_error(
            f"reflection padding {pads} must be smaller than the size {size} {where}", shape)
    if mode == "circular" and max(pads) > kept:
        # torch checks against the size; beyond the kept part its copy overlaps itself.
        raise _limit_error(
            f"circular padding {pads} must be at most the size it wraps around, {kept}, "
            f"{where}", shape)
    if size + pads[0] + pads[1] < 0:
        raise _limit_error(f"padding {pads} leaves a negative size {where}", shape)


def _pad_rule(mode, d):
    def rule(p, inputs):
        shape = first(inputs)
        if mode in ("zero", "constant"):
            expect_min_rank(shape, d)
        else:
            expect_rank(shape, (d + 1, d + 2),
                        layout_hint=f"{layout('N, C', d)} or unbatched {layout('C', d)}")
        padding = p["padding"]
        out = list(shape)
        for i in range(d):
            axis = len(shape) - 1 - i  # padding[0:2] is for the last dimension
            pads = (padding[2 * i], padding[2 * i + 1])
            _check_side(mode, shape, axis, pads)
            out[axis] = shape[axis] + pads[0] + pads[1]
        for axis in range(len(out) - d, len(out)):
            if out[axis] == 0:
                raise empty_result(f"padding {tuple(padding)}", axis, shape)
        return [tuple(out)]
    return rule


_NAMES = {"zero": "Zero", "constant": "Constant", "reflect": "Reflection",
          "replicate": "Replication", "circular": "Circular"}
_WHAT = {
    "zero": "with zeros",
    "constant": "with a constant value",
    "reflect": "by mirroring the input at its edges",
    "replicate": "by repeating the edge values",
    "circular": "by wrapping around (periodic)",
}


def _pad(mode, d):
    name = f"{_NAMES[mode]}Pad{d}d"
    sides = ", ".join(SIDES[:2 * d])
    # Negative padding crops, which torch allows in every mode (within the limits above).
    params = (ints_param("padding", None, 2 * d, minimum=None, required=True,
                         doc=f"one number, or ({sides})"),)
    summary: tuple[str, ...] = ("padding",)
    if mode == "constant":
        params += (float_param("value", None, required=True, doc="the fill value"),)
        summary += ("value",)
    return LayerSpec(
        type=f"nn.{name}",
        family="padding",
        rule=_pad_rule(mode, d),
        params=params,
        torch_class=name,
        summary_params=summary,
        description=f"Pads the last {d} dimension{'s' if d > 1 else ''} {_WHAT[mode]}.",
    )


register(*(_pad(mode, d) for mode in _NAMES for d in (1, 2, 3)))
