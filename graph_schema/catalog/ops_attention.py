"""Attention written as tensor ops: ``F.scaled_dot_product_attention`` and the batched matrix
products older attention code spells it with, ``torch.bmm`` and ``torch.baddbmm`` (and
``torch.addmm``, the unbatched one, which GPT-2's projections are written with).

scaled_dot_product_attention takes query (N, ..., L, E), key (N, ..., S, E) and value
(N, ..., S, Ev) and gives (N, ..., L, Ev). Its batch dimensions broadcast as matmul's do; an
attn_mask (bool, or float added to the scores) must broadcast *to* the attention weights
(N, ..., L, S) without growing them, and needs at least those two last dimensions (torch's
CPU kernel refuses a 0-D or 1-D mask even where its docs would allow one).
"""

from __future__ import annotations

from graph_schema.catalog.helpers import float_param, set_param_fix
from graph_schema.catalog.ops_common import broadcast, conflict, function, merge
from graph_schema.catalog.params import ParamSpec
from graph_schema.catalog.registry import register
from graph_schema.catalog.spec import LayerSpec, PortSpec, ShapeError
from graph_schema.dims import Dim, Shape, format_dim, format_shape, product


def fits_into(shape: Shape, target: Shape, name: str, port: int, target_name: str) -> None:
    """``shape`` broadcasts to ``target`` without growing it (as an in-place add needs)."""
    if len(shape) > len(target):
        raise ShapeError(
            f"expected {name} to have at most the {len(target)} dimensions of "
            f"{target_name} {format_shape(target)}, received {format_shape(shape)}",
            port=port, code="rank-mismatch")
    offset = len(target) - len(shape)
    for axis, size in enumerate(shape):
        wanted = target[offset + axis]
        if size != 1 and conflict(size, wanted):
            raise ShapeError(
                f"expected dimension {axis} of {name} {format_shape(shape)} to be 1 or "
                f"{format_dim(wanted)}, to broadcast to {target_name} {format_shape(target)}, "
                f"received {format_dim(size)}", port=port)


# -- bmm and baddbmm ---------------------------------------------------------------------------
def _bmm(batch1: Shape, batch2: Shape, ports: tuple[int, int],
         names: tuple[str, str]) -> Shape:
    """(b, n, m) @ (b, m, p) -> (b, n, p); torch.bmm broadcasts nothing."""
    for port, name, shape, layout in zip(ports, names, (batch1, batch2),
                                         ("(b, n, m)", "(b, m, p)")):
        if len(shape) != 3:
            raise ShapeError(f"expected a 3-D {name} {layout}, received {format_shape(shape)}",
                             port=port, code="rank-mismatch")
    if conflict(batch1[0], batch2[0]):
        raise ShapeError(
            f"expected dimension 0 of {names[1]} {format_shape(batch2)} to be "
            f"{format_dim(batch1[0])}, the batch of {names[0]} {format_shape(batch1)}, "
            f"received {format_dim(batch2[0])}: bmm does not broadcast (matmul does)",
            port=ports[1])
    if conflict(batch1[2], batch2[1]):
        raise ShapeError(
            f"expected dimension 1 of {names[1]} {format_shape(batch2)} to be "
            f"{format_dim(batch1[2])}, the last dimension of {names[0]} "
            f"{format_shape(batch1)}, received {format_dim(batch2[1])}: the inner "
            f"dimensions must agree", port=ports[1])
    return merge(batch1[0], batch2[0]), batch1[1], batch2[2]


def _bmm_rule(_p, inputs):
    return [_bmm(inputs[0], inputs[1], (0, 1), ("input", "mat2"))]


def _bmm_macs(_p, inputs, outputs):
    return product(outputs[0]) * merge(inputs[0][2], inputs[1][1])


def _baddbmm_rule(_p, inputs):
    product_shape = _bmm(inputs[1], inputs[2], (1, 2), ("batch1", "batch2"))
    fits_into(inputs[0], product_shape, "input", 0, "the product batch1 @ batch2")
    return [product_shape]


def _baddbmm_macs(_p, inputs, outputs):
    return product(outputs[0]) * merge(inputs[1][2], inputs[2][1])


