"""Tracing one class with torch.fx, its submodules left as single calls.

Every call to a submodule stays one ``call_module`` node, so a class becomes one small graph
of its own: its layers, its blocks and the tensor ops between them. Arguments that are not
tensors (a flag, a mask left as None) are fixed to the values the call actually used.

``self.training`` is read while tracing, not recorded, so a class whose code mentions it is
traced in both modes. Graphs that differ only in a ``training=`` flag that follows the mode
(``F.dropout(x, p, training=self.training)``) are merged, with that flag marked; any other
difference means the class behaves differently in training, and it is kept as source.
"""

from __future__ import annotations

import inspect
import types
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import fx, nn

from codegen.importer.errors import Untraceable

TRAINING = "training"


class _LeafTracer(fx.Tracer):
    """Every submodule call is a leaf: the class is traced one level deep."""

    def is_leaf_module(self, m: nn.Module, module_qualified_name: str) -> bool:
        return True


@dataclass
class Traced:
    graph: fx.Graph
    # fx node name -> keyword arguments that follow self.training
    follows_training: dict[str, set[str]] = field(default_factory=dict)


def bind_arguments(module: nn.Module, args: tuple, kwargs: dict) -> dict[str, Any]:
    """The forward's parameters by name, defaults filled in."""
    signature = inspect.signature(module.forward)
    for parameter in signature.parameters.values():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            raise Untraceable("its forward takes *args or **kwargs")
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError as err:
        raise Untraceable(f"its forward was called in a way its signature does not allow "
                          f"({err})") from None
    bound.apply_defaults()
    return dict(bound.arguments)


def _has_tensor(value: Any) -> bool:
    if isinstance(value, torch.Tensor):
        return True
    if isinstance(value, (tuple, list)):
        return any(_has_tensor(v) for v in value)
    if isinstance(value, dict):
        return any(_has_tensor(v) for v in value.values())
    return False


def concrete_arguments(bound: dict[str, Any]) -> dict[str, Any]:
    concrete = {}
    for name, value in bound.items():
        if isinstance(value, torch.Tensor):
            continue
        if _has_tensor(value):
            raise Untraceable(f"its forward takes {name!r} as a {type(value).__name__} of "
                              f"tensors, which a diagram cannot wire")
        concrete[name] = value
    return concrete


_PLAIN = (bool, int, float, str, type(None))


def _plain_value(value: Any) -> bool:
    if isinstance(value, _PLAIN):
        return True
    if isinstance(value, (tuple, list)):
        return all(_plain_value(v) for v in value)
    return False


def instance_key(module: nn.Module) -> tuple:
    """What tracing an instance can depend on: its class, its plain attributes, the names and
    kinds of its children and the shapes of its tensors. Two instances alike in all of these
    trace to the same graph (a stack of 2,500 identical blocks is traced once). An attribute
    of any other kind makes the instance its own key."""
    plain = []
    for name, value in sorted(vars(module).items()):
        if name.startswith("_"):
            continue  # nn.Module's own bookkeeping; children and tensors are keyed below
        if not _plain_value(value):
            return (id(module),)
        plain.append((name, repr(value)))
    children = tuple((name, type(child),
                      tuple(type(m) for m in child) if isinstance(
                          child, (nn.ModuleList, nn.Sequential)) else ())
                     for name, child in module._modules.items())
    tensors = tuple((name, tuple(t.shape), str(t.dtype)) for name, t in
                    [*module._parameters.items(), *module._buffers.items()] if t is not None)
    return (type(module), tuple(plain), children, tensors)


def reads_training(cls: type) -> bool:
    """Whether the class's own code (not nn.Module's) mentions ``training``."""
    for klass in cls.__mro__:
        if klass in (nn.Module, object) or klass.__module__.startswith("torch."):
            continue
        for item in vars(klass).values():
            function = getattr(item, "__func__", item)
            code = getattr(function, "__code__", None)
            if code is not None and _code_mentions(code, TRAINING):
                return True
    return False


def _code_mentions(code: types.CodeType, name: str) -> bool:
    if name in code.co_names:
        return True
    return any(isinstance(c, types.CodeType) and _code_mentions(c, name) for c in code.co_consts)


def _trace_once(module: nn.Module, concrete: dict[str, Any]) -> fx.Graph:
    before = set(vars(module))
    try:
        return _LeafTracer().trace(module, concrete_args=concrete or None)
    except Untraceable:
        raise
    except Exception as err:  # fx raises many kinds; any of them means "keep the source"
        first = (str(err).strip().splitlines() or [""])[0]
        raise Untraceable(f"torch.fx cannot trace it ({type(err).__name__}: {first})") from None
    finally:
        # fx stores tensors made in forward as new attributes of the module: undo that.
        for name in set(vars(module)) - before:
            delattr(module, name)
        for name in [n for n in module._buffers if n.startswith("_tensor_constant")]:
            del module._buffers[name]


def trace_class(module: nn.Module, concrete: dict[str, Any]) -> Traced:
    saved = module.training
    try:
        module.training = False
        evaluation = _trace_once(module, concrete)
        if not reads_training(type(module)):
            return Traced(evaluation)
        module.training = True
        training = _trace_once(module, concrete)
    finally:
        module.training = saved
    return Traced(evaluation, _training_flags(evaluation, training))


def _shape_of(graph: fx.Graph) -> list[tuple]:
    index = {node: i for i, node in enumerate(graph.nodes)}

    def plain(value):
        return fx.node.map_arg(value, lambda n: ("node", index[n]))

    return [(n.op, n.target, plain(n.args), plain(n.kwargs)) for n in graph.nodes]


def _training_flags(evaluation: fx.Graph, training: fx.Graph) -> dict[str, set[str]]:
    different = Untraceable("its forward does different things in training and in evaluation "
                            "(it branches on self.training)")
    a, b = _shape_of(evaluation), _shape_of(training)
    if len(a) != len(b):
        raise different
    flags: dict[str, set[str]] = {}
    for node, (op, target, args, kwargs), (op2, target2, args2, kwargs2) in zip(
            evaluation.nodes, a, b):
        if (op, target, args) != (op2, target2, args2) or set(kwargs) != set(kwargs2):
            raise different
        for key in kwargs:
            if kwargs[key] == kwargs2[key]:
                continue
            if key == TRAINING and kwargs[key] is False and kwargs2[key] is True:
                flags.setdefault(node.name, set()).add(key)
            else:
                raise different
    return flags
