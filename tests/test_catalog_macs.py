"""MACs as ``torchcanvas summary`` reports them, against an independent count.

torch's own FlopCounterMode counts the multiply-adds torch really performs (matmuls and
convolutions, two FLOPs per MAC) while the module, built from the parameters as written, runs
on meta tensors at batch 1: the summary reports MACs per sample. Where torch's counter has
nothing to say (nn.Bilinear), the formula is written out here.
"""

from __future__ import annotations

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from graph_schema.catalog import get_spec
from graph_schema.summary import summarize
from tests.catalog_case import one_layer, written_module
from tests.torch_eval import forward_args

# (type, params, input shapes with the batch as N)
CONV = [
    ("nn.Conv1d", {"out_channels": 8, "kernel_size": 3, "groups": 2}, [("N", 4, 16)]),
    ("nn.Conv1d", {"out_channels": 6, "kernel_size": 3, "dilation": 2, "stride": 2,
                   "padding": 1}, [("N", 3, 20)]),
    ("nn.Conv2d", {"out_channels": 8, "kernel_size": 3, "groups": 4, "padding": 1},
     [("N", 8, 10, 12)]),
    ("nn.Conv2d", {"out_channels": 6, "kernel_size": [3, 5], "dilation": [2, 1],
                   "groups": 3, "stride": 2}, [("N", 6, 16, 16)]),
    ("nn.Conv2d", {"out_channels": 8, "kernel_size": 3, "groups": 8, "bias": False},
     [("N", 8, 7, 7)]),  # depthwise
    ("nn.Conv2d", {"out_channels": 4, "kernel_size": 3, "padding": "same",
                   "padding_mode": "reflect"}, [("N", 2, 6, 6)]),
    ("nn.Conv3d", {"out_channels": 4, "kernel_size": 3, "groups": 2, "dilation": 2},
     [("N", 4, 7, 8, 9)]),
    ("nn.ConvTranspose1d", {"out_channels": 6, "kernel_size": 4, "stride": 2, "groups": 3},
     [("N", 6, 5)]),
    ("nn.ConvTranspose2d", {"out_channels": 4, "kernel_size": 3, "stride": 2, "padding": 1,
                            "output_padding": 1, "groups": 2, "dilation": 2},
     [("N", 4, 5, 6)]),
    ("nn.ConvTranspose3d", {"out_channels": 2, "kernel_size": 2, "stride": 2},
     [("N", 4, 3, 3, 3)]),
]
DENSE = [
    ("nn.Linear", {"out_features": 7}, [("N", 5)]),
    ("nn.Linear", {"out_features": 3, "bias": False}, [("N", 4, 5)]),
    ("op.matmul", {}, [("N", 3, 4), (4, 6)]),
]
ATTENTION = [
    ("nn.MultiheadAttention", {"num_heads": 2}, [(3, "N", 8)]),
    ("nn.MultiheadAttention", {"num_heads": 2, "batch_first": True, "kdim": 5, "vdim": 7},
     [("N", 4, 8), ("N", 6, 5), ("N", 6, 7)]),
    ("nn.MultiheadAttention", {"num_heads": 4, "add_bias_kv": True, "add_zero_attn": True},
     [(3, "N", 8), (5, "N", 8), (5, "N", 8)]),
    ("nn.MultiheadAttention", {"num_heads": 2, "need_weights": False}, [(3, "N", 8)]),
    ("nn.TransformerEncoderLayer", {"nhead": 2, "dim_feedforward": 16}, [(5, "N", 8)]),
    ("nn.TransformerDecoderLayer", {"nhead": 2, "dim_feedforward": 16, "batch_first": True},
     [("N", 4, 8), ("N", 6, 8)]),
]
RECURRENT = [
    ("nn.RNN", {"hidden_size": 6, "nonlinearity": "relu"}, [(5, "N", 4)]),
    ("nn.RNN", {"hidden_size": 6, "num_layers": 2, "bidirectional": True}, [(5, "N", 4)]),
    ("nn.LSTM", {"hidden_size": 6}, [(5, "N", 4)]),
    ("nn.LSTM", {"hidden_size": 6, "num_layers": 2, "bidirectional": True, "proj_size": 3},
     [(5, "N", 4)]),
    ("nn.LSTM", {"hidden_size": 6, "batch_first": True, "bias": False}, [("N", 7, 4)]),
    ("nn.GRU", {"hidden_size": 5, "num_layers": 3}, [(4, "N", 3)]),
    ("nn.GRU", {"hidden_size": 5, "bidirectional": True, "batch_first": True},
     [("N", 6, 3)]),
    ("nn.RNNCell", {"hidden_size": 6}, [("N", 4)]),
    ("nn.LSTMCell", {"hidden_size": 6}, [("N", 4)]),
    ("nn.GRUCell", {"hidden_size": 6}, [("N", 4)]),
]


