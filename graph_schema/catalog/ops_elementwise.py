"""Elementwise ops transformer code writes inline: ``torch.clamp`` between numbers or between
tensors, and ``torch.erf``, the heart of the exact GELU ``x * 0.5 * (1 + erf(x / sqrt(2)))``
(the tanh form is built from op.tanh, op.pow and the scalar ops; F.gelu is op.gelu)."""

from __future__ import annotations

from graph_schema.catalog.helpers import first
from graph_schema.catalog.ops_common import Number, bad_param, broadcast, function
from graph_schema.catalog.registry import register
from graph_schema.catalog.spec import LayerSpec, PortSpec, ShapeError


def _clamp_rule(p, inputs):
    if p["min"] is None and p["max"] is None:
        raise bad_param("set min, max or both: torch.clamp needs at least one bound")
    return [first(inputs)]


def _same_shape(_p, inputs):
    return [first(inputs)]


def _clamp_tensors_rule(_p, inputs):
    connected = [(port, name, inputs[port]) for port, name in ((1, "min"), (2, "max"))
                 if port < len(inputs) and inputs[port] is not None]
    if not connected:
        raise ShapeError("expected a tensor at min, max or both: torch.clamp needs at least "
                         "one bound (op.clamp takes numbers)", port=1, code="bad-param")
    shapes = [first(inputs)] + [shape for _, _, shape in connected]
    names = ["input"] + [name for _, name, _ in connected]
    return [broadcast(shapes, names, [0] + [port for port, _, _ in connected])]


def _bound(name: str) -> Number:
    return Number(name, "literal", optional=True,
                  doc=f"the {'smallest' if name == 'min' else 'largest'} value kept (none: "
                      f"no {'lower' if name == 'min' else 'upper'} bound)")


register(
    LayerSpec(
        type="op.clamp",
        family="op",
        rule=_clamp_rule,
        params=(_bound("min"), _bound("max")),
        call=function("torch.clamp", keyword=("min", "max")),
        summary_params=("min", "max"),
        description="Limits every element to [min, max] (torch.clamp); either bound may be "
                    "left out. With min above max every element becomes max, as in torch.",
    ),
    LayerSpec(
        type="op.clamp_tensors",
        family="op",
        rule=_clamp_tensors_rule,
        inputs=(PortSpec("input"), PortSpec("min", optional=True),
                PortSpec("max", optional=True)),
        call=function("torch.clamp", named_inputs=("min", "max")),
        description="Limits every element between tensor bounds (torch.clamp(x, min=low, "
                    "max=high)); each bound broadcasts against the input, as in a + b.",
    ),
    LayerSpec(
        type="op.erf",
        family="op",
        rule=_same_shape,
        call=function("torch.erf"),
        description="The error function of every element (torch.erf), as in the exact GELU "
                    "x * 0.5 * (1 + erf(x / sqrt(2))).",
    ),
)
