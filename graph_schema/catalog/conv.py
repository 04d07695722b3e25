"""Convolutions and transposed convolutions in 1, 2 and 3 dimensions."""

from __future__ import annotations

from graph_schema.catalog.helpers import (
    bool_param,
    channels_param,
    choice_param,
    concrete,
    conv_out,
    conv_transpose_out,
    expect_dim,
    expect_rank,
    first,
    ints_param,
    layout,
    numel,
    positive,
    set_param_fix,
)
from graph_schema.catalog.params import ParamSpec
from graph_schema.catalog.registry import register
from graph_schema.catalog.spec import LayerSpec, ShapeError
from graph_schema.dims import format_shape, product


def _check_groups(p, port=None):
    groups = p["groups"]
    for name in ("in_channels", "out_channels"):
        if p[name] is not None and p[name] % groups:
            raise ShapeError(f"{name}={p[name]} is not divisible by groups={groups}",
                             port=port, code="bad-param")


def _channel_check(p, shape, d):
    expect_rank(shape, (d + 1, d + 2), layout_hint=layout("N, C", d))
    expect_dim(shape, -(d + 1), p["in_channels"], "in_channels",
               fix=set_param_fix("in_channels", shape[-(d + 1)]))
    _check_groups(p)


def _infer_in_channels(d):
    def infer(_p, inputs):
        shape = first(inputs)
        if len(shape) < d + 1:
            return {}
        return {"in_channels": concrete(shape[-(d + 1)], "in_channels", shape)}
    return infer


def _check_padding_mode(p, shape, d):
    """Non-zero padding modes pad with F.pad first, which has the limits of those modes: a
    reflection must be smaller than the size, a wrap-around at most the size."""
    mode = p["padding_mode"]
    if mode not in ("reflect", "circular"):
        return
    padding = p["padding"]
    for i, (size, k, dil) in enumerate(zip(shape[-d:], p["kernel_size"], p["dilation"])):
        if padding == "same":  # torch splits the total, the odd one on the right
            total = dil * (k - 1)
            sides = (total // 2, total - total // 2)
        else:
            pad = 0 if padding == "valid" else padding[i]
            sides = (pad, pad)
        if not isinstance(size, int):
            continue  # a symbolic size may be large enough
        if max(sides) >= size if mode == "reflect" else max(sides) > size:
            relation = "smaller than" if mode == "reflect" else "at most"
            raise ShapeError(
                f"expected dimension {len(shape) - d + i} to be larger than the padding "
                f"{sides} for padding_mode={mode!r} (the padding must be {relation} the "
                f"size), received {format_shape(shape)}", code="too-small")


def _conv_rule(d):
    def rule(p, inputs):
        shape = first(inputs)
        _channel_check(p, shape, d)
        _check_padding_mode(p, shape, d)
        padding = p["padding"]
        if padding == "same":
            if any(s != 1 for s in p["stride"]):
                raise ShapeError("padding='same' needs stride=1 in PyTorch",
                                 port=None, code="bad-param", fix=set_param_fix("padding", 0))
            spatial = list(shape[-d:])
        else:
            pads = (0,) * d if padding == "valid" else padding
            spatial = [
                positive(conv_out(size, k, s, pad, dil), "the output size", shape)
                for size, k, s, pad, dil in zip(
                    shape[-d:], p["kernel_size"], p["stride"], pads, p["dilation"]
                )
            ]
        return [(*shape[:-(d + 1)], p["out_channels"], *spatial)]
    return rule


def _conv_transpose_rule(d):
    def rule(p, inputs):
        shape = first(inputs)
        _channel_check(p, shape, d)
        for op, s, dil in zip(p["output_padding"], p["stride"], p["dilation"]):
            if op >= max(s, dil):
                raise ShapeError(
                    f"output_padding={op} must be smaller than stride or dilation",
                    port=None, code="bad-param")
        spatial = [
            positive(conv_transpose_out(size, k, s, pad, dil, op), "the output size", shape)
            for size, k, s, pad, dil, op in zip(
                shape[-d:], p["kernel_size"], p["stride"], p["padding"], p["dilation"],
                p["output_padding"])
        ]
        return [(*shape[:-(d + 1)], p["out_channels"], *spatial)]
    return rule


def _conv_params(p):
    weights = p["out_channels"] * (p["in_channels"] // p["groups"]) * product(p["kernel_size"])
    return weights + (p["out_channels"] if p["bias"] else 0)


def _conv_macs(p, _inputs, outputs):
    return numel(outputs[0]) * (p["in_channels"] // p["groups"]) * product(p["kernel_size"])


def _conv_transpose_macs(p, inputs, _outputs):
    return numel(first(inputs)) * (p["out_channels"] // p["groups"]) * product(p["kernel_size"])


def _shared_params(d, transpose):
    padding = (ints_param("padding", 0, d) if transpose
               else ParamSpec("padding", "padding", default=0, arity=d, minimum=0))
    params = [
        channels_param("in_channels", inferable=True),
        channels_param("out_channels"),
        ints_param("kernel_size", None, d, minimum=1, required=True),
        ints_param("stride", 1, d, minimum=1),
        padding,
    ]
    if transpose:
        params.append(ints_param("output_padding", 0, d))
    params += [
        ParamSpec("groups", "int", default=1, minimum=1),
        bool_param("bias", True),
        ints_param("dilation", 1, d, minimum=1),
    ]
    if not transpose:
        params.append(choice_param("padding_mode", "zeros",
                                   ("zeros", "reflect", "replicate", "circular")))
    return tuple(params)


def _make(d, transpose):
    name = f"ConvTranspose{d}d" if transpose else f"Conv{d}d"
    return LayerSpec(
        type=f"nn.{name}",
        family="conv",
        rule=_conv_transpose_rule(d) if transpose else _conv_rule(d),
        params=_shared_params(d, transpose),
        infer=_infer_in_channels(d),
        torch_class=name,
        count_params=_conv_params,
        macs=_conv_transpose_macs if transpose else _conv_macs,
        summary_params=("out_channels", "kernel_size", "stride"),
        tags=frozenset({"biased"}),
        description=(f"{'Transposed ' if transpose else ''}{d}-D convolution over "
                     f"{layout('N, C', d)}."),
    )


register(*(_make(d, transpose) for transpose in (False, True) for d in (1, 2, 3)))

