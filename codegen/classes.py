"""Assemble what one generated class needs: its constructor, init, reset_parameters, forward.

Python decides every value here; the template (templates/module.py.j2) only lays text out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from codegen.containers import (
    InlineSequential,
    ListPlan,
    chain_order,
    commented_call,
    plan_lists,
)
from codegen.expressions import Bound, Stored, module_constructor
from codegen.forward import build_forward
from codegen.init_body import init_lines, module_access, reset_lines, tie_lines
from codegen.literals import docstring_body, py_literal
from codegen.pyformat import LINE_LENGTH, Call, layout
from codegen.tensors import Registered, buffer_constructor, parameter_constructor, uses_helper
from graph_schema.blocks import infer_block
from graph_schema.catalog import get_spec
from graph_schema.container_checks import holds_module
from graph_schema.dims import format_shape
from graph_schema.document import Network, Node, Project, name_problem
from graph_schema.inference import Inference
from graph_schema.summary import summarize

IO_TYPES = ("io.Input", "io.Output")
TENSOR_TYPES = ("attr.Parameter", "attr.Buffer")

INIT_FUNCTIONS = {
    "kaiming_normal": "nn.init.kaiming_normal_",
    "kaiming_uniform": "nn.init.kaiming_uniform_",
    "xavier_normal": "nn.init.xavier_normal_",
    "xavier_uniform": "nn.init.xavier_uniform_",
    "normal": "lambda w: nn.init.normal_(w, std=0.02)",
    "zeros": "nn.init.zeros_",
    "orthogonal": "nn.init.orthogonal_",
}


@dataclass
class ClassModel:
    name: str
    doc: str
    base: str = "nn.Module"
    signature: list[str] = field(default_factory=list)  # "channels: int = 8"
    init_lines: list[str] = field(default_factory=list)
    reset_lines: list[str] = field(default_factory=list)
    forward_args: list[str] = field(default_factory=list)
    forward_returns: str = "torch.Tensor"
    forward_lines: list[str] = field(default_factory=list)
    uses_functional: bool = False
    uses_stored: bool = False  # needs the _stored_tensor helper
    uses_torch: bool = False  # refers to torch outside forward (held tensors)
    verbatim: list[str] = field(default_factory=list)  # an opaque class's kept source

    @property
    def init_def(self) -> list[str]:
        params = ("self", "*", *self.signature) if self.signature else ("self",)
        return layout(Call("def __init__", params), "    ", suffix=" -> None:")

    @property
    def forward_def(self) -> list[str]:
        params = ("self", *(f"{name}: torch.Tensor" for name in self.forward_args))
        return layout(Call("def forward", params), "    ", suffix=f" -> {self.forward_returns}:")


def class_name_for(name: str) -> str:
    """``digits_cnn`` -> ``DigitsCnn``; anything that is not a letter or digit splits words."""
    words = [w for w in re.split(r"[^0-9A-Za-z]+", name) if w]
    text = "".join(w[:1].upper() + w[1:] for w in words) or "Network"
    if text[0].isdigit():
        text = "Net" + text
    return text if name_problem(text) is None else text + "Model"


def _annotation(value: Any) -> str:
    for kind, text in ((bool, "bool"), (int, "int"), (float, "float"), (str, "str")):
        if isinstance(value, kind):
            return text
    return "tuple"


def _literal_default(value: Any) -> str:
    return py_literal(tuple(value) if isinstance(value, list) else value)


class ClassBuilder:
    """Builds the ClassModel of one network or block from (one or more) inferences of it.

    A block placed several times is inferred once per placement. Values that differ between
    placements (an in_channels inferred from different inputs) become constructor arguments,
    so one class serves every placement.
    """

    def __init__(self, project: Project, graph: Network, inferences: list[Inference],
                 class_names: dict[str, str], built: dict[str, ClassBuilder],
                 inline: frozenset[str] = frozenset()):
        self.project = project
        self.graph = graph
        self.inferences = inferences
        self.primary = inferences[0]
        self.class_names = class_names
        self.built = built  # builders of the blocks this graph may place (already built)
        self.arguments: dict[str, Any] = dict(graph.arguments)
        self.auto_arguments: dict[tuple[str, str], str] = {}  # (node id, param) -> argument
        self._auto_vectors: dict[str, tuple] = {}  # auto argument -> its value per placement
        self.inline = inline  # sequential blocks written in place as nn.Sequential(...)
        self.lists: list[ListPlan] = []
        self.access: dict[str, str] = {}  # node id -> the expression for its module
        self.sequential_items: list[tuple[object, str]] = []
        self.reset_entries: list[tuple[str, str]] = []

    # -- values per node ------------------------------------------------------------------
    def node_values(self, node: Node, inference: Inference) -> dict[str, Any]:
        state = inference.states[node.id]
        values = dict(state.params)
        if node.block_name:
            values = self.built[node.block_name].instance_values(inference.project, state)
        for key, raw in node.params.items():
            if isinstance(raw, dict) and set(raw) == {"arg"}:
                values[key] = Bound(raw["arg"])
        return values

    def resolved_values(self, node: Node) -> dict[str, Any]:
        """Values for the code: equal across placements, else bound to an argument.

        A value inferred from upstream (in_channels, num_features) that varies exactly as an
        argument does across placements is that argument (``nn.BatchNorm2d(channels)``);
        otherwise a new argument named after the node and parameter holds it.
        """
        per_instance = [self.node_values(node, inf) for inf in self.inferences]
        values = dict(per_instance[0])
        for key, value in per_instance[0].items():
            if isinstance(value, Bound):
                continue
            if any(other.get(key) != value for other in per_instance[1:]):
                vector = _typed(other.get(key) for other in per_instance)
                inferred = all(key in inf.states[node.id].inferred for inf in self.inferences)
                same = self._argument_like(vector) if inferred else None
                values[key] = Bound(same or self._auto_argument(node, key, value, vector))
        return values

    def _argument_like(self, vector: tuple) -> str | None:
        for name in self.graph.arguments:
            if _typed(inf.arguments.get(name) for inf in self.inferences) == vector:
                return name
        for name, values in self._auto_vectors.items():
            if values == vector:
                return name
        return None

    def instance_values(self, project: Project, state) -> dict[str, Any]:
        """The constructor arguments of one placement of this block."""
        values = {**self.graph.arguments, **{k: v for k, v in state.params.items()
                                             if k in self.graph.arguments}}
        if self.auto_arguments:
            inner = infer_block(project, self.graph, state.inputs, values)
            nodes = self.graph.node_map()
            for (node_id, key), name in self.auto_arguments.items():
                # node_values, not the state's params: a nested block's own auto-arguments
                # are not params of its node.
                values[name] = self.node_values(nodes[node_id], inner)[key]
        return values

    def _auto_argument(self, node: Node, key: str, first_value: Any, vector: tuple) -> str:
        name = f"{node.name}_{key}"
        while name in self.arguments:
            name += "_"
        self.arguments[name] = first_value
        self.auto_arguments[(node.id, key)] = name
        self._auto_vectors[name] = vector
        return name

    # -- the class ----------------------------------------------------------------------
    def build(self, class_name: str, title: str, notes: str) -> ClassModel:
        nodes = self.graph.node_map()
        layers = [nodes[n] for n in self.primary.order if nodes[n].type not in IO_TYPES]
        values_of = {node.id: self.resolved_values(node) for node in layers}
        constructors = {node.id: self._constructor(node, values_of[node.id]) for node in layers}
        model = ClassModel(name=class_name, doc="")
        whole = self._the_kept_class(layers)
        if whole is not None:
            self._build_kept_subclass(model, constructors[whole.id])
        elif self.graph.kind == "sequential":
            self._build_sequential(model, constructors)
        else:
            self._build_module(model, layers, values_of, constructors)
        model.reset_lines = reset_lines(self.reset_entries, "        ")
        model.doc = self._docstring(title, notes)
        model.signature = [f"{k}: {_annotation(v)} = {_literal_default(v)}"
                           for k, v in self.arguments.items()]
        return model

    def _the_kept_class(self, layers: list[Node]) -> Node | None:
        """The one kept block a network of kind "kept" is (validate checked its shape)."""
        return layers[0] if self.graph.kind == "kept" else None

    def _build_kept_subclass(self, model: ClassModel, constructor: Call) -> None:
        """``class Net(KeptClass)``: the kept class itself, built with the arguments it was
        seen with, so that its state_dict keys are the class's own (no ``node.`` prefix)."""
        model.base = constructor.func
        model.init_lines = layout(Call("super().__init__", constructor.args), "        ")

    def _build_module(self, model: ClassModel, layers: list[Node], values_of: dict,
                      constructors: dict) -> None:
        emitted = [node.id for node in layers]
        taken = {node.name for node in self.graph.nodes} | set(self.arguments) | \
            set(self.class_names.values())
        self.lists = plan_lists(self.graph, self.inferences, constructors, emitted, taken)
        for plan in self.lists:
            if plan.count:
                self.arguments[plan.count] = len(plan.members)
        self.access = module_access(self.graph, self.lists)
        stored = self._stored_arguments(layers, values_of)
        kept = [f"        self.{attribute} = {name}" for name, attribute in stored.items()]
        model.init_lines = ["        super().__init__()", *kept,
                            *init_lines(layers, constructors, self.lists, "        "),
                            *tie_lines(self.graph, "        ")]
        model.uses_stored = any(uses_helper(values_of[node.id]) for node in layers
                                if node.type in TENSOR_TYPES)
        model.uses_torch = any(node.type in TENSOR_TYPES for node in layers)
        self.reset_entries = self._reset_entries(layers, constructors)
        forward_values = {node_id: _stored_in(values, stored)
                          for node_id, values in values_of.items()}
        forward = build_forward(self.graph, self.primary, forward_values, self.access,
                                self.lists)
        model.forward_args = forward.arguments
        model.forward_returns = "torch.Tensor" if forward.outputs == 1 else \
            "tuple[" + ", ".join(["torch.Tensor"] * forward.outputs) + "]"
        if len(f"    ) -> {model.forward_returns}:") > LINE_LENGTH:
            # ruff would split a longer annotation over many lines; this says the same.
            model.forward_returns = "tuple[torch.Tensor, ...]"
        model.forward_lines = forward.lines
        model.uses_functional = forward.uses_functional

    def _stored_arguments(self, layers: list[Node], values_of: dict) -> dict[str, str]:
        """{argument: attribute} for the arguments forward reads (an op's ``pad`` that
        differs between placements): kept on self, under their own name where no module,
        list or held tensor has it."""
        used: list[str] = []
        for node in layers:
            for key in _forward_params(node):
                value = values_of[node.id].get(key)
                if isinstance(value, Bound) and value.name not in used:
                    used.append(value.name)
        taken = {node.name for node in self.graph.nodes
                 if holds_module(node) or node.type in TENSOR_TYPES}
        taken |= {plan.name for plan in self.lists}
        stored = {}
        for name in used:
            attribute, counter = name, 2
            while attribute in taken:
                attribute = f"{name}_{counter}"
                counter += 1
            taken.add(attribute)
            stored[name] = attribute
        return stored

    def _build_sequential(self, model: ClassModel, constructors: dict) -> None:
        """``class X(nn.Sequential)`` whose constructor passes the layers, one per line."""
        order = chain_order(self.graph)
        self.access = {node.id: f"self[{i}]" for i, node in enumerate(order)}
        self.sequential_items = [(constructors[node.id], self._shape_comment(node))
                                 for node in order]
        model.base = "nn.Sequential"
        model.init_lines = commented_call("        ", "", "super().__init__",
                                          self.sequential_items)
        self.reset_entries = self._reset_entries(order, constructors)

    def _shape_comment(self, node: Node) -> str:
        outputs = self.primary.states[node.id].outputs
        if not outputs:
            return ""  # never called: no shape to show
        return "-> " + ", ".join(format_shape(s) for s in outputs)

    def _reset_entries(self, layers: list[Node], constructors: dict) -> list[tuple[str, str]]:
        """(module expression, init function) for every node with a chosen initialisation;
        a module list built by one repeated constructor is initialised in a loop."""
        entries: list[tuple[str, str]] = []
        looped: set[str] = set()
        member_plan = {n: plan for plan in getattr(self, "lists", []) for n in plan.members}
        for node in layers:
            built = constructors.get(node.id)
            if built is None:
                continue
            plan = member_plan.get(node.id)
            if plan is not None and plan.repeated is not None:
                if plan.name not in looped and node.init != "default":
                    entries.append((f"for:self.{plan.name}", INIT_FUNCTIONS[node.init]))
                looped.add(plan.name)
                continue
            if node.init != "default":
                entries.append((self.access[node.id], INIT_FUNCTIONS[node.init]))
            if isinstance(built, InlineSequential):
                entries += [(_within(self.access[node.id], inner), function)
                            for inner, function in built.reset_entries]
        return entries

    def _constructor(self, node: Node, values: dict) -> Call | InlineSequential | None:
        if node.reuses:
            return None  # the module is built once, by the node it reuses
        if node.block_name:
            block = node.block_name
            if block in self.inline:
                child = self.built[block]
                return InlineSequential(child.sequential_items, child.reset_entries)
            defaults = self.built[block].arguments
            # A kept class's own constructor may require every argument: pass them all.
            every = self.built[block].graph.opaque is not None
            args = tuple(f"{k}={_value_text(v)}" for k, v in values.items()
                         if k in defaults and (every or isinstance(v, Bound)
                                               or v != defaults[k]))
            return Call(self.class_names[block], args)
        spec = get_spec(node.type)
        if spec.construct == "parameter":
            return parameter_constructor(values)
        if spec.construct == "buffer":
            return Registered(buffer_constructor(node.name, values))
        if spec.torch_class is None:
            return None
        return module_constructor(spec, values)

    def _docstring(self, title: str, notes: str) -> str:
        summary = summarize(self.project, self.graph, self.primary)
        count = f"Parameters: {summary.total_params:,}"
        if self.arguments:
            # A block is inferred per placement; the first one may not use the defaults.
            declared = {k: self.primary.arguments.get(k) for k in self.graph.arguments}
            defaults = declared == dict(self.graph.arguments)
            count += " (with the default arguments)" if defaults else " (as first placed)"
        parts = [title.strip().rstrip(".") + ".", notes.strip(), count + "."]
        # Multi-line docstrings close on their own line, as ruff and PEP 257 prefer.
        return docstring_body("\n\n".join(p for p in parts if p), "    ") + "\n    "


