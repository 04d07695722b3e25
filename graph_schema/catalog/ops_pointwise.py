"""Elementwise functions of one tensor as people write them inline in forward(): F.relu,
torch.sigmoid, x.pow(2), x * 0.5 ... The shape never changes."""

from __future__ import annotations

from graph_schema.catalog.helpers import choice_param, first
from graph_schema.catalog.ops_common import Number, function
from graph_schema.catalog.params import ParamSpec
from graph_schema.catalog.registry import register
from graph_schema.catalog.spec import LayerSpec, OpCall


def _same_shape(_p, inputs):
    return [first(inputs)]


def _pointwise(name: str, call: OpCall, description: str,
               params: tuple[ParamSpec, ...] = (), summary: tuple[str, ...] = ()) -> LayerSpec:
    return LayerSpec(type=f"op.{name}", family="op", rule=_same_shape, params=params, call=call,
                     summary_params=summary, description=description)


register(
    _pointwise("relu", function("F.relu"), "ReLU, max(x, 0), as a function call (F.relu)."),
    _pointwise("sigmoid", function("torch.sigmoid"),
               "Logistic sigmoid 1 / (1 + exp(-x)) as a function call (torch.sigmoid)."),
    _pointwise("tanh", function("torch.tanh"),
               "Hyperbolic tangent as a function call (torch.tanh)."),
    _pointwise("gelu", function("F.gelu", keyword=("approximate",)),
               "GELU as a function call (F.gelu); approximate='tanh' uses the tanh formula.",
               (choice_param("approximate", "none", ("none", "tanh")),), ("approximate",)),
    _pointwise("silu", function("F.silu"), "SiLU / swish, x * sigmoid(x) (F.silu)."),
    _pointwise("neg", function("torch.neg"), "Negates every element (torch.neg, -x)."),
    _pointwise("abs", function("torch.abs"), "Absolute value of every element (torch.abs)."),
    _pointwise("exp", function("torch.exp"), "e to the power of every element (torch.exp)."),
    _pointwise("log", function("torch.log"), "Natural logarithm of every element (torch.log)."),
    _pointwise("sqrt", function("torch.sqrt"), "Square root of every element (torch.sqrt)."),
    _pointwise("pow", function("torch.pow", positional=("exponent",)),
               "Raises every element to a fixed power (torch.pow(x, exponent)).",
               (ParamSpec("exponent", "float", default=2.0),), ("exponent",)),
    # whole numbers stay whole: an int64 tensor times 2 is int64, times 2.0 float32
    _pointwise("scale", function("torch.mul", positional=("factor",)),
               "Multiplies by a constant (torch.mul(x, factor), i.e. x * factor).",
               (Number("factor", "float", required=True),), ("factor",)),
    _pointwise("add_scalar", function("torch.add", positional=("value",)),
               "Adds a constant (torch.add(x, value), i.e. x + value).",
               (Number("value", "float", required=True),), ("value",)),
)
