"""Tracing one class by running it and writing down what it does, where torch.fx cannot.

torch.fx runs a forward on proxies, so Python control flow on them fails (``**kwargs``
forwards, ``if x.dim() == 3``, branches on config flags and on ``self.training``).
torch.export gets through those but costs seconds a class. This tracer runs the forward once,
on meta tensors (shapes only), under a ``TorchFunctionMode`` that records every torch
function, tensor method and operator the class's own code calls into an fx graph; each call
of a submodule is one ``call_module`` node (forward hooks mark where a child starts and
ends, and nothing inside a child is recorded). The graph is the same ``Traced`` the walker
replays, so shapes are recorded there as for the other tracers.

Python runs for real, so every branch takes the way these inputs take it, as export would
trace it. What Python computes from sizes has to stay a computation, so that the graph
follows another batch size: ``x.size(0)``, ``x.shape`` and ``x.dim()`` give ``TracedInt``s,
ints that remember the node they came from, and arithmetic on them is recorded too
(``(*x.shape[:-1], -1, 32)`` stays a read of ``x``'s sizes). A decision on the values of a
tensor (``if mask.any():``) cannot be made on meta tensors: that class is refused, as
export refuses it.
"""

from __future__ import annotations

import inspect
import operator
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch
import torch.utils._pytree as pytree
from torch import fx, nn
from torch.func import functional_call
from torch.fx.graph import _PyTreeCodeGen, _PyTreeInfo
from torch.overrides import TorchFunctionMode

from codegen.importer.errors import Untraceable
from codegen.importer.export_graph import _drop_unused, _identifier, _plain_spec, boxed, key_paths
from codegen.importer.export_modes import reads_training_anywhere, training_flags
from codegen.importer.export_trace import Call, ExportTraced

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
        if not isinstance(value, int) or isinstance(value, bool):
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


# -- the recording -----------------------------------------------------------------------------
class Recorder(TorchFunctionMode):
    """Writes the calls of one forward's own code into ``graph``; ``depth`` counts how far
    inside children the run is (0: the class's own code)."""

    def __init__(self, module: nn.Module, state: dict[str, torch.Tensor]):
        super().__init__()
        self.graph = fx.Graph()
        self.depth = 0
        self.active = False  # only while the class's forward runs (not functional_call's own)
        self.nodes: dict[int, fx.Node] = {}  # id of a tensor or device -> its node
        self.alive: list[Any] = []  # what ``nodes`` is keyed by stays alive (ids stay unique)
        self._names = {id(tensor): name for name, tensor in state.items()}
        self._device_source: fx.Node | None = None

    # what a value is in the graph
    def arg(self, value: Any) -> Any:
        if isinstance(value, TracedInt):
            return value.node
        if isinstance(value, torch.Tensor) or isinstance(value, torch.device):
            found = self.nodes.get(id(value))
            if found is not None:
                return found
            if isinstance(value, torch.Tensor):
                return self._held(value)
            return value
        if isinstance(value, (list, tuple)) and type(value) in (list, tuple, torch.Size):
            items = [self.arg(item) for item in value]
            return items if isinstance(value, list) else tuple(items)
        if type(value) is dict:
            return {key: self.arg(item) for key, item in value.items()}
        if isinstance(value, slice):
            return slice(self.arg(value.start), self.arg(value.stop), self.arg(value.step))
        return value

    def _held(self, tensor: torch.Tensor) -> fx.Node:
        """A weight or buffer read by the forward itself (a child's too: ``self.fc.weight``,
        which drafting refuses, saying so)."""
        name = self._names.get(id(tensor))
        if name is None:
            raise Untraceable(f"its forward uses a tensor of shape {tuple(tensor.shape)} that "
                              f"is neither an input, nor made in it, nor its own weight")
        return self.remember(tensor, self.graph.get_attr(name))

    def remember(self, value: Any, node: fx.Node) -> Any:
        """``value`` now comes from ``node``; sizes read from it are TracedInts."""
        if isinstance(value, (torch.Tensor, torch.device)):
            self.nodes[id(value)] = node
            self.alive.append(value)
            return node
        return node

    def placeholder(self, tensor: torch.Tensor, place) -> None:
        name = _identifier(place) if place.path else place.name
        node = self.graph.placeholder(name)
        if place.path:
            node.torchcanvas_leaf = (place.name, place.path)  # tracer.placeholder_value
        self.remember(tensor, node)

    # torch's calls
    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        result = func(*args, **kwargs)
        if self.depth or not self.active:
            return result
        if isinstance(result, torch.Tensor) and not result.is_meta:
            # made from numbers (torch.tensor(2.0), torch.arange(5)): the graph makes it
            # as the forward does; the recording goes on on meta, with the rest
            result = result.to("meta")
        return self._record(func, args, kwargs, result)

    def known(self, value: Any) -> bool:
        return id(value) in self.nodes or id(value) in self._names

    def _record(self, func: Callable, args: tuple, kwargs: dict, result: Any) -> Any:
        name = getattr(func, "__name__", "")
        if name == "__get__" and not isinstance(result, torch.Tensor) and \
                (func.__self__.__name__ == "dtype" or not self.known(args[0])):
            return result  # x.dtype, or a child's weight's: a constant, as fx would read it
        if name == "__get__":  # a property: x.shape, x.device, x.T
            node = self.graph.call_function(getattr, (self.arg(args[0]), func.__self__.__name__))
        elif name == "__iter__":  # q, k, v = x: the tensor unbound along its first dim
            node = self.graph.call_method("unbind", (self.arg(args[0]), 0))
            items = list(result)
            self.result(tuple(items), node)
            return iter(items)
        elif name == "__setitem__":
            raise Untraceable("its forward assigns into part of a tensor (x[...] = ...), which "
                              "a diagram cannot draw")
        elif _operator(name) is not None:
            function, swapped = _operator(name)
            operands = tuple(self.arg(a) for a in args)
            node = self.graph.call_function(function, operands[::-1] if swapped else operands)
        elif _is_method(func):
            node = self.graph.call_method(name, tuple(self.arg(a) for a in args),
                                          self.arg(kwargs))
        else:
            node = self.graph.call_function(func, tuple(self.arg(a) for a in args),
                                            self.arg(kwargs))
        return self.result(result, node, sizes=name in _SIZE_READS or name == "__get__")

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

    # children
    def child_call(self, path: str, args: tuple, kwargs: dict, output: Any) -> Any:
        node = self.graph.create_node("call_module", path, tuple(self.arg(a) for a in args),
                                      self.arg(kwargs), name="self_" if path == "self" else None)
        flat, spec = pytree.tree_flatten(boxed(output))
        if spec.is_leaf():
            return self.result(output, node)
        for leaf, keys in zip(flat, key_paths(spec)):
            if isinstance(leaf, torch.Tensor):
                self.remember(leaf, _picked(self.graph, node, keys))
        return output

    def output(self, value: Any, names: list[str]) -> None:
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


