"""Activation functions: elementwise nonlinearities, the softmax family and GLU.

Nearly all of them keep the input shape and accept any rank, scalars included. The exceptions
are checked the way torch checks them: PReLU with one weight per channel, the softmax ``dim``,
Softmax2d's rank and GLU's halving of one dimension.
"""

from __future__ import annotations

from graph_schema.catalog.helpers import (
    bool_param,
    choice_param,
    expect_rank,
    first,
    float_param,
    int_param,
    norm_axis,
    numel,
    set_param_fix,
)
from graph_schema.catalog.params import ParamSpec
from graph_schema.catalog.registry import register
from graph_schema.catalog.spec import LayerSpec, ShapeError
from graph_schema.dims import format_shape


def _same_shape(_p, inputs):
    return [first(inputs)]


def _bad_param(message: str) -> ShapeError:
    return ShapeError(message, port=None, code="bad-param")


def _inplace() -> ParamSpec:
    return bool_param("inplace", False, doc="overwrite the input instead of allocating")


def _activation(name: str, description: str, params: tuple[ParamSpec, ...] = (),
                rule=_same_shape, summary: tuple[str, ...] = (), **kw) -> LayerSpec:
    return LayerSpec(type=f"nn.{name}", family="activation", rule=rule, params=params,
                     torch_class=name, summary_params=summary, description=description, **kw)


# -- rules with a check of their own ---------------------------------------------------------
def _prelu_rule(p, inputs):
    shape = first(inputs)
    count = p["num_parameters"]
    if count == 1:
        return [shape]
    # torch takes dimension 1 as the channel axis, and a single channel for inputs below 2-D.
    channels = shape[1] if len(shape) >= 2 else 1
    if isinstance(channels, int) and channels != count:
        raise ShapeError(
            f"expected {count} channels at dimension 1 (num_parameters={count}), "
            f"received {format_shape(shape)}",
            port=0,
            fix=set_param_fix("num_parameters", channels) if len(shape) >= 2 else None,
        )
    return [shape]


def _softmax_rule(p, inputs):
    shape = first(inputs)
    if p["dim"] is not None:
        # Scalars behave as 1-D here: dim 0 and -1 are both accepted.
        norm_axis(p["dim"], max(len(shape), 1), shape=shape)
    # Without dim torch falls back to a deprecated implicit choice (dim 0 for 0-, 1- and 3-D
    # inputs, else 1); that is always a valid axis, and the shape is unchanged either way.
    return [shape]


def _softmax2d_rule(_p, inputs):
    shape = first(inputs)
    expect_rank(shape, (3, 4), layout_hint="(N, C, H, W) or unbatched (C, H, W)")
    return [shape]


