"""import_model: a live nn.Module and example inputs in, an editable Project out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from codegen.importer.documents import Documents, lay_out
from codegen.importer.import_errors import ModelImportError, Untraceable
from codegen.importer.instances import Instances
from codegen.importer.record_kept_view import add_kept_views
from codegen.importer.values import Batch
from codegen.importer.walk import ReplayMismatch, Visit, Walker
from graph_schema.blocks import same_blocks_once
from graph_schema.container_checks import check_module_lists, check_sequential
from graph_schema.dims import format_shape
from graph_schema.document import Project, Tie
from graph_schema.inference import Inference
from graph_schema.structure import check_reuse_and_calls, check_ties

Progress = Callable[[str], None]


@dataclass
class Imported:
    project: Project
    warnings: list[str] = field(default_factory=list)


def import_model(model: nn.Module, example_inputs, *, name: str | None = None) -> Project:
    """The model as a project: one network for the model's own class, one block per class
    it uses (as many placements as it has instances), names kept so that its state_dict
    loads into the generated code with strict=True. Raises ModelImportError."""
    return import_model_with_report(model, example_inputs, name=name).project


def import_model_with_report(model: nn.Module, example_inputs, *, name: str | None = None,
                             progress: Progress | None = None) -> Imported:
    progress = progress or (lambda _stage: None)
    if not isinstance(model, nn.Module):
        raise ModelImportError(f"expected an nn.Module, got {type(model).__name__}")
    inputs = _inputs(example_inputs)
    modes = {module: module.training for module in model.modules()}
    model.eval()
    warnings: list[str] = []
    try:
        with torch.no_grad():
            progress("running the model on meta tensors")
            walker, root, ran_on = _walk(model, inputs)
            progress("finding the batch dimension")
            batch = _batch(walker, ran_on)
            progress("drawing each class")
            instances = Instances(batch, warnings)
            try:
                top = instances.make(model, root, root=True)
            except Untraceable as err:
                raise ModelImportError(f"the model cannot be drawn: {err.reason}") from None
            documents = Documents(instances.groups, instances.kept, instances.required)
            documents.name_blocks()
            network = documents.network(top, type(model).__name__)
            if top.extra.get("kept"):  # the model's own class, kept as source (instances.py)
                network.kind = "kept"
            documents.required_blocks()
    finally:
        for module, training in modes.items():
            module.training = training
    network.tied = _ties(model)
    project = Project(name=name or type(model).__name__, networks=[network],
                      blocks=documents.blocks, notes=_notes(model, inputs))
    progress("checking and laying out the diagrams")
    # Layout (graphviz runs in processes of its own) goes on while the check runs here.
    with lay_out([network, *documents.blocks]):
        _check(project)
    progress("recording what each kept class does inside")
    # Display only (a view for the reader; codegen still emits the kept source).
    warnings += add_kept_views(model, inputs, project)
    warnings += _dtype_warnings(model)
    return Imported(project, warnings)


def _inputs(example_inputs) -> tuple[torch.Tensor, ...]:
    inputs = tuple(example_inputs) if isinstance(example_inputs, (tuple, list)) \
        else (example_inputs,)
    if not inputs or not all(isinstance(t, torch.Tensor) for t in inputs):
        raise ModelImportError("example inputs must be a tensor or a tuple of tensors")
    return inputs


def _walk(model: nn.Module, inputs: tuple) -> tuple[Walker, Visit, tuple]:
    """The first pass, and the inputs it ran on."""
    walker = Walker(model, meta=True)
    try:
        meta_inputs = tuple(t.to("meta") for t in inputs)
        return walker, walker.run(meta_inputs), meta_inputs
    except (ModelImportError, KeyboardInterrupt):
        raise
    except Exception:  # noqa: BLE001 - any failure on meta tensors: try real ones
        walker = Walker(model, meta=False)
        device = next((p.device for p in model.parameters()), None)
        if device is not None:  # a model on the GPU gets its example inputs there
            inputs = tuple(t.to(device) for t in inputs)
        try:
            return walker, walker.run(inputs), inputs
        except ModelImportError:
            raise
        except Exception as err:  # the user's forward raised: say where and what
            raise ModelImportError(_forward_failure(err, inputs)) from None


def _forward_failure(err: Exception, inputs: tuple) -> str:
    shapes = ", ".join(format_shape(tuple(t.shape)) for t in inputs)
    where = getattr(err, "torchcanvas_path", "")
    kind = getattr(err, "torchcanvas_type", "")
    place = f" in '{where}' ({kind})" if where else ""
    first = (str(err).strip().splitlines() or [""])[0]
    return f"the model's forward failed on inputs {shapes}{place}: {type(err).__name__}: {first}"


def _batch(walker: Walker, inputs: tuple) -> Batch:
    """Run again with one more sample per batch; sizes that moved are the batch."""
    sizes = {t.shape[0] for t in inputs if t.dim()}
    if len(sizes) != 1 or any(not t.dim() for t in inputs):
        return Batch(None, None)
    first = sizes.pop()
    if not _reads_sizes(walker):
        return Batch(first, None, assumed=True)
    second = first + 1
    others = tuple(_resized(t, second, walker.meta) for t in inputs)
    try:
        walker.replay(others)
    except (ReplayMismatch, Exception):  # noqa: BLE001 - no batch dimension, then
        for visit in walker.order:
            visit.values_b.clear()
            visit.bound_b.clear()
            visit.inputs_b, visit.output_b = [], None
        return Batch(None, None)
    return Batch(first, second)


_SIZE_METHODS = {"size", "dim", "numel", "nelement", "ndimension"}
_SIZE_ATTRIBUTES = {"shape", "ndim"}


def _reads_sizes(walker: Walker) -> bool:
    """Whether any value in the model could follow the batch size: a class reads a tensor's
    size, or one is kept as source (its recorded shapes then need the second run)."""
    for visit in walker.order:
        if visit.kind == "kept":
            return True
        if visit.traced is None:
            continue
        for node in visit.traced.graph.nodes:
            if node.op == "call_method" and node.target in _SIZE_METHODS:
                return True
            if node.op == "call_function" and (
                    node.target is len or node.target is getattr and len(node.args) > 1
                    and node.args[1] in _SIZE_ATTRIBUTES):
                return True
    return False


def _resized(tensor: torch.Tensor, batch: int, meta: bool) -> torch.Tensor:
    shape = (batch, *tensor.shape[1:])
    if meta:
        return torch.empty(shape, dtype=tensor.dtype, device="meta")
    if tensor.dtype.is_floating_point:
        return torch.randn(shape, dtype=tensor.dtype, device=tensor.device)
    return torch.zeros(shape, dtype=tensor.dtype, device=tensor.device)


def _ties(model: nn.Module) -> list[Tie]:
    """Tensors the model holds under two names (a decoder sharing the embedding's weight)."""
    first_path: dict[int, str] = {}
    ties = []
    named = [*model.named_parameters(remove_duplicate=False),
             *model.named_buffers(remove_duplicate=False)]
    for path, tensor in named:
        if id(tensor) in first_path:
            ties.append(Tie(target=path, source=first_path[id(tensor)]))
        else:
            first_path[id(tensor)] = path
    return ties


def _notes(model: nn.Module, inputs: tuple) -> str:
    cls = type(model)
    shapes = ", ".join(f"{format_shape(tuple(t.shape))} {str(t.dtype).removeprefix('torch.')}"
                       for t in inputs)
    return f"Imported from {cls.__module__}.{cls.__qualname__} with inputs {shapes}."


def _check(project: Project) -> None:
    """The imported diagram must infer without errors, in every placement of every block (a
    failure here is a bug of the importer, never of the model). The full validation, lints
    included, is the caller's: generate_source and the app both run it."""
    with same_blocks_once():
        network = project.networks[0]
        errors = [d for d in Inference(network, project).diagnostics() if d.is_error]
        for graph in [network, *project.blocks]:
            errors += [d for d in check_module_lists(graph) + check_sequential(graph)
                       + check_reuse_and_calls(graph) + check_ties(graph) if d.is_error]
    if errors:
        listed = "; ".join(d.format() for d in errors[:3])
        more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
        raise ModelImportError(f"the imported diagram does not check out, which is a bug in "
                               f"TorchCanvas's import: {listed}{more}")


def _dtype_warnings(model: nn.Module) -> list[str]:
    kinds = {str(p.dtype).removeprefix("torch.") for p in model.parameters()}
    kinds.discard("float32")
    if not kinds:
        return []
    return [f"the model's weights are {', '.join(sorted(kinds))}; generated code builds "
            f"float32 layers (load_state_dict converts the values)"]
