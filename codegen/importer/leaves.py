"""torch.nn layers that the catalog knows, read back into catalog params.

Each parameter is read from the live module (``conv.stride``, ``linear.bias is not None``).
The result is then checked the only way that cannot be fooled: the catalog's own recipe
builds the layer again (on the meta device, for speed) and both must agree in every weight's
name and shape and in every plain attribute of every submodule (eps, momentum, inplace, the
activation function...). A layer that does not round-trip is not drawn as that type.
"""

from __future__ import annotations

import json
import types
from functools import cache
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from graph_schema.catalog import LayerSpec, ParamError, all_specs

_SIMPLE = (bool, int, float, str, type(None))
_ACTIVATIONS = {F.relu: "relu", F.gelu: "gelu"}


class LeafMismatch(Exception):
    """The catalog cannot rebuild this layer as it is."""


@cache
def _by_class() -> dict[type, LayerSpec]:
    table = {}
    for spec in all_specs():
        if spec.torch_class and hasattr(nn, spec.torch_class):
            table[getattr(nn, spec.torch_class)] = spec
    return table


def catalog_spec(module: nn.Module) -> LayerSpec | None:
    """The spec for a torch.nn layer of exactly a catalog class (subclasses are user code)."""
    return _by_class().get(type(module))


def is_torch_module(module: nn.Module) -> bool:
    return type(module).__module__.startswith("torch.")


def is_user_class(module: nn.Module) -> bool:
    """Written by the model's author (not torch's): traced, or kept as its source."""
    return not is_torch_module(module)


# -- reading params ----------------------------------------------------------------------
def _transformer_layer(layer: nn.Module) -> dict[str, Any]:
    activation = getattr(layer, "activation", None)
    if activation not in _ACTIVATIONS:
        raise LeafMismatch(f"its activation {activation!r} is neither relu nor gelu")
    return {
        "d_model": layer.self_attn.embed_dim,
        "nhead": layer.self_attn.num_heads,
        "dim_feedforward": layer.linear1.out_features,
        "dropout": layer.dropout.p,
        "activation": _ACTIVATIONS[activation],
        "layer_norm_eps": layer.norm1.eps,
        "batch_first": layer.self_attn.batch_first,
        "norm_first": layer.norm_first,
        "bias": layer.linear1.bias is not None,
    }


def _transformer_stack(stack: nn.Module) -> dict[str, Any]:
    if not len(stack.layers):
        raise LeafMismatch("it has no layers")
    return {**_transformer_layer(stack.layers[0]), "num_layers": stack.num_layers}


def _attention(module: nn.MultiheadAttention) -> dict[str, Any]:
    return {"embed_dim": module.embed_dim, "num_heads": module.num_heads,
            "dropout": module.dropout, "bias": module.in_proj_bias is not None,
            "add_bias_kv": module.bias_k is not None, "add_zero_attn": module.add_zero_attn,
            "kdim": module.kdim, "vdim": module.vdim, "batch_first": module.batch_first}


_READERS = {
    "TransformerEncoderLayer": _transformer_layer,
    "TransformerDecoderLayer": _transformer_layer,
    "TransformerEncoder": _transformer_stack,
    "TransformerDecoder": _transformer_stack,
    "MultiheadAttention": _attention,
}


