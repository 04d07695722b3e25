"""The padding and resampling layers' shape rules agree with torch, and refuse what it refuses."""

from __future__ import annotations

import pytest

from graph_schema.catalog import all_specs
from tests.catalog_case import check_against_torch, infer_single, torch_outputs

_MODES = ("Zero", "Constant", "Reflection", "Replication", "Circular")


def _pad_cases(mode: str) -> list:
    """Every padding layer batched and unbatched, one number and per side, cropping too."""
    fill = {"value": 1.5} if mode == "Constant" else {}
    return [
        (f"nn.{mode}Pad1d", {"padding": 2, **fill}, [(2, 3, 5)]),
        (f"nn.{mode}Pad1d", {"padding": [1, 3], **fill}, [(3, 5)]),
        (f"nn.{mode}Pad1d", {"padding": [-1, 2], **fill}, [(3, 5)]),
        (f"nn.{mode}Pad2d", {"padding": 1, **fill}, [(2, 3, 5, 6)]),
        (f"nn.{mode}Pad2d", {"padding": [1, 0, 2, 3], **fill}, [(3, 5, 6)]),
        (f"nn.{mode}Pad2d", {"padding": [0, -1, 2, -2], **fill}, [(1, 3, 5, 6)]),
        (f"nn.{mode}Pad3d", {"padding": 1, **fill}, [(2, 3, 4, 5, 6)]),
        (f"nn.{mode}Pad3d", {"padding": [1, 0, 2, 1, 0, 3], **fill}, [(3, 4, 5, 6)]),
    ]


PADDING_CASES = [case for mode in _MODES for case in _pad_cases(mode)] + [
    # Zero and constant pads take any rank with enough dimensions.
    ("nn.ZeroPad1d", {"padding": 2}, [(5,)]),
    ("nn.ConstantPad2d", {"padding": 1, "value": 0.0}, [(2, 3, 4, 5, 6)]),
    # The limits of each mode: reflection below the size, circular at most the size.
    ("nn.ReflectionPad1d", {"padding": [3, -1]}, [(2, 3, 4)]),
    ("nn.CircularPad1d", {"padding": [4, 0]}, [(2, 3, 4)]),
]

RESAMPLE_CASES = [
    ("nn.Upsample", {"scale_factor": 2}, [(2, 3, 5)]),
    ("nn.Upsample", {"size": [4, 6], "mode": "bilinear", "align_corners": True},
     [(2, 3, 5, 5)]),
    ("nn.Upsample", {"scale_factor": 1.5, "mode": "trilinear"}, [(1, 2, 3, 5, 7)]),
    ("nn.Upsample", {"scale_factor": [0.5, 2.5], "mode": "bicubic"}, [(1, 2, 5, 7)]),
    ("nn.Upsample", {"scale_factor": 0.7, "mode": "area"}, [(1, 2, 9)]),
    ("nn.Upsample", {"scale_factor": 1.3, "recompute_scale_factor": True}, [(1, 2, 9, 11)]),
    ("nn.Upsample", {"scale_factor": 1.3, "mode": "nearest-exact"}, [(1, 2, 9, 11)]),
    ("nn.Upsample", {"size": [3]}, [(2, 4, 7)]),
    ("nn.UpsamplingNearest2d", {"scale_factor": 2}, [(2, 3, 4, 5)]),
    ("nn.UpsamplingNearest2d", {"size": [3, 7]}, [(3, 4, 5, 2)]),
    ("nn.UpsamplingNearest2d", {"size": 3}, [(3, 4, 5)]),  # torch allows 3-D here
    ("nn.UpsamplingNearest2d", {"scale_factor": 1.5}, [(1, 1, 3, 4, 5)]),
    ("nn.UpsamplingBilinear2d", {"scale_factor": 2}, [(2, 3, 4, 5)]),
    ("nn.UpsamplingBilinear2d", {"size": [7, 3]}, [(1, 2, 4, 5)]),
    ("nn.UpsamplingBilinear2d", {"scale_factor": 0.6}, [(1, 2, 4, 5)]),
    ("nn.PixelShuffle", {"upscale_factor": 2}, [(2, 8, 3, 4)]),
    ("nn.PixelShuffle", {"upscale_factor": 3}, [(9, 2, 2)]),
    ("nn.PixelShuffle", {"upscale_factor": 2}, [(2, 3, 8, 3, 4)]),
    ("nn.PixelUnshuffle", {"downscale_factor": 2}, [(2, 3, 4, 6)]),
    ("nn.PixelUnshuffle", {"downscale_factor": 3}, [(1, 6, 9)]),
    ("nn.ChannelShuffle", {"groups": 2}, [(2, 4, 3, 3)]),
    ("nn.ChannelShuffle", {"groups": 3}, [(1, 6, 5)]),
    ("nn.ChannelShuffle", {"groups": 3}, [(1, 6, 5, 2, 2)]),
]

