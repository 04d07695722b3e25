"""The body of ``__init__`` (one attribute per module, module lists grouped) and of
``reset_parameters``; and the expression that reaches each node's module from ``self``."""

from __future__ import annotations

from codegen.containers import InlineSequential, ListPlan, constructor_lines, list_constructor
from codegen.pyformat import LINE_LENGTH, Call, layout, statement
from codegen.tensors import Registered
from graph_schema.document import Network, Node

__all__ = ["InlineSequential", "init_lines", "module_access", "reset_lines", "tie_lines"]


def module_access(graph: Network, lists: list[ListPlan]) -> dict[str, str]:
    """``self.conv`` for a node's own attribute, ``self.layers[2]`` for a list member."""
    access = {node.id: f"self.{node.name}" for node in graph.nodes}
    for plan in lists:
        for index, node_id in enumerate(plan.members):
            access[node_id] = f"self.{plan.name}[{index}]"
    return access


def init_lines(layers: list[Node], constructors: dict, lists: list[ListPlan],
               indent: str) -> list[str]:
    """One statement per module in forward order; a module list where its first member is."""
    lines: list[str] = []
    member_plan = {node_id: plan for plan in lists for node_id in plan.members}
    written: set[str] = set()
    for node in layers:
        plan = member_plan.get(node.id)
        if plan is not None:
            if plan.name not in written:
                lines += _list_lines(plan, constructors, indent)
                written.add(plan.name)
            continue
        built = constructors.get(node.id)
        if isinstance(built, Registered):
            lines += statement(indent, "", built.call)
        elif built is not None:
            lines += constructor_lines(built, indent, f"self.{node.name} = ")
    return lines


def attribute_expression(path: str) -> str:
    """``layers.0.weight`` -> ``self.layers[0].weight`` (paths are validated dotted names)."""
    text = "self"
    for part in path.split("."):
        text += f"[{part}]" if part.isdigit() else f".{part}"
    return text


def tie_lines(graph: Network, indent: str) -> list[str]:
    """Tied weights, after every module exists: ``self.head.weight = self.embed.weight``.
    One too long for a line has its right side in brackets, as ruff format puts it; where
    the left side indexes a list (``self.layers[3].fc.weight``), ruff would split that index
    over three lines, and the line is kept whole instead."""
    lines = []
    for tie in graph.tied:
        target, source = attribute_expression(tie.target), attribute_expression(tie.source)
        line = f"{indent}{target} = {source}"
        if len(line) <= LINE_LENGTH:
            lines.append(line)
        elif "[" in target:
            lines.append(f"{line}  # fmt: skip")
        else:
            lines += [f"{indent}{target} = (", f"{indent}    {source}", f"{indent})"]
    return lines


def _list_lines(plan: ListPlan, constructors: dict, indent: str) -> list[str]:
    items = [constructors[node_id] for node_id in plan.members]
    if all(isinstance(item, Call) for item in items):
        return list_constructor(plan, constructors, indent)
    # Inline sequentials carry one comment per layer: one member per line, always.
    inner = indent + "    "
    lines = [f"{indent}self.{plan.name} = nn.ModuleList(", f"{inner}["]
    for item in items:
        lines += constructor_lines(item, inner + "    ", "", ",")
    return lines + [f"{inner}]", f"{indent})"]


def reset_lines(entries: list[tuple[str, str]], indent: str) -> list[str]:
    lines: list[str] = []
    for target, function in entries:
        if target.startswith("for:"):
            lines += [f"{indent}for layer in {target[len('for:'):]}:",
                      f"{indent}    _init_weights(layer, {function})"]
        else:
            lines += layout(Call("_init_weights", (target, function)), indent)
    return lines
