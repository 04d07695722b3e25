"""Tracing one class with torch.export, where torch.fx cannot (tracer.py is the first try).

torch.export in non-strict mode runs the forward as Python, on fake tensors, so it goes
through what torch.fx stops at: branches on config flags and on ranks and sizes
(``if x.dim() == 3``), ``**kwargs`` forwards, results that are ``ModelOutput`` dataclasses,
dicts or nested tuples. The children's call signatures are preserved and the program is
unflattened (``torch.export.unflatten``), so the class's own level comes back with each
child's call as one ``call_module`` node; export_graph.py rewrites that level into the graph
torch.fx would have given, ATen ops as torch calls. The result is the same ``Traced`` the
walker replays on meta tensors; nothing about shapes is recorded here.

Sizes equal to the batch (every size, where the batch is not known) are marked dynamic
(``Dim.AUTO``), so that sizes read from tensors stay reads (``x.size(0)``) that follow the
batch, as in a graph torch.fx traced, instead of numbers baked in; a forward that cannot be
exported so is exported once more with its sizes fixed. Export specialises on the sizes it
is given, so a graph belongs to the shapes of its call (export_key).

The forward is exported through a stand-in that takes the call's tensors alone (the rest of
the call is fixed, as tracer.concrete_arguments fixes it), which also sidesteps how export
pairs ``dynamic_shapes`` with ``**kwargs``. The stand-in is an attribute of the module only
while export runs; everything export adds to the module tree is taken away again.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import itertools
import logging
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.utils._pytree as pytree
from torch import fx, nn
from torch.export import Dim
from torch.fx.experimental import _config as shape_config

from codegen.importer.export_graph import Place, Rebuild, Unpreserved, boxed
from codegen.importer.export_modes import reads_training_anywhere, training_flags
from codegen.importer.import_errors import Untraceable
from codegen.importer.tracer import Traced, instance_key


@dataclass
class ExportTraced(Traced):
    """A Traced made by torch.export. ``training_values``: for each keyword in
    ``follows_training``, its value in training mode (``dropout_p`` 0.1)."""

    training_values: dict[str, dict[str, Any]] = field(default_factory=dict)


def trace_class_by_export(module: nn.Module, args: tuple, kwargs: dict,
                          batch: int | None = None) -> ExportTraced:
    """The class's own graph for this call, its children as ``call_module`` nodes; raises
    Untraceable (with a one-line reason) where torch.export cannot trace it either.

    ``batch``: the model's batch size in this call, where the caller knows it. Sizes equal
    to it stay reads of a tensor's size (``x.size(0)``), as torch.fx keeps them; others are
    fixed. Without it every size is kept a read, which is slower to export (symbolic
    sizes cost export much more than fixed ones)."""
    call = Call.of(module, args, kwargs, batch)
    saved = module.training
    try:
        module.training = False
        evaluation = _graph(module, call)
        if not reads_training_anywhere(type(module)):
            return ExportTraced(evaluation)
        module.training = True
        training = _graph(module, call)
    finally:
        module.training = saved
    flags, values = training_flags(evaluation, training)
    return ExportTraced(evaluation, follows_training=flags, training_values=values)


def export_key(module: nn.Module, args: tuple, kwargs: dict) -> tuple:
    """What an export trace depends on, for the walker's cache: the instance (as
    tracer.instance_key), the shape and dtype of every tensor of the call (export may
    specialise on any of them) and the other values of the call, bound to the forward's
    parameters (``f(x, mask=m)`` and ``f(x, m)`` are one call)."""
    try:
        bound: Any = dict(inspect.signature(module.forward).bind(*args, **kwargs).arguments)
    except TypeError:
        bound = (args, kwargs)
    leaves, spec = pytree.tree_flatten(bound)
    described = tuple((tuple(v.shape), v.dtype) if isinstance(v, torch.Tensor) else repr(v)
                      for v in leaves)
    return (instance_key(module), described, repr(spec))


# -- the call ------------------------------------------------------------------------------
@dataclass
class Call:
    """One call of a forward, taken apart: its tensors (exported as inputs), where each
    sits among the forward's parameters, and how to put the call back together."""

    module: nn.Module
    leaves: list[Any]  # the bound arguments, flattened (tensors and the rest)
    spec: pytree.TreeSpec
    tensor_at: list[int]  # which leaves are tensors
    places: list[Place]
    signature: inspect.Signature
    batch: int | None = None

    @classmethod
    def of(cls, module: nn.Module, args: tuple, kwargs: dict, batch: int | None = None
           ) -> Call:
        signature = inspect.signature(module.forward)
        try:
            bound = signature.bind(*args, **kwargs).arguments
        except TypeError as err:
            raise Untraceable(f"its forward was called in a way its signature does not "
                              f"allow ({err})") from None
        with_paths, spec = pytree.tree_flatten_with_path(dict(bound))
        leaves = [leaf for _, leaf in with_paths]
        tensor_at = [i for i, leaf in enumerate(leaves) if isinstance(leaf, torch.Tensor)]
        places = [_place(with_paths[i][0], bound) for i in tensor_at]
        return cls(module, leaves, spec, tensor_at, places, signature, batch)

    def tensors(self) -> list[torch.Tensor]:
        """The call's tensors, on the module's device where they are meta tensors (export
        runs on fake tensors, so only their shapes and dtypes matter)."""
        held = itertools.chain(self.module.parameters(), self.module.buffers())
        device = next((t.device for t in held if t.device.type != "meta"), torch.device("cpu"))
        return [torch.zeros(t.shape, dtype=t.dtype, device=device)
                if t.device.type == "meta" else t for t in map(self.leaves.__getitem__,
                                                                 self.tensor_at)]

    def bound_with(self, tensors: list[torch.Tensor]) -> tuple[tuple, dict]:
        """The call's positional and keyword arguments, its tensors replaced by
        ``tensors``."""
        leaves = list(self.leaves)
        for index, tensor in zip(self.tensor_at, tensors):
            leaves[index] = tensor
        bound = inspect.BoundArguments(self.signature, pytree.tree_unflatten(leaves, self.spec))
        return bound.args, bound.kwargs

    def stand_in(self, forward: Callable) -> Callable:
        """A forward that takes the tensors alone and calls ``forward`` as the call did."""
        def call_with(*tensors: torch.Tensor) -> Any:
            args, kwargs = self.bound_with(list(tensors))
            return boxed(forward(*args, **kwargs))
        return call_with

    def dynamic_shapes(self, tensors: tuple) -> tuple | None:
        """Export's ``dynamic_shapes`` for the stand-in: which sizes stay symbolic."""
        if not tensors:
            return None
        if self.batch is None:  # every size but 0 and 1, which export always fixes
            return (tuple({i: Dim.AUTO for i, size in enumerate(t.shape) if size > 1}
                          for t in tensors),)
        return (tuple({i: Dim.AUTO for i, size in enumerate(t.shape) if size == self.batch}
                      for t in tensors),)


