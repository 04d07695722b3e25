"""Every class instance of the model as a draft, children first, grouped into blocks.

A class that cannot become a diagram (fx cannot trace it, or its graph uses something the
catalog lacks) is kept as source; so is every class its source builds, and every helper
function or class of its files that it uses (keep.py). A torch layer the catalog lacks
cannot be kept as source (its source is torch's), so the nearest class of the model's own
that holds it is kept instead.
"""

from __future__ import annotations

import inspect
from typing import Any

from torch import nn

from codegen.importer.body import layer_body, traced_body
from codegen.importer.chains import sequential_body
from codegen.importer.draft import GraphDraft
from codegen.importer.groups import Group, Instance, own_values, structure_key
from codegen.importer.import_errors import ModelImportError, Untraceable
from codegen.importer.keep import class_source, constructor_arguments, kind_of, needed_names
from codegen.importer.leaves import catalog_spec, is_sequential, is_user_class
from codegen.importer.values import Batch, Fields, TensorInfo, describe, tensors_in
from codegen.importer.walk import Visit


def class_key(module: nn.Module) -> str:
    cls = type(module)
    return f"{cls.__module__}.{cls.__qualname__}"


class Instances:
    def __init__(self, batch: Batch, warnings: list[str]):
        self.batch = batch
        self.warnings = warnings
        self.groups: dict[tuple, Group] = {}
        self.kept: dict[Any, str] = {}  # class (or helper function) kept as source -> why
        self.required: dict[Any, list[Any]] = {}  # kept item -> what else its source needs

    # -- one module ------------------------------------------------------------------------
    def make(self, module: nn.Module, visit: Visit | None, root: bool = False,
             view: GraphDraft | None = None, label: str = "") -> Instance:
        """``view``: the graph of a holder, drawn by its caller (whose node is ``label``)."""
        if root and visit.kind == "kept":
            return self._kept_root(module, visit, visit.reason)
        if view is None and (visit is not None and visit.kind == "kept" or
                             visit is None and is_user_class(module) and
                             type(module) in self.kept):
            return self._kept(module, visit, visit.reason if visit else self.kept[type(module)])
        try:
            draft = view if view is not None else self._draft(module, visit)
            children = self._children(draft)
        except Untraceable as err:
            if not is_user_class(module):
                raise  # a sequential cannot be kept as source: its holder will be
            if root:
                return self._kept_root(module, visit, err.reason)
            return self._kept(module, visit, err.reason)
        if root and draft.nested_output:
            self.warnings.append("the model returns tuples inside its tuple; the generated "
                                 "model returns the same tensors as one flat tuple, depth "
                                 "first")
        keys = {node_id: child.key for node_id, child in children.items()}
        kind = draft.kind if not is_sequential(module) or draft.kind == "class" \
            else "sequential"
        name = type(module).__name__ if is_user_class(module) else \
            (visit.path.rsplit(".", 1)[-1] if visit and visit.path else label or "sequential")
        key = (class_key(module), structure_key(draft, keys))
        instance = Instance(draft, key, own_values(draft), children)
        return self._join(instance, kind, name)

    def _draft(self, module: nn.Module, visit: Visit | None) -> GraphDraft:
        if is_sequential(module):
            return sequential_body(module, visit, self.batch, self.warnings)
        if visit is not None and visit.kind == "leaf":  # only the root: other layers are nodes
            return layer_body(visit, self.batch, self.warnings)
        if visit is None:
            raise Untraceable("it is never called, so it cannot be traced with inputs")
        if visit.kind == "traced" and visit.traced is not None:
            return traced_body(visit, self.batch, self.warnings)
        raise Untraceable(visit.reason or f"it holds {type(module).__name__}, a torch layer "
                                          f"the catalog lacks")

    def _children(self, draft: GraphDraft) -> dict[str, Instance]:
        children = {}
        for node in draft.nodes:
            if node.type or node.reuses:
                continue
            if node.view is None and not is_user_class(node.module) and \
                    not is_sequential(node.module):
                raise Untraceable(f"it uses {type(node.module).__name__}, a torch layer the "
                                  f"catalog lacks")
            children[node.id] = self.make(node.module, node.child, view=node.view,
                                          label=node.name)
        return children

    def _join(self, instance: Instance, kind: str, name: str) -> Instance:
        group = self.groups.get(instance.key)
        if group is None:
            group = self.groups[instance.key] = Group(instance.key, kind, name)
        group.instances.append(instance)
        instance.group = group
        return instance

    def _kept_root(self, module: nn.Module, visit: Visit, reason: str) -> Instance:
        """The model's own class cannot be drawn: the diagram is its inputs, the class kept
        as source (with what one run of it did inside, recorded), and its outputs; the
        generated model is that class (codegen subclasses it), so its weights keep their
        names."""
        if not is_user_class(module):
            raise ModelImportError(_root_kept(module, visit))
        visit.kind, visit.reason = "kept", reason
        draft = layer_body(visit, self.batch, self.warnings)
        self.warnings.append(f"the model's own class {type(module).__name__} cannot be drawn "
                             f"({reason}): the diagram is that class, kept as source")
        children = self._children(draft)
        keys = {node_id: child.key for node_id, child in children.items()}
        key = (class_key(module), structure_key(draft, keys))
        instance = Instance(draft, key, own_values(draft), children, extra={"kept": True})
        return self._join(instance, "class", type(module).__name__)

    # -- kept as source ------------------------------------------------------------------------
    def _kept(self, module: nn.Module, visit: Visit | None, reason: str) -> Instance:
        cls = type(module)
        if not is_user_class(module):
            raise Untraceable(f"it uses {cls.__name__}, a torch layer the catalog lacks")
        _refuse_what_a_diagram_cannot_pass(module, visit)
        if cls not in self.kept:
            self.kept[cls] = reason
            self.warnings.append(f"class {cls.__name__} is kept as its source: {reason}")
            self._require(cls)
        arguments = constructor_arguments(module)
        draft = GraphDraft("class")
        instance = Instance(draft, ("kept", class_key(module)),
                            {("__init__", k): v for k, v in arguments.items()})
        instance.extra = {"call": self._call(module, visit), "module": module}
        return self._join(instance, "opaque", cls.__name__)

    def _require(self, item: Any) -> None:
        """What a kept source needs is kept too: the classes it builds (their own source
        builds them) and the helper functions and classes of its files that it uses."""
        if item in self.required:
            return
        class_source(item)
        needs = needed_names(item)
        self.required[item] = needs.kept
        user = f"{kind_of(item)} {item.__name__}, kept as source,"
        for other in needs.classes:
            self.kept.setdefault(other, f"{user} builds it")
        for other in needs.helpers:
            self.kept.setdefault(other, f"{user} uses it")
        for other in needs.kept:
            self._require(other)

    def _call(self, module: nn.Module, visit: Visit | None) -> dict[str, Any]:
        count = sum(p.numel() for p in module.parameters())
        if visit is None:
            return {"inputs": [], "outputs": [], "parameters": count}
        inputs = [(v, visit.bound_b.get(k)) for k, v in visit.bound.items()
                  if isinstance(v, TensorInfo)]
        outputs = list(zip(tensors_in(visit.output),
                           tensors_in(visit.output_b) or [None] * len(tensors_in(visit.output))))
        return {"inputs": [self.batch.shape(a, b) for a, b in inputs],
                "outputs": [self.batch.shape(a, b) for a, b in outputs],
                "returns": returned_pattern(visit.output, outer=True),
                "parameters": count,
                "dtypes": [a.dtype for a, _ in inputs],
                "names": [k for k, v in visit.bound.items() if isinstance(v, TensorInfo)]}


