"""Helpers shared by the recurrent and attention layers (no registrations here).

Sequence layers see three layouts of the same data: (L, N, E), (N, L, E) with batch_first, and
unbatched (L, E). The helpers split a shape into (length, batch, features), with batch None
when unbatched, and join it back, so each rule is written once for all three. The multi-head
attention arithmetic lives here too because the Transformer layers are built from it.
"""

from __future__ import annotations

from graph_schema.catalog.helpers import set_param_fix
from graph_schema.catalog.spec import Fix, Inputs, ShapeError
from graph_schema.dims import Dim, Shape, format_dim, format_shape


def port_shape(inputs: Inputs, index: int) -> Shape | None:
    """An optional input: None when unconnected (the engine may also leave it out)."""
    return inputs[index] if index < len(inputs) else None


def differs(a: Dim, b: Dim) -> bool:
    """Only two numbers can be proven different; a symbol may still equal anything."""
    return isinstance(a, int) and isinstance(b, int) and a != b


def expect_shape(actual: Shape, expected: Shape, what: str, port: int,
                 layout_hint: str = "", fix: Fix | None = None) -> None:
    """A state input (h_0, c_0, ...) whose whole shape is dictated by the layer."""
    rank_wrong = len(actual) != len(expected)
    if rank_wrong or any(differs(a, e) for a, e in zip(actual, expected)):
        hint = f" {layout_hint}" if layout_hint else ""
        raise ShapeError(
            f"expected {what} of shape {format_shape(expected)}{hint}, "
            f"received {format_shape(actual)}",
            port=port, fix=fix, code="rank-mismatch" if rank_wrong else "shape-mismatch")


def split_sequence(shape: Shape, batch_first: bool) -> tuple[Dim, Dim | None, Dim]:
    """(length, batch or None, features) of a 2-D (unbatched) or 3-D sequence."""
    if len(shape) == 2:
        return shape[0], None, shape[1]
    if batch_first:
        return shape[1], shape[0], shape[2]
    return shape[0], shape[1], shape[2]


def join_sequence(length: Dim, batch: Dim | None, features: Dim, batch_first: bool) -> Shape:
    if batch is None:
        return (length, features)
    return (batch, length, features) if batch_first else (length, batch, features)


def sequence_layout(batch_first: bool, features: str) -> str:
    batched = f"(N, L, {features})" if batch_first else f"(L, N, {features})"
    return f"{batched} or unbatched (L, {features})"


def check_batch(shape: Shape, batch: Dim | None, other: Shape, batch_first: bool,
                what: str, port: int) -> None:
    """``shape`` (at ``port``) must have the same batch size as ``other`` (input 0)."""
    _, own, _ = split_sequence(shape, batch_first)
    if batch is not None and own is not None and differs(own, batch):
        raise ShapeError(
            f"expected {what} with batch size {format_dim(batch)} like "
            f"{format_shape(other)}, received {format_shape(shape)}", port=port)


def check_heads(embed_dim: int, heads: int, embed_name: str, heads_name: str) -> None:
    """torch splits the embedding evenly between heads; offer the nearest head count that
    divides it."""
    if embed_dim % heads == 0:
        return
    start = min(heads, embed_dim)
    fix = None
    if start <= 65536:  # a search bound: absurd sizes just get no suggestion
        fewer = next(h for h in range(start, 0, -1) if embed_dim % h == 0)
        fix = set_param_fix(heads_name, fewer)
    raise ShapeError(
        f"{embed_name}={embed_dim} must be divisible by {heads_name}={heads} (each head gets "
        f"{embed_name} / {heads_name} features)",
        port=None, code="bad-param", fix=fix)


# -- multi-head attention arithmetic ---------------------------------------------------------
def mha_param_count(embed: int, kdim: int, vdim: int, bias: bool, add_bias_kv: bool) -> int:
    """Parameters of nn.MultiheadAttention.

    The packed in_proj_weight (3E x E, used when kdim == vdim == E) and the separate
    q/k/v_proj_weight (E x E, E x kdim, E x vdim) hold the same number of values.
    """
    count = embed * (embed + kdim + vdim) + embed * embed  # q, k, v and out projections
    if bias:
        count += 3 * embed + embed  # in_proj_bias and out_proj.bias
    if add_bias_kv:
        count += 2 * embed  # bias_k and bias_v, each (1, 1, E)
    return count


def mha_macs(embed: int, kdim: int, vdim: int, batch: Dim, tgt_len: Dim, src_len: Dim,
             attended_len: Dim) -> Dim:
    """Projections, the scores Q·Kᵀ and the weighted sum of V (summed over heads)."""
    queries = batch * tgt_len
    keys = batch * src_len
    projections = 2 * queries * embed * embed + keys * embed * (kdim + vdim)
    return projections + 2 * batch * tgt_len * attended_len * embed