def _place(path: tuple, bound: dict[str, Any]) -> Place:
    name, *inside = path
    keys = []
    for key in inside:
        if isinstance(key, pytree.SequenceKey):
            keys.append(key.idx)
        elif isinstance(key, pytree.MappingKey):
            keys.append(key.key)
        else:
            kind = type(bound[name.key]).__name__
            raise Untraceable(f"its forward takes {name.key!r} as a {kind} holding tensors, "
                              f"which a diagram cannot wire")
    return Place(name.key, tuple(keys))


# -- exporting -----------------------------------------------------------------------------
def _graph(module: nn.Module, call: Call) -> fx.Graph:
    keep = _callees(module)
    for _attempt in range(3):
        unflattened = _unflattened(module, call, keep)
        try:
            return Rebuild(unflattened, module, call.places).run()
        except Unpreserved as err:  # a module called from inside a holder: keep it too
            keep = (*keep, *sorted(err.targets))
    raise Untraceable(f"torch.export does not keep the calls of {', '.join(keep)} whole")


def _callees(module: nn.Module) -> tuple[str, ...]:
    """The modules a forward may call itself: its children, and the items of children that
    are containers (``self.layers[0](x)``)."""
    names = []
    for name, child in module.named_children():
        names.append(name)
        if isinstance(child, (nn.ModuleList, nn.ModuleDict, nn.Sequential)):
            names += [f"{name}.{item}" for item in child._modules]
    return tuple(names)


