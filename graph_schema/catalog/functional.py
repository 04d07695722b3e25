"""Functional twins of catalog layers, as people write them inline in forward():
``F.max_pool2d(x, 2)``, ``F.adaptive_avg_pool2d(x, 1)``, ``F.leaky_relu(x, 0.2)``,
and the scalar arithmetic the other op modules leave out (``x / 8``,
``1 - x``) and ``F.normalize``.

A twin takes its parameters and shape rule from the layer it mirrors, so both always agree;
only the spelling differs (and parameters that make no sense inline, such as ``inplace`` or
``return_indices``, which would change what the call returns, are left out).
"""

from __future__ import annotations

# The layers and ops mirrored here must be registered first.
from graph_schema.catalog import activation, ops_shape, pool  # noqa: F401
from graph_schema.catalog.helpers import first, norm_axis
from graph_schema.catalog.ops_common import Number, function
from graph_schema.catalog.params import ParamError, ParamSpec
from graph_schema.catalog.registry import get_spec, register
from graph_schema.catalog.spec import LayerSpec, OpCall, PortSpec, ShapeError
from graph_schema.dims import Sym, format_shape

_DROPPED = {"inplace", "return_indices"}


def _twin(name: str, layer: str, positional: tuple[str, ...] = ()) -> LayerSpec:
    base = get_spec(layer)
    params = tuple(p for p in base.params if p.name not in _DROPPED)
    fixed = {p.name: p.check_value(p.default) for p in base.params
             if p.name in _DROPPED and p.default is not None}
    keyword = tuple(p.name for p in params if p.name not in positional)

    def rule(p, inputs):
        return base.rule({**p, **fixed}, inputs)

    return LayerSpec(
        type=f"op.{name}",
        family="op",  # listed with the tensor ops; drawn with the layer's glyph (mirrors)
        rule=rule,
        params=params,
        inputs=(PortSpec("input"),),
        call=function(f"F.{name}", positional=positional, keyword=keyword),
        macs=lambda p, i, o: base.macs({**p, **fixed}, i, o),
        summary_params=base.summary_params,
        description=f"{base.description.rstrip('.')}; written inline as F.{name}(x, ...).",
        mirrors=layer,
    )


def _same_shape(_p, inputs):
    return [first(inputs)]


def _normalize_rule(p, inputs):
    shape = first(inputs)
    norm_axis(p["dim"], max(len(shape), 1), shape=shape)
    return [shape]


class SizesOrNames(ParamSpec):
    """Sizes for expand: whole numbers (-1 keeps a size) or names of dimensions of the
    second input, such as N."""

    def check_value(self, value):
        if not isinstance(value, (list, tuple)) or not 1 <= len(value) <= 64:
            raise ParamError(f"{self.name} must be a list of 1 to 64 sizes or names")
        size = ParamSpec(self.name, "int", minimum=-1)
        return tuple(item if isinstance(item, str) and item.isidentifier()
                     else size.check_value(item) for item in value)


def _expand_to_rule(p, inputs):
    like = inputs[1]
    sizes = []
    for item in p["sizes"]:
        if isinstance(item, str):
            symbol = Sym.named(item)
            if symbol not in like:
                raise ShapeError(f"expected input 1 to have a dimension named {item} (sizes "
                                 f"refer to it), received {format_shape(like)}", port=1,
                                 code="bad-dim")
            item = symbol
        sizes.append(item)
    return get_spec("op.expand").rule({"sizes": tuple(sizes)}, [inputs[0]])


register(
    LayerSpec(
        type="op.expand_to",
        family="reshape",
        rule=_expand_to_rule,
        params=(SizesOrNames("sizes", "int_list", required=True,
                             doc="the new sizes: numbers, -1 to keep one, or the name of a "
                                 "dimension of the second input (N)"),),
        inputs=(PortSpec("input"), PortSpec("like")),
        call=OpCall("method", "expand", inputs="first", star="sizes"),
        summary_params=("sizes",),
        description="Repeats size-1 dimensions without copying (x.expand), where a size can "
                    "be read from a second tensor: a learned token expanded to the batch, "
                    "x.expand(other.size(0), -1, -1).",
    ),
    _twin("max_pool1d", "nn.MaxPool1d", ("kernel_size",)),
    _twin("max_pool2d", "nn.MaxPool2d", ("kernel_size",)),
    _twin("avg_pool1d", "nn.AvgPool1d", ("kernel_size",)),
    _twin("avg_pool2d", "nn.AvgPool2d", ("kernel_size",)),
    _twin("adaptive_avg_pool1d", "nn.AdaptiveAvgPool1d", ("output_size",)),
    _twin("adaptive_avg_pool2d", "nn.AdaptiveAvgPool2d", ("output_size",)),
    _twin("adaptive_max_pool2d", "nn.AdaptiveMaxPool2d", ("output_size",)),
    _twin("leaky_relu", "nn.LeakyReLU"),
    _twin("elu", "nn.ELU"),
    _twin("relu6", "nn.ReLU6"),
    _twin("hardtanh", "nn.Hardtanh"),
    _twin("hardswish", "nn.Hardswish"),
    _twin("hardsigmoid", "nn.Hardsigmoid"),
    _twin("softplus", "nn.Softplus"),
    _twin("mish", "nn.Mish"),
    LayerSpec(
        type="op.normalize",
        family="op",
        rule=_normalize_rule,
        params=(ParamSpec("p", "float", default=2.0), ParamSpec("dim", "int", default=1),
                ParamSpec("eps", "float", default=1e-12, minimum=0)),
        call=function("F.normalize", keyword=("p", "dim", "eps")),
        summary_params=("p", "dim"),
        description="Scales vectors along dim to unit p-norm (F.normalize); the shape is "
                    "unchanged.",
    ),
    LayerSpec(
        type="op.div_scalar",
        family="op",
        rule=_same_shape,
        params=(ParamSpec("value", "float", required=True),),
        call=function("torch.div", positional=("value",)),
        summary_params=("value",),
        description="Divides by a constant (torch.div(x, value), i.e. x / value).",
    ),
    LayerSpec(
        type="op.rsub",
        family="op",
        rule=_same_shape,
        params=(Number("value", "float", required=True),),
        call=function("torch.rsub", positional=("value",)),
        summary_params=("value",),
        description="Subtracts from a constant (torch.rsub(x, value), i.e. value - x).",
    ),
)
