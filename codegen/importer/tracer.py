"""Tracing one class with torch.fx, its submodules left as single calls.

Every call to a submodule stays one ``call_module`` node, so a class becomes one small graph
of its own: its layers, its blocks and the tensor ops between them. Arguments that are not
tensors (a flag, a mask left as None) are fixed to the values the call actually used; a list
or tuple of tensors (``forward(self, xs)``) gives each tensor a placeholder of its own.

``self.training`` is read while tracing, not recorded, so a class whose code mentions it is
traced in both modes. Graphs that differ only in a ``training=`` flag that follows the mode
(``F.dropout(x, p, training=self.training)``) are merged, with that flag marked; any other
difference means the class behaves differently in training, and it is kept as source.
"""

from __future__ import annotations

import inspect
import operator
import types
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.utils._pytree as pytree
from torch import fx, nn

from codegen.importer.import_errors import Untraceable

TRAINING = "training"


# ``x += y`` changes the tensor x in place, but fx's proxies have no ``__iadd__``, so Python
# falls back to ``x = x + y`` and the graph loses the change (another name for the same
# tensor would then read the old value). Recorded as ``operator.iadd`` it stays in place.
IN_PLACE_OPERATORS = {
    "__iadd__": operator.iadd, "__isub__": operator.isub, "__imul__": operator.imul,
    "__itruediv__": operator.itruediv, "__ifloordiv__": operator.ifloordiv,
    "__imod__": operator.imod, "__ipow__": operator.ipow, "__imatmul__": operator.imatmul,
    "__iand__": operator.iand, "__ior__": operator.ior, "__ixor__": operator.ixor,
    "__ilshift__": operator.ilshift, "__irshift__": operator.irshift,
}


class _InPlaceProxy(fx.Proxy):
    pass


def _in_place_operator(function):
    def apply(self, other):
        return self.tracer.create_proxy("call_function", function, (self, other), {})
    return apply


for _name, _function in IN_PLACE_OPERATORS.items():
    setattr(_InPlaceProxy, _name, _in_place_operator(_function))


class _LeafTracer(fx.Tracer):
    """Every submodule call is a leaf: the class is traced one level deep."""

    def is_leaf_module(self, m: nn.Module, module_qualified_name: str) -> bool:
        return True

    def proxy(self, node: fx.Node) -> fx.Proxy:
        return _InPlaceProxy(node, self)


@dataclass
class Traced:
    graph: fx.Graph
    # fx node name -> keyword arguments that follow self.training
    follows_training: dict[str, set[str]] = field(default_factory=dict)
    changed_inputs: frozenset[str] | None = None  # forward parameters it changes in place


def bind_arguments(module: nn.Module, args: tuple, kwargs: dict) -> dict[str, Any]:
    """The forward's parameters by name, defaults filled in; ``*args`` and ``**kwargs``
    only where the call filled them (an empty one is no argument a diagram must pass)."""
    signature = inspect.signature(module.forward)
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError as err:
        raise Untraceable(f"its forward was called in a way its signature does not allow "
                          f"({err})") from None
    bound.apply_defaults()
    variadic = {name for name, parameter in signature.parameters.items()
                if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD)}
    return {name: value for name, value in bound.arguments.items()
            if name not in variadic or value}


def _has_tensor(value: Any) -> bool:
    if isinstance(value, torch.Tensor):
        return True
    if isinstance(value, (tuple, list)):
        return any(_has_tensor(v) for v in value)
    if isinstance(value, dict):
        return any(_has_tensor(v) for v in value.values())
    return False


class Leaf(type(fx.PH)):  # fx's placeholder class, PHBase
    """A tensor inside a list or tuple argument (``forward(self, xs)`` called with
    ``[a, b]``): fx makes it a placeholder of its own, and ``path`` (copied onto that
    placeholder node) says where in the argument it sits, so the walker can find the value.
    Its repr is its place: graphs are cached by the repr of their concrete arguments."""

    def __init__(self, name: str, path: tuple[int, ...]):
        super().__init__()
        self.torchcanvas_leaf = (name, path)

    def __repr__(self) -> str:
        return f"<tensor {self.torchcanvas_leaf[0]}{list(self.torchcanvas_leaf[1])}>"


def _with_leaves(name: str, value: Any, path: tuple[int, ...] = ()) -> Any:
    """The argument with each tensor replaced by a Leaf (its other items stay as they are)."""
    if isinstance(value, torch.Tensor):
        return Leaf(name, path)
    if type(value) in (tuple, list):
        return type(value)(_with_leaves(name, v, (*path, i)) for i, v in enumerate(value))
    if _has_tensor(value):
        raise Untraceable(f"its forward takes {name!r} as a {type(value).__name__} holding "
                          f"tensors, which a diagram cannot wire")
    return value  # a value beside the tensors (None, a number): fixed, like any other


