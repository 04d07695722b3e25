"""The top graph of an unflattened torch.export program, rewritten as a traced class's graph.

``torch.export.unflatten`` gives back the module tree, and its top graph is the class's own
level: each call of a child is one ``call_module`` node. Around each call it puts the pytree
plumbing of the child's preserved signature (``tree_unflatten`` of the flat inputs into the
call's ``(args, kwargs)``, ``tree_flatten_spec`` of what the call returned), and between
them ATen ops. This module rewrites that graph into the form torch.fx's tracer gives:

- one placeholder per tensor the forward was called with, named after its parameter (a
  tensor inside a list, tuple or dict, ``**kwargs`` included, is a placeholder that says
  where it sits, as tracer.Leaf does);
- each child's call with the arguments it was really called with, constants included (the
  plumbing is gone); a value picked out of what it returned is ``out[0]``,
  ``out["last_hidden_state"]`` or ``out.field``;
- ATen ops as torch calls (export_ops.py);
- what the forward returns in its own structure: plain tuples, lists and dicts in the output
  node, anything else (a ``ModelOutput``, a dataclass) rebuilt by the graph's pytree codegen,
  which tracer.returned reads.
"""

from __future__ import annotations

import dataclasses
import operator
import re
from dataclasses import dataclass
from typing import Any

import torch
import torch.utils._pytree as pytree
from torch import fx, nn
from torch.fx.graph import _PyTreeCodeGen, _PyTreeInfo

from codegen.importer.export_ops import Emit, translate_aten
from codegen.importer.import_errors import Untraceable

CALL_INDEX = re.compile(r"@\d+$")  # unflatten names the second call of ``fc`` ``fc@1``


class Unpreserved(Exception):
    """The graph calls modules whose signatures were not preserved (their calls take and
    give flat tensors, not what the forward passed): export again, keeping them."""

    def __init__(self, targets: set[str]):
        super().__init__(", ".join(sorted(targets)))
        self.targets = targets


class Boxed:
    """A dataclass instance pytree does not know (``Output(logits, hidden)``), as a node it
    does know; unflattening a box gives the dataclass back."""

    def __init__(self, value: Any):
        self.kind = type(value)
        self.names = [f.name for f in dataclasses.fields(value)]
        self.values = [boxed(getattr(value, name)) for name in self.names]


pytree.register_pytree_node(
    Boxed,
    lambda box: (box.values, (box.kind, tuple(box.names))),
    lambda values, context: context[0](**dict(zip(context[1], values))),
)