def returned_pattern(value: Any, outer: bool = False) -> str:
    """What a kept class returned, as OpaqueCall.returns writes it; "" where a pattern
    cannot take it apart (a dict, a ModelOutput)."""
    if isinstance(value, TensorInfo):
        return "x"
    if isinstance(value, Fields):
        return ""
    if isinstance(value, (tuple, list)):
        items = [returned_pattern(item) for item in value]
        if "" in items or not items:
            return ""
        text = ", ".join(items)
        if isinstance(value, list):
            return f"[{text}]"
        if len(items) == 1:
            return f"({text},)"
        return text if outer else f"({text})"
    return "_"


def _refuse_what_a_diagram_cannot_pass(module: nn.Module, visit: Visit | None) -> None:
    """Generated code hands a kept class one tensor per input port, and nothing else. So a
    class kept as source that was given a list of tensors in one argument, or a value other
    than its default (``flag=False``), cannot be placed in a diagram: its caller is kept too
    (and the caller's source passes them as the original does)."""
    cls = type(module)
    try:
        defaults = {name: p.default for name, p in
                    inspect.signature(module.forward).parameters.items()}
    except (TypeError, ValueError):
        defaults = {}
    plain = None  # a value before a tensor would take that tensor's place in the call
    for name, value in (visit.bound.items() if visit is not None else ()):
        if isinstance(value, TensorInfo):
            if plain is not None:
                raise Untraceable(f"it calls class {cls.__name__}, which is kept as source, "
                                  f"with {plain!r} before the tensor {name!r}, and a diagram "
                                  f"passes a kept class its tensors alone, in order")
            continue
        plain = plain or name
        if tensors_in(value):
            raise Untraceable(f"it hands {name!r} to class {cls.__name__}, which is kept as "
                              f"source, as a {type(value).__name__} of tensors, and a "
                              f"diagram passes a kept class one tensor per input")
        default = defaults.get(name, inspect.Parameter.empty)
        if default is inspect.Parameter.empty or describe(default) != value:
            raise Untraceable(f"it calls class {cls.__name__}, which is kept as source, with "
                              f"{name}={value!r}, and a diagram passes a kept class its "
                              f"tensors alone")


def _root_kept(module: nn.Module, visit: Visit) -> str:
    name = type(module).__name__
    if is_user_class(module):
        return f"the model's own class {name} cannot be drawn: {visit.reason}"
    shown = f"nn.{name}" if getattr(nn, name, None) is type(module) else name
    return f"the model is {shown}, a torch layer the catalog lacks, so it cannot be drawn"


def leaf_of(module: nn.Module) -> bool:
    return catalog_spec(module) is not None