def concrete_arguments(bound: dict[str, Any]) -> dict[str, Any]:
    """What the trace fixes: every argument that is not a tensor, at the value it had; a
    plain list or tuple of tensors is traced with a placeholder for each of them."""
    concrete = {}
    for name, value in bound.items():
        if isinstance(value, torch.Tensor):
            continue
        concrete[name] = _with_leaves(name, value) if _has_tensor(value) else value
    return concrete


def placeholder_value(node: fx.Node, bound: dict[str, Any]) -> tuple[bool, Any]:
    """(found, value) for a placeholder fx made for part of a fixed argument: a Leaf, or
    a value the trace was specialised on. fx names them ``<argument>_<k>`` for the k-th item
    of the argument, flattened (``flag_1`` for a plain ``flag``)."""
    where = getattr(node, "torchcanvas_leaf", None)
    if where is not None:
        name, path = where
        value = bound[name]
        for index in path:
            value = value[index]
        return True, value
    name, _, number = str(node.target).rpartition("_")
    if name in bound and number.isdigit():
        items = pytree.tree_leaves(bound[name])
        if 0 < int(number) <= len(items):
            return True, items[int(number) - 1]
    return False, None


def returned(graph: fx.Graph, flat: Any) -> Any:
    """What the traced forward returns: a graph traced with Leaf placeholders returns its
    results flattened, and fx keeps how to put them back together."""
    info = getattr(graph._codegen, "pytree_info", None)
    if info is None or info.out_spec is None:
        return flat
    return pytree.tree_unflatten(list(flat), info.out_spec)


_PLAIN = (bool, int, float, str, type(None))


def _plain_value(value: Any) -> bool:
    if isinstance(value, _PLAIN):
        return True
    if isinstance(value, (tuple, list)):
        return all(_plain_value(v) for v in value)
    return False


_MODULE_BOOKKEEPING = frozenset(vars(nn.Module()))  # _parameters, _modules, hooks...


def instance_key(module: nn.Module) -> tuple:
    """What tracing an instance can depend on: its class and its plain attributes (private
    ones too: ``self._index`` specialises a graph as much as ``self.index``), and for every
    module below it its place, its kind and its attributes (a forward that reads
    ``self.fc.in_features`` is traced with that number), and the shapes of its own tensors.
    Two instances alike in all of these trace to the same graph (a stack of 2,500 identical
    blocks is traced once). An attribute of any other kind makes the instance its own key."""
    plain = []
    for name, value in sorted(vars(module).items()):
        if name in _MODULE_BOOKKEEPING:
            continue  # nn.Module's own; children and tensors are keyed below
        if not _plain_value(value):
            return (id(module),)
        plain.append((name, repr(value)))
    tensors = tuple((name, tuple(t.shape), str(t.dtype)) for name, t in
                    [*module._parameters.items(), *module._buffers.items()] if t is not None)
    return (type(module), tuple(plain), tuple(_below(module, "")), tensors)


def _below(module: nn.Module, prefix: str) -> list[tuple]:
    """Every module under ``module``: path, class and attributes. An attribute that is not
    a plain value (an activation function) counts by identity: instances that share it
    still share a graph."""
    found = []
    for name, child in module._modules.items():
        if child is None:
            continue
        attributes = tuple((key, repr(value) if _plain_value(value) else ("id", id(value)))
                           for key, value in sorted(vars(child).items())
                           if key not in _MODULE_BOOKKEEPING)
        found.append((prefix + name, type(child), attributes))
        found += _below(child, f"{prefix}{name}.")
    return found


def reads_training(cls: type) -> bool:
    """Whether the class's own code (not nn.Module's) mentions ``training``: its methods, also
    through decorators (``functools.wraps`` keeps the decorated function as ``__wrapped__``),
    and the functions of the class's own file that they name (``eager_attention_forward``
    reads ``module.training``)."""
    for klass in cls.__mro__:
        if klass in (nn.Module, object) or klass.__module__.startswith("torch."):
            continue
        for item in vars(klass).values():
            function = inspect.unwrap(getattr(item, "__func__", item))
            code = getattr(function, "__code__", None)
            if code is not None and _reads_training(code, function, klass.__module__):
                return True
    return False


def _reads_training(code: types.CodeType, function, module_name: str) -> bool:
    if _code_mentions(code, TRAINING):
        return True
    named = [getattr(function, "__globals__", {}).get(name) for name in code.co_names]
    return any(inspect.isfunction(helper) and helper.__module__ == module_name
               and _code_mentions(helper.__code__, TRAINING) for helper in named)


