"""Transformer layers: encoder and decoder layers, their stacks, and the full nn.Transformer.

Imported by attention.py (the family lives there). Every one keeps the shape of its main input
(src, or tgt for decoders) in any of the layouts (S, N, E), (N, S, E) with batch_first, or
unbatched (S, E). The stacks are built as torch builds them:
``TransformerEncoder(TransformerEncoderLayer(...), num_layers)`` with norm=None, so their
parameters are the layer's plus num_layers.
"""

from __future__ import annotations

from graph_schema.catalog.helpers import (
    bool_param,
    channels_param,
    choice_param,
    concrete,
    expect_dim,
    expect_rank,
    first,
    float_param,
    int_param,
    set_param_fix,
)
from graph_schema.catalog.registry import register
from graph_schema.catalog.sequence import (
    check_batch,
    check_heads,
    mha_macs,
    mha_param_count,
    sequence_layout,
    split_sequence,
)
from graph_schema.catalog.spec import LayerSpec, PortSpec, ShapeError
from graph_schema.dims import format_shape


def _infer_d_model(_p, inputs):
    shape = first(inputs)
    if not shape:
        return {}
    return {"d_model": concrete(shape[-1], "d_model", shape)}


def _check_main(p, shape, port=0):
    expect_rank(shape, (2, 3), port=port, layout_hint=sequence_layout(p["batch_first"], "E"))
    expect_dim(shape, -1, p["d_model"], "d_model", port=port,
               fix=set_param_fix("d_model", shape[-1]))


def _check_second(p, main, other, port, name, main_name):
    """memory (decoders) or tgt (Transformer) must match the main input's rank and batch."""
    if len(other) != len(main):
        raise ShapeError(f"expected a {len(main)}-D {name} like {main_name} "
                         f"{format_shape(main)}, received {format_shape(other)}",
                         port=port, code="rank-mismatch")
    expect_dim(other, -1, p["d_model"], "d_model", port=port)
    _, batch, _ = split_sequence(main, p["batch_first"])
    check_batch(other, batch, main, p["batch_first"], f"a {name}", port)


def _encoder_rule(p, inputs):
    check_heads(p["d_model"], p["nhead"], "d_model", "nhead")
    src = first(inputs)
    _check_main(p, src)
    return [src]


def _decoder_rule(p, inputs):
    check_heads(p["d_model"], p["nhead"], "d_model", "nhead")
    tgt, memory = inputs[0], inputs[1]
    _check_main(p, tgt)
    _check_second(p, tgt, memory, 1, "memory", "tgt")
    return [tgt]


def _transformer_rule(p, inputs):
    check_heads(p["d_model"], p["nhead"], "d_model", "nhead")
    src, tgt = inputs[0], inputs[1]
    _check_main(p, src)
    _check_second(p, src, tgt, 1, "tgt", "src")
    return [tgt]


# -- parameter counts: one MultiheadAttention per attention block, two Linears, LayerNorms --
def _norm(p):
    return 2 * p["d_model"] if p["bias"] else p["d_model"]


def _attention(p):
    d = p["d_model"]
    return mha_param_count(d, d, d, p["bias"], add_bias_kv=False)


def _feedforward(p):
    d, ff = p["d_model"], p["dim_feedforward"]
    return 2 * d * ff + (ff + d if p["bias"] else 0)


def _encoder_layer_count(p):
    return _attention(p) + _feedforward(p) + 2 * _norm(p)


def _decoder_layer_count(p):
    return 2 * _attention(p) + _feedforward(p) + 3 * _norm(p)


def _transformer_count(p):
    # nn.Transformer adds a final LayerNorm after each stack.
    return (p["num_encoder_layers"] * _encoder_layer_count(p) + _norm(p)
            + p["num_decoder_layers"] * _decoder_layer_count(p) + _norm(p))


# -- multiply-accumulates (norms and activations are left out as negligible) ---------------
def _lengths(p, shape):
    length, batch, _ = split_sequence(shape, p["batch_first"])
    return length, 1 if batch is None else batch


def _encoder_macs(p, src):
    d = p["d_model"]
    length, batch = _lengths(p, src)
    return (mha_macs(d, d, d, batch, length, length, length)
            + batch * length * 2 * d * p["dim_feedforward"])


