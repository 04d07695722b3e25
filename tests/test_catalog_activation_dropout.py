"""The activation and dropout layers' shape rules agree with torch."""

import math

import pytest

from graph_schema.catalog import all_specs, get_spec
from tests.catalog_case import check_against_torch, infer_single, single_error, written_module

# torch's deprecation warnings for cases the catalog deliberately accepts, as torch does.
pytestmark = [pytest.mark.filterwarnings("ignore:Implicit dimension choice"),
              pytest.mark.filterwarnings("ignore:dropout2d. Received a 3D input")]

# Activations without required parameters, run at their defaults.
PLAIN_ACTIVATIONS = [
    "ReLU", "ReLU6", "LeakyReLU", "PReLU", "ELU", "SELU", "CELU", "GELU", "SiLU", "Mish",
    "Sigmoid", "Tanh", "Hardswish", "Hardsigmoid", "Hardtanh", "Softplus", "Softsign",
    "Softmax", "LogSoftmax", "Softmin", "Tanhshrink", "Softshrink", "Hardshrink", "LogSigmoid",
    "RReLU",
]

ACTIVATION_CASES = [
    ("nn.LeakyReLU", {"negative_slope": 0.2, "inplace": True}, [(2, 3)]),
    ("nn.PReLU", {"num_parameters": 3, "init": 0.1}, [(2, 3, 4, 5)]),
    ("nn.PReLU", {"num_parameters": 3}, [(4, 3)]),
    ("nn.ELU", {"alpha": 0.5}, [(7,)]),
    ("nn.CELU", {"alpha": 2.0, "inplace": True}, [(2, 3)]),
    ("nn.GELU", {"approximate": "tanh"}, [(2, 3, 4)]),
    ("nn.Hardtanh", {"min_val": -2.0, "max_val": 3.0}, [(2, 3)]),
    ("nn.Softplus", {"beta": 2.0, "threshold": 10.0}, [(2, 3)]),
    ("nn.Softmax", {"dim": 1}, [(2, 3, 4)]),
    ("nn.Softmax", {"dim": -1}, [(2, 3, 4)]),
    ("nn.Softmax", {"dim": 0}, [()]),
    ("nn.Softmax", {}, [(5,)]),
    ("nn.LogSoftmax", {"dim": 2}, [(2, 3, 4)]),
    ("nn.LogSoftmax", {}, [(2, 3, 4, 5)]),
    ("nn.Softmin", {"dim": -2}, [(3, 4)]),
    ("nn.Softmax2d", {}, [(2, 3, 4, 5)]),
    ("nn.Softmax2d", {}, [(3, 4, 5)]),
    ("nn.GLU", {}, [(2, 6)]),
    ("nn.GLU", {"dim": 1}, [(2, 4, 5)]),
    ("nn.GLU", {"dim": 0}, [(8,)]),
    ("nn.Softshrink", {"lambd": 1.5}, [(2, 3)]),
    ("nn.Hardshrink", {"lambd": 0.1}, [(2, 3)]),
    ("nn.Threshold", {"threshold": 0.1, "value": 20.0}, [(2, 3)]),
    ("nn.Threshold", {"threshold": 0.0, "value": -1.0, "inplace": True}, [()]),
    ("nn.RReLU", {"lower": 0.1, "upper": 0.3}, [(2, 3, 4)]),
]

DROPOUT_CASES = [
    ("nn.Dropout", {}, [(2, 3)]),
    ("nn.Dropout", {"p": 0.2, "inplace": True}, [()]),
    ("nn.Dropout", {"p": 1.0}, [(2, 3, 4, 5, 6)]),
    ("nn.Dropout1d", {}, [(2, 3, 8)]),
    ("nn.Dropout1d", {"p": 0.1}, [(3, 8)]),
    ("nn.Dropout2d", {}, [(2, 3, 8, 8)]),
    ("nn.Dropout2d", {"p": 0.0}, [(2, 3, 8)]),
    ("nn.Dropout3d", {}, [(2, 3, 4, 5, 6)]),
    ("nn.Dropout3d", {"inplace": True}, [(3, 4, 5, 6)]),
    ("nn.AlphaDropout", {"p": 0.3}, [(2, 3)]),
    ("nn.AlphaDropout", {}, [(5,)]),
    ("nn.FeatureAlphaDropout", {}, [(2, 3, 4)]),
    ("nn.FeatureAlphaDropout", {"p": 0.2}, [(2, 3)]),
]