CASES = CONV + DENSE + ATTENTION + RECURRENT


def _at_batch_1(shapes):
    return [tuple(1 if d == "N" else d for d in shape) for shape in shapes]


def counted_macs(type_name: str, params: dict, shapes: list) -> int:
    """Multiply-adds torch performs for one sample (FlopCounterMode's FLOPs / 2)."""
    spec = get_spec(type_name)
    shapes = _at_batch_1(shapes)
    tensors = [torch.empty(shape, device="meta") for shape in shapes]
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        if spec.torch_class:
            module = written_module(type_name, params, shapes)
            kwargs = {name: params[name] for name in spec.forward_params if name in params}
            module(*forward_args(spec, tensors), **kwargs)
        else:
            torch.matmul(*tensors)
    flops = counter.get_total_flops()
    assert flops > 0 and flops % 2 == 0
    return flops // 2


def summary_macs(type_name: str, params: dict, shapes: list):
    summary = summarize(one_layer(type_name, params, shapes))
    (row,) = summary.rows
    assert row.macs == summary.total_macs
    return row.macs


def _id(case):
    type_name, params, shapes = case
    return f"{type_name[3:]}-{params}-{shapes}"


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")
@pytest.mark.parametrize("type_name, params, shapes", CASES, ids=[_id(c) for c in CASES])
def test_summary_macs_equal_torchs_count(type_name, params, shapes):
    assert summary_macs(type_name, params, shapes) == counted_macs(type_name, params, shapes)


def test_a_symbolic_length_stays_in_the_total():
    """Per sample means N -> 1, not L -> 1: torch's count at two lengths, as a formula."""
    params = {"out_channels": 8, "kernel_size": 3, "groups": 2, "padding": 1}
    macs = summary_macs("nn.Conv1d", params, [("N", 4, "L")])
    for length in (5, 9):
        assert macs.substitute({"L": length}) == \
            counted_macs("nn.Conv1d", params, [("N", 4, length)])


@pytest.mark.parametrize("params, shapes", [({"out_features": 4}, [("N", 3), ("N", 6)]),
                                            ({"out_features": 2, "bias": False},
                                             [("N", 5, 3), ("N", 5, 4)])])
def test_bilinear_macs_are_one_per_weight_per_output_row(params, shapes):
    # torch's counter does not count bilinear (it runs as _trilinear): written out, each
    # output feature of each row is x1ᵀ·W·x2, in1*in2 multiply-adds (the bias add is not one).
    rows = 1 if len(shapes[0]) == 2 else shapes[0][1]
    in1, in2 = shapes[0][-1], shapes[1][-1]
    assert summary_macs("nn.Bilinear", params, shapes) == \
        rows * params["out_features"] * in1 * in2


def test_a_reused_module_costs_at_every_call_and_weighs_once():
    """A siamese encoder: one Linear called on both inputs (BiMPM shares its embedding and
    LSTMs so); its weights are counted once, its multiply-adds twice, as torch performs them."""
    from tests.graphs import edges, node, project

    nodes = [node("a", "io.Input", "left", shape=["N", 6]),
             node("b", "io.Input", "right", shape=["N", 6]),
             node("f", "nn.Linear", "encoder", in_features=6, out_features=4),
             node("g", "nn.Linear", "encoder_again"),
             node("s", "op.add", "both"), node("o", "io.Output", "out")]
    nodes[3].reuses = "f"
    summary = summarize(project(nodes, edges(("a", "f"), ("b", "g"), ("f", "s", 0, 0),
                                             ("g", "s", 0, 1), ("s", "o"))))
    rows = {row.name: row for row in summary.rows}
    assert (rows["encoder"].params, rows["encoder_again"].params) == (28, 0)
    assert rows["encoder"].macs == rows["encoder_again"].macs == 24
    assert summary.total_params == 28 and summary.total_macs == 48