def _decoder_macs(p, tgt, memory):
    d = p["d_model"]
    length, batch = _lengths(p, tgt)
    source, _ = _lengths(p, memory)
    return (mha_macs(d, d, d, batch, length, length, length)
            + mha_macs(d, d, d, batch, length, source, source)
            + batch * length * 2 * d * p["dim_feedforward"])


def _layer_params(full=False):
    """The layer constructor's parameters; nn.Transformer (full) has defaults for the first
    two."""
    if full:
        d_model = channels_param("d_model", inferable=True, default=512)
        nhead = int_param("nhead", 8)
    else:
        d_model, nhead = channels_param("d_model", inferable=True), channels_param("nhead")
    return (
        d_model,
        nhead,
        int_param("dim_feedforward", 2048, doc="hidden size of the feed-forward block"),
        float_param("dropout", 0.1, minimum=0.0, maximum=1.0),
        choice_param("activation", "relu", ("relu", "gelu")),
        float_param("layer_norm_eps", 1e-5, minimum=0.0),
        bool_param("batch_first", False, doc="inputs are (N, S, E) not (S, N, E)"),
        bool_param("norm_first", False, doc="LayerNorm before attention (pre-norm)"),
        bool_param("bias", True, doc="biases in the Linear and LayerNorm layers"),
    )


_ENCODER_INPUTS = (PortSpec("src"),)
_DECODER_INPUTS = (PortSpec("tgt"), PortSpec("memory"))


def _spec(name, rule, params, count, macs, description, inputs=_ENCODER_INPUTS,
          stack_layer=None, summary=("d_model", "nhead", "dim_feedforward"), name_hint=None):
    return LayerSpec(
        type=f"nn.{name}", family="attention", rule=rule, params=params, inputs=inputs,
        infer=_infer_d_model, torch_class=name,
        construct="transformer_stack" if stack_layer else "kwargs", stack_layer=stack_layer,
        count_params=count, macs=macs, summary_params=summary, description=description,
        name_hint=name_hint)


_NUM_LAYERS = int_param("num_layers", required=True, doc="how many copies of the layer")

register(
    _spec("TransformerEncoderLayer", _encoder_rule, _layer_params(), _encoder_layer_count,
          lambda p, i, _o: _encoder_macs(p, i[0]),
          "Self-attention and a feed-forward block, each with a residual and LayerNorm.",
          name_hint="encoder_layer"),
    _spec("TransformerDecoderLayer", _decoder_rule, _layer_params(), _decoder_layer_count,
          lambda p, i, _o: _decoder_macs(p, i[0], i[1]),
          "Self-attention, attention over memory and a feed-forward block.",
          inputs=_DECODER_INPUTS, name_hint="decoder_layer"),
    _spec("TransformerEncoder", _encoder_rule, (*_layer_params(), _NUM_LAYERS),
          lambda p: p["num_layers"] * _encoder_layer_count(p),
          lambda p, i, _o: p["num_layers"] * _encoder_macs(p, i[0]),
          "A stack of num_layers TransformerEncoderLayers (no final norm).",
          stack_layer="TransformerEncoderLayer", summary=("num_layers", "d_model", "nhead")),
    _spec("TransformerDecoder", _decoder_rule, (*_layer_params(), _NUM_LAYERS),
          lambda p: p["num_layers"] * _decoder_layer_count(p),
          lambda p, i, _o: p["num_layers"] * _decoder_macs(p, i[0], i[1]),
          "A stack of num_layers TransformerDecoderLayers (no final norm).",
          inputs=_DECODER_INPUTS, stack_layer="TransformerDecoderLayer",
          summary=("num_layers", "d_model", "nhead")),
    _spec("Transformer", _transformer_rule,
          (*_layer_params(full=True)[:2], int_param("num_encoder_layers", 6),
           int_param("num_decoder_layers", 6), *_layer_params(full=True)[2:]),
          _transformer_count,
          lambda p, i, _o: p["num_encoder_layers"] * _encoder_macs(p, i[0])
          + p["num_decoder_layers"] * _decoder_macs(p, i[1], i[0]),
          "Encoder-decoder Transformer: src through the encoder, tgt through the decoder.",
          inputs=(PortSpec("src"), PortSpec("tgt")),
          summary=("d_model", "nhead", "num_encoder_layers")),
)