@pytest.mark.parametrize("name", PLAIN_ACTIVATIONS)
@pytest.mark.parametrize("shape", [(2, 3, 4), (5,), ()])
def test_plain_activation_matches_torch(name, shape):
    check_against_torch(f"nn.{name}", {}, [shape])


@pytest.mark.parametrize("type_name, params, shapes", ACTIVATION_CASES + DROPOUT_CASES)
def test_shape_rule_matches_torch(type_name, params, shapes):
    check_against_torch(type_name, params, shapes)


@pytest.mark.parametrize("params, shape", [({}, (2, 3)), ({"num_parameters": 4}, (2, 4, 5)),
                                           ({"num_parameters": 16}, (1, 16, 2, 2))])
def test_prelu_count_params_matches_torch(params, shape):
    state = infer_single("nn.PReLU", params, [shape])
    spec = get_spec("nn.PReLU")
    module = written_module("nn.PReLU", params, [shape])
    assert spec.count_params(state.params) == sum(p.numel() for p in module.parameters())
    assert spec.macs(state.params, state.inputs, state.outputs) == math.prod(shape)


def test_parameterless_layers_count_zero():
    for spec in _specs("activation", "dropout"):
        if spec.type == "nn.PReLU":
            continue
        params = {"threshold": 0.0, "value": 0.0} if spec.type == "nn.Threshold" else {}
        state = infer_single(spec.type, params, [(2, 3, 4, 4)])
        module = written_module(spec.type, params, [(2, 3, 4, 4)])
        assert sum(p.numel() for p in module.parameters()) == 0
        assert spec.count_params(state.params) == 0


def test_glu_on_odd_size_explains_the_halving():
    error = single_error("nn.GLU", {}, [(2, 5)])
    assert error.port == 0
    assert "even size at dimension 1" in error.message
    assert "(2, 5)" in error.message


def test_glu_on_scalar_is_refused():
    assert "scalar" in single_error("nn.GLU", {"dim": 0}, [()]).message


def test_prelu_channel_mismatch_offers_the_channel_count():
    error = single_error("nn.PReLU", {"num_parameters": 3}, [(2, 4, 5)])
    assert "expected 3 channels at dimension 1" in error.message
    assert "(2, 4, 5)" in error.message
    assert error.fix.args == {"param": "num_parameters", "value": 4}


def test_prelu_per_channel_needs_a_channel_axis():
    assert "channels" in single_error("nn.PReLU", {"num_parameters": 3}, [(3,)]).message


def test_softmax_dim_out_of_range():
    error = single_error("nn.Softmax", {"dim": 3}, [(2, 3, 4)])
    assert error.code == "bad-dim"
    assert "dimension 3 is out of range for a 3-D input" in error.message


@pytest.mark.parametrize("type_name, shape, wanted", [
    ("nn.Softmax2d", (2, 3), "3-D or 4-D"),
    ("nn.Dropout1d", (2, 3, 4, 5), "2-D or 3-D"),
    ("nn.Dropout2d", (2, 3, 4, 5, 6), "3-D or 4-D"),
    ("nn.Dropout3d", (2, 3, 4), "4-D or 5-D"),
    ("nn.FeatureAlphaDropout", (5,), "at least 2 dimensions"),
])
def test_rank_is_checked(type_name, shape, wanted):
    error = single_error(type_name, {}, [shape])
    assert error.code == "rank-mismatch"
    assert wanted in error.message


@pytest.mark.parametrize("type_name, params, text", [
    ("nn.Hardtanh", {"min_val": 1.0, "max_val": 1.0}, "max_val=1 must be greater"),
    ("nn.RReLU", {"lower": 0.5, "upper": 0.1}, "lower=0.5 must not exceed upper=0.1"),
    ("nn.CELU", {"alpha": 0.0}, "alpha cannot be 0"),
    ("nn.Dropout", {"p": 1.5}, "p must be at most 1"),
    ("nn.Softshrink", {"lambd": -0.5}, "lambd must be at least 0"),
])
def test_bad_parameters_are_reported(type_name, params, text):
    error = single_error(type_name, params, [(2, 3)])
    assert error.code == "bad-param"
    assert text in error.message


def test_threshold_needs_its_parameters():
    error = single_error("nn.Threshold", {"value": 0.0}, [(2, 3)])
    assert error.code == "missing-param"
    assert "threshold" in error.message


def _specs(*families):
    return [spec for spec in all_specs() if spec.family in families]