def _unflattened(module: nn.Module, call: Call, keep: tuple[str, ...]) -> nn.Module:
    tensors = tuple(call.tensors())
    with _left_as_it_was(module), _quiet(), _sizes_of_one_kept(call.batch == 1):
        with _forward_replaced(module, call.stand_in(_original_forward(module))), \
                _results_boxed(module, keep):
            program = _export(module, tensors, call.dynamic_shapes(tensors), keep)
        try:
            return torch.export.unflatten(program)
        except Exception as err:  # noqa: BLE001 - any failure: say which, keep the source
            raise Untraceable(f"torch.export.unflatten cannot rebuild it "
                              f"({_first_line(err)})") from None


def _export(module: nn.Module, tensors: tuple, dynamic: Any, keep: tuple[str, ...]):
    """The exported program; with sizes fixed when dynamic ones cannot be traced."""
    try:
        return torch.export.export(module, tensors, dynamic_shapes=dynamic, strict=False,
                                   preserve_module_call_signature=keep)
    except Exception as err:  # noqa: BLE001 - export raises many kinds
        first = err
    if dynamic is not None:
        try:
            return torch.export.export(module, tensors, strict=False,
                                       preserve_module_call_signature=keep)
        except Exception:  # noqa: BLE001, S110 - the first error says more
            pass
    raise Untraceable(f"torch.export cannot trace it either ({_first_line(first)})") from None


def _original_forward(module: nn.Module) -> Callable:
    return module.__dict__.get("forward") or type(module).forward.__get__(module)


def _first_line(err: Exception) -> str:
    text = (str(err).strip().splitlines() or [""])[0]
    return f"{type(err).__name__}: {text[:200]}"


# Loggers that report, as warnings, what export decided (a size it fixed, a guard it added).
_EXPORT_LOGGERS = ("torch._export", "torch.export", "torch._dynamo", "torch.fx.experimental",
                   "torch._subclasses")


@contextmanager
def _quiet() -> Iterator[None]:
    """Export's warnings, log lines and printouts (the graph of a trace that failed) are
    about export, not about the user's model."""
    loggers = [logging.getLogger(name) for name in _EXPORT_LOGGERS]
    levels = [logger.level for logger in loggers]
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), \
            contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        for logger in loggers:
            logger.setLevel(logging.ERROR)
        try:
            yield
        finally:
            for logger, level in zip(loggers, levels):
                logger.setLevel(level)


@contextmanager
def _sizes_of_one_kept(needed: bool) -> Iterator[None]:
    """Export fixes every size of 1 unless told to reason about sizes without it ("size
    oblivious"): needed for a batch of one to stay a read of the batch size."""
    if not needed:
        yield
        return
    with shape_config.patch(backed_size_oblivious=True):
        yield


@contextmanager
def _forward_replaced(module: nn.Module, stand_in: Callable) -> Iterator[None]:
    """``module(...)`` calls ``stand_in`` for a while (an attribute of the instance comes
    before its class's forward)."""
    before = vars(module).get("forward")
    module.forward = stand_in
    try:
        yield
    finally:
        if before is None:
            del module.forward
        else:
            module.forward = before


@contextmanager
def _results_boxed(module: nn.Module, paths: tuple[str, ...]) -> Iterator[None]:
    """The children's results with their unknown dataclasses boxed, for export to flatten
    (a hook registered before export's own runs first)."""
    handles = [module.get_submodule(path).register_forward_hook(
        lambda _module, _args, result: boxed(result)) for path in paths]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


@contextmanager
def _left_as_it_was(module: nn.Module) -> Iterator[None]:
    """Export may leave attributes, buffers and hooks on the modules it runs: remove every
    one that was not there before (as tracer._trace_once does for fx)."""
    before = {m: _state_of(m) for m in module.modules()}
    try:
        yield
    finally:
        for m, state in before.items():
            _restore(m, state)


_KEPT_DICTS = ("_parameters", "_buffers", "_modules", "_forward_hooks", "_forward_pre_hooks",
               "_forward_hooks_with_kwargs", "_forward_hooks_always_called",
               "_forward_pre_hooks_with_kwargs", "_non_persistent_buffers_set")


def _state_of(module: nn.Module) -> dict[str, Any]:
    state = {name: set(getattr(module, name, ())) for name in _KEPT_DICTS}
    state["__dict__"] = set(vars(module))
    return state


def _restore(module: nn.Module, state: dict[str, Any]) -> None:
    for name in _KEPT_DICTS:
        held = getattr(module, name, None)
        if held is None:
            continue
        for key in set(held) - state[name]:
            held.discard(key) if isinstance(held, set) else held.pop(key)
    for name in set(vars(module)) - state["__dict__"]:
        delattr(module, name)
