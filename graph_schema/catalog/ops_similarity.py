"""Similarity of two tensors along one dimension: ``F.cosine_similarity(x1, x2, dim, eps)``.

torch broadcasts the two inputs against each other first, then reduces ``dim`` of the
broadcast shape away, so ``(N, L, 1, d)`` against ``(N, 1, L, d)`` with ``dim=-1`` compares
every position of one sequence with every position of the other: ``(N, L, L)``. That is how
matching layers (BiMPM's max-pooling matching) compare all pairs without a loop.
"""

from __future__ import annotations

from graph_schema.catalog.helpers import set_param_fix
from graph_schema.catalog.ops_common import broadcast, function
from graph_schema.catalog.params import ParamSpec
from graph_schema.catalog.registry import register
from graph_schema.catalog.spec import LayerSpec, PortSpec, ShapeError
from graph_schema.dims import format_shape, product

_PAIR = (PortSpec("x1"), PortSpec("x2"))


def _compared_axis(dim: int, shape, x1, x2) -> int:
    """``dim`` as an index into the broadcast shape; a scalar takes 0 and -1, as in torch."""
    rank = max(len(shape), 1)
    if -rank <= dim < rank:
        return dim % rank
    # Pinned to the input whose rank the broadcast shape has, the one dim is read against.
    port = 0 if len(x1) >= len(x2) else 1
    raise ShapeError(
        f"dim {dim} is out of range: x1 {format_shape(x1)} and x2 {format_shape(x2)} "
        f"broadcast to the {len(shape)}-D shape {format_shape(shape)}, whose dimensions are "
        f"{-rank} to {rank - 1}", port=port, code="bad-dim",
        fix=set_param_fix("dim", -1) if shape else None)


def _cosine_rule(p, inputs):
    x1, x2 = inputs[0], inputs[1]
    shape = broadcast([x1, x2], ["x1", "x2"], [0, 1])
    axis = _compared_axis(p["dim"], shape, x1, x2)
    return [tuple(size for a, size in enumerate(shape) if a != axis)]


def _cosine_macs(p, inputs, outputs):
    """Three dot products along dim for each output element: x1·x2, x1·x1 and x2·x2."""
    shape = broadcast([inputs[0], inputs[1]], ["x1", "x2"], [0, 1])
    length = shape[p["dim"] % len(shape)] if shape else 1
    return 3 * product(outputs[0]) * length


register(
    LayerSpec(
        type="op.cosine_similarity",
        family="op",
        rule=_cosine_rule,
        params=(ParamSpec("dim", "int", default=1, doc="the dimension compared (and removed)"),
                ParamSpec("eps", "float", default=1e-8, minimum=0,
                          doc="the smallest norm divided by, so zero vectors give 0")),
        inputs=_PAIR,
        call=function("F.cosine_similarity", keyword=("dim", "eps")),
        macs=_cosine_macs,
        summary_params=("dim",),
        description="Cosine of the angle between x1 and x2 along dim (F.cosine_similarity): "
                    "x1·x2 / (|x1| |x2|). The two broadcast as in a + b, then dim is reduced "
                    "away: (N, L, d) and (N, L, d) with dim=-1 give (N, L).",
    ),
)
