"""Assemble what one generated class needs: its constructor, init, reset_parameters, forward.

Python decides every value here; the template (templates/module.py.j2) only lays text out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from codegen.expressions import Bound, module_constructor
from codegen.forward import build_forward
from codegen.literals import docstring_body, py_literal
from codegen.pyformat import Call, layout, statement
from graph_schema.catalog import get_spec
from graph_schema.document import Network, Node, Project, name_problem
from graph_schema.inference import Inference
from graph_schema.summary import summarize

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
    signature: list[str] = field(default_factory=list)  # "channels: int = 8"
    init_lines: list[str] = field(default_factory=list)
    reset_lines: list[str] = field(default_factory=list)
    forward_args: list[str] = field(default_factory=list)
    forward_returns: str = "torch.Tensor"
    forward_lines: list[str] = field(default_factory=list)
    uses_functional: bool = False

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
                 class_names: dict[str, str], built: dict[str, ClassBuilder]):
        self.project = project
        self.graph = graph
        self.inferences = inferences
        self.primary = inferences[0]
        self.class_names = class_names
        self.built = built  # builders of the blocks this graph may place (already built)
        self.arguments: dict[str, Any] = dict(graph.arguments)
        self.auto_arguments: dict[tuple[str, str], str] = {}  # (node id, param) -> argument

    # -- values per node ------------------------------------------------------------------
    def node_values(self, node: Node, inference: Inference) -> dict[str, Any]:
        state = inference.states[node.id]
        values = dict(state.params)
        if node.type.startswith("block:"):
            values = self.built[node.type[6:]].instance_values(inference.project, state)
        for key, raw in node.params.items():
            if isinstance(raw, dict) and set(raw) == {"arg"}:
                values[key] = Bound(raw["arg"])
        return values

    def resolved_values(self, node: Node) -> dict[str, Any]:
        """Values for the code: equal across placements, else bound to a new argument."""
        per_instance = [self.node_values(node, inf) for inf in self.inferences]
        values = dict(per_instance[0])
        for key, value in per_instance[0].items():
            if isinstance(value, Bound):
                continue
            if any(other.get(key) != value for other in per_instance[1:]):
                arg = self._auto_argument(node, key, value)
                values[key] = Bound(arg)
        return values

    def instance_values(self, project: Project, state) -> dict[str, Any]:
        """The constructor arguments of one placement of this block."""
        from graph_schema.blocks import infer_block

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

    def _auto_argument(self, node: Node, key: str, first_value: Any) -> str:
        name = f"{node.name}_{key}"
        while name in self.arguments:
            name += "_"
        self.arguments[name] = first_value
        self.auto_arguments[(node.id, key)] = name
        return name

    # -- the class ----------------------------------------------------------------------
    def build(self, class_name: str, title: str, notes: str) -> ClassModel:
        layers = [self.graph.node_map()[n] for n in self.primary.order]
        layers = [n for n in layers if n.type not in ("io.Input", "io.Output")]
        init_lines: list[str] = []
        reset_lines: list[str] = []
        values_of: dict[str, dict] = {}
        for node in layers:
            values = self.resolved_values(node)
            values_of[node.id] = values
            constructor = self._constructor(node, values)
            if constructor is not None:
                init_lines += statement("        ", f"self.{node.name} = ", constructor)
            if node.init != "default" and constructor is not None:
                reset_lines.append(
                    f"        _init_weights(self.{node.name}, {INIT_FUNCTIONS[node.init]})")
        forward = build_forward(self.graph, self.primary, values_of)
        model = ClassModel(
            name=class_name,
            doc=self._docstring(title, notes),
            signature=[f"{k}: {_annotation(v)} = {_literal_default(v)}"
                       for k, v in self.arguments.items()],
            init_lines=init_lines,
            reset_lines=reset_lines,
            forward_args=forward.arguments,
            forward_returns="torch.Tensor" if forward.outputs == 1 else
            "tuple[" + ", ".join(["torch.Tensor"] * forward.outputs) + "]",
            forward_lines=forward.lines,
            uses_functional=forward.uses_functional,
        )
        return model

    def _constructor(self, node: Node, values: dict) -> Call | None:
        if node.type.startswith("block:"):
            block = node.type[6:]
            defaults = self.built[block].arguments
            args = tuple(f"{k}={_value_text(v)}" for k, v in values.items()
                         if k in defaults and (isinstance(v, Bound) or v != defaults[k]))
            return Call(self.class_names[block], args)
        spec = get_spec(node.type)
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


def _value_text(value) -> str:
    return value.name if isinstance(value, Bound) else _literal_default(value)


__all__ = ["ClassBuilder", "ClassModel", "class_name_for"]
