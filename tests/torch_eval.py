"""Run one catalog layer in real torch on meta tensors, to check the catalog's shape rules.

Tests only: graph_schema itself never imports torch.
"""

from __future__ import annotations

import operator

import torch
from torch import nn

from graph_schema.catalog import LayerSpec
from graph_schema.catalog.params import parse_slice_item

_DTYPES = {"float32": torch.float32, "int64": torch.int64, "bool": torch.bool}
_OPERATORS = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
              "@": operator.matmul}


def torch_value(value):
    """Catalog values are tuples and strings already; torch wants the same, lists as tuples."""
    if isinstance(value, list):
        return tuple(value)
    return value


def op_param(spec: LayerSpec, name: str, value):
    """A parameter as torch takes it: a dtype's name as the dtype (``torch.bool``)."""
    if spec.param_map[name].kind == "dtype" and isinstance(value, str):
        return getattr(torch, value)
    return torch_value(value)


def build_module(spec: LayerSpec, params: dict) -> nn.Module:
    kwargs = {
        p.name: torch_value(params[p.name])
        for p in spec.params
        if p.constructor and p.name not in spec.forward_params
    }
    with torch.device("meta"):
        if spec.construct == "transformer_stack":
            num_layers = kwargs.pop("num_layers")
            layer = getattr(nn, spec.stack_layer)(**kwargs)
            return getattr(nn, spec.torch_class)(layer, num_layers=num_layers)
        return getattr(nn, spec.torch_class)(**kwargs)


def forward_args(spec: LayerSpec, tensors: list) -> list:
    if spec.forward_inputs == "hx_tuple" and len(tensors) > 1:
        return [tensors[0], tuple(tensors[1:]) if len(tensors) > 2 else tensors[1]]
    if spec.forward_inputs == "self_attention":
        query = tensors[0]
        key = tensors[1] if len(tensors) > 1 else query
        value = tensors[2] if len(tensors) > 2 else key
        return [query, key, value]
    return tensors


def flatten_outputs(result) -> list[torch.Tensor | None]:
    if isinstance(result, (tuple, list)):
        flat = []
        for item in result:
            flat.extend(flatten_outputs(item))
        return flat
    return [result]


def run_spec(spec: LayerSpec, params: dict, input_shapes, dtypes=None):
    """Output shapes torch produces for this layer, as tuples of ints (None for a None output)."""
    dtypes = dtypes or ["float32"] * len(input_shapes)
    tensors = [
        torch.empty(shape, dtype=_DTYPES[dtype], device="meta")
        for shape, dtype in zip(input_shapes, dtypes)
    ]
    if spec.torch_class:
        module = build_module(spec, params)
        forward_kwargs = {name: torch_value(params[name]) for name in spec.forward_params}
        result = module(*forward_args(spec, tensors), **forward_kwargs)
    else:
        result = call_op(spec, params, tensors)
    return output_shapes(result)


def output_shapes(result) -> list:
    """The shapes of what a module or op returned, flattened; trailing Nones dropped."""
    shapes = [None if t is None else tuple(t.shape) for t in flatten_outputs(result)]
    while shapes and shapes[-1] is None:  # e.g. attention weights with need_weights=False
        shapes.pop()
    return shapes


def call_op(spec: LayerSpec, params: dict, tensors: list):
    call = spec.call
    assert call is not None, f"{spec.type} has neither torch_class nor call"
    if call.kind == "operator":
        return _OPERATORS[call.name](*tensors)
    if call.kind == "getitem":
        index = tuple(parse_slice_item(item) for item in params["index"])
        return tensors[0][index]
    if call.kind == "index":
        return tensors[0][tuple(tensors[1:])]
    args, named = op_arguments(spec, tensors, [torch_value(params[n]) for n in call.leading])
    positional = [op_param(spec, name, params[name]) for name in call.positional]
    star = list(params[call.star]) if call.star else []
    kwargs = {**named, **{name: op_param(spec, name, params[name]) for name in call.keyword}}
    if call.kind == "method":
        target, *rest = args
        return getattr(target, call.name)(*rest, *positional, *star, **kwargs)
    function = _resolve(call.name)
    return function(*args, *positional, *star, **kwargs)


def op_arguments(spec: LayerSpec, tensors: list, leading: list) -> tuple[list, dict]:
    """An op call's leading arguments and tensors as its OpCall passes them, and the keyword
    arguments that come from its inputs (``index=``, ``attn_mask=``, ``device=``)."""
    call = spec.call
    named = {spec.port_spec(port).name: tensor for port, tensor in enumerate(tensors)
             if spec.port_spec(port).name in call.named_inputs}
    passed = [t for port, t in enumerate(tensors) if spec.port_spec(port).name not in named]
    if call.inputs == "like":
        return list(leading), {"device": tensors[0].device}
    args = [list(passed)] if call.inputs == "list" else \
        passed[:1] if call.inputs == "first" else passed
    return [*leading, *args], named


def _resolve(dotted: str):
    obj = {"torch": torch, "F": torch.nn.functional}[dotted.split(".")[0]]
    for part in dotted.split(".")[1:]:
        obj = getattr(obj, part)
    return obj
