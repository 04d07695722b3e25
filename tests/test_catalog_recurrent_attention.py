"""The recurrent, attention and Transformer layers' shape rules and parameter counts agree
with torch."""

import pytest

from graph_schema.catalog import get_spec
from graph_schema.dims import Sym
from tests.catalog_case import check_against_torch, infer_single, single_error, written_module

# Warnings torch prints for settings the catalog accepts as torch does.
pytestmark = [pytest.mark.filterwarnings("ignore:dropout option adds dropout"),
              pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")]

RECURRENT_CASES = [
    ("nn.RNN", {"hidden_size": 6}, [(5, 2, 4)]),
    ("nn.RNN", {"hidden_size": 6, "num_layers": 3, "nonlinearity": "relu",
                "bidirectional": True, "dropout": 0.2}, [(5, 2, 4)]),
    ("nn.RNN", {"hidden_size": 6, "batch_first": True, "bias": False}, [(2, 5, 4)]),
    ("nn.RNN", {"hidden_size": 6, "num_layers": 2}, [(5, 4)]),
    ("nn.RNN", {"hidden_size": 6, "num_layers": 2, "bidirectional": True},
     [(5, 2, 4), (4, 2, 6)]),
    ("nn.RNN", {"hidden_size": 6, "batch_first": True}, [(2, 5, 4), (1, 2, 6)]),
    ("nn.LSTM", {"hidden_size": 6}, [(5, 2, 4)]),
    ("nn.LSTM", {"hidden_size": 6, "num_layers": 2, "bidirectional": True, "proj_size": 3},
     [(5, 2, 4)]),
    ("nn.LSTM", {"hidden_size": 6, "proj_size": 2, "batch_first": True}, [(2, 5, 4)]),
    ("nn.LSTM", {"hidden_size": 6, "bidirectional": True}, [(5, 4)]),
    ("nn.LSTM", {"hidden_size": 6, "num_layers": 2, "batch_first": True},
     [(3, 5, 4), (2, 3, 6), (2, 3, 6)]),
    ("nn.LSTM", {"hidden_size": 6, "proj_size": 3, "bidirectional": True},
     [(5, 2, 4), (2, 2, 3), (2, 2, 6)]),
    ("nn.LSTM", {"hidden_size": 6}, [(5, 4), (1, 6), (1, 6)]),
    ("nn.GRU", {"hidden_size": 6}, [(5, 2, 4)]),
    ("nn.GRU", {"hidden_size": 6, "num_layers": 2, "bidirectional": True, "batch_first": True},
     [(2, 5, 4), (4, 2, 6)]),
    ("nn.GRU", {"hidden_size": 8, "bias": False}, [(7, 3)]),
    ("nn.GRU", {"hidden_size": 8}, [(7, 3), (1, 8)]),
    ("nn.RNNCell", {"hidden_size": 6}, [(2, 4)]),
    ("nn.RNNCell", {"hidden_size": 6, "nonlinearity": "relu", "bias": False}, [(4,)]),
    ("nn.RNNCell", {"hidden_size": 6}, [(2, 4), (2, 6)]),
    ("nn.LSTMCell", {"hidden_size": 6}, [(2, 4)]),
    ("nn.LSTMCell", {"hidden_size": 6}, [(4,), (6,), (6,)]),
    ("nn.LSTMCell", {"hidden_size": 6, "bias": False}, [(3, 4), (3, 6), (3, 6)]),
    ("nn.GRUCell", {"hidden_size": 6}, [(2, 4)]),
    ("nn.GRUCell", {"hidden_size": 6}, [(4,), (6,)]),
]

ATTENTION_CASES = [
    ("nn.MultiheadAttention", {"num_heads": 2}, [(5, 2, 8)]),
    ("nn.MultiheadAttention", {"num_heads": 2}, [(5, 2, 8), (7, 2, 8)]),
    ("nn.MultiheadAttention", {"num_heads": 4, "batch_first": True},
     [(2, 5, 8), (2, 7, 8), (2, 7, 8)]),
    ("nn.MultiheadAttention", {"num_heads": 2, "kdim": 3, "vdim": 5, "batch_first": True},
     [(2, 5, 8), (2, 7, 3), (2, 7, 5)]),
    ("nn.MultiheadAttention", {"num_heads": 2, "vdim": 5}, [(5, 2, 8), (7, 2, 8), (7, 2, 5)]),
    ("nn.MultiheadAttention", {"num_heads": 2, "need_weights": False}, [(5, 2, 8)]),
    ("nn.MultiheadAttention", {"num_heads": 2, "average_attn_weights": False},
     [(5, 2, 8), (7, 2, 8)]),
    ("nn.MultiheadAttention", {"num_heads": 2, "add_bias_kv": True, "add_zero_attn": True,
                               "bias": False}, [(5, 2, 8), (7, 2, 8)]),
    ("nn.MultiheadAttention", {"num_heads": 2}, [(5, 8), (6, 8)]),
    ("nn.MultiheadAttention", {"num_heads": 2, "average_attn_weights": False,
                               "add_zero_attn": True}, [(5, 8)]),
    ("nn.TransformerEncoderLayer", {"nhead": 2, "dim_feedforward": 16}, [(5, 2, 8)]),
    ("nn.TransformerEncoderLayer", {"nhead": 2}, [(2, 5, 8)]),
    ("nn.TransformerEncoderLayer", {"nhead": 4, "batch_first": True, "norm_first": True,
                                    "activation": "gelu", "bias": False}, [(2, 5, 8)]),
    ("nn.TransformerEncoderLayer", {"nhead": 2, "dim_feedforward": 16}, [(5, 8)]),
    ("nn.TransformerDecoderLayer", {"nhead": 2, "dim_feedforward": 16},
     [(5, 2, 8), (7, 2, 8)]),
    ("nn.TransformerDecoderLayer", {"nhead": 2, "batch_first": True, "bias": False},
     [(2, 5, 8), (2, 7, 8)]),
    ("nn.TransformerDecoderLayer", {"nhead": 1, "norm_first": True}, [(5, 8), (3, 8)]),
    ("nn.TransformerEncoder", {"nhead": 2, "num_layers": 3, "dim_feedforward": 16},
     [(5, 2, 8)]),
    ("nn.TransformerEncoder", {"nhead": 2, "num_layers": 2, "batch_first": True,
                               "bias": False}, [(2, 5, 8)]),
    ("nn.TransformerDecoder", {"nhead": 2, "num_layers": 2, "dim_feedforward": 16},
     [(5, 2, 8), (7, 2, 8)]),
    ("nn.TransformerDecoder", {"nhead": 2, "num_layers": 1, "batch_first": True},
     [(2, 5, 8), (2, 3, 8)]),
    ("nn.Transformer", {"nhead": 2, "num_encoder_layers": 1, "num_decoder_layers": 2,
                        "dim_feedforward": 16}, [(5, 2, 8), (4, 2, 8)]),
    ("nn.Transformer", {"nhead": 2, "num_encoder_layers": 2, "num_decoder_layers": 1,
                        "batch_first": True, "bias": False}, [(2, 5, 8), (2, 4, 8)]),
    ("nn.Transformer", {"nhead": 2, "num_encoder_layers": 1, "num_decoder_layers": 1},
     [(5, 8), (4, 8)]),
    ("nn.Transformer", {}, [(5, 2, 512), (4, 2, 512)]),
]

CASES = RECURRENT_CASES + ATTENTION_CASES


def _case_id(case):
    type_name, params, shapes = case
    return f"{type_name}-{params}-{shapes}"


@pytest.mark.parametrize("type_name, params, shapes", CASES, ids=[_case_id(c) for c in CASES])
def test_shape_rule_matches_torch(type_name, params, shapes):
    check_against_torch(type_name, params, shapes)


@pytest.mark.parametrize("type_name, params, shapes", CASES, ids=[_case_id(c) for c in CASES])
def test_count_params_matches_torch(type_name, params, shapes):
    state = infer_single(type_name, params, shapes)
    spec = get_spec(type_name)
    module = written_module(type_name, params, shapes)
    assert spec.count_params(state.params) == sum(p.numel() for p in module.parameters())
    macs = spec.macs(state.params, state.inputs, state.outputs)
    assert isinstance(macs, int) and macs > 0


def test_outputs_name_every_returned_tensor():
    assert get_spec("nn.LSTM").outputs == ("output", "h_n", "c_n")
    assert get_spec("nn.GRU").outputs == ("output", "h_n")
    assert get_spec("nn.LSTMCell").outputs == ("h_1", "c_1")
    assert get_spec("nn.MultiheadAttention").outputs == ("attn_output", "attn_weights")


def test_symbolic_sizes_flow_through():
    n, length = Sym.named("N"), Sym.named("L")
    lstm = infer_single("nn.LSTM", {"hidden_size": 6, "bidirectional": True},
                        [("L", "N", 4)])
    assert lstm.outputs == [(length, n, 12), (2, n, 6), (2, n, 6)]
    assert lstm.params["input_size"] == 4
    macs = get_spec("nn.LSTM").macs(lstm.params, lstm.inputs, lstm.outputs)
    assert isinstance(macs, Sym) and macs.atoms == {"L", "N"}
    mha = infer_single("nn.MultiheadAttention", {"num_heads": 2, "batch_first": True},
                       [("N", "L", 8), ("N", "S", 8)])
    assert mha.outputs == [(n, length, 8), (n, length, Sym.named("S"))]
    enc = infer_single("nn.TransformerEncoder", {"nhead": 2, "num_layers": 2},
                       [("L", "N", 8)])
    assert enc.outputs == [(length, n, 8)] and enc.params["d_model"] == 8


def test_wrong_h0_shape_names_the_expected_shape():
    error = single_error("nn.LSTM", {"hidden_size": 6, "num_layers": 2},
                   [(5, 3, 4), (1, 3, 6), (2, 3, 6)])
    assert error.port == 1
    assert error.code == "shape-mismatch"
    assert "expected h_0 of shape (2, 3, 6)" in error.message
    assert "received (1, 3, 6)" in error.message


def test_wrong_c0_is_pinned_to_its_port():
    error = single_error("nn.LSTM", {"hidden_size": 6, "proj_size": 2},
                   [(5, 3, 4), (1, 3, 2), (1, 3, 2)])
    assert error.port == 2
    assert "expected c_0 of shape (1, 3, 6)" in error.message


def test_h0_of_a_batched_shape_for_an_unbatched_input():
    error = single_error("nn.GRU", {"hidden_size": 6}, [(5, 4), (1, 1, 6)])
    assert error.code == "rank-mismatch"
    assert "expected h_0 of shape (1, 6)" in error.message


def test_lstm_needs_both_initial_states():
    error = single_error("nn.LSTM", {"hidden_size": 6}, [(5, 2, 4), (1, 2, 6)])
    assert error.port == 2
    assert "h_0 is connected but c_0 is not" in error.message


def test_cell_state_batch_mismatch():
    error = single_error("nn.GRUCell", {"hidden_size": 6}, [(2, 4), (3, 6)])
    assert error.port == 1
    assert "expected h of shape (2, 6)" in error.message


def test_recurrent_input_size_mismatch_offers_the_fix():
    error = single_error("nn.RNN", {"input_size": 5, "hidden_size": 6}, [(5, 2, 4)])
    assert "5 (input_size), received (5, 2, 4)" in error.message
    assert error.fix.args == {"param": "input_size", "value": 4}


def test_recurrent_rank_is_checked():
    error = single_error("nn.LSTM", {"hidden_size": 6}, [(5, 2, 4, 1)])
    assert error.code == "rank-mismatch"
    assert "2-D or 3-D input (L, N, H_in) or unbatched (L, H_in)" in error.message


def test_proj_size_must_be_below_hidden_size():
    error = single_error("nn.LSTM", {"hidden_size": 6, "proj_size": 6}, [(5, 2, 4)])
    assert error.code == "bad-param"
    assert "proj_size=6 must be smaller than hidden_size=6" in error.message


def test_embed_dim_not_divisible_by_num_heads():
    error = single_error("nn.MultiheadAttention", {"num_heads": 3}, [(5, 2, 8)])
    assert error.code == "bad-param"
    assert "embed_dim=8 must be divisible by num_heads=3" in error.message
    assert error.fix.args == {"param": "num_heads", "value": 2}


def test_d_model_not_divisible_by_nhead():
    error = single_error("nn.TransformerEncoderLayer", {"nhead": 5}, [(5, 2, 12)])
    assert "d_model=12 must be divisible by nhead=5" in error.message
    assert error.fix.args == {"param": "nhead", "value": 4}


def test_key_features_must_match_kdim():
    error = single_error("nn.MultiheadAttention", {"num_heads": 2}, [(5, 2, 8), (7, 2, 3)])
    assert error.port == 1
    assert "8 (kdim = embed_dim), received (7, 2, 3)" in error.message
    assert error.fix.args == {"param": "kdim", "value": 3}


def test_key_and_value_lengths_must_agree():
    error = single_error("nn.MultiheadAttention", {"num_heads": 2},
                         [(5, 2, 8), (7, 2, 8), (6, 2, 8)])
    assert error.port == 2
    assert "key's sequence length 7" in error.message


def test_key_batch_must_match_query():
    error = single_error("nn.MultiheadAttention", {"num_heads": 2, "batch_first": True},
                   [(2, 5, 8), (3, 7, 8)])
    assert error.port == 1
    assert "batch size 2" in error.message


def test_key_rank_must_match_query():
    error = single_error("nn.MultiheadAttention", {"num_heads": 2}, [(5, 2, 8), (7, 8)])
    assert error.code == "rank-mismatch"
    assert "expected a 3-D key like the 3-D query" in error.message


def test_decoder_memory_must_have_d_model_features():
    error = single_error("nn.TransformerDecoderLayer", {"nhead": 2}, [(5, 2, 8), (7, 2, 6)])
    assert error.port == 1
    assert "8 (d_model), received (7, 2, 6)" in error.message


def test_transformer_src_and_tgt_batches_must_agree():
    error = single_error("nn.Transformer", {"nhead": 2}, [(5, 2, 8), (4, 3, 8)])
    assert error.port == 1
    assert "expected a tgt with batch size 2" in error.message


def test_stack_needs_num_layers():
    error = single_error("nn.TransformerEncoder", {"nhead": 2}, [(5, 2, 8)])
    assert error.code == "missing-param"
    assert "num_layers" in error.message