def _forward_params(node: Node) -> tuple[str, ...]:
    """The params of ``node`` that forward writes: all of an op's, a module's call
    arguments (``need_weights``); a block's go to its constructor."""
    if node.block_name or node.type in IO_TYPES:
        return ()
    spec = get_spec(node.type)
    if spec is None:
        return ()
    return tuple(p.name for p in spec.params) if spec.call is not None else spec.forward_params


def _stored_in(values: dict, stored: dict[str, str]) -> dict:
    """``values`` with the arguments forward reads from self written as such."""
    return {key: Stored(value.name, stored[value.name])
            if isinstance(value, Bound) and value.name in stored else value
            for key, value in values.items()}


def _typed(values) -> tuple:
    """Values compared with their types: an argument of 1 is not one of True."""
    return tuple((type(v).__name__, v) for v in values)


def _within(outer: str, inner: str) -> str:
    """``self[0]`` of a sequential written in place at ``self.stem``: ``self.stem[0]``."""
    if inner.startswith("for:"):
        return "for:" + outer + inner[len("for:self"):]
    return outer + inner[len("self"):]


def _value_text(value) -> str:
    return value.name if isinstance(value, Bound) else _literal_default(value)


__all__ = ["ClassBuilder", "ClassModel", "class_name_for"]