def _code_mentions(code: types.CodeType, name: str) -> bool:
    if name in code.co_names:
        return True
    return any(isinstance(c, types.CodeType) and _code_mentions(c, name) for c in code.co_consts)


def _trace_once(module: nn.Module, concrete: dict[str, Any]) -> fx.Graph:
    before = set(vars(module))
    # fx hands a class its own buffers as they are, so an in-place op on one (a running
    # count, running statistics) would run for real while tracing, and leave no node in
    # the graph. Tracing sees copies; a copy that changed means the class changes what it
    # holds, which a diagram cannot say.
    buffers = {name: t for name, t in module._buffers.items() if t is not None}
    copies = {name: t.detach().clone() for name, t in buffers.items()}
    module._buffers.update(copies)
    try:
        graph = _LeafTracer().trace(module, concrete_args=concrete or None)
    except Untraceable:
        raise
    except Exception as err:  # fx raises many kinds; any of them means "keep the source"
        if _refused_memory(err):  # the forward's own allocation, not a limit of fx: say so
            raise
        first = (str(err).strip().splitlines() or [""])[0]
        raise Untraceable(f"torch.fx cannot trace it ({type(err).__name__}: {first})") from None
    finally:
        module._buffers.update(buffers)
        # fx stores tensors made in forward as new attributes of the module: undo that.
        for name in set(vars(module)) - before:
            delattr(module, name)
        for name in [n for n in module._buffers if n.startswith("_tensor_constant")]:
            del module._buffers[name]
    changed = [name for name, copy in copies.items() if copy._version]
    if changed:
        raise Untraceable(f"its forward changes the tensor it holds, {changed[0]!r}, in place")
    return graph


# What torch's allocators say when an allocation is refused.
_ALLOCATOR_WORDS = ("can't allocate memory", "cannot allocate memory", "out of memory")


def _refused_memory(err: Exception) -> bool:
    """A forward that runs out of memory while fx traces it would do so when run too: the
    walker must not try another tracer (torch.export's fake tensors allocate nothing)."""
    return isinstance(err, MemoryError) or isinstance(err, RuntimeError) and \
        any(words in str(err).lower() for words in _ALLOCATOR_WORDS)


def trace_class(module: nn.Module, concrete: dict[str, Any]) -> Traced:
    _refuse_variadic(module)
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
    # fx's graphs follow the mode only through F.dropout-style training= flags.
    flags, _values = training_flags(evaluation, training, {TRAINING: False})
    return Traced(evaluation, flags)


def _refuse_variadic(module: nn.Module) -> None:
    """fx cannot give ``*args`` or ``**kwargs`` placeholders of their own (torch.export,
    the walker's second try, can)."""
    for parameter in inspect.signature(module.forward).parameters.values():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            raise Untraceable("its forward takes *args or **kwargs")


def _layout_only(node: fx.Node) -> bool:
    """``x.contiguous()`` is traced only where x is not contiguous at that moment, and the
    two modes may lay a tensor out differently (attention's kernels do): it is not a
    difference of what the forward computes."""
    return node.op == "call_method" and node.target == "contiguous"


def _plain_nodes(graph: fx.Graph) -> list[tuple[fx.Node, tuple]]:
    kept = [n for n in graph.nodes if not _layout_only(n)]
    index = {node: i for i, node in enumerate(kept)}

    def plain(value):
        def number(n: fx.Node) -> tuple:
            while _layout_only(n):
                n = n.args[0]
            return ("node", index[n])
        return fx.node.map_arg(value, number)

    return [(n, (n.op, n.target, plain(n.args), plain(n.kwargs))) for n in kept]


def training_flags(evaluation: fx.Graph, training: fx.Graph, follows: dict[str, Any]
                   ) -> tuple[dict[str, set[str]], dict[str, dict[str, Any]]]:
    """Which keywords of which nodes follow self.training (``follows``: keyword -> its value
    in evaluation), and their values in training; any other difference between the graphs
    of the two modes raises Untraceable. Both tracers compare their two graphs so."""
    different = Untraceable("its forward does different things in training and in evaluation "
                            "(it branches on self.training)")
    a, b = _plain_nodes(evaluation), _plain_nodes(training)
    if len(a) != len(b):
        raise different
    flags: dict[str, set[str]] = {}
    values: dict[str, dict[str, Any]] = {}
    for (node, (op, target, args, kwargs)), (_, (op2, target2, args2, kwargs2)) in zip(a, b):
        if (op, target, args) != (op2, target2, args2) or set(kwargs) != set(kwargs2):
            raise different
        for key in kwargs:
            if kwargs[key] == kwargs2[key]:
                continue
            if key in follows and kwargs[key] == follows[key]:
                flags.setdefault(node.name, set()).add(key)
                values.setdefault(node.name, {})[key] = kwargs2[key]
            else:
                raise different
    return flags, values
