"""The ops import adds to the catalog agree with torch: functional twins of layers, scalar
arithmetic, F.normalize; and held tensors (attr.Parameter / attr.Buffer) build exactly the
tensor their params describe."""

from __future__ import annotations

import struct

import pytest
import torch

from graph_schema.catalog.attrs import encode_bytes
from tests.catalog_case import check_against_torch, infer_single
from tests.torch_eval import call_op

IMPORT_OP_CASES = [
    ("op.max_pool1d", {"kernel_size": 3}, [(2, 3, 17)]),
    ("op.max_pool1d", {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
     [(2, 3, 10)]),
    ("op.max_pool2d", {"kernel_size": 2}, [(2, 3, 8, 9)]),
    ("op.max_pool2d", {"kernel_size": 3, "stride": 2, "padding": 1, "dilation": 1},
     [(1, 4, 9, 9)]),
    ("op.avg_pool1d", {"kernel_size": 2}, [(2, 3, 9)]),
    ("op.avg_pool1d", {"kernel_size": 3, "stride": 1, "padding": 1}, [(3, 10)]),
    ("op.avg_pool2d", {"kernel_size": 2}, [(2, 3, 7, 9)]),
    ("op.avg_pool2d", {"kernel_size": 3, "stride": 2, "ceil_mode": True}, [(1, 2, 8, 8)]),
    ("op.adaptive_avg_pool1d", {"output_size": 4}, [(2, 3, 10)]),
    ("op.adaptive_avg_pool1d", {"output_size": 1}, [(3, 5)]),
    ("op.adaptive_avg_pool2d", {"output_size": 1}, [(2, 3, 7, 7)]),
    ("op.adaptive_avg_pool2d", {"output_size": [2, 3]}, [(2, 3, 7, 9)]),
    ("op.adaptive_max_pool2d", {"output_size": 1}, [(2, 3, 5, 5)]),
    ("op.adaptive_max_pool2d", {"output_size": [3, 2]}, [(4, 6, 6)]),
    ("op.leaky_relu", {}, [(2, 5)]),
    ("op.leaky_relu", {"negative_slope": 0.2}, [(2, 3, 4)]),
    ("op.elu", {}, [(2, 5)]),
    ("op.elu", {"alpha": 0.5}, [(3,)]),
    ("op.relu6", {}, [(2, 5)]),
    ("op.relu6", {}, [(1, 2, 3, 4)]),
    ("op.hardtanh", {}, [(2, 5)]),
    ("op.hardtanh", {"min_val": -2.0, "max_val": 2.0}, [(4,)]),
    ("op.hardswish", {}, [(2, 5)]),
    ("op.hardswish", {}, [(2, 3, 4, 4)]),
    ("op.hardsigmoid", {}, [(2, 5)]),
    ("op.hardsigmoid", {}, [(3, 1)]),
    ("op.softplus", {}, [(2, 5)]),
    ("op.softplus", {"beta": 2.0, "threshold": 10.0}, [(2, 3, 4)]),
    ("op.mish", {}, [(2, 5)]),
    ("op.mish", {}, [(7,)]),
    ("op.normalize", {}, [(2, 5)]),
    ("op.normalize", {"p": 1.0, "dim": -1}, [(2, 3, 4)]),
    ("op.div_scalar", {"value": 8.0}, [(2, 5)]),
    ("op.div_scalar", {"value": -0.5}, [(3, 4, 1)]),
    ("op.rsub", {"value": 1.0}, [(2, 5)]),
    ("op.rsub", {"value": 3.5}, [(4,)]),
    ("op.expand_to", {"sizes": [3, -1, -1]}, [(1, 1, 4), (3, 5, 4)]),
    ("op.expand_to", {"sizes": [2, 5, 4]}, [(5, 1), (2, 7)]),
    ("op.expand_to", {"sizes": [-1, 3, -1]}, [(2, 1, 4), (5, 3)]),
]


@pytest.mark.parametrize("type_name, params, shapes", IMPORT_OP_CASES)
def test_import_op_matches_torch(type_name, params, shapes):
    check_against_torch(type_name, params, shapes)


def test_scalar_ops_compute_what_they_say():
    x = torch.tensor([1.0, 2.0, 4.0])
    div = infer_single("op.div_scalar", {"value": 4.0}, [(3,)])
    rsub = infer_single("op.rsub", {"value": 1.0}, [(3,)])
    from graph_schema.catalog import get_spec

    assert torch.equal(call_op(get_spec("op.div_scalar"), div.params, [x]), x / 4)
    assert torch.equal(call_op(get_spec("op.rsub"), rsub.params, [x]), 1 - x)


def test_expand_to_reads_a_named_size_from_its_second_input():
    from graph_schema.dims import Sym

    state = infer_single("op.expand_to", {"sizes": ["N", -1, -1]}, [(1, 1, 4), ("N", 6, 4)])
    assert state.outputs == [(Sym.named("N"), 1, 4)]
    missing = infer_single("op.expand_to", {"sizes": ["L", -1, -1]}, [(1, 1, 4), ("N", 6, 4)])
    assert missing.outputs is None and "named L" in missing.diagnostics[0].message


def test_twin_refuses_what_its_layer_refuses():
    state = infer_single("op.max_pool2d", {"kernel_size": 3, "padding": 2}, [(1, 1, 8, 8)])
    assert state.outputs is None and state.diagnostics[0].is_error


# -- held tensors ----------------------------------------------------------------------------
def _tensor_state(type_name: str, **params):
    return infer_single(type_name, params, [])


def test_parameter_gives_its_shape_and_counts_as_parameters():
    from graph_schema.catalog import get_spec

    state = _tensor_state("attr.Parameter", shape=[1, 5, 8], fill="normal", value=0.02)
    assert state.outputs == [(1, 5, 8)]
    assert get_spec("attr.Parameter").count_params(state.params) == 40
    assert get_spec("attr.Buffer").count_params(state.params) == 0


def test_stored_values_round_trip():
    raw = struct.pack("<3f", 1.0, -2.0, 0.5)
    state = _tensor_state("attr.Buffer", shape=[3], fill="values", data=encode_bytes(raw),
                          persistent=False)
    assert state.outputs == [(3,)] and state.params["data"] == raw


@pytest.mark.parametrize("params, message", [
    ({"shape": [4], "fill": "values", "data": encode_bytes(b"\0" * 12)}, "needs 16"),
    ({"shape": [4], "fill": "values"}, "no values are stored"),
    ({"shape": [4], "fill": "zeros", "data": encode_bytes(b"\0" * 16)}, "set fill"),
    ({"shape": [4], "fill": "values", "data": {"encoding": "zlib+base64", "bytes": "@@"}},
     "base64"),
    ({"shape": [4], "fill": "values", "data": {"encoding": "pickle", "bytes": ""}},
     "unknown encoding"),
    ({"shape": [4], "fill": "normal", "dtype": "int64"}, "floating"),
])
def test_bad_stored_tensors_are_diagnosed(params, message):
    state = _tensor_state("attr.Buffer", **params)
    assert state.outputs is None
    assert any(message in d.message for d in state.diagnostics), state.diagnostics


def test_compressed_values_cannot_unpack_without_limit():
    import base64
    import zlib

    bomb = base64.b64encode(zlib.compress(b"\0" * (65 * 2**20))).decode()
    state = _tensor_state("attr.Buffer", shape=[1], fill="values",
                          data={"encoding": "zlib+base64", "bytes": bomb})
    assert state.outputs is None and "MiB" in state.diagnostics[0].message
