"""One class's graph, written down while its forward runs (record_trace.py runs it).

A ``Frame`` is one call of one class: its placeholders are the call's tensors, and each
torch function, tensor method and operator its own code calls becomes a node, each call of a
module it holds one ``call_module`` node. Values are told apart by identity: the frame knows
which node made each tensor (and each device) it has seen.

Sizes read in Python stay computations: ``x.size(0)``, ``x.shape`` and ``x.dim()`` give
``TracedInt``s, ints that remember their node, and arithmetic on them is recorded too, so
``(*x.shape[:-1], -1, 32)`` is a read of ``x``'s sizes in the graph, and the graph follows
another batch size.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import torch
import torch.utils._pytree as pytree
from torch import fx, nn
from torch.fx.graph import _PyTreeCodeGen, _PyTreeInfo

from codegen.importer.export_graph import _identifier, _pick, _plain_spec, boxed, key_paths
from codegen.importer.export_handlers import Emit
from codegen.importer.export_trace import Call
from codegen.importer.import_errors import Untraceable

# Tensor operators as the operator module's functions (as torch.fx records them); a
# reflected one (``2 - x``, __rsub__) is recorded with its operands swapped.
_OPERATORS = {
    "add": operator.add, "sub": operator.sub, "mul": operator.mul,
    "truediv": operator.truediv, "floordiv": operator.floordiv, "mod": operator.mod,
    "matmul": operator.matmul, "pow": operator.pow, "and": operator.and_,
    "or": operator.or_, "xor": operator.xor, "lshift": operator.lshift,
    "rshift": operator.rshift,
}
_UNARY = {"__neg__": operator.neg, "__invert__": operator.invert, "__pos__": operator.pos,
          "__abs__": operator.abs}
_COMPARISONS = {"__eq__": operator.eq, "__ne__": operator.ne, "__lt__": operator.lt,
                "__le__": operator.le, "__gt__": operator.gt, "__ge__": operator.ge}
_IN_PLACE = {f"__i{name}__": getattr(operator, f"i{name.rstrip('_')}")
             for name in ("add", "sub", "mul", "truediv", "floordiv", "and", "or")}
# Reads whose ints are sizes: each becomes a TracedInt (or a tuple of them)
_SIZE_READS = frozenset({"size", "dim", "numel", "ndimension", "nelement"})
# Reads of a tensor's values: a graph cannot decide on them (nor can export)
DATA_READS = frozenset({"item", "tolist", "__bool__", "__int__", "__float__", "__index__",
                        "__complex__", "numpy", "nonzero", "argwhere", "unique"})


class TracedInt(int):
    """An int read off a tensor's shape, with the graph node that computes it."""

    node: fx.Node

    def __new__(cls, value: int, node: fx.Node):
        made = super().__new__(cls, value)
        made.node = node
        return made


def _arithmetic(name: str, function: Callable, reflected: bool = False) -> Callable:
    def compute(self: TracedInt, other: Any) -> Any:
        a, b = (other, self) if reflected else (self, other)
        value = function(int(a) if isinstance(a, TracedInt) else a,
                         int(b) if isinstance(b, TracedInt) else b)
        if not isinstance(value, int) or isinstance(value, bool) or \
                isinstance(other, TracedInt) and other.node.graph is not self.node.graph:
            return value  # a float or a comparison: a value, no longer a size
        node = self.node.graph.call_function(function, (_node_of(a), _node_of(b)))
        return TracedInt(value, node)
    compute.__name__ = name
    return compute


for _name, _function in (("add", operator.add), ("sub", operator.sub),
                         ("mul", operator.mul), ("floordiv", operator.floordiv),
                         ("mod", operator.mod)):
    setattr(TracedInt, f"__{_name}__", _arithmetic(f"__{_name}__", _function))
    setattr(TracedInt, f"__r{_name}__", _arithmetic(f"__r{_name}__", _function, True))
TracedInt.__neg__ = lambda self: TracedInt(-int(self), self.node.graph.call_function(
    operator.neg, (self.node,)))


