"""Network inputs and outputs, drawn as nodes so they can be placed and wired like layers."""

from __future__ import annotations

from graph_schema.catalog.params import ParamSpec
from graph_schema.catalog.registry import register
from graph_schema.catalog.spec import LayerSpec, PortSpec, ShapeError
from graph_schema.dims import Sym


def _input_rule(p, _inputs):
    dims = []
    for item in p["shape"]:
        if item == -1:
            raise ShapeError("an input shape cannot contain -1; name the dimension instead "
                             "(for example 'N' or 'L')", port=None, code="bad-param")
        dims.append(Sym.named(item) if isinstance(item, str) else item)
    return [tuple(dims)]


register(
    LayerSpec(
        type="io.Input",
        family="io",
        rule=_input_rule,
        params=(
            ParamSpec("shape", "shape", default=["N", 1], doc="sizes or names such as N, L"),
            ParamSpec("dtype", "dtype", default="float32"),
        ),
        inputs=(),
        summary_params=("shape", "dtype"),
        name_hint="x",
        description="A network input: its shape may use names (N for the batch, L, H, W ...).",
    ),
    LayerSpec(
        type="io.Output",
        family="io",
        rule=lambda _p, _inputs: [],
        inputs=(PortSpec("input"),),
        outputs=(),
        name_hint="out",
        description="A network output: what forward() returns.",
    ),
)