def _picked(graph: fx.Graph, node: fx.Node, keys: tuple) -> fx.Node:
    for key in keys:
        if isinstance(key, pytree.SequenceKey):
            node = graph.call_function(operator.getitem, (node, key.idx))
        elif isinstance(key, pytree.MappingKey):
            node = graph.call_function(operator.getitem, (node, key.key))
        else:
            node = graph.call_function(getattr, (node, key.name))
    return node


@contextmanager
def _children_marked(recorder: Recorder, module: nn.Module) -> Iterator[None]:
    """Hooks on every module below ``module``: a call made by the class's own code (depth
    0) is recorded as one node, and nothing inside it is."""
    handles = [module.register_forward_pre_hook(lambda *_: setattr(recorder, "active", True)),
               module.register_forward_hook(lambda *_: setattr(recorder, "active", False))]
    for path, child in module.named_modules(remove_duplicate=False):
        if not path:
            continue

        def before(_child, _args, _kwargs):
            recorder.depth += 1

        def after(_child, args, kwargs, output, path=path):
            recorder.depth -= 1
            if recorder.depth == 0:
                return recorder.child_call(path, args, kwargs, output)
            return None
        handles.append(child.register_forward_pre_hook(before, with_kwargs=True))
        handles.append(child.register_forward_hook(after, with_kwargs=True))
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


# -- one class -------------------------------------------------------------------------------
def trace_class_by_recording(module: nn.Module, args: tuple, kwargs: dict,
                             batch: int | None = None) -> ExportTraced:
    """The class's own graph for this call, its children as ``call_module`` nodes; raises
    Untraceable (with a one-line reason) where the forward cannot run on meta tensors, or
    does what a graph cannot hold."""
    call = Call.of(module, args, kwargs, batch)
    saved = module.training
    try:
        module.training = False
        evaluation = _recorded(module, call)
        if not reads_training_anywhere(type(module)):
            return ExportTraced(evaluation)
        module.training = True
        training = _recorded(module, call)
    finally:
        module.training = saved
    flags, values = training_flags(evaluation, training)
    return ExportTraced(evaluation, follows_training=flags, training_values=values)


def _recorded(module: nn.Module, call: Call) -> fx.Graph:
    state = {name: torch.empty_like(tensor, device="meta") for name, tensor in
             [*module.named_parameters(remove_duplicate=False),
              *module.named_buffers(remove_duplicate=False)]}
    tensors = [torch.empty_like(call.leaves[i], device="meta") for i in call.tensor_at]
    recorder = Recorder(module, state)
    for tensor, place in zip(tensors, call.places):
        recorder.placeholder(tensor, place)
    args, kwargs = _call_with(call, tensors)
    try:
        with _children_marked(recorder, module), recorder:
            result = functional_call(module, state, args, kwargs, strict=False)
    except Untraceable:
        raise
    except Exception as err:  # noqa: BLE001 - the model's own code: any error, one line
        first = (str(err).strip().splitlines() or [""])[0][:160]
        raise Untraceable(f"running it on meta tensors to record it failed "
                          f"({type(err).__name__}: {first})") from None
    recorder.output(result, [n.name for n in recorder.graph.nodes if n.op == "placeholder"])
    _drop_unused(recorder.graph)
    recorder.graph.lint()
    return recorder.graph


def _call_with(call: Call, tensors: list[torch.Tensor]) -> tuple[tuple, dict]:
    """The call's arguments, its tensors replaced by ``tensors``."""
    leaves = list(call.leaves)
    for index, tensor in zip(call.tensor_at, tensors):
        leaves[index] = tensor
    bound = inspect.BoundArguments(call.signature, pytree.tree_unflatten(leaves, call.spec))
    return bound.args, bound.kwargs
