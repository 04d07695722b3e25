"""Infer one layer on concrete input shapes with the real engine, and compare with torch.

The torch side is built from the parameters *as the test wrote them*: what the test leaves
out, torch fills with its own defaults, never with the catalog's. Only the inferable
parameters (``in_channels``, ``in_features``, ...) are added, read off the input shapes by the
rules below, which the tests write out for themselves (torch's own rule for each layer), so a
wrong catalog default or a wrong inference disagrees with torch instead of agreeing on both
sides.
"""

from __future__ import annotations

import re
import warnings

import pytest
import torch
from torch import nn

from graph_schema.catalog import LayerSpec, get_spec
from graph_schema.catalog.params import parse_slice_item
from graph_schema.document import Edge, Network, Node, Project
from graph_schema.inference import Inference, NodeState
from tests.torch_eval import (
    _OPERATORS,
    _resolve,
    forward_args,
    op_arguments,
    op_param,
    output_shapes,
    torch_value,
)


def infer_single(type_name: str, params: dict, input_shapes: list) -> NodeState:
    nodes = [Node(id=f"in{i}", type="io.Input", name=f"x{i}", params={"shape": list(shape)})
             for i, shape in enumerate(input_shapes)]
    nodes.append(Node(id="layer", type=type_name, name="layer", params=params))
    edges = [Edge(source=f"in{i}", target="layer", target_port=i)
             for i in range(len(input_shapes))]
    network = Network(name="case", nodes=nodes, edges=edges)
    project = Project(networks=[network])
    return Inference(network, project).states["layer"]


def one_layer(type_name: str, params: dict, shapes: list, dtypes=None) -> Project:
    """A project of one network: the inputs, the layer (id "layer"), one output."""
    dtypes = dtypes or ["float32"] * len(shapes)
    nodes = [Node(id=f"in{i}", type="io.Input", name=f"x{i}",
                  params={"shape": list(shape), "dtype": dtype})
             for i, (shape, dtype) in enumerate(zip(shapes, dtypes))]
    nodes += [Node(id="layer", type=type_name, name="layer", params=params),
              Node(id="out", type="io.Output", name="y")]
    edges = [Edge(source=f"in{i}", target="layer", target_port=i) for i in range(len(shapes))]
    edges.append(Edge(source="layer", target="out"))
    return Project(networks=[Network(name="main", nodes=nodes, edges=edges)])


# -- inferable parameters, as torch reads them off the inputs -----------------------------------
def _spatial_dims(type_name: str) -> int:
    """Conv2d -> 2, InstanceNorm3d -> 3."""
    return int(re.search(r"(\d)d$", type_name).group(1))


def _num_features(type_name: str, shapes) -> int:
    # BatchNorm takes (N, C) or (N, C, *): C is dimension 1. InstanceNorm also takes an
    # unbatched (C, *spatial): C is the one before the spatial dimensions.
    if "BatchNorm" in type_name:
        return shapes[0][1]
    return shapes[0][-(_spatial_dims(type_name) + 1)]


INFERRED_FROM_INPUTS = {
    "in_channels": lambda t, shapes: shapes[0][-(_spatial_dims(t) + 1)],
    "in_features": lambda t, shapes: shapes[0][-1],
    "in1_features": lambda t, shapes: shapes[0][-1],
    "in2_features": lambda t, shapes: shapes[1][-1],
    "num_features": _num_features,
    "num_channels": lambda t, shapes: shapes[0][1],
    "input_size": lambda t, shapes: shapes[0][-1],
    "embed_dim": lambda t, shapes: shapes[0][-1],  # the query's
    "d_model": lambda t, shapes: shapes[0][-1],  # src's (and tgt's)
}


def inferred_by_test(spec: LayerSpec, params: dict, input_shapes: list) -> dict:
    """The inferable parameters the test did not write, read off the inputs as torch would."""
    found = {}
    for param in spec.params:
        if param.inferable and param.name not in params:
            found[param.name] = INFERRED_FROM_INPUTS[param.name](spec.type, input_shapes)
    return found


def torch_kwargs(spec: LayerSpec, params: dict, input_shapes: list) -> dict:
    """Constructor arguments: the written parameters, plus the inferable ones the test reads
    off the inputs; nothing from the catalog's defaults."""
    written = {**params, **inferred_by_test(spec, params, input_shapes)}
    return {name: torch_value(value) for name, value in written.items()
            if name in spec.param_map and spec.param_map[name].constructor
            and name not in spec.forward_params}


