"""In-place operations in a traced graph: which tensor each one changes, and who sees it.

``x.mul_(2); return self.fc(x)``: the op's result is x itself, so every later use of x must
read the op's output. Generated code writes such an op out of place (``x * 2.0``), and the
diagram wires the later uses of x to the op instead. That is exact only where nothing else
holds the old tensor: another view of it made before the op (``y = x[0]``), a tensor the
class holds (``self.count.add_(1)``), or the caller, for an input. The first two are refused
here; an input changed in place is reported, and the caller's graph refuses to read that
tensor again afterwards (``changed_arguments``).

Layers that work in place (``nn.ReLU(inplace=True)``) stay in place in generated code; their
later uses are rewired too, which changes nothing but makes the diagram say what happens.
"""

from __future__ import annotations

import inspect
import operator
import types
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import torch
import torch.nn.functional as F
from torch import fx, nn

from codegen.importer.import_errors import Untraceable
from codegen.importer.tracer import IN_PLACE_OPERATORS, Traced
from codegen.importer.values import TensorInfo

_IN_PLACE_FUNCTIONS = set(IN_PLACE_OPERATORS.values())  # x += y, x |= m ...
# Ops whose result shares memory with their first argument (or may: reshape, contiguous).
_VIEW_METHODS = {"view", "view_as", "reshape", "reshape_as", "transpose", "permute", "expand",
                 "expand_as", "squeeze", "unsqueeze", "flatten", "unflatten", "narrow",
                 "select", "t", "chunk", "split", "unbind", "contiguous", "detach",
                 "as_strided", "diagonal", "movedim", "swapaxes"}
_VIEW_FUNCTIONS = {operator.getitem, torch.transpose, torch.permute, torch.reshape,
                   torch.flatten, torch.squeeze, torch.unsqueeze, torch.chunk, torch.split,
                   torch.narrow, torch.select, torch.t, torch.unbind, torch.movedim,
                   torch.swapaxes, torch.diagonal, torch.detach}
_VIEW_ATTRIBUTES = {"T", "mT", "data"}
# Layers that may hand back their input itself, or a view of it.
_PASSING_LAYERS = (nn.Identity, nn.Flatten, nn.Unflatten, nn.Dropout, nn.Dropout1d,
                   nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout)


def _inplace_flag(node: fx.Node) -> bool:
    """``F.relu(x, inplace=True)`` or ``F.relu(x, True)``."""
    if "inplace" in node.kwargs:
        return node.kwargs["inplace"] is True
    position = _inplace_position(node.target) if node.op == "call_function" else None
    return position is not None and position < len(node.args) and node.args[position] is True


@lru_cache(maxsize=1024)
def _inplace_position(function: Callable) -> int | None:
    """Where a Python function (``F.relu``) takes ``inplace`` positionally, if it does."""
    if not isinstance(function, types.FunctionType):
        return None  # builtins (operator.add, torch.cat) take no inplace flag
    names = list(inspect.signature(function).parameters)
    return names.index("inplace") if "inplace" in names else None


def _first_argument(node: fx.Node) -> Any:
    if node.args:
        return node.args[0]
    return node.kwargs.get("input", node.kwargs.get("self"))


def is_in_place_op(node: fx.Node) -> bool:
    """A tensor op (not a layer) that changes its first argument."""
    if node.op == "call_method":
        name = str(node.target)
        return name.endswith("_") and not name.startswith("_")
    if node.op != "call_function":
        return False
    if node.target in _IN_PLACE_FUNCTIONS or _inplace_flag(node):
        return True
    name = getattr(node.target, "__name__", "")
    return name.endswith("_") and not name.startswith("_") and \
        node.target in (getattr(torch, name, None), getattr(F, name, None))


def _is_view(node: fx.Node, module_of: Callable[[str], nn.Module]) -> bool:
    if node.op == "call_method":
        return node.target in _VIEW_METHODS
    if node.op == "call_function":
        if node.target is getattr:
            return len(node.args) > 1 and node.args[1] in _VIEW_ATTRIBUTES
        return node.target in _VIEW_FUNCTIONS
    if node.op == "call_module":
        return isinstance(module_of(node.target), _PASSING_LAYERS)
    return False