CASES = PADDING_CASES + RESAMPLE_CASES


def _case_id(case):
    type_name, params, shapes, *_ = case
    return f"{type_name[3:]}-{params}-{shapes}"


@pytest.mark.parametrize("type_name, params, shapes", CASES, ids=[_case_id(c) for c in CASES])
def test_shape_rule_matches_torch(type_name, params, shapes):
    check_against_torch(type_name, params, shapes)


def test_every_padding_and_resampling_type_is_checked_against_torch():
    tested = {case[0] for case in CASES}
    assert {s.type for s in all_specs() if s.family in ("padding", "resample")} == tested


# (type, params, input shape, words the error message must contain)
REFUSED_CASES = [
    ("nn.ReflectionPad1d", {"padding": 2}, (5,), ["2-D or 3-D input", "received (5,)"]),
    ("nn.ReplicationPad2d", {"padding": 2}, (2, 3, 4, 5, 6), ["3-D or 4-D input"]),
    ("nn.ZeroPad2d", {"padding": 1}, (5,), ["at least 2 dimensions", "received (5,)"]),
    ("nn.ReflectionPad1d", {"padding": [4, 0]}, (2, 3, 4), ["smaller than the size 4"]),
    ("nn.CircularPad1d", {"padding": [5, 0]}, (2, 3, 4), ["at most the size"]),
    ("nn.ConstantPad1d", {"padding": [-3, -3], "value": 0.0}, (2, 3, 5),
     ["crops more than the size 5"]),
    ("nn.ReplicationPad1d", {"padding": [-2, -2]}, (2, 3, 4), ["leaves dimension 2 empty"]),
    ("nn.Upsample", {"size": 4, "mode": "bilinear"}, (2, 3, 5), ["4-D input", "bilinear"]),
    ("nn.Upsample", {"size": [3, 3]}, (2, 4, 7), ["2 spatial dimensions", "size=[3, 3]"]),
    ("nn.Upsample", {"scale_factor": 0.1}, (1, 2, 5), ["too small"]),
    ("nn.UpsamplingBilinear2d", {"size": 3}, (2, 4, 5), ["4-D input"]),
    ("nn.PixelShuffle", {"upscale_factor": 2}, (2, 6, 3, 4),
     ["divisible by upscale_factor**2=4", "received (2, 6, 3, 4)"]),
    ("nn.PixelUnshuffle", {"downscale_factor": 3}, (1, 6, 8), ["dimension 2", "divisible"]),
    ("nn.ChannelShuffle", {"groups": 4}, (1, 6, 5), ["divisible by groups=4"]),
    ("nn.ChannelShuffle", {"groups": 2}, (6, 4), ["at least 3 dimensions"]),
]


@pytest.mark.parametrize("type_name, params, shape, words", REFUSED_CASES,
                         ids=[_case_id(c) for c in REFUSED_CASES])
def test_refuses_what_torch_refuses(type_name, params, shape, words):
    state = infer_single(type_name, params, [shape])
    errors = [d for d in state.diagnostics if d.is_error]
    assert len(errors) == 1 and errors[0].port in (0, None), [d.message for d in errors]
    for word in words:
        assert word in errors[0].message, (word, errors[0].message)
    with pytest.raises((RuntimeError, ValueError, NotImplementedError)):
        torch_outputs(type_name, params, [shape], device="cpu")


@pytest.mark.parametrize("type_name, params, shape", [
    ("nn.ZeroPad1d", {"padding": [-3, -2]}, (2, 3, 5)),
    ("nn.ConstantPad2d", {"padding": [0, 0, -1, -1], "value": 1.0}, (3, 2, 4)),
    ("nn.ReplicationPad2d", {"padding": [-2, -2, 1, 1]}, (2, 3, 4, 4)),
])
def test_a_crop_to_nothing_is_refused_though_torch_allows_it(type_name, params, shape):
    """The empty tensor would only fail later, in a layer far from this crop."""
    state = infer_single(type_name, params, [shape])
    (error,) = state.diagnostics
    assert error.code == "empty" and "empty (size 0)" in error.message
    (output,) = torch_outputs(type_name, params, [shape], device="cpu")
    assert 0 in output
