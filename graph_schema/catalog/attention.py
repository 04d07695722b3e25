"""Attention: nn.MultiheadAttention here, the Transformer layers in transformer.py.

MultiheadAttention takes query, key and value; key and value are optional inputs that default
to the query (self-attention), and value defaults to key. It returns (attn_output,
attn_weights); with need_weights=False torch returns None for the weights, so the node then has
a single output.
"""

from __future__ import annotations

# The Transformer layers are attention too; importing the module registers them.
from graph_schema.catalog import transformer  # noqa: F401
from graph_schema.catalog.helpers import (
    bool_param,
    channels_param,
    concrete,
    expect_dim,
    expect_rank,
    first,
    float_param,
    set_param_fix,
)
from graph_schema.catalog.params import ParamSpec
from graph_schema.catalog.registry import register
from graph_schema.catalog.sequence import (
    check_batch,
    check_heads,
    differs,
    mha_macs,
    mha_param_count,
    port_shape,
    sequence_layout,
    split_sequence,
)
from graph_schema.catalog.spec import LayerSpec, PortSpec, ShapeError
from graph_schema.dims import format_shape


def _infer_embed_dim(_p, inputs):
    query = first(inputs)
    if not query:
        return {}
    return {"embed_dim": concrete(query[-1], "embed_dim", query)}


def _qkv(inputs):
    """The three inputs after torch's defaults: key falls back to query, value to key."""
    query = first(inputs)
    key = port_shape(inputs, 1)
    value = port_shape(inputs, 2)
    key = query if key is None else key
    value = key if value is None else value
    return query, key, value


def _kv_dims(p):
    embed = p["embed_dim"]
    kdim = embed if p["kdim"] is None else p["kdim"]
    vdim = embed if p["vdim"] is None else p["vdim"]
    return kdim, vdim


def _check_qkv(p, query, key, value):
    embed, batch_first = p["embed_dim"], p["batch_first"]
    kdim, vdim = _kv_dims(p)
    expect_rank(query, (2, 3), layout_hint=sequence_layout(batch_first, "E"))
    expect_dim(query, -1, embed, "embed_dim", fix=set_param_fix("embed_dim", query[-1]))
    for shape, port, name, size, param in ((key, 1, "key", kdim, "kdim"),
                                           (value, 2, "value", vdim, "vdim")):
        if len(shape) != len(query):
            raise ShapeError(
                f"expected a {len(query)}-D {name} like the {len(query)}-D query "
                f"{format_shape(query)}, received {format_shape(shape)}",
                port=port, code="rank-mismatch")
        expect_dim(shape, -1, size, param if p[param] is not None else f"{param} = embed_dim",
                   port=port, fix=set_param_fix(param, shape[-1]))
    _, q_batch, _ = split_sequence(query, batch_first)
    check_batch(key, q_batch, query, batch_first, "a key", 1)
    key_len, _, _ = split_sequence(key, batch_first)
    value_len, _, _ = split_sequence(value, batch_first)
    if differs(key_len, value_len):
        raise ShapeError(f"expected a value with the key's sequence length {key_len} "
                         f"(key {format_shape(key)}), received {format_shape(value)}", port=2)
    check_batch(value, q_batch, query, batch_first, "a value", 2)


def _mha_rule(p, inputs):
    check_heads(p["embed_dim"], p["num_heads"], "embed_dim", "num_heads")
    query, key, value = _qkv(inputs)
    _check_qkv(p, query, key, value)
    if not p["need_weights"]:
        return [query]
    tgt_len, batch, _ = split_sequence(query, p["batch_first"])
    src_len, _, _ = split_sequence(key, p["batch_first"])
    # bias_k/bias_v and the zero-attention slot each append one key position.
    attended = src_len + int(p["add_bias_kv"]) + int(p["add_zero_attn"])
    heads = () if p["average_attn_weights"] else (p["num_heads"],)
    lead = () if batch is None else (batch,)
    return [query, (*lead, *heads, tgt_len, attended)]


def _mha_count(p):
    kdim, vdim = _kv_dims(p)
    return mha_param_count(p["embed_dim"], kdim, vdim, p["bias"], p["add_bias_kv"])


def _mha_macs(p, inputs, _outputs):
    query, key, _ = _qkv(inputs)
    tgt_len, batch, _ = split_sequence(query, p["batch_first"])
    src_len, _, _ = split_sequence(key, p["batch_first"])
    attended = src_len + int(p["add_bias_kv"]) + int(p["add_zero_attn"])
    kdim, vdim = _kv_dims(p)
    return mha_macs(p["embed_dim"], kdim, vdim, 1 if batch is None else batch, tgt_len,
                    src_len, attended)


register(
    LayerSpec(
        type="nn.MultiheadAttention",
        family="attention",
        rule=_mha_rule,
        params=(
            channels_param("embed_dim", inferable=True),
            channels_param("num_heads"),
            float_param("dropout", 0.0, minimum=0.0, maximum=1.0,
                        doc="dropout on the attention weights"),
            bool_param("bias", True),
            bool_param("add_bias_kv", False, doc="append a learned key/value position"),
            bool_param("add_zero_attn", False, doc="append an all-zero key/value position"),
            ParamSpec("kdim", "int", optional=True, minimum=1,
                      doc="key features (default: embed_dim)"),
            ParamSpec("vdim", "int", optional=True, minimum=1,
                      doc="value features (default: embed_dim)"),
            bool_param("batch_first", False, doc="inputs are (N, L, E) not (L, N, E)"),
            bool_param("need_weights", True, doc="also return the attention weights"),
            bool_param("average_attn_weights", True,
                       doc="average the weights over heads (else one map per head)"),
        ),
        inputs=(PortSpec("query"), PortSpec("key", optional=True),
                PortSpec("value", optional=True)),
        outputs=("attn_output", "attn_weights"),
        infer=_infer_embed_dim,
        torch_class="MultiheadAttention",
        forward_params=("need_weights", "average_attn_weights"),
        forward_inputs="self_attention",
        returns="pair",
        count_params=_mha_count,
        macs=_mha_macs,
        summary_params=("embed_dim", "num_heads"),
        name_hint="attn",
        description="Multi-head scaled dot-product attention; key and value default to the "
                    "query.",
    ),
)