# -- addmm -------------------------------------------------------------------------------------
def _addmm_rule(_p, inputs):
    """beta * input + alpha * (mat1 @ mat2): (n, m) @ (m, p), input broadcast to (n, p)."""
    mat1, mat2 = inputs[1], inputs[2]
    for port, name, shape, layout in ((1, "mat1", mat1, "(n, m)"), (2, "mat2", mat2, "(m, p)")):
        if len(shape) != 2:
            raise ShapeError(f"expected a 2-D {name} {layout}, received {format_shape(shape)}",
                             port=port, code="rank-mismatch")
    if conflict(mat1[1], mat2[0]):
        raise ShapeError(
            f"expected dimension 0 of mat2 {format_shape(mat2)} to be {format_dim(mat1[1])}, "
            f"the last dimension of mat1 {format_shape(mat1)}, received "
            f"{format_dim(mat2[0])}: the inner dimensions must agree", port=2)
    product_shape = (mat1[0], mat2[1])
    fits_into(inputs[0], product_shape, "input", 0, "the product mat1 @ mat2")
    return [product_shape]


def _addmm_macs(_p, inputs, outputs):
    return product(outputs[0]) * merge(inputs[1][1], inputs[2][0])


# -- scaled_dot_product_attention --------------------------------------------------------------
_QKV = ((0, "query", "(N, ..., L, E)"), (1, "key", "(N, ..., S, E)"),
        (2, "value", "(N, ..., S, Ev)"))


def _check_ranks(p, shapes) -> None:
    least = 3 if p["enable_gqa"] else 2
    for (port, name, layout), shape in zip(_QKV, shapes):
        if len(shape) < least:
            why = " (enable_gqa reads the heads at dimension -3)" if least == 3 else ""
            raise ShapeError(f"expected a {name} with at least {least} dimensions {layout}"
                             f"{why}, received {format_shape(shape)}", port=port,
                             code="rank-mismatch")


def _check_sizes(query: Shape, key: Shape, value: Shape) -> None:
    if conflict(query[-1], key[-1]):
        raise ShapeError(
            f"expected the last dimension of key {format_shape(key)} to be "
            f"{format_dim(query[-1])}, the last dimension E of query {format_shape(query)}, "
            f"received {format_dim(key[-1])}: the scores are query · key over E", port=1)
    if conflict(key[-2], value[-2]):
        raise ShapeError(
            f"expected dimension -2 of value {format_shape(value)} to be "
            f"{format_dim(key[-2])}, the length S of key {format_shape(key)}, received "
            f"{format_dim(value[-2])}: every key needs its value", port=2)


def _grouped(query: Shape, shape: Shape, name: str, port: int) -> Shape:
    """enable_gqa repeats each key (and value) head until there are as many as query's."""
    heads, kv_heads = query[-3], shape[-3]
    if isinstance(heads, int) and isinstance(kv_heads, int) and heads % kv_heads:
        raise ShapeError(
            f"expected the heads of {name} {format_shape(shape)} (dimension -3, "
            f"{kv_heads}) to divide the {heads} heads of query {format_shape(query)}: "
            f"enable_gqa repeats each {name} head", port=port)
    return (*shape[:-3], heads, *shape[-2:])


def _attention_shapes(p, inputs) -> tuple[Shape, Dim, Dim, Dim, Dim]:
    """(output batch, L, S, E, Ev), after checking the inputs."""
    query, key, value = inputs[0], inputs[1], inputs[2]
    _check_ranks(p, (query, key, value))
    _check_sizes(query, key, value)
    if p["enable_gqa"]:
        key, value = _grouped(query, key, "key", 1), _grouped(query, value, "value", 2)
    batch = broadcast([query[:-2], key[:-2]], ["the batch dimensions of query",
                                               "the batch dimensions of key"], [0, 1])
    length, source = query[-2], merge(key[-2], value[-2])
    mask = inputs[3] if len(inputs) > 3 else None
    if mask is not None:
        _check_mask(p, mask, (*batch, length, source))
    out_batch = broadcast([batch, value[:-2]], ["the batch dimensions of query and key",
                                                "the batch dimensions of value"], [0, 2])
    return out_batch, length, source, merge(query[-1], key[-1]), value[-1]