def written_module(type_name: str, params: dict, input_shapes: list,
                   device: str = "meta") -> nn.Module:
    """The torch module for the layer as written (weights on ``device``, uninitialised)."""
    spec = get_spec(type_name)
    kwargs = torch_kwargs(spec, params, input_shapes)
    with torch.device("meta"):
        if spec.construct == "transformer_stack":
            num_layers = kwargs.pop("num_layers")
            layer = getattr(nn, spec.stack_layer)(**kwargs)
            module = getattr(nn, spec.torch_class)(layer, num_layers=num_layers)
        else:
            module = getattr(nn, spec.torch_class)(**kwargs)
    return module if device == "meta" else module.to_empty(device=device)


def _written_op(spec: LayerSpec, params: dict, tensors: list):
    """Call a tensor op with the written parameters only (torch's defaults for the rest)."""
    call = spec.call
    if call.kind == "operator":
        return _OPERATORS[call.name](*tensors)
    if call.kind == "getitem":
        items = spec.param_map["index"].check_value(params["index"])  # "0 : 2" -> "0:2"
        return tensors[0][tuple(parse_slice_item(item) for item in items)]
    if call.kind == "index":
        return tensors[0][tuple(tensors[1:])]
    # A positional argument has no default in torch; generated code always writes it, so
    # the catalog's value is what the user gets (op.pow's exponent=2).
    defaults = spec.defaults
    args, kwargs = op_arguments(spec, tensors, [torch_value(params.get(name, defaults[name]))
                                                for name in call.leading])
    args += [op_param(spec, name, params.get(name, defaults[name])) for name in call.positional]
    if call.star:
        args += list(params.get(call.star, defaults[call.star]))
    kwargs.update({name: op_param(spec, name, params[name]) for name in call.keyword
                   if name in params})
    if call.kind == "method":
        target, *rest = args
        return getattr(target, call.name)(*rest, **kwargs)
    return _resolve(call.name)(*args, **kwargs)


def torch_outputs(type_name: str, params: dict, input_shapes: list, dtypes=None,
                  device: str = "meta") -> list:
    """Output shapes torch gives for the layer as written (None for a None output)."""
    spec = get_spec(type_name)
    dtypes = dtypes or ["float32"] * len(input_shapes)
    tensors = [torch.zeros(shape, dtype=getattr(torch, dtype), device=device)
               for shape, dtype in zip(input_shapes, dtypes)]
    if spec.torch_class:
        module = written_module(type_name, params, input_shapes, device).eval()
        forward_kwargs = {name: torch_value(params[name]) for name in spec.forward_params
                          if name in params}
        with torch.no_grad():
            result = module(*forward_args(spec, tensors), **forward_kwargs)
    else:
        result = _written_op(spec, params, tensors)
    return output_shapes(result)


def check_against_torch(type_name: str, params: dict, input_shapes: list, dtypes=None):
    """Assert the catalog's inferred outputs equal torch's on meta tensors; return them."""
    state = infer_single(type_name, params, input_shapes)
    errors = [d.message for d in state.diagnostics if d.is_error]
    where = f"{type_name} {params} on {input_shapes}"
    assert not errors, f"{where}: {errors}"
    for name, value in inferred_by_test(get_spec(type_name), params, input_shapes).items():
        assert state.params[name] == value, \
            f"{where}: the catalog infers {name}={state.params[name]}, torch reads {value}"
    expected = torch_outputs(type_name, params, input_shapes, dtypes)
    assert state.outputs == expected, (
        f"{where}: catalog says {state.outputs}, torch says {expected}"
    )
    return state.outputs


def single_error(type_name: str, params: dict, input_shapes: list):
    """The one error inference reports for this layer on these inputs (no output shapes)."""
    state = infer_single(type_name, params, input_shapes)
    errors = [d for d in state.diagnostics if d.is_error]
    assert len(errors) == 1, [d.message for d in state.diagnostics]
    assert state.outputs is None
    return errors[0]


def assert_refused_like_torch(type_name: str, params: dict, shapes: list, dtypes, port, code,
                              words) -> None:
    """The one error inference reports is on ``port`` with ``code`` and says ``words``, and
    torch refuses the same call on CPU."""
    state = infer_single(type_name, params, shapes)
    errors = [d for d in state.diagnostics if d.is_error]
    assert len(errors) == 1, [d.message for d in errors]
    (error,) = errors
    assert (error.port, error.code) == (port, code), error
    for word in words:
        assert word in error.message, (word, error.message)
    assert state.outputs is None
    with pytest.raises((RuntimeError, ValueError, IndexError)), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch_outputs(type_name, params, shapes, dtypes, device="cpu")