def _plain(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return value.item()
    return value


_READ: dict[tuple, dict[str, Any]] = {}  # layers alike in every respect read alike


def read_params(module: nn.Module, spec: LayerSpec) -> dict[str, Any]:
    """The catalog params of ``module`` as JSON values, checked by rebuilding the layer."""
    key = (spec.type, _hashable(_signature(module)))
    if key not in _READ:
        _READ[key] = _read_params(module, spec)
    return json.loads(json.dumps(_READ[key]))  # a copy the caller may change


def _hashable(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_hashable(v) for v in value)
    return value


def _read_params(module: nn.Module, spec: LayerSpec) -> dict[str, Any]:
    reader = _READERS.get(spec.torch_class)
    raw = reader(module) if reader else {}
    params: dict[str, Any] = {}
    for param in spec.params:
        if param.name in spec.forward_params or not param.constructor:
            continue
        if param.name in raw:
            value = raw[param.name]
        elif hasattr(module, param.name):
            value = getattr(module, param.name)
            if param.name == "bias" and not isinstance(value, bool):
                value = value is not None
        else:
            continue  # left at the default; the rebuild check says if that was wrong
        value = _plain(value)
        if param.name == "stride" and param.default is None and \
                value == _plain(getattr(module, "kernel_size", None)):
            continue  # pools store stride=kernel_size for the default None
        if param.one_or_each and isinstance(value, list) and value and \
                all(v == value[0] for v in value):
            value = value[0]  # stride (2, 2) reads better as 2
        try:
            normalised = param.check_value(value)
        except ParamError as err:
            raise LeafMismatch(str(err)) from None
        if normalised != spec.defaults.get(param.name):
            params[param.name] = value
    _check_rebuild(module, spec, params)
    return params


# -- the rebuild check -------------------------------------------------------------------
def _torch_value(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def build(spec: LayerSpec, params: dict[str, Any]) -> nn.Module:
    """The layer as generated code builds it (codegen.expressions.module_constructor)."""
    values = dict(spec.defaults)
    values.update({k: spec.param_map[k].check_value(v) for k, v in params.items()})
    kwargs = {p.name: _torch_value(values[p.name]) for p in spec.params
              if p.constructor and p.name not in spec.forward_params}
    with torch.device("meta"):
        if spec.construct == "transformer_stack":
            num_layers = kwargs.pop("num_layers")
            layer = getattr(nn, spec.stack_layer)(**kwargs)
            return getattr(nn, spec.torch_class)(layer, num_layers=num_layers)
        return getattr(nn, spec.torch_class)(**kwargs)


# Settings of a layer that change nothing a catalog node can compute. A TransformerEncoder's
# nested-tensor fast path runs only for a src_key_padding_mask, and the catalog's node takes
# src alone (a call with a mask is not drawn as that node): with or without it, the same
# numbers come out.
_NO_EFFECT = {nn.TransformerEncoder: {"enable_nested_tensor", "use_nested_tensor", "mask_check"}}


def _attributes(module: nn.Module) -> dict[str, Any]:
    found = {}
    ignored = _NO_EFFECT.get(type(module), ())
    for key, value in vars(module).items():
        if key.startswith("_") or key == "training" or key in ignored:
            continue
        if isinstance(value, tuple) and value and all(v == value[0] for v in value):
            value = value[0]  # MaxPool2d(3) and MaxPool2d((3, 3)) pool alike
        if isinstance(value, _SIMPLE) or (isinstance(value, tuple) and
                                          all(isinstance(v, _SIMPLE) for v in value)):
            found[key] = value
        elif isinstance(value, (types.BuiltinFunctionType, types.FunctionType)):
            found[key] = value
    return found


def _signature(module: nn.Module) -> list:
    weights = [(name, tuple(t.shape)) for name, t in module.state_dict(keep_vars=True).items()]
    parts = [(name, type(sub), _attributes(sub)) for name, sub in module.named_modules()]
    return [weights, parts]


_REBUILT: dict[tuple[str, str], Any] = {}  # (type, params) -> signature: layers repeat a lot


def _check_rebuild(module: nn.Module, spec: LayerSpec, params: dict[str, Any]) -> None:
    key = (spec.type, json.dumps(params, sort_keys=True))
    if key not in _REBUILT:
        try:
            _REBUILT[key] = _signature(build(spec, params))
        except (TypeError, ValueError, RuntimeError, ParamError) as err:
            raise LeafMismatch(f"the catalog cannot build it from {params} ({err})") from None
    if _signature(module) != _REBUILT[key]:
        raise LeafMismatch(f"rebuilt from {params or 'the defaults'} it differs from the "
                           f"original (a setting the catalog does not cover)")


def is_sequential(module: nn.Module) -> bool:
    """nn.Sequential, or a subclass that keeps its forward (generated code writes sequential
    blocks as ``class Layer1(nn.Sequential)``): a chain of positional children either way."""
    return isinstance(module, nn.Sequential) and type(module).forward is nn.Sequential.forward