def _node_of(value: Any) -> Any:
    return value.node if isinstance(value, TracedInt) else value


class Frame:
    """The graph of one call of ``module`` (the call ``call``), while it runs."""

    def __init__(self, module: nn.Module, call: Call, tensors: list[torch.Tensor]):
        self.module = module
        self.call = call
        self.graph = fx.Graph()
        self.failed: str | None = None  # why this class cannot be drawn from its run
        self.nodes: dict[int, fx.Node] = {}  # id of a tensor or device -> its node
        self.alive: list[Any] = []  # what ``nodes`` is keyed by stays alive (ids stay unique)
        self.paths = {id(m): path for path, m in
                      reversed(list(module.named_modules(remove_duplicate=False)))}
        self._names = {id(t): name for name, t in
                       [*module.named_parameters(remove_duplicate=False),
                        *module.named_buffers(remove_duplicate=False)]}
        for tensor, place in zip(tensors, call.places):
            self._placeholder(tensor, place)

    def _placeholder(self, tensor: torch.Tensor, place) -> None:
        node = self.graph.placeholder(_identifier(place) if place.path else place.name)
        if place.path:
            node.torchcanvas_leaf = (place.name, place.path)  # tracer.placeholder_value
        self.remember(tensor, node)

    # -- what a value is in the graph --------------------------------------------------------
    def arg(self, value: Any) -> Any:
        if isinstance(value, TracedInt):
            return value.node if value.node.graph is self.graph else int(value)
        if isinstance(value, (torch.Tensor, torch.device)):
            found = self.nodes.get(id(value))
            if found is not None:
                return found
            return self._held(value) if isinstance(value, torch.Tensor) else value
        if type(value) in (list, tuple, torch.Size):
            items = [self.arg(item) for item in value]
            return items if isinstance(value, list) else tuple(items)
        if type(value) is dict:
            return {key: self.arg(item) for key, item in value.items()}
        if isinstance(value, slice):
            return slice(self.arg(value.start), self.arg(value.stop), self.arg(value.step))
        return value

    def known(self, value: Any) -> bool:
        return id(value) in self.nodes or id(value) in self._names

    def _held(self, tensor: torch.Tensor) -> fx.Node:
        """A weight or buffer read by the forward itself (a child's too: ``self.fc.weight``,
        which drafting refuses, saying so)."""
        name = self._names.get(id(tensor))
        if name is None:
            raise Untraceable(f"its forward uses a tensor of shape {tuple(tensor.shape)} that "
                              f"is neither an input, nor made in it, nor a weight it holds")
        node = self.graph.get_attr(name)
        self.remember(tensor, node)
        return node

    def remember(self, value: Any, node: fx.Node) -> None:
        if isinstance(value, (torch.Tensor, torch.device)):
            self.nodes[id(value)] = node
            self.alive.append(value)

    # -- torch's calls -----------------------------------------------------------------------
    def record(self, func: Callable, args: tuple, kwargs: dict, result: Any) -> Any:
        """The call as a node; gives back the result as the rest of the forward sees it."""
        name = getattr(func, "__name__", "")
        if name == "__get__" and not isinstance(result, torch.Tensor) and \
                (func.__self__.__name__ == "dtype" or not self.known(args[0])):
            return result  # x.dtype, or a child's weight's: a constant, as fx would read it
        if name in DATA_READS:
            raise Untraceable(f"its forward reads the values of a tensor ({name}()), which a "
                              f"graph cannot decide on")
        if name == "__setitem__":
            raise Untraceable("its forward assigns into part of a tensor (x[...] = ...), which "
                              "a diagram cannot draw")
        if name == "__iter__":  # q, k, v = x: the tensor unbound along its first dim
            node = self.graph.call_method("unbind", (self.arg(args[0]), 0))
            items = list(result)
            self.result(tuple(items), node)
            return iter(items)
        return self.result(result, self._node(func, name, args, kwargs),
                           sizes=name in _SIZE_READS or name == "__get__")

    def _node(self, func: Callable, name: str, args: tuple, kwargs: dict) -> fx.Node:
        operands = tuple(self.arg(a) for a in args)
        if name == "__get__":  # a property: x.shape, x.device, x.T
            return self.graph.call_function(getattr, (operands[0], func.__self__.__name__))
        found = _operator(name)
        if found is not None:
            function, swapped = found
            return self.graph.call_function(function, operands[::-1] if swapped else operands)
        if _is_method(func):
            return self.graph.call_method(name, operands, self.arg(kwargs))
        return self.graph.call_function(func, operands, self.arg(kwargs))

    def result(self, value: Any, node: fx.Node, sizes: bool = False) -> Any:
        """``value`` as the rest of the forward sees it: tensors and devices remembered,
        sizes as TracedInts, tuples of sizes (``x.shape``) as tuples of them."""
        if isinstance(value, (torch.Tensor, torch.device)):
            self.remember(value, node)
            return value
        if sizes and isinstance(value, int) and not isinstance(value, bool):
            return TracedInt(value, node)
        if sizes and isinstance(value, tuple) and all(isinstance(v, int) for v in value):
            return tuple(TracedInt(v, self.graph.call_function(operator.getitem, (node, i)))
                         for i, v in enumerate(value))
        if isinstance(value, (tuple, list)):  # x.split(...), torch.max(x, 1): one pick each
            for index, item in enumerate(value):
                if isinstance(item, torch.Tensor):
                    self.remember(item, self.graph.call_function(operator.getitem,
                                                                 (node, index)))
        return value

    # -- children and the end --------------------------------------------------------------
    def child_call(self, child: nn.Module, args: tuple, kwargs: dict, output: Any) -> None:
        path = self.paths.get(id(child))
        if path is None:
            raise Untraceable(f"its forward calls a {type(child).__name__} it does not hold")
        node = self.graph.create_node("call_module", path, tuple(self.arg(a) for a in args),
                                      self.arg(kwargs), name="self_" if path == "self" else None)
        flat, spec = pytree.tree_flatten(boxed(output))
        if spec.is_leaf():
            self.result(output, node)
            return
        emit = Emit(self.graph)
        for leaf, keys in zip(flat, key_paths(spec)):
            if isinstance(leaf, torch.Tensor):
                picked = node
                for key in keys:  # out.first[0]: one node a step, as export_graph picks
                    picked = _pick(emit, picked, key)
                self.remember(leaf, picked)

    def output(self, value: Any) -> None:
        names = [n.name for n in self.graph.nodes if n.op == "placeholder"]
        flat, spec = pytree.tree_flatten(boxed(value))
        nodes = [self.arg(leaf) for leaf in flat]
        if _plain_spec(spec):
            self.graph.output(pytree.tree_unflatten(nodes, spec))
            return
        in_spec = pytree.tree_structure(list(names))
        self.graph._codegen = _PyTreeCodeGen(_PyTreeInfo(names, in_spec, spec))
        self.graph.output(tuple(nodes))


def _operator(name: str) -> tuple[Callable, bool] | None:
    """The operator function a dunder method is (and whether its operands are swapped:
    ``__rsub__``), or None."""
    if name == "__getitem__":
        return operator.getitem, False
    for table in (_IN_PLACE, _UNARY, _COMPARISONS):
        if name in table:
            return table[name], False
    if not (name.startswith("__") and name.endswith("__")):
        return None
    bare = name[2:-2]
    if bare in _OPERATORS:
        return _OPERATORS[bare], False
    if bare.startswith("r") and bare[1:] in _OPERATORS:
        return _OPERATORS[bare[1:]], True
    return None


def _is_method(func: Callable) -> bool:
    """A tensor method: ``Tensor.view``, or one torch/_tensor.py wraps (``x ** 2`` comes as
    a function named ``pow`` defined there)."""
    name = getattr(func, "__name__", "")
    qualname = getattr(func, "__qualname__", "")
    return getattr(torch.Tensor, name, None) is func or \
        getattr(func, "__module__", None) == "torch._tensor" or \
        qualname.startswith(("Tensor.", "TensorBase.", "_TensorBase."))
