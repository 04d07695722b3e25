"""Tracing classes by running them once and writing down what they do, where torch.fx cannot.

torch.fx runs a forward on proxies, so Python control flow on them fails (``**kwargs``
forwards, ``if x.dim() == 3``, branches on config flags and on ``self.training``).
torch.export gets through those but costs seconds a class. This tracer runs the forward for
real, on zeros shaped as the call's tensors, under a ``TorchFunctionMode``, and writes down
the graph of every class at every depth in that one run (record_frame.py): each module call
opens a frame (forward hooks mark where a call starts and ends), and each torch call goes
to the innermost class running. A class's graph is then its own level, its children's calls
one node each, as the walker replays it.

Python runs for real, so every branch takes the way these inputs take it, as export would
trace it. A class whose own code reads a tensor's values (``if mask.any():``, ``.item()``)
cannot be drawn from a run: it is refused (export then tries). The user's model is left as
it was: buffers a training run changes (batch-norm statistics) are put back, and the random
number generator too.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import fx, nn
from torch.overrides import TorchFunctionMode

from codegen.importer.export_graph import _drop_unused
from codegen.importer.export_modes import reads_training_anywhere, training_flags
from codegen.importer.export_trace import Call, ExportTraced, export_key
from codegen.importer.import_errors import Untraceable
from codegen.importer.leaves import is_user_class
from codegen.importer.record_frame import Frame, TracedInt

__all__ = ["TracedInt", "record_all", "trace_class_by_recording"]

_OPAQUE = None  # on the stack: a module that is not recorded (a torch layer, a container)


class Recording(TorchFunctionMode):
    """One run: a stack of the frames being recorded, innermost last; each finished one's
    graph, or why it has none, by export_key."""

    def __init__(self):
        super().__init__()
        self.stack: list[Frame | None] = []
        self.keys: list[tuple | None] = []  # each call's export_key, beside the stack
        self.graphs: dict[tuple, fx.Graph | Untraceable] = {}

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        result = func(*args, **kwargs)
        frame = self.stack[-1] if self.stack else None
        if frame is None or frame.failed:
            return result
        try:
            return frame.record(func, args, kwargs, result)
        except Untraceable as err:
            frame.failed = err.reason
            return result

    # -- module calls ------------------------------------------------------------------------
    def entered(self, module: nn.Module, args: tuple, kwargs: dict) -> None:
        key = export_key(module, args, kwargs) if is_user_class(module) else None
        self.keys.append(key)
        if key is None or key in self.graphs:
            self.stack.append(_OPAQUE)
            return
        try:
            call = Call.of(module, args, kwargs)
        except Untraceable as err:
            self.graphs[key] = err
            self.stack.append(_OPAQUE)
            return
        tensors = [call.leaves[i] for i in call.tensor_at]
        self.stack.append(Frame(module, call, tensors))

    def left(self, module: nn.Module, args: tuple, kwargs: dict, output: Any) -> None:
        frame, key = self.stack.pop(), self.keys.pop()
        if frame is not None:
            self.graphs.setdefault(key, self._finished(frame, output))
        caller = self.stack[-1] if self.stack else None
        if caller is not None and not caller.failed:
            try:
                caller.child_call(module, args, kwargs, output)
            except Untraceable as err:
                caller.failed = err.reason

    @staticmethod
    def _finished(frame: Frame, output: Any) -> fx.Graph | Untraceable:
        if frame.failed:
            return Untraceable(frame.failed)
        try:
            frame.output(output)
        except Untraceable as err:
            return err
        _drop_unused(frame.graph)
        frame.graph.lint()
        return frame.graph


@contextmanager
def _calls_marked(recording: Recording, module: nn.Module) -> Iterator[None]:
    handles = []
    for child in module.modules():
        handles.append(child.register_forward_pre_hook(
            lambda m, args, kwargs: recording.entered(m, args, kwargs), with_kwargs=True))
        handles.append(child.register_forward_hook(
            lambda m, args, kwargs, output: recording.left(m, args, kwargs, output),
            with_kwargs=True))
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


@contextmanager
def _state_put_back(module: nn.Module, training: bool) -> Iterator[None]:
    """The mode, the buffers (a training run updates batch-norm statistics) and the random
    number generator, as they were."""
    modes = {m: m.training for m in module.modules()}
    buffers = [(b, b.detach().clone()) for b in module.buffers()]
    try:
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            module.train(training)
            yield
    finally:
        for m, mode in modes.items():
            m.training = mode
        with torch.no_grad():
            for buffer, saved in buffers:
                buffer.copy_(saved)


def _run(module: nn.Module, call: Call, training: bool) -> dict[tuple, fx.Graph | Untraceable]:
    recording = Recording()
    # zeros where the walker passes meta tensors; copies of real ones (the forward may
    # change its inputs in place)
    args, kwargs = call.bound_with([t.clone() for t in call.tensors()])
    try:
        with _state_put_back(module, training), _calls_marked(recording, module), recording:
            module(*args, **kwargs)
    except Exception as err:  # noqa: BLE001 - the model's own code: any error, one line
        first = (str(err).strip().splitlines() or [""])[0][:160]
        failed = Untraceable(f"running it to record it failed ({type(err).__name__}: {first})")
        recording.graphs[export_key(module, args, kwargs)] = failed
    return recording.graphs


def record_all(module: nn.Module, args: tuple, kwargs: dict, batch: int | None = None
               ) -> dict[tuple, ExportTraced | Untraceable]:
    """The graph of every class called in one run of ``module(*args, **kwargs)``, by
    export_key of its call (the root's included), or why it has none. Where a class reads
    ``self.training``, the run is made in both modes and the graphs compared."""
    call = Call.of(module, args, kwargs, batch)
    evaluation = _run(module, call, training=False)
    classes = {type(m) for m in module.modules() if is_user_class(m)}
    training = _run(module, call, training=True) if any(
        reads_training_anywhere(cls) for cls in classes) else {}
    return {key: _both_modes(graph, training.get(key)) for key, graph in evaluation.items()}


def _both_modes(evaluation: Any, training: Any) -> ExportTraced | Untraceable:
    if isinstance(evaluation, Untraceable):
        return evaluation
    if isinstance(training, Untraceable):
        return training
    if training is None:
        return ExportTraced(evaluation)
    try:
        flags, values = training_flags(evaluation, training)
    except Untraceable as err:
        return err
    return ExportTraced(evaluation, follows_training=flags, training_values=values)


def trace_class_by_recording(module: nn.Module, args: tuple, kwargs: dict,
                             batch: int | None = None) -> ExportTraced:
    """The class's own graph for this call, its children as ``call_module`` nodes; raises
    Untraceable (with a one-line reason) where a run cannot give it."""
    found = record_all(module, args, kwargs, batch).get(export_key(module, args, kwargs))
    if found is None:
        raise Untraceable("it was not called when its forward ran")
    if isinstance(found, Untraceable):
        raise found
    return found