def _glu_rule(p, inputs):
    shape = first(inputs)
    if not shape:
        raise ShapeError("GLU halves one dimension, so it needs at least a 1-D input, "
                         "received a scalar ()", code="rank-mismatch")
    axis = norm_axis(p["dim"], len(shape), shape=shape)
    size = shape[axis]
    if isinstance(size, int) and size % 2:
        raise ShapeError(f"expected an even size at dimension {axis} (GLU splits it in two "
                         f"halves), received {format_shape(shape)}")
    return [(*shape[:axis], size // 2, *shape[axis + 1:])]


def _hardtanh_rule(p, inputs):
    if p["max_val"] <= p["min_val"]:
        raise _bad_param(f"max_val={p['max_val']:g} must be greater than "
                         f"min_val={p['min_val']:g}")
    return _same_shape(p, inputs)


def _rrelu_rule(p, inputs):
    if p["lower"] > p["upper"]:
        raise _bad_param(f"lower={p['lower']:g} must not exceed upper={p['upper']:g}")
    return _same_shape(p, inputs)


def _celu_rule(p, inputs):
    if p["alpha"] == 0:
        raise _bad_param("alpha cannot be 0 for CELU (it divides by alpha)")
    return _same_shape(p, inputs)


_SOFTMAX_DIM_DOC = ("the dimension to normalise over; set it: without it torch picks one "
                    "implicitly (deprecated)")


def _softmax_like(name: str, description: str, tags: frozenset[str] = frozenset()) -> LayerSpec:
    return _activation(name, description,
                       (ParamSpec("dim", "int", optional=True, doc=_SOFTMAX_DIM_DOC),),
                       rule=_softmax_rule, summary=("dim",), tags=tags)


register(
    _activation("ReLU", "max(0, x), elementwise.", (_inplace(),)),
    _activation("ReLU6", "min(max(0, x), 6), elementwise.", (_inplace(),)),
    _activation("LeakyReLU", "x for x > 0, negative_slope * x otherwise.",
                (float_param("negative_slope", 0.01), _inplace()),
                summary=("negative_slope",)),
    _activation("PReLU", "LeakyReLU with a learned slope, shared or one per channel.",
                (int_param("num_parameters", 1), float_param("init", 0.25)),
                rule=_prelu_rule, summary=("num_parameters",),
                count_params=lambda p: p["num_parameters"],
                macs=lambda _p, _i, o: numel(o[0])),
    _activation("ELU", "x for x > 0, alpha * (exp(x) - 1) otherwise.",
                (float_param("alpha", 1.0), _inplace()), summary=("alpha",)),
    _activation("SELU", "Scaled ELU with fixed constants (self-normalising networks).",
                (_inplace(),)),
    _activation("CELU", "Continuously differentiable ELU: max(0, x) + min(0, α(exp(x/α) - 1)).",
                (float_param("alpha", 1.0), _inplace()), rule=_celu_rule, summary=("alpha",)),
    _activation("GELU", "Gaussian error linear unit, exact or tanh-approximated.",
                (choice_param("approximate", "none", ("none", "tanh")),),
                summary=("approximate",)),
    _activation("SiLU", "x * sigmoid(x) (also called swish).", (_inplace(),)),
    _activation("Mish", "x * tanh(softplus(x)).", (_inplace(),)),
    _activation("Sigmoid", "1 / (1 + exp(-x)), elementwise."),
    _activation("Tanh", "Hyperbolic tangent, elementwise."),
    _activation("Hardswish", "Piecewise-linear approximation of x * sigmoid(x).", (_inplace(),)),
    _activation("Hardsigmoid", "Piecewise-linear approximation of sigmoid.", (_inplace(),)),
    _activation("Hardtanh", "Clamps x to [min_val, max_val].",
                (float_param("min_val", -1.0), float_param("max_val", 1.0), _inplace()),
                rule=_hardtanh_rule, summary=("min_val", "max_val")),
    _activation("Softplus", "log(1 + exp(beta * x)) / beta, linear above threshold.",
                (float_param("beta", 1.0), float_param("threshold", 20.0)),
                summary=("beta",)),
    _activation("Softsign", "x / (1 + |x|), elementwise."),
    _softmax_like("Softmax", "Rescales values along dim to probabilities that sum to 1.",
                  frozenset({"softmax"})),
    _softmax_like("LogSoftmax", "log(softmax(x)) along dim, computed stably.",
                  frozenset({"softmax"})),
    _softmax_like("Softmin", "softmax(-x) along dim."),
    _activation("Softmax2d", "Softmax over the channels at every spatial position.",
                rule=_softmax2d_rule),
    _activation("GLU", "Gated linear unit: splits dim in halves a, b and returns a * σ(b).",
                (ParamSpec("dim", "int", default=-1),), rule=_glu_rule, summary=("dim",)),
    _activation("Tanhshrink", "x - tanh(x), elementwise."),
    _activation("Softshrink", "Shrinks values towards 0 by lambd; zero inside [-lambd, lambd].",
                (float_param("lambd", 0.5, minimum=0.0),), summary=("lambd",)),
    _activation("Hardshrink", "Zeroes values inside [-lambd, lambd], keeps the rest.",
                (float_param("lambd", 0.5),), summary=("lambd",)),
    _activation("LogSigmoid", "log(sigmoid(x)), elementwise."),
    _activation("Threshold", "x where x > threshold, else value.",
                (ParamSpec("threshold", "float", required=True),
                 ParamSpec("value", "float", required=True), _inplace()),
                summary=("threshold", "value")),
    _activation("RReLU", "LeakyReLU with a random slope in [lower, upper] while training.",
                (float_param("lower", 1 / 8), float_param("upper", 1 / 3), _inplace()),
                rule=_rrelu_rule, summary=("lower", "upper")),
)
