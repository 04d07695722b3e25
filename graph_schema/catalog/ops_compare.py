"""Comparisons and boolean logic as attention-mask code writes them inline:
``torch.arange(n)[None, :] < lengths[:, None]``, ``mask.eq(0)``, ``causal & padding``.

Every op here returns a bool tensor of the broadcast shape (the scalar forms, the input's
shape); the logical ops take any tensors and read nonzero as true, as torch does.
"""

from __future__ import annotations

from graph_schema.catalog.helpers import first
from graph_schema.catalog.ops_common import Number, broadcast, function
from graph_schema.catalog.registry import register
from graph_schema.catalog.spec import LayerSpec, PortSpec

_PAIR = (PortSpec("input"), PortSpec("other"))

# name -> (the operator people write, what it asks)
_COMPARISONS = {
    "eq": ("==", "equal to"),
    "ne": ("!=", "not equal to"),
    "lt": ("<", "less than"),
    "le": ("<=", "less than or equal to"),
    "gt": (">", "greater than"),
    "ge": (">=", "greater than or equal to"),
}


def _broadcast_rule(_p, inputs):
    return [broadcast([inputs[0], inputs[1]], ["input 0", "input 1"], [0, 1])]


def _same_shape(_p, inputs):
    return [first(inputs)]


def _tensor_comparison(name: str, symbol: str, words: str) -> LayerSpec:
    return LayerSpec(
        type=f"op.{name}",
        family="op",
        rule=_broadcast_rule,
        inputs=_PAIR,
        call=function(f"torch.{name}"),
        description=f"True where a is {words} b (torch.{name}, a {symbol} b), a bool tensor; "
                    f"the two broadcast as in a + b.",
    )


def _scalar_comparison(name: str, symbol: str, words: str) -> LayerSpec:
    return LayerSpec(
        type=f"op.{name}_scalar",
        family="op",
        rule=_same_shape,
        params=(Number("value", "literal", required=True, doc="the number compared with"),),
        call=function(f"torch.{name}", positional=("value",)),
        summary_params=("value",),
        description=f"True where x is {words} a number (torch.{name}(x, value), "
                    f"x {symbol} value), a bool tensor of x's shape.",
    )


register(
    *(_tensor_comparison(name, *how) for name, how in _COMPARISONS.items()),
    *(_scalar_comparison(name, *how) for name, how in _COMPARISONS.items()),
    LayerSpec(
        type="op.logical_and",
        family="op",
        rule=_broadcast_rule,
        inputs=_PAIR,
        call=function("torch.logical_and"),
        description="True where both are true (torch.logical_and, a & b on bool masks); "
                    "nonzero counts as true and the two broadcast as in a + b.",
    ),
    LayerSpec(
        type="op.logical_or",
        family="op",
        rule=_broadcast_rule,
        inputs=_PAIR,
        call=function("torch.logical_or"),
        description="True where either is true (torch.logical_or, a | b on bool masks); "
                    "nonzero counts as true and the two broadcast as in a + b.",
    ),
    LayerSpec(
        type="op.logical_not",
        family="op",
        rule=_same_shape,
        call=function("torch.logical_not"),
        description="True where x is zero or false (torch.logical_not, ~mask on a bool "
                    "mask); the shape is unchanged.",
    ),
)
