"""The convolution and dense layers' shape rules agree with torch."""

import pytest
import torch

from tests.catalog_case import check_against_torch, infer_single

CONV_CASES = [
    ("nn.Conv1d", {"out_channels": 4, "kernel_size": 3}, [(2, 3, 17)]),
    ("nn.Conv1d", {"out_channels": 4, "kernel_size": 5, "stride": 2, "padding": 2,
                   "dilation": 2}, [(2, 3, 30)]),
    ("nn.Conv1d", {"out_channels": 6, "kernel_size": 3, "padding": "same", "groups": 3},
     [(1, 3, 11)]),
    ("nn.Conv2d", {"out_channels": 8, "kernel_size": [3, 5], "stride": [2, 1],
                   "padding": [1, 2]}, [(2, 3, 15, 16)]),
    ("nn.Conv2d", {"out_channels": 8, "kernel_size": 3, "padding": "valid",
                   "padding_mode": "reflect"}, [(1, 2, 9, 9)]),
    ("nn.Conv2d", {"out_channels": 4, "kernel_size": 3, "bias": False}, [(3, 7, 7)]),
    # Non-zero padding modes at their limits: circular padding may wrap the whole size.
    ("nn.Conv1d", {"out_channels": 2, "kernel_size": 3, "padding": "same", "dilation": 2,
                   "padding_mode": "circular"}, [(1, 3, 2)]),
    ("nn.Conv2d", {"out_channels": 2, "kernel_size": 3, "padding": 1,
                   "padding_mode": "reflect"}, [(1, 3, 2, 5)]),
    ("nn.Conv3d", {"out_channels": 2, "kernel_size": 3, "stride": 2, "padding": 1},
     [(1, 2, 9, 10, 11)]),
    ("nn.Conv3d", {"out_channels": 4, "kernel_size": [1, 3, 3], "dilation": [1, 2, 1],
                   "groups": 2}, [(2, 6, 8, 9, 5)]),
    ("nn.ConvTranspose1d", {"out_channels": 4, "kernel_size": 4, "stride": 2, "padding": 1},
     [(2, 3, 8)]),
    ("nn.ConvTranspose1d", {"out_channels": 2, "kernel_size": 3, "stride": 3,
                            "output_padding": 2, "bias": False}, [(3, 5)]),
    ("nn.ConvTranspose2d", {"out_channels": 4, "kernel_size": 3, "stride": 2, "padding": 1,
                            "output_padding": 1}, [(2, 3, 8, 9)]),
    ("nn.ConvTranspose2d", {"out_channels": 6, "kernel_size": 3, "groups": 3, "dilation": 2},
     [(1, 3, 5, 5)]),
    ("nn.ConvTranspose3d", {"out_channels": 2, "kernel_size": 2, "stride": 2},
     [(1, 4, 3, 4, 5)]),
    ("nn.ConvTranspose3d", {"out_channels": 3, "kernel_size": [3, 1, 2], "padding": [1, 0, 0],
                            "dilation": [2, 1, 1]}, [(2, 4, 5, 6, 3)]),
    ("nn.Linear", {"out_features": 7}, [(5, 3)]),
    ("nn.Linear", {"out_features": 7, "bias": False}, [(5, 2, 3)]),
    ("nn.Bilinear", {"out_features": 4}, [(5, 3), (5, 6)]),
    ("nn.Bilinear", {"out_features": 2, "bias": False}, [(2, 7, 3), (2, 7, 4)]),
    ("nn.Identity", {}, [(2, 3)]),
    ("nn.Identity", {}, [()]),
    ("nn.Flatten", {}, [(2, 3, 4, 5)]),
    ("nn.Flatten", {"start_dim": 0, "end_dim": 2}, [(2, 3, 4, 5)]),
    ("nn.Flatten", {"start_dim": 0}, [()]),
    ("nn.Unflatten", {"dim": 1, "unflattened_size": [2, -1]}, [(3, 12)]),
    ("nn.Unflatten", {"dim": -1, "unflattened_size": [4, 2, 3]}, [(5, 24)]),
]

# (type, params, input shapes, input dtypes): the indices an Embedding looks up are integers.
EMBEDDING_CASES = [
    ("nn.Embedding", {"num_embeddings": 10, "embedding_dim": 4}, [(2, 7)], ["int64"]),
    ("nn.Embedding", {"num_embeddings": 5, "embedding_dim": 3, "padding_idx": 0}, [(6,)],
     ["int64"]),
]


@pytest.mark.parametrize("type_name, params, shapes", CONV_CASES)
def test_shape_rule_matches_torch(type_name, params, shapes):
    check_against_torch(type_name, params, shapes)


@pytest.mark.parametrize("type_name, params, shapes, dtypes", EMBEDDING_CASES)
def test_embedding_matches_torch(type_name, params, shapes, dtypes):
    check_against_torch(type_name, params, shapes, dtypes=dtypes)


def test_unflatten_refuses_dimension_names():
    """nn.Unflatten is built with its sizes, before any input exists to read a name from."""
    state = infer_single("nn.Unflatten", {"dim": 1, "unflattened_size": ["N", -1]}, [(3, 12)])
    (error,) = state.diagnostics
    assert error.code == "bad-param" and "not dimension names (N)" in error.message
    assert "op.reshape" in error.message


@pytest.mark.parametrize("params, shape", [
    ({"kernel_size": 3, "padding": "same", "dilation": 2, "padding_mode": "reflect"}, (1, 3, 2)),
    ({"kernel_size": 5, "padding": 2, "padding_mode": "circular"}, (1, 3, 1)),
])
def test_conv_padding_mode_limits_are_refused_as_torch_refuses(params, shape):
    """Reflect and circular padding go through F.pad, with its limits (found by the random
    code generation tests: torch refused what inference had accepted)."""
    params = {"out_channels": 2, **params}
    state = infer_single("nn.Conv1d", params, [shape])
    (error,) = state.diagnostics
    assert error.code == "too-small" and error.port == 0
    assert f"padding_mode={params['padding_mode']!r}" in error.message
    module = torch.nn.Conv1d(shape[1], 2, params["kernel_size"], padding=params["padding"],
                             dilation=params.get("dilation", 1),
                             padding_mode=params["padding_mode"])
    with pytest.raises(RuntimeError):
        module(torch.zeros(shape))


def test_flatten_of_a_scalar_from_dimension_1_is_refused():
    """A scalar has dimensions 0 and -1 only (found by the random code generation tests:
    nn.Flatten() after a full mean)."""
    state = infer_single("nn.Flatten", {}, [()])
    (error,) = state.diagnostics
    assert error.code == "bad-dim" and "dimension 1 is out of range" in error.message
    with pytest.raises(IndexError):
        torch.nn.Flatten()(torch.zeros(()))
