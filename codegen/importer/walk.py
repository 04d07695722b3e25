"""One forward pass through the model, class by class, recording what every graph node made.

Each user class is traced (see tracer.py) the first time it is called, with the arguments of
that call, and its graph is then run node by node right here: tensor ops for real, calls to
submodules by visiting them in turn. So the same pass that runs the model records the shape
of every edge of every class's graph, at every depth, with nothing to match up afterwards.

The pass runs on meta tensors (shapes only, no arithmetic); the weights are swapped for meta
copies with ``torch.func.functional_call``. A model that cannot run on meta tensors (an op
without a meta kernel) is run again on real tensors.

A second pass with the batch size changed (``replay``) reuses the graphs and records the
sizes again; sizes that moved with the batch become the symbolic ``N``.

The model's own code called from a graph (a child's forward) gets plain lists and dicts, as
in the original call, never the immutable containers fx keeps in its nodes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import fx, nn
from torch.func import functional_call

from codegen.importer.export_trace import export_key, trace_class_by_export
from codegen.importer.import_errors import Untraceable
from codegen.importer.leaves import catalog_spec, is_sequential, is_torch_module, is_user_class
from codegen.importer.record_trace import record_all
from codegen.importer.shortcuts import module_result, op_result
from codegen.importer.tracer import (
    Traced,
    bind_arguments,
    concrete_arguments,
    instance_key,
    placeholder_value,
    returned,
    trace_class,
)
from codegen.importer.values import describe


@dataclass
class Visit:
    """One call of one module."""

    module: nn.Module
    path: str  # from the root, as in named_modules ("" for the root)
    kind: str  # "traced", "sequential", "leaf" (catalog layer) or "kept" (run as it is)
    ordinal: int = 0  # how many calls of the same module came before this one
    bound: dict[str, Any] = field(default_factory=dict)  # forward's arguments, described
    bound_b: dict[str, Any] = field(default_factory=dict)
    output: Any = None
    output_b: Any = None
    traced: Traced | None = None
    reason: str = ""  # why a user class is kept as it is
    values: dict[str, Any] = field(default_factory=dict)  # fx node name -> described value
    values_b: dict[str, Any] = field(default_factory=dict)
    calls: dict[str, Visit] = field(default_factory=dict)  # call_module node -> its visit
    steps: list[Visit] = field(default_factory=list)  # a sequential's layers, in order
    inputs: list[Any] = field(default_factory=list)  # positional values, described
    inputs_b: list[Any] = field(default_factory=list)


class ReplayMismatch(Exception):
    """The second pass took another path than the first."""


class Walker:
    def __init__(self, root: nn.Module, meta: bool):
        self.root = root
        self.meta = meta
        self.replaying = False
        self.visits: dict[tuple[int, int], Visit] = {}
        self.order: list[Visit] = []  # first pass, in call order (parents first)
        self._counts: dict[int, int] = {}
        self._traces: dict[tuple, Traced | Untraceable] = {}
        self._meta_tensors: dict[int, torch.Tensor] = {}
        self.batch_size: int | None = None  # dim 0 of the model's inputs, where they share it

    # -- entry points ----------------------------------------------------------------------
    def run(self, inputs: tuple) -> Visit:
        self.batch_size = _shared_batch(inputs)
        self._counts.clear()
        self.visit(self.root, "", inputs, {})
        return self.order[0]

    def replay(self, inputs: tuple) -> None:
        self.replaying = True
        self._counts.clear()
        try:
            self.visit(self.root, "", inputs, {})
        finally:
            self.replaying = False

    # -- one module call ---------------------------------------------------------------------
    def visit(self, module: nn.Module, path: str, args: tuple, kwargs: dict):
        ordinal = self._counts.get(id(module), 0)
        self._counts[id(module)] = ordinal + 1
        if self.replaying:
            record = self.visits.get((id(module), ordinal))
            if record is None:
                raise ReplayMismatch(path)
        else:
            record = Visit(module, path, self._kind(module), ordinal)
            self.visits[(id(module), ordinal)] = record
            self.order.append(record)
        try:
            output = self._dispatch(record, args, kwargs)
        except Exception as err:
            if not hasattr(err, "torchcanvas_path"):
                err.torchcanvas_path = path  # the innermost module that failed
                err.torchcanvas_type = type(module).__name__
            raise
        if self.replaying:
            record.output_b = describe(output)
            record.inputs_b = [describe(a) for a in args]
        else:
            record.output = describe(output)
            record.inputs = [describe(a) for a in args]
        return output

    def _kind(self, module: nn.Module) -> str:
        if is_sequential(module):
            return "sequential"
        if catalog_spec(module) is not None:
            return "leaf"
        if is_torch_module(module):
            return "kept"  # a torch layer the catalog lacks: run, never traced
        return "traced"

    def _dispatch(self, record: Visit, args: tuple, kwargs: dict):
        if record.kind == "sequential":
            return self._run_sequential(record, args, kwargs)
        if record.kind in ("traced", "kept") and is_user_class(record.module):
            self._bind(record, args, kwargs)
        if record.kind == "traced":
            if not self.replaying and record.traced is None and not record.reason:
                self._trace(record, args, kwargs)
            if record.traced is not None:
                return self._interpret(record, args, kwargs)
        return self._run_module(record.module, args, kwargs)

    def _bind(self, record: Visit, args: tuple, kwargs: dict) -> None:
        """The forward's arguments by name, for the block's ports (kept classes too)."""
        try:
            bound = bind_arguments(record.module, args, kwargs)
        except Untraceable as err:
            record.reason = record.reason or err.reason
            record.kind = "kept"
            return
        described = {name: describe(value) for name, value in bound.items()}
        if self.replaying:
            record.bound_b = described
        else:
            record.bound = described

    def _trace(self, record: Visit, args: tuple, kwargs: dict) -> None:
        """torch.fx first; where it cannot, a recording of one run (record_trace.py), then
        torch.export (slow, but it traces what a run on meta tensors cannot: code that
        reads a tensor's values where it is not exported); where none can, keep it."""
        try:
            bound = bind_arguments(record.module, args, kwargs)
            concrete = concrete_arguments(bound)
            key = (instance_key(record.module), repr(concrete))
            if key not in self._traces:
                self._traces[key] = trace_class(record.module, concrete)
            record.traced = self._traces[key]
            return
        except Untraceable as err:
            by_fx = err.reason
        found = self._traced_by_export(record.module, args, kwargs, by_fx)
        if isinstance(found, Untraceable):
            record.reason, record.kind = found.reason, "kept"
        else:
            record.traced = found

    def _traced_by_export(self, module: nn.Module, args: tuple, kwargs: dict,
                          by_fx: str) -> Traced | Untraceable:
        """The recorded graph for this call, else the exported one, else why there is none.
        One recorded run draws every class called below too (all cached: both tracers
        specialise on shapes, so the key is export_key, not the fixed arguments)."""
        key = export_key(module, args, kwargs)
        if ("recorded", key) not in self._traces:
            for found_key, found in record_all(module, args, kwargs, self.batch_size).items():
                self._traces.setdefault(("recorded", found_key), found)
        recorded = self._traces.get(("recorded", key))
        if isinstance(recorded, Traced):
            return recorded
        if ("export", key) not in self._traces:
            self._traces[("export", key)] = _exported(module, args, kwargs, self.batch_size,
                                                      by_fx, recorded)
        return self._traces[("export", key)]

    def _run_sequential(self, record: Visit, args: tuple, kwargs: dict):
        if kwargs or len(args) != 1:
            raise TypeError("nn.Sequential takes exactly one input")
        value = args[0]
        steps = []
        for name, child in record.module._modules.items():
            value = self.visit(child, _join(record.path, name), (value,), {})
            steps.append(self._last_visit_of(child))
        if not self.replaying:
            record.steps = steps
        return value

    def _run_module(self, module: nn.Module, args: tuple, kwargs: dict):
        if not self.meta:
            return module(*args, **kwargs)
        known = module_result(module, args, kwargs)
        if known is not None:
            return known
        state = {name: self._on_meta(t) for name, t in
                 [*module.named_parameters(remove_duplicate=False),
                  *module.named_buffers(remove_duplicate=False)]}
        return functional_call(module, state, args, kwargs)

    def _on_meta(self, tensor: torch.Tensor) -> torch.Tensor:
        found = self._meta_tensors.get(id(tensor))
        if found is None:
            found = torch.empty_like(tensor, device="meta")
            self._meta_tensors[id(tensor)] = found
        return found

    # -- running a traced graph ------------------------------------------------------------------
    def _interpret(self, record: Visit, args: tuple, kwargs: dict):
        graph = record.traced.graph
        bound = bind_arguments(record.module, args, kwargs)
        last_use = {}
        for index, node in enumerate(graph.nodes):
            for used in node.all_input_nodes:
                last_use[used] = index
        env: dict[fx.Node, Any] = {}
        values = record.values_b if self.replaying else record.values
        result = None
        for index, node in enumerate(graph.nodes):
            value = self._run_node(record, node, env, bound)
            if node.op == "output":
                result = value
            env[node] = value
            values[node.name] = describe(value)
            for used in node.all_input_nodes:
                if last_use.get(used) == index:
                    del env[used]  # drop activations as soon as nothing needs them
        return result

    def _run_node(self, record: Visit, node: fx.Node, env: dict, bound: dict):
        # map_arg gives fx's immutable containers; the model's own code (a child's forward,
        # a function fx traced through) may append to a list it is given, or hand it to an
        # op that takes only plain lists: it gets plain ones, as in the original call.
        args = plain_containers(fx.node.map_arg(node.args, env.__getitem__))
        kwargs = plain_containers(fx.node.map_arg(node.kwargs, env.__getitem__))
        if node.op == "placeholder":
            if node.target in bound:
                return bound[node.target]
            found, value = placeholder_value(node, bound)
            if found:  # a fixed argument, or one item of a list or tuple argument
                return value
            return node.args[0] if node.args else None
        if node.op == "get_attr":
            tensor = _fetch(record.module, node.target)
            return self._on_meta(tensor) if self.meta and isinstance(tensor, torch.Tensor) \
                else tensor
        if node.op in ("call_function", "call_method") and self.meta:
            known = op_result(node.op, node.target, args, kwargs)
            if known is not None:
                return known
        if node.op == "call_function":
            return node.target(*args, **kwargs)
        if node.op == "call_method":
            target, *rest = args
            return getattr(target, node.target)(*rest, **kwargs)
        if node.op == "call_module":
            child = record.module.get_submodule(node.target)
            output = self.visit(child, _join(record.path, node.target), tuple(args), kwargs)
            if not self.replaying:
                record.calls[node.name] = self._last_visit_of(child)
            return output
        if node.op == "output":
            return returned(record.traced.graph, args[0])
        raise Untraceable(f"unexpected graph node {node.op}")

    def _last_visit_of(self, module: nn.Module) -> Visit:
        return self.visits[(id(module), self._counts[id(module)] - 1)]


def _exported(module: nn.Module, args: tuple, kwargs: dict, batch: int | None, by_fx: str,
              recorded: Untraceable | None) -> Traced | Untraceable:
    try:
        return trace_class_by_export(module, args, kwargs, batch=batch)
    except Untraceable as err:
        by_run = f"{recorded.reason}; " if recorded is not None else ""
        return Untraceable(f"{by_fx}; {by_run}{err.reason}")


def _shared_batch(inputs: tuple) -> int | None:
    """The size of dim 0 where every input tensor has the same one (export keeps sizes equal
    to it symbolic), else None."""
    sizes = {t.shape[0] for t in inputs if isinstance(t, torch.Tensor) and t.dim() > 0}
    return sizes.pop() if len(sizes) == 1 else None


def plain_containers(value: Any) -> Any:
    """``value`` with every list and dict in it (fx's immutable ones included) a plain,
    fresh one; tuples stay tuples (named tuples keep their type)."""
    if isinstance(value, list):
        return [plain_containers(item) for item in value]
    if isinstance(value, dict):
        return {key: plain_containers(item) for key, item in value.items()}
    if type(value) is tuple:
        return tuple(plain_containers(item) for item in value)
    return value


def _fetch(module: nn.Module, target: str):
    value: Any = module
    for part in target.split("."):
        value = getattr(value, part)
    return value


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name
