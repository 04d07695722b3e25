"""A kept class is never a black box: record what it does inside, for the reader.

A class import cannot draw is kept as its source (codegen/importer/keep.py). So that the
diagram still shows what happens in it, one instance is run once more under torchview's
recorder on the inputs the model gave it, and what it called (its direct submodules, the
tensor ops between them, the shapes they returned) becomes the block's ``OpaqueClass.view``.

The view is display only: codegen never reads it and the kept source stays the truth. It
runs the real module on real tensors (a kept class often branches on tensor values, which
meta tensors cannot do), under ``torch.no_grad`` and in eval mode. Nothing here raises: a
class that cannot be recorded gets no view and a one-line reason among the import warnings.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import graphviz
import torch
from torch import nn
from torchview.computation_graph import ComputationGraph
from torchview.computation_node import FunctionNode, ModuleNode, TensorNode
from torchview.recorder_tensor import Recorder, _orig_module_forward, module_forward_wrapper
from torchview.torchview import process_input

from graph_schema.document import Project, RecordedView, ViewEdge, ViewNode

MAX_VIEW_NODES = 2_000  # more than anyone reads; a class that loops longer gets no view
DEPTH = 1  # the kept class itself is depth 0: show its direct submodules, not theirs


@dataclass
class Recording:
    view: RecordedView | None
    reason: str = ""  # why there is no view


def add_kept_views(model: nn.Module, inputs: tuple, project: Project) -> list[str]:
    """Give every kept-source block of ``project`` the view of one instance of its class in
    ``model``, as called when the model runs on ``inputs``; a warning for each that has none.
    """
    kept = [block for block in project.blocks if block.opaque is not None]
    if not kept:
        return []
    instances = _first_instances(model, {block.opaque.origin for block in kept})
    with _left_as_it_was(model):
        calls, failure = _captured_calls(model, inputs, list(instances.values()))
    warnings = []
    for block in kept:
        module = instances.get(block.opaque.origin)
        if module is None and not _placed(project, block.name):
            continue  # a helper a kept class needs (a function, an autograd Function)
        if module is None:
            recording = Recording(None, "no instance of it was found in the model")
        elif id(module) not in calls:
            recording = Recording(None, failure or "the model's forward never called it")
        else:
            with _left_as_it_was(module):
                recording = record_view(module, *calls[id(module)])
        if recording.view is None:
            warnings.append(f"kept class {block.opaque.class_name}: no view of its inside "
                            f"({recording.reason})")
        block.opaque = block.opaque.model_copy(update={"view": recording.view})
    return warnings


def record_view(module: nn.Module, args: tuple, kwargs: dict) -> Recording:
    """Run ``module(*args, **kwargs)`` once under torchview's recorder: its direct
    submodules and tensor ops, one node each, with their output shapes. Never raises."""
    training = {sub: sub.training for sub in module.modules()}
    try:
        module.eval()
        graph = _recorded_graph(module, args, kwargs)
        nodes, edges = _view_parts(graph, module)
        if len(nodes) > MAX_VIEW_NODES:
            return Recording(None, f"it ran {len(nodes):,} steps, more than the "
                                   f"{MAX_VIEW_NODES:,} a view shows")
        return Recording(RecordedView(nodes=nodes, edges=edges))
    except Exception as err:  # noqa: BLE001 - a view is a courtesy; the import stands anyway
        return Recording(None, _one_line(err))
    finally:
        for sub, mode in training.items():
            sub.training = mode


@contextlib.contextmanager
def _left_as_it_was(module: nn.Module) -> Iterator[None]:
    """The module's buffers (a counter, running statistics a forward updates in place) and
    every torch RNG as they were before: recording is only looking."""
    buffers = [(buffer, buffer.detach().clone()) for buffer in module.buffers()]
    with torch.random.fork_rng(devices=[]):
        try:
            yield
        finally:
            with torch.no_grad():
                for buffer, saved in buffers:
                    buffer.copy_(saved)


def _placed(project: Project, name: str) -> bool:
    return any(node.block_name == name
               for graph in [*project.networks, *project.blocks] for node in graph.nodes)


# -- finding each kept class's call ------------------------------------------------------
def _origin(module: nn.Module) -> str:
    cls = type(module)
    return f"{cls.__module__}.{cls.__qualname__}"  # as OpaqueClass.origin records it


def _first_instances(model: nn.Module, origins: set[str]) -> dict[str, nn.Module]:
    found: dict[str, nn.Module] = {}
    for module in model.modules():
        origin = _origin(module)
        if origin in origins and origin not in found:
            found[origin] = module
    return found


class _AllCaptured(Exception):
    """Every wanted call was seen: the rest of the forward need not run."""


def _captured_calls(model: nn.Module, inputs: tuple, modules: list[nn.Module]
                    ) -> tuple[dict[int, tuple[tuple, dict]], str]:
    """The arguments each module was first called with in one real forward of the model
    (copies: a later in-place op must not change them), and why the forward failed, if it
    did before each was called."""
    calls: dict[int, tuple[tuple, dict]] = {}

    def capture(module, args, kwargs):
        if id(module) not in calls:
            calls[id(module)] = (_copied(args), _copied(kwargs))
            if len(calls) == len(modules):
                raise _AllCaptured

    handles = [m.register_forward_pre_hook(capture, with_kwargs=True) for m in modules]
    training = {sub: sub.training for sub in model.modules()}
    failure = ""
    try:
        model.eval()
        with torch.no_grad():
            model(*_on_model_device(model, inputs))
    except _AllCaptured:
        pass
    except Exception as err:  # noqa: BLE001 - then those not yet called get no view
        failure = f"the model's forward failed: {_one_line(err)}"
    finally:
        for handle in handles:
            handle.remove()
        for sub, mode in training.items():
            sub.training = mode
    return calls, failure


def _copied(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return tuple(_copied(item) for item in value)
    if isinstance(value, list):
        return [_copied(item) for item in value]
    if isinstance(value, dict):
        return {key: _copied(item) for key, item in value.items()}
    return value


def _on_model_device(model: nn.Module, inputs: tuple) -> tuple:
    device = next((p.device for p in model.parameters()), None)
    return inputs if device is None else tuple(t.to(device) for t in inputs)


# -- recording ---------------------------------------------------------------------------
class _Collecting(ComputationGraph):
    """torchview's graph without the graphviz drawing: nodes are only numbered, and the
    edges it finds stay in ``edge_list``."""

    def add_node(self, node, subgraph=None) -> None:
        self.node_set.add(id(node))


def _recorded_graph(module: nn.Module, args: tuple, kwargs: dict) -> _Collecting:
    device = next((p.device for p in module.parameters()), "cpu")
    recorded_args, recorded_kwargs, roots = process_input(list(args), None, kwargs, device)
    graph = _Collecting(graphviz.Digraph(), roots, show_shapes=True, expand_nested=False,
                        hide_inner_tensors=True, hide_module_functions=True, roll=False,
                        depth=DEPTH)
    with Recorder(_orig_module_forward, module_forward_wrapper(graph), graph):
        with torch.no_grad():
            module(*recorded_args, **recorded_kwargs)
    graph.render_nodes()
    return graph


def _view_parts(graph: _Collecting, module: nn.Module
                ) -> tuple[list[ViewNode], list[ViewEdge]]:
    paths: dict[int, tuple[str, nn.Module]] = {}
    for path, sub in module.named_modules(remove_duplicate=False):
        paths.setdefault(id(sub), (path, sub))
    ids: dict[int, str] = {}
    nodes: list[ViewNode] = []
    counts = {"in": 0, "out": 0, "n": 0}

    def view_id(node) -> str:
        node = node.main_node if isinstance(node, TensorNode) else node
        if id(node) not in ids:
            made = _view_node(node, paths, counts)
            ids[id(node)] = made.id
            nodes.append(made)
        return ids[id(node)]

    edges, seen = [], set()
    for tail, head in graph.edge_list:
        key = (view_id(tail), view_id(head), _argument_index(graph, tail, head))
        if key not in seen:
            seen.add(key)
            edges.append(ViewEdge(source=key[0], target=key[1], target_port=key[2]))
    return nodes, edges


def _argument_index(graph: _Collecting, tail, head) -> int:
    """Which of ``head``'s tensor arguments comes from ``tail`` (``y @ x`` takes x second),
    found as torchview finds the tail of each edge."""
    if isinstance(head, TensorNode):
        return 0
    for index, parent in enumerate(head.parents):
        main = parent.main_node
        source = main if graph.is_node_visible(main) else graph.get_tail_node(parent)
        if _same(source, tail):
            return index
    return 0


def _same(a, b) -> bool:
    def main(node):
        return node.main_node if isinstance(node, TensorNode) else node
    return main(a) is main(b)


def _view_node(node, paths: dict[int, tuple[str, nn.Module]], counts: dict[str, int]
               ) -> ViewNode:
    if isinstance(node, TensorNode):
        kind = "in" if node.is_root() else "out"
        made = ViewNode(id=f"{kind}{counts[kind]}", label="io.Input" if kind == "in"
                        else "io.Output", outputs=[_dims(node.tensor_shape)])
        counts[kind] += 1
        return made
    made_id = f"n{counts['n']}"
    counts["n"] += 1
    shapes = [_dims(shape) for shape in node.output_shape[:64] if _is_shape(shape)]
    if isinstance(node, ModuleNode):
        path, sub = paths.get(node.compute_unit_id, ("", None))
        return ViewNode(id=made_id, label=_module_label(sub, node.name), path=path,
                        outputs=shapes)
    assert isinstance(node, FunctionNode)
    return ViewNode(id=made_id, label=f"op.{node.name.strip('_') or node.name}",
                    outputs=shapes)


def _module_label(module: nn.Module | None, recorded: str) -> str:
    if module is None:
        return recorded
    cls = type(module)
    return f"nn.{cls.__name__}" if cls.__module__.startswith("torch.nn.") else cls.__name__


def _is_shape(value: Any) -> bool:
    return isinstance(value, (tuple, list, torch.Size)) and all(
        isinstance(dim, int) and dim >= 0 for dim in value)


def _dims(shape) -> list[int]:
    return [int(dim) for dim in shape]


def _one_line(err: BaseException) -> str:
    first = (str(err).strip().splitlines() or [""])[0][:300]
    return f"{type(err).__name__}: {first}" if first else type(err).__name__
