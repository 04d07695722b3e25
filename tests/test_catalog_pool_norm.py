"""The pooling and normalization layers' shape rules agree with torch."""

import math

import pytest

from graph_schema.catalog import all_specs, get_spec
from graph_schema.dims import Sym
from tests.catalog_case import check_against_torch, infer_single, single_error, written_module

POOL_CASES = [
    # Max pooling: stride defaults to kernel_size; padding, dilation, ceil_mode.
    ("nn.MaxPool1d", {"kernel_size": 3}, [(2, 3, 17)]),
    ("nn.MaxPool1d", {"kernel_size": 3, "stride": 2, "padding": 1}, [(2, 3, 10)]),
    ("nn.MaxPool1d", {"kernel_size": 3, "stride": 2, "dilation": 2}, [(2, 3, 16)]),
    ("nn.MaxPool1d", {"kernel_size": 3, "stride": 2, "ceil_mode": True}, [(2, 3, 10)]),
    ("nn.MaxPool1d", {"kernel_size": 3, "stride": 2, "ceil_mode": False}, [(2, 3, 10)]),
    # ceil_mode's last window would start in the right padding, so torch drops it.
    ("nn.MaxPool1d", {"kernel_size": 2, "stride": 2, "padding": 1, "ceil_mode": True},
     [(1, 1, 5)]),
    ("nn.MaxPool1d", {"kernel_size": 2}, [(3, 9)]),
    ("nn.MaxPool1d", {"kernel_size": 2, "return_indices": True}, [(3, 9)]),
    ("nn.MaxPool2d", {"kernel_size": 2}, [(2, 3, 8, 9)]),
    ("nn.MaxPool2d", {"kernel_size": [3, 2], "stride": [2, 1], "padding": [1, 0],
                      "dilation": [1, 2]}, [(2, 3, 11, 12)]),
    ("nn.MaxPool2d", {"kernel_size": 3, "stride": 2, "ceil_mode": True}, [(1, 4, 8, 8)]),
    ("nn.MaxPool2d", {"kernel_size": 3, "stride": 2}, [(1, 4, 8, 8)]),
    ("nn.MaxPool2d", {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
     [(4, 7, 6)]),
    ("nn.MaxPool2d", {"kernel_size": 2, "return_indices": True}, [(2, 3, 8, 8)]),
    ("nn.MaxPool3d", {"kernel_size": 2}, [(1, 2, 4, 6, 8)]),
    ("nn.MaxPool3d", {"kernel_size": [1, 3, 3], "stride": [1, 2, 2], "padding": [0, 1, 1],
                      "ceil_mode": True, "return_indices": True}, [(2, 5, 7, 8)]),
    # Average pooling.
    ("nn.AvgPool1d", {"kernel_size": 3, "stride": 2, "padding": 1}, [(2, 3, 10)]),
    ("nn.AvgPool1d", {"kernel_size": 4, "stride": 3, "ceil_mode": True,
                      "count_include_pad": False}, [(3, 11)]),
    ("nn.AvgPool2d", {"kernel_size": 2}, [(2, 3, 7, 9)]),
    ("nn.AvgPool2d", {"kernel_size": [3, 5], "stride": 2, "padding": [1, 2],
                      "ceil_mode": True, "divisor_override": 4}, [(2, 3, 10, 12)]),
    ("nn.AvgPool2d", {"kernel_size": 3, "padding": 1}, [(3, 2, 2)]),
    ("nn.AvgPool3d", {"kernel_size": 2, "stride": 1}, [(1, 2, 3, 4, 5)]),
    ("nn.AvgPool3d", {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
     [(2, 6, 7, 8)]),
    # Power-average pooling (no padding).
    ("nn.LPPool1d", {"norm_type": 2.0, "kernel_size": 3}, [(2, 3, 10)]),
    ("nn.LPPool1d", {"norm_type": 1.0, "kernel_size": 3, "stride": 2, "ceil_mode": True},
     [(3, 10)]),
    ("nn.LPPool2d", {"norm_type": 2, "kernel_size": [2, 3], "stride": 2}, [(2, 3, 9, 9)]),
    ("nn.LPPool2d", {"norm_type": 3.0, "kernel_size": 3, "stride": 2, "ceil_mode": True},
     [(3, 10, 10)]),
    ("nn.LPPool3d", {"norm_type": 2.0, "kernel_size": 2}, [(1, 2, 4, 5, 6)]),
    ("nn.LPPool3d", {"norm_type": 1.5, "kernel_size": [1, 2, 3], "stride": [1, 1, 2],
                     "ceil_mode": True}, [(2, 4, 5, 7)]),
    # Adaptive pooling, None keeps the input size.
    ("nn.AdaptiveAvgPool1d", {"output_size": 4}, [(2, 3, 10)]),
    ("nn.AdaptiveAvgPool1d", {"output_size": 7}, [(3, 5)]),
    ("nn.AdaptiveMaxPool1d", {"output_size": 4, "return_indices": True}, [(2, 3, 10)]),
    ("nn.AdaptiveMaxPool1d", {"output_size": 6}, [(3, 4)]),
    ("nn.AdaptiveAvgPool2d", {"output_size": 1}, [(2, 512, 7, 7)]),
    ("nn.AdaptiveAvgPool2d", {"output_size": [None, 3]}, [(2, 3, 10, 7)]),
    ("nn.AdaptiveAvgPool2d", {"output_size": [5, 3]}, [(3, 10, 7)]),
    ("nn.AdaptiveMaxPool2d", {"output_size": [2, None]}, [(2, 3, 10, 7)]),
    ("nn.AdaptiveMaxPool2d", {"output_size": 3, "return_indices": True}, [(3, 10, 7)]),
    ("nn.AdaptiveAvgPool3d", {"output_size": [None, 2, 2]}, [(1, 2, 4, 6, 8)]),
    ("nn.AdaptiveAvgPool3d", {"output_size": 3}, [(2, 5, 7, 4)]),
    ("nn.AdaptiveMaxPool3d", {"output_size": [None, 2, None], "return_indices": True},
     [(2, 1, 10, 7, 5)]),
    ("nn.AdaptiveMaxPool3d", {"output_size": 2}, [(3, 4, 5, 6)]),
]

NORM_CASES = [
    ("nn.BatchNorm1d", {}, [(4, 3)]),
    ("nn.BatchNorm1d", {}, [(4, 3, 10)]),
    # (momentum=None with running stats reads a counter with .item(), which meta cannot.)
    ("nn.BatchNorm1d", {"momentum": None, "affine": False, "track_running_stats": False},
     [(4, 3, 10)]),
    ("nn.BatchNorm2d", {"eps": 1e-3, "momentum": 0.01}, [(2, 8, 5, 5)]),
    ("nn.BatchNorm2d", {"num_features": 8, "track_running_stats": False}, [(2, 8, 5, 5)]),
    # Without weights or running statistics torch ignores num_features.
    ("nn.BatchNorm2d", {"num_features": 3, "affine": False, "track_running_stats": False},
     [(2, 8, 5, 5)]),
    ("nn.BatchNorm3d", {}, [(2, 4, 3, 5, 6)]),
    ("nn.BatchNorm3d", {"num_features": 4, "affine": False, "momentum": 0.3},
     [(1, 4, 2, 2, 2)]),
    ("nn.InstanceNorm1d", {}, [(2, 3, 10)]),
    ("nn.InstanceNorm1d", {"affine": True}, [(3, 10)]),
    ("nn.InstanceNorm2d", {"affine": True, "track_running_stats": True}, [(2, 3, 5, 6)]),
    ("nn.InstanceNorm2d", {}, [(3, 5, 6)]),
    ("nn.InstanceNorm3d", {"affine": True}, [(2, 3, 4, 5, 6)]),
    ("nn.InstanceNorm3d", {}, [(3, 4, 5, 6)]),
    ("nn.LayerNorm", {"normalized_shape": [16]}, [(2, 7, 16)]),
    ("nn.LayerNorm", {"normalized_shape": 16}, [(16,)]),
    ("nn.LayerNorm", {"normalized_shape": [7, 16], "bias": False}, [(2, 7, 16)]),
    ("nn.LayerNorm", {"normalized_shape": [3, 4, 5], "elementwise_affine": False, "eps": 1e-6},
     [(2, 3, 4, 5)]),
    ("nn.RMSNorm", {"normalized_shape": [16]}, [(2, 7, 16)]),
    ("nn.RMSNorm", {"normalized_shape": [7, 16], "eps": 1e-6, "elementwise_affine": False},
     [(2, 7, 16)]),
    ("nn.GroupNorm", {"num_groups": 2}, [(2, 6, 5, 5)]),
    ("nn.GroupNorm", {"num_groups": 3, "eps": 1e-3}, [(4, 6)]),
    ("nn.GroupNorm", {"num_groups": 1, "affine": False}, [(2, 4, 3, 3, 3)]),
    ("nn.LocalResponseNorm", {"size": 2}, [(2, 6, 3)]),
    ("nn.LocalResponseNorm", {"size": 5, "alpha": 1e-3, "beta": 0.5, "k": 2.0},
     [(2, 6, 4, 4)]),
    ("nn.LocalResponseNorm", {"size": 3}, [(2, 6, 3, 3, 3)]),
]


def _case_id(case):
    type_name, params, shapes = case
    return f"{type_name[3:]}-{params}-{shapes}"


@pytest.mark.parametrize("type_name, params, shapes", POOL_CASES + NORM_CASES,
                         ids=[_case_id(c) for c in POOL_CASES + NORM_CASES])
def test_shape_rule_matches_torch(type_name, params, shapes):
    check_against_torch(type_name, params, shapes)


@pytest.mark.parametrize("type_name, params, shapes", NORM_CASES,
                         ids=[_case_id(c) for c in NORM_CASES])
def test_norm_count_params_matches_torch(type_name, params, shapes):
    state = infer_single(type_name, params, shapes)
    spec = get_spec(type_name)
    module = written_module(type_name, params, shapes)
    assert spec.count_params(state.params) == sum(p.numel() for p in module.parameters())
    macs = spec.macs(state.params, state.inputs, state.outputs)
    learned = any(True for _ in module.parameters())
    assert macs == (math.prod(shapes[0]) if learned else 0)


def test_pools_have_no_parameters():
    for spec in all_specs():
        if spec.family != "pool":
            continue
        case = next(c for c in POOL_CASES if c[0] == spec.type)
        state = infer_single(*case)
        module = written_module(*case)
        assert sum(p.numel() for p in module.parameters()) == 0
        assert spec.count_params(state.params) == 0


def test_every_pool_and_norm_type_is_checked_against_torch():
    tested = {case[0] for case in POOL_CASES + NORM_CASES}
    registered = {s.type for s in all_specs() if s.family in ("pool", "norm")}
    assert registered == tested
    assert len(registered) == 25


def test_max_pool_names_its_indices_output():
    assert get_spec("nn.MaxPool2d").outputs == ("output", "indices")
    assert get_spec("nn.AdaptiveMaxPool1d").outputs == ("output", "indices")
    assert len(infer_single("nn.MaxPool2d", {"kernel_size": 2}, [(1, 1, 4, 4)]).outputs) == 1


def test_symbolic_sizes_flow_through_pools_and_norms():
    n, h = Sym.named("N"), Sym.named("H")
    pool = infer_single("nn.MaxPool2d", {"kernel_size": 2}, [("N", 3, "H", 8)])
    assert pool.outputs[0][:2] == (n, 3) and pool.outputs[0][3] == 4
    adaptive = infer_single("nn.AdaptiveAvgPool2d", {"output_size": [None, 1]},
                            [("N", 3, "H", "W")])
    assert adaptive.outputs == [(n, 3, h, 1)]
    batch = infer_single("nn.BatchNorm2d", {}, [("N", 8, "H", "W")])
    assert batch.outputs == [(n, 8, h, Sym.named("W"))]
    assert batch.params["num_features"] == 8 and "num_features" in batch.inferred
    layer = infer_single("nn.LayerNorm", {"normalized_shape": [16]}, [("N", "L", 16)])
    assert not layer.diagnostics


# -- diagnostics ------------------------------------------------------------------------------
def test_max_pool2d_on_flat_input_reports_the_rank():
    error = single_error("nn.MaxPool2d", {"kernel_size": 2}, [("N", 784)])
    assert error.code == "rank-mismatch" and error.port == 0
    assert "(N, 784)" in error.message
    assert "(N, C, H, W)" in error.message and "unbatched (C, H, W)" in error.message


def test_pool_padding_above_half_the_kernel_offers_the_largest_allowed():
    error = single_error("nn.MaxPool2d", {"kernel_size": 3, "padding": 2}, [(1, 1, 10, 10)])
    assert error.code == "bad-param" and error.port is None
    assert "padding=2" in error.message and "kernel_size=3" in error.message
    assert error.fix.args == {"param": "padding", "value": 1}
    # torch halves the kernel itself, not the dilated window.
    assert single_error("nn.MaxPool1d", {"kernel_size": 3, "padding": 2, "dilation": 2},
                  [(1, 1, 20)]).code == "bad-param"
    assert single_error("nn.AvgPool2d", {"kernel_size": [4, 3], "padding": [2, 2]},
                  [(1, 1, 9, 9)]).fix.args["value"] == [2, 1]


def test_pool_on_too_small_input_says_so():
    error = single_error("nn.MaxPool2d", {"kernel_size": 3}, [(1, 1, 2, 2)])
    assert error.code == "too-small" and "(1, 1, 2, 2)" in error.message
    # avg_pool3d wants a whole kernel inside the input even when padding would do.
    error = single_error("nn.AvgPool3d", {"kernel_size": 3, "padding": 1}, [(1, 1, 2, 5, 5)])
    assert error.code == "too-small" and "kernel_size=3" in error.message


def test_adaptive_output_size_param_checks():
    assert single_error("nn.AdaptiveAvgPool2d", {"output_size": [None, None]},
                  [(1, 1, 4, 4)]).code == "bad-param"
    assert single_error("nn.AdaptiveAvgPool2d", {"output_size": [None, 2, 3]},
                  [(1, 1, 4, 4)]).code == "bad-param"
    assert single_error("nn.AdaptiveAvgPool1d", {"output_size": [None]},
                  [(1, 1, 4)]).code == "bad-param"


def test_group_norm_channels_not_divisible_by_groups():
    error = single_error("nn.GroupNorm", {"num_groups": 3}, [(2, 8, 4, 4)])
    assert error.port == 0 and "num_groups=3" in error.message and "(2, 8, 4, 4)" in error.message
    assert error.fix.args == {"param": "num_groups", "value": 2}
    error = single_error("nn.GroupNorm", {"num_groups": 4, "num_channels": 6, "affine": False},
                   [(2, 8, 4, 4)])
    assert error.code == "bad-param" and "num_channels=6" in error.message


def test_group_norm_channel_count_must_match_its_weights():
    error = single_error("nn.GroupNorm", {"num_groups": 2, "num_channels": 6}, [(2, 8, 4, 4)])
    assert error.fix.args == {"param": "num_channels", "value": 8}


def test_batch_norm_channel_mismatch_offers_the_input_channels():
    error = single_error("nn.BatchNorm2d", {"num_features": 16}, [(2, 8, 4, 4)])
    assert "expected 16 channels at dimension 1" in error.message
    assert "(2, 8, 4, 4)" in error.message
    assert error.fix.args == {"param": "num_features", "value": 8}


def test_batch_norm_wrong_rank_is_a_rank_error_not_a_missing_param():
    error = single_error("nn.BatchNorm2d", {}, [("N", 64)])
    assert error.code == "rank-mismatch" and "(N, 64)" in error.message
    assert single_error("nn.BatchNorm1d", {}, [(64,)]).code == "rank-mismatch"
    assert single_error("nn.GroupNorm", {"num_groups": 1}, [(64,)]).code == "rank-mismatch"


def test_symbolic_channels_need_a_set_num_features():
    assert single_error("nn.BatchNorm2d", {}, [("N", "C", 4, 4)]).code == "symbolic-size"
    state = infer_single("nn.BatchNorm2d", {"num_features": 3}, [("N", "C", 4, 4)])
    assert not state.diagnostics


def test_instance_norm_of_one_spatial_element_is_refused():
    assert single_error("nn.InstanceNorm2d", {}, [(2, 3, 1, 1)]).code == "too-small"
    assert single_error("nn.InstanceNorm1d", {}, [(3, 1)]).code == "too-small"


def test_layer_norm_mismatch_offers_the_trailing_dimensions():
    error = single_error("nn.LayerNorm", {"normalized_shape": [3, 4]}, [(2, 4, 4)])
    assert "last 2 dimensions to be (3, 4)" in error.message and "(2, 4, 4)" in error.message
    assert error.fix.args == {"param": "normalized_shape", "value": [4, 4]}
    assert error.fix.label == "set normalized_shape=[4, 4]"
    error = single_error("nn.RMSNorm", {"normalized_shape": [2, 3, 4]}, [(3, 4)])
    assert error.code == "rank-mismatch" and error.fix.args["value"] == [4]


def test_layer_norm_shape_param_checks():
    assert single_error("nn.LayerNorm", {"normalized_shape": []}, [(2, 4)]).code == "bad-param"
    assert single_error("nn.LayerNorm", {"normalized_shape": [0]}, [(2, 4)]).code == "bad-param"


def test_local_response_norm_needs_channels_and_space():
    assert single_error("nn.LocalResponseNorm", {"size": 2}, [(4, 6)]).code == "rank-mismatch"