def _in_place_layer(node: fx.Node, module_of: Callable[[str], nn.Module]) -> bool:
    return node.op == "call_module" and getattr(module_of(node.target), "inplace", False) is True


class InPlace:
    """The in-place ops of one traced graph, checked; ``base(node)`` is the tensor node a
    node changes (its later uses read the node instead), or None."""

    def __init__(self, graph: fx.Graph, values: dict[str, Any],
                 module_of: Callable[[str], nn.Module], where: str = "its forward"):
        self.order = {node: index for index, node in enumerate(graph.nodes)}
        self.changed_inputs: set[str] = set()  # forward parameters changed in place
        self._bases: dict[fx.Node, fx.Node] = {}
        self._family: dict[fx.Node, fx.Node] = {}  # union-find: nodes sharing memory
        for node in graph.nodes:
            first = _first_argument(node)
            if not isinstance(first, fx.Node):
                continue
            if _is_view(node, module_of):
                self._join(node, first)
            elif not isinstance(values.get(first.name), TensorInfo):
                continue
            elif is_in_place_op(node):
                self._check(node, first, where)
                self._bases[node] = first
                self._join(node, first)
            elif _in_place_layer(node, module_of):
                self._bases[node] = first
                self._join(node, first)

    def base(self, node: fx.Node) -> fx.Node | None:
        return self._bases.get(node)

    def _root(self, node: fx.Node) -> fx.Node:
        root = node
        while self._family.get(root, root) is not root:
            root = self._family[root]
        while node is not root:  # shorten the path for the next look-up
            parent = self._family[node]
            self._family[node] = root
            node = parent
        return root

    def _join(self, a: fx.Node, b: fx.Node) -> None:
        self._family[self._root(a)] = self._root(b)

    def members(self, node: fx.Node) -> list[fx.Node]:
        root = self._root(node)
        return [other for other in self.order if self._root(other) is root]

    def _check(self, op: fx.Node, base: fx.Node, where: str) -> None:
        at = self.order[op]
        for other in self.members(base):
            if other.op == "get_attr":
                raise Untraceable(f"{where} changes the tensor it holds, {other.target!r}, in "
                                  f"place ({op.name})")
            if other.op == "placeholder":
                self.changed_inputs.add(_parameter_of(other))
            if other is not base and self.order[other] < at and \
                    any(self.order[user] > at for user in other.users):
                raise Untraceable(f"{where} changes a tensor in place ({op.name}) and reads it "
                                  f"afterwards through another name for the same memory "
                                  f"({other.name})")


def _parameter_of(placeholder: fx.Node) -> str:
    leaf = getattr(placeholder, "torchcanvas_leaf", None)
    return leaf[0] if leaf else str(placeholder.target)


def changed_inputs(traced: Traced, values: dict[str, Any],
                   module_of: Callable[[str], nn.Module]) -> frozenset[str]:
    """The forward parameters a traced class changes in place, where it can be drawn (one
    that cannot is kept as source, and its source changes them as the original does). Kept
    with the graph: the instances that share a graph share the answer."""
    if traced.changed_inputs is None:
        try:
            traced.changed_inputs = frozenset(
                InPlace(traced.graph, values, module_of).changed_inputs)
        except Untraceable:
            traced.changed_inputs = frozenset()
    return traced.changed_inputs


def read_after(in_place: InPlace, call: fx.Node, argument: Any) -> bool:
    """Whether the caller reads ``argument`` (or another name for its memory) again after
    ``call``."""
    at = in_place.order[call]
    for node in _nodes_in(argument):
        for other in in_place.members(node):
            if any(in_place.order[user] > at for user in other.users):
                return True
    return False


def _nodes_in(argument: Any) -> list[fx.Node]:
    if isinstance(argument, fx.Node):
        return [argument]
    if isinstance(argument, (tuple, list)):
        return [node for item in argument for node in _nodes_in(item)]
    return []
