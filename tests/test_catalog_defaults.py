"""Every catalog layer built from a torch class takes torch's parameters, by torch's names,
with torch's defaults, as ``inspect.signature`` of the torch class gives them.

What a project leaves out must mean what torch means by it: inference fills it from the
catalog's default, and generated code leaves out every value equal to that default, so a
catalog default that differs from torch's makes the generated module differ from the diagram.
The differences kept on purpose are listed below, each with its reason.
"""

from __future__ import annotations

import inspect

import pytest
import torch
from torch import nn

from graph_schema.catalog import LayerSpec, all_specs

EMPTY = inspect.Parameter.empty
_NOT_HYPERPARAMETERS = {"self", "device", "dtype"}

# Catalog defaults that differ from torch's on purpose.
DIFFERENT_DEFAULTS = {
    ("nn.Unflatten", "dim"): "torch requires dim; the catalog offers 1, the dimension after "
                             "the batch, and generated code always writes it (positionally, "
                             "before unflattened_size)",
}

_PADDING_MODE = "torch takes only padding_mode='zeros' for transposed convolutions"
_NORM_BIAS = ("keyword-only, new in torch 2.13 (bias=False drops the shift); not offered, so "
              "generated code runs on older torch, and the default True is what the "
              "parameter count assumes")
_STACK = ("the stack takes torch's defaults: no final norm, and (encoder) nested tensors as "
          "torch decides")

# torch constructor parameters the catalog does not offer: a module built without them takes
# torch's default, and the catalog's shape rule and parameter count assume that default.
NOT_OFFERED = {
    "nn.Hardtanh": ({"min_value", "max_value"}, "deprecated aliases of min_val and max_val"),
    "nn.Embedding": ({"_weight", "_freeze"}, "private: Embedding.from_pretrained's"),
    "nn.Transformer": ({"custom_encoder", "custom_decoder"}, "modules, not hyperparameters"),
    "nn.TransformerEncoder": ({"norm", "enable_nested_tensor", "mask_check"}, _STACK),
    "nn.TransformerDecoder": ({"norm"}, _STACK),
    **{f"nn.ConvTranspose{d}d": ({"padding_mode"}, _PADDING_MODE) for d in (1, 2, 3)},
    **{f"nn.{kind}{d}d": ({"bias"}, _NORM_BIAS)
       for kind in ("BatchNorm", "InstanceNorm") for d in (1, 2, 3)},
    "nn.GroupNorm": ({"bias"}, _NORM_BIAS),
}

TORCH_SPECS = [spec for spec in all_specs() if spec.torch_class]


def torch_signature(spec: LayerSpec) -> dict[str, object]:
    """{name: default (EMPTY when torch requires it)} of the constructor the catalog calls."""
    cls = getattr(nn, spec.torch_class)
    if spec.construct == "transformer_stack":
        layer = _parameters(getattr(nn, spec.stack_layer).__init__)
        stack = _parameters(cls.__init__)  # (encoder_layer, num_layers, norm=None, ...)
        built = next(iter(stack))  # the layer the catalog builds from its parameters
        return {**layer, **{k: v for k, v in stack.items() if k != built}}
    if spec.torch_class in ("RNN", "LSTM", "GRU"):
        # (*args, **kwargs): the documented names are RNNBase's, the mode is the class's;
        # RNN reads nonlinearity from its kwargs, and only LSTM takes proj_size.
        found = _parameters(nn.RNNBase.__init__)
        del found["mode"]
        if spec.torch_class != "LSTM":
            del found["proj_size"]
        if spec.torch_class == "RNN":
            with torch.device("meta"):
                found["nonlinearity"] = nn.RNN(1, 1).nonlinearity
        return found
    return _parameters(cls.__init__)


def _parameters(function) -> dict[str, object]:
    return {name: p.default for name, p in inspect.signature(function).parameters.items()
            if name not in _NOT_HYPERPARAMETERS
            and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}


def _forward_defaults(spec: LayerSpec) -> dict[str, object]:
    return _parameters(getattr(nn, spec.torch_class).forward)


def _same(catalog, torch_default) -> bool:
    """Equal, and a flag stays a flag (True == 1 in Python, not in a signature)."""
    if callable(torch_default):  # activation=F.relu: the catalog stores its name
        return catalog == torch_default.__name__
    return catalog == torch_default and \
        isinstance(catalog, bool) == isinstance(torch_default, bool)


@pytest.mark.parametrize("spec", TORCH_SPECS, ids=lambda s: s.type)
def test_parameters_and_defaults_are_torchs(spec):
    assert spec.type == f"nn.{spec.torch_class}"
    assert spec.description
    assert set(spec.summary_params) <= set(spec.param_map)
    signature = torch_signature(spec)
    forward = _forward_defaults(spec) if spec.forward_params else {}
    for param in spec.params:
        where = f"{spec.type}.{param.name}"
        if param.name in spec.forward_params:
            assert param.name in forward, f"{where}: torch's forward() has no such argument"
            torch_default = forward[param.name]
        else:
            assert param.constructor, f"{where}: a parameter torch never sees"
            assert param.name in signature, f"{where}: torch has no such parameter"
            torch_default = signature[param.name]
        if (spec.type, param.name) in DIFFERENT_DEFAULTS:
            assert not _same(param.default, torch_default), f"{where} is torch's now"
        elif torch_default is EMPTY:
            assert param.required or param.inferable, \
                f"{where}: torch requires it, the catalog defaults to {param.default!r}"
        else:
            assert _same(param.default, torch_default), \
                f"{where}: catalog default {param.default!r}, torch's {torch_default!r}"
    offered, _reason = NOT_OFFERED.get(spec.type, (set(), ""))
    missing = set(signature) - set(spec.param_map)
    assert missing == offered, f"{spec.type}: torch parameters the catalog lacks: {missing}"
    for name in offered:
        assert signature[name] is not EMPTY, f"{spec.type}: torch requires {name}"


def test_the_lists_of_differences_name_real_types():
    types = {spec.type for spec in TORCH_SPECS}
    assert {t for t, _ in DIFFERENT_DEFAULTS} <= types
    assert set(NOT_OFFERED) <= types
    assert len(TORCH_SPECS) >= 100