def boxed(value: Any) -> Any:
    """``value`` with each dataclass pytree does not know in it boxed."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type) and \
            type(value) not in pytree.SUPPORTED_NODES:
        if not all(f.init for f in dataclasses.fields(value)):
            raise Untraceable(f"its forward returns a {type(value).__name__} with fields "
                              f"that its constructor does not take")
        return Boxed(value)
    if type(value) in (tuple, list):
        return type(value)(boxed(item) for item in value)
    if type(value) is dict:
        return {key: boxed(item) for key, item in value.items()}
    return value


@dataclass(frozen=True)
class Place:
    """Where one tensor of the call sits: parameter ``name``, then ``path`` inside it."""

    name: str
    path: tuple[Any, ...] = ()


class _Returned:
    """What a child's call returned, flattened: leaf ``i`` is picked out with the keys of
    its pytree path, one node per step, each made when first used and then shared."""

    def __init__(self, emit: Emit, call: fx.Node, spec: pytree.TreeSpec):
        self.emit, self.call, self.spec = emit, call, spec
        self._paths: list[tuple] | None = None
        self._picked: dict[tuple, Any] = {(): call}

    def leaf(self, index: int) -> Any:
        if self._paths is None:
            self._paths = key_paths(self.spec)
        return self._at(self._paths[index])

    def _at(self, path: tuple) -> Any:
        if path not in self._picked:
            self._picked[path] = _pick(self.emit, self._at(path[:-1]), path[-1])
        return self._picked[path]


def key_paths(spec: pytree.TreeSpec) -> list[tuple]:
    """The key path of each leaf of ``spec``, in leaf order (a spec keeps no keys, but each
    node's type can say them: an index, a dict key, a field name)."""
    if spec.is_leaf():
        return [()]
    keys = _child_keys(spec)
    return [(key, *rest) for key, child in zip(keys, spec.children())
            for rest in key_paths(child)]


def _child_keys(spec: pytree.TreeSpec) -> list[Any]:
    if spec.type is Boxed:  # an unregistered dataclass: its fields, by name
        return [pytree.GetAttrKey(name) for name in spec.context[1]]
    node = pytree.SUPPORTED_NODES.get(spec.type)
    keys_of = getattr(node, "flatten_with_keys_fn", None)
    if keys_of is None:
        raise Untraceable(f"it gets a {spec.type.__name__} from a child, which TorchCanvas "
                          f"cannot take apart")
    # One node of that type, its children stand-ins, asked for its keys.
    leaf = pytree.tree_structure(0)
    one = pytree.tree_unflatten([torch.empty(0, device="meta")] * spec.num_children,
                                pytree.TreeSpec(spec.type, spec.context,
                                                [leaf] * spec.num_children))
    return [key for key, _ in keys_of(one)[0]]


def _pick(emit: Emit, value: Any, key: Any) -> Any:
    if isinstance(key, pytree.SequenceKey):
        return emit.function(operator.getitem, value, key.idx)
    if isinstance(key, pytree.MappingKey):
        return emit.function(operator.getitem, value, key.key)
    if isinstance(key, pytree.GetAttrKey):
        return emit.function(getattr, value, key.name)
    raise Untraceable(f"it picks a value out of a child's result by {key!r}")


_PLAIN = (bool, int, float, str, complex, type(None), torch.dtype, torch.device,
          torch.memory_format, torch.layout, type(Ellipsis))


def _plain_spec(spec: pytree.TreeSpec) -> bool:
    """Whether a pytree is made of plain tuples, lists and dicts alone (an fx node can hold
    those as they are)."""
    return spec.is_leaf() or spec.type in (tuple, list, dict, type(None)) and \
        all(_plain_spec(child) for child in spec.children())


def _graph_can_hold(value: Any) -> bool:
    """Whether ``value`` can be an argument of an fx node (nodes, constants and the plain
    containers of them)."""
    if isinstance(value, (fx.Node, *_PLAIN)):
        return True
    if type(value) in (tuple, list):
        return all(_graph_can_hold(item) for item in value)
    if type(value) is dict:
        return all(_graph_can_hold(item) for item in value.values())
    if isinstance(value, slice):
        return all(_graph_can_hold(v) for v in (value.start, value.stop, value.step))
    return False


class Rebuild:
    """One pass over the unflattened top graph, node by node, into a new graph."""

    def __init__(self, unflattened: nn.Module, module: nn.Module, places: list[Place]):
        self.top = unflattened
        self.module = module
        self.places = iter(places)  # the exported call takes the tensors alone, in order
        self.graph = fx.Graph()
        self.emit = Emit(self.graph)
        self.env: dict[fx.Node, Any] = {}
        self.pending_call: Any = None  # the (args, kwargs) the next child call takes
        self.unpreserved: set[str] = set()

    def run(self) -> fx.Graph:
        for node in self.top.graph.nodes:
            self.env[node] = self._node(node)
        if self.unpreserved:
            raise Unpreserved(self.unpreserved)
        _drop_unused(self.graph)
        self.graph.lint()
        return self.graph

    # -- one node --------------------------------------------------------------------------
    def _node(self, node: fx.Node) -> Any:
        if node.op == "placeholder":
            return self._placeholder(node)
        if node.op == "get_attr":
            return self._get_attr(node)
        if node.op == "call_module":
            return self._call_module(node)
        if node.op == "call_function":
            return self._call_function(node)
        if node.op == "output":
            return self._output(node)
        raise Untraceable(f"torch.export gave a {node.op} node TorchCanvas cannot read")

    def _value(self, arg: Any) -> Any:
        return fx.node.map_aggregate(arg, lambda a: self.env[a] if isinstance(a, fx.Node)
                                     else a)

    def _placeholder(self, node: fx.Node) -> Any:
        place = next(self.places)
        if not place.path:
            made = self.graph.placeholder(place.name)
        else:
            made = self.graph.placeholder(_identifier(place))
            made.torchcanvas_leaf = (place.name, place.path)  # tracer.placeholder_value reads it
        if self.emit.device_source is None:
            self.emit.device_source = made
        return made

    def _get_attr(self, node: fx.Node) -> Any:
        value = attribute(self.top, node.target)
        if isinstance(value, pytree.TreeSpec):
            return value  # the plumbing's specs: read by tree_unflatten / tree_flatten_spec
        if isinstance(attribute(self.module, node.target), torch.Tensor):
            return self.graph.get_attr(node.target)  # a weight or buffer the module holds
        if isinstance(value, torch.Tensor) and value.numel() <= 64:
            # a tensor the forward makes from numbers (torch.tensor(2.0)): made again here,
            # a number on its own, anything larger where the graph's tensors are
            device = {} if not value.dim() else {"device": self.emit.device(value.device)}
            return self.emit.function(torch.tensor, value.tolist(), dtype=value.dtype,
                                      **device)
        shape = tuple(value.shape) if isinstance(value, torch.Tensor) else ()
        raise Untraceable(f"its forward makes a constant tensor of shape {shape}, which a "
                          f"diagram cannot hold")

    def _call_module(self, node: fx.Node) -> Any:
        target = CALL_INDEX.sub("", node.target)
        if self.pending_call is None:
            self.unpreserved.add(target)
            return self.graph.call_module(target, self._value(node.args),
                                          self._value(node.kwargs))
        args, kwargs = self.pending_call
        self.pending_call = None
        if not _graph_can_hold((tuple(args), kwargs)):
            raise Untraceable(f"it calls '{target}' with a value a graph cannot hold")
        # A child named ``self`` (BertAttention.self) would make a node that the code fx
        # writes for the graph confuses with the module itself.
        name = "self_" if target == "self" else None
        return self.graph.create_node("call_module", target, tuple(args), dict(kwargs),
                                      name=name)

    def _call_function(self, node: fx.Node) -> Any:
        target = node.target
        args, kwargs = self._value(node.args), self._value(node.kwargs)
        if target is pytree.tree_unflatten:  # a child's call is next: its (args, kwargs)
            if not _plain_spec(args[1]):
                raise Untraceable(f"it hands a child a {_first_unplain(args[1])}, which a "
                                  f"graph cannot hold")
            self.pending_call = pytree.tree_unflatten(list(args[0]), args[1])
            return self.pending_call
        if target is torch.fx._pytree.tree_flatten_spec:  # what a child's call returned
            if isinstance(args[0], fx.Node) and args[0].op == "call_module":
                return _Returned(self.emit, args[0], args[1])
            return pytree.tree_leaves(args[0])
        if target is operator.getitem and not isinstance(args[0], fx.Node):
            container, key = args
            return container.leaf(key) if isinstance(container, _Returned) else container[key]
        if isinstance(target, torch._ops.OpOverload):
            return translate_aten(self.emit, node, args, kwargs)
        if isinstance(target, torch._ops.HigherOrderOperator):
            raise Untraceable(f"torch.export gave {target.name()}, control flow that a "
                              f"diagram cannot draw")
        return self.graph.call_function(target, args, kwargs)  # arithmetic on sizes

    def _output(self, node: fx.Node) -> Any:
        flat = list(self._value(node.args[0]))
        spec = self.top.module_call_graph[0].signature.out_spec
        if _plain_spec(spec):
            return self.graph.output(pytree.tree_unflatten(flat, spec))
        names = [n.name for n in self.graph.nodes if n.op == "placeholder"]
        in_spec = pytree.tree_structure(list(names))
        self.graph._codegen = _PyTreeCodeGen(_PyTreeInfo(names, in_spec, spec))
        return self.graph.output(tuple(flat))


def _first_unplain(spec: pytree.TreeSpec) -> str:
    if spec.type not in (tuple, list, dict, type(None)):
        return spec.type.__name__
    return next(_first_unplain(c) for c in spec.children() if not _plain_spec(c))


def attribute(module: nn.Module, target: str) -> Any:
    """``module.a.b`` for ``target`` "a.b", None where there is no such attribute."""
    value: Any = module
    for part in target.split("."):
        value = getattr(value, part, None)
    return value


def _identifier(place: Place) -> str:
    text = "_".join([place.name, *(str(key) for key in place.path)])
    text = re.sub(r"\W", "_", text)
    return text if text.isidentifier() else f"_{text}"


def _drop_unused(graph: fx.Graph) -> None:
    """Drop what nothing reads (the plumbing's picks, dropped checks' inputs), keeping the
    calls of children and in-place ops: they do something even when unread."""
    for node in reversed(list(graph.nodes)):
        if node.users or node.op in ("placeholder", "output", "call_module"):
            continue
        if node.op == "call_method" and node.target.endswith("_"):
            continue
        if node.op == "call_function" and node.target in (operator.iadd, operator.isub,
                                                          operator.imul, operator.itruediv):
            continue
        graph.erase_node(node)