def _check_mask(p, mask: Shape, weights: Shape) -> None:
    if p["is_causal"]:
        raise ShapeError("expected no attn_mask with is_causal=True: torch refuses both at "
                         "once; the causal mask is built in", port=3, code="bad-param",
                         fix=set_param_fix("is_causal", False))
    if len(mask) < 2:
        raise ShapeError(f"expected an attn_mask with at least 2 dimensions (..., L, S), "
                         f"received {format_shape(mask)}", port=3, code="rank-mismatch")
    fits_into(mask, weights, "attn_mask", 3, "the attention weights")


def _sdpa_rule(p, inputs):
    out_batch, length, _, _, value_size = _attention_shapes(p, inputs)
    return [(*out_batch, length, value_size)]


def _sdpa_macs(p, inputs, _outputs):
    """query · key for every pair of positions, then the weighted sum of the values."""
    out_batch, length, source, embed, value_size = _attention_shapes(p, inputs)
    return product(out_batch) * length * source * (embed + value_size)


def _added_product(type_name: str, rule, macs, inputs: tuple[str, str, str],
                   description: str) -> LayerSpec:
    """beta * input + alpha * (a @ b): torch.addmm and torch.baddbmm."""
    product = f"{inputs[1]} @ {inputs[2]}"
    return LayerSpec(
        type=type_name, family="op", rule=rule,
        params=(float_param("beta", 1.0, doc="the factor on input"),
                float_param("alpha", 1.0, doc=f"the factor on {product}")),
        inputs=tuple(PortSpec(name) for name in inputs),
        call=function(f"torch.{type_name[3:]}", keyword=("beta", "alpha")),
        macs=macs, summary_params=("beta", "alpha"), description=description)


register(
    LayerSpec(
        type="op.scaled_dot_product_attention",
        family="attention",
        rule=_sdpa_rule,
        params=(float_param("dropout_p", 0.0, minimum=0.0, maximum=1.0,
                            doc="dropout on the attention weights, in eval mode too (the "
                                "function does not know the mode) unless training_only: 0 "
                                "for none", extra={"training_only": "training_only"}),
                ParamSpec("training_only", "bool", default=False,
                          doc="drop out while training only (dropout_p if self.training "
                              "else 0.0), as attention modules write it"),
                ParamSpec("is_causal", "bool", default=False,
                          doc="each position attends only to itself and earlier ones"),
                ParamSpec("scale", "float", default=None, optional=True,
                          doc="the factor on the scores; none: 1/sqrt(E)"),
                ParamSpec("enable_gqa", "bool", default=False,
                          doc="grouped-query attention: key and value may have fewer heads "
                              "(dimension -3) than query")),
        inputs=(PortSpec("query"), PortSpec("key"), PortSpec("value"),
                PortSpec("attn_mask", optional=True)),
        call=function("F.scaled_dot_product_attention", named_inputs=("attn_mask",),
                      keyword=("dropout_p", "is_causal", "scale", "enable_gqa")),
        macs=_sdpa_macs,
        summary_params=("is_causal", "dropout_p"),
        description="softmax(query · keyᵀ · scale + mask) · value "
                    "(F.scaled_dot_product_attention): query (N, ..., L, E), key (N, ..., S, "
                    "E) and value (N, ..., S, Ev) give (N, ..., L, Ev).",
    ),
    LayerSpec(
        type="op.bmm",
        family="op",
        rule=_bmm_rule,
        inputs=(PortSpec("input"), PortSpec("mat2")),
        call=function("torch.bmm"),
        macs=_bmm_macs,
        description="Batched matrix product (torch.bmm): (b, n, m) and (b, m, p) give "
                    "(b, n, p); both 3-D with one batch size, nothing broadcasts.",
    ),
    _added_product("op.baddbmm", _baddbmm_rule, _baddbmm_macs, ("input", "batch1", "batch2"),
                   "beta * input + alpha * (batch1 @ batch2) (torch.baddbmm): the batched "
                   "product (b, n, p) of (b, n, m) and (b, m, p), input broadcast to it."),
    _added_product("op.addmm", _addmm_rule, _addmm_macs, ("input", "mat1", "mat2"),
                   "beta * input + alpha * (mat1 @ mat2) (torch.addmm): the product (n, p) "
                   "of (n, m) and (m, p), input (a bias) broadcast to it; GPT-2's Conv1D is "
                   "a linear layer written so."),
)
