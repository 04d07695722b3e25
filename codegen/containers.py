"""Module containers in generated code: ``nn.ModuleList`` groups and ``nn.Sequential`` bodies.

A module list comes from the document (``Network.module_lists``, which import fills so that
weights keep names like ``layers.0.weight``) or is found here: three or more placements of the
same block in a row, built with the same arguments, each feeding only the next, read better as

    self.residuals = nn.ModuleList([Residual() for _ in range(num_residuals)])
    ...
    for layer in self.residuals:
        x = layer(x)

A node's name is its attribute name, and so part of its weights' names: folding placements
into a list renames them (``residual1.conv.weight`` becomes ``residuals.0.conv.weight``). That
is fine for a network someone drew, and never for what import recorded: there the names are
the model's own attributes (``unit1``, ``block_a``), and the original ``state_dict`` must load
into the code. Import's own lists (``layers.0``) are declared module lists already.

The repeat count becomes a constructor argument when every placement keeps the shape of its
input, so a different count still fits the layers after the loop.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from codegen.kept_results import returns_plainly
from codegen.pyformat import LINE_LENGTH, Call, comment_lines, layout, statement
from graph_schema.document import Network, Node, Project, block_name_of
from graph_schema.inference import Inference

MIN_IMPLICIT_RUN = 3
IO_TYPES = ("io.Input", "io.Output")


@dataclass
class ListPlan:
    name: str  # the attribute: self.<name>
    members: list[str]  # node ids, in list order
    loop: bool = False  # the members form a chain, written as a for loop in forward
    repeated: Call | None = None  # every member is built by this one constructor
    count: str | None = None  # the constructor argument holding the repeat count
    explicit: bool = True  # declared in the document (else found by codegen)
    member_of: dict[str, int] = field(default_factory=dict)

    def __post_init__(self):
        self.member_of = {node_id: i for i, node_id in enumerate(self.members)}


@dataclass
class InlineSequential:
    """A sequential block placed once: written in place as ``nn.Sequential(...)``."""

    items: list[tuple[object, str]]  # (constructor, shape comment)
    reset_entries: list[tuple[str, str]] = field(default_factory=list)  # relative to self


def constructor_lines(built, indent: str, prefix: str, suffix: str = "") -> list[str]:
    """``prefix + built + suffix`` at ``indent``: a constructor call or an inline sequential."""
    if isinstance(built, InlineSequential):
        lines = commented_call(indent, prefix, "nn.Sequential", built.items)
    else:
        lines = statement(indent, prefix, built)
    lines[-1] += suffix
    return lines


def _flat(item) -> str:
    return item.flat() if isinstance(item, Call) else item


# -- finding chains ------------------------------------------------------------------------
def chained(inference: Inference, ids: list[str], emitted: list[str]) -> bool:
    """Each node feeds only the next one's single input, and they come one after another in
    forward: the shape of ``for layer in ...: x = layer(x)``."""
    if not ids:
        return False
    position = {node_id: i for i, node_id in enumerate(emitted)}
    if any(node_id not in position for node_id in ids):
        return False
    for index, node_id in enumerate(ids):
        incoming = inference.incoming[node_id]
        if len(incoming) != 1 or incoming[0].port != 0:
            return False
        state = inference.states[node_id]
        if state.outputs is None or len(state.outputs) != 1:
            return False
        if not returns_plainly(inference.project, inference.nodes[node_id].type):
            return False  # a kept class returning (x, None): x = layer(x) would be wrong
        if index and (incoming[0].source != ids[index - 1]
                      or position[node_id] != position[ids[index - 1]] + 1):
            return False
        if index < len(ids) - 1 and inference.outgoing[node_id] != {ids[index + 1]}:
            return False
        if index < len(ids) - 1 and sum(
                1 for e in inference.incoming[ids[index + 1]] if e.source == node_id) != 1:
            return False
    return True


def shape_preserving(inferences: list[Inference], ids: list[str]) -> bool:
    for inference in inferences:
        for node_id in ids:
            state = inference.states[node_id]
            if not state.inputs or state.outputs is None or state.inputs[0] != state.outputs[0]:
                return False
    return True


# -- planning ------------------------------------------------------------------------------
def plan_lists(graph: Network, inferences: list[Inference], constructors: dict[str, object],
               emitted: list[str], taken: set[str]) -> list[ListPlan]:
    """Every module list of the class: the document's, then the runs found here.

    ``constructors[node_id]``: how each node is built (a Call), to tell identical placements;
    ``taken``: names the new list attributes and count arguments must avoid (updated).
    """
    primary = inferences[0]
    plans = [ListPlan(group.name, list(group.nodes)) for group in graph.module_lists]
    listed = {node_id for plan in plans for node_id in plan.members}
    for run in _implicit_runs(graph, primary, constructors, emitted, listed):
        plans.append(ListPlan(_list_name(graph, run, taken), run, explicit=False))
    for plan in plans:
        built = [constructors.get(node_id) for node_id in plan.members]
        nodes = graph.node_map()
        same = all(isinstance(c, Call) for c in built) and len({_flat(c) for c in built}) == 1 \
            and len({nodes[n].init for n in plan.members}) == 1
        plan.loop = chained(primary, plan.members, emitted)
        if same:
            plan.repeated = built[0]
            if plan.loop and shape_preserving(inferences, plan.members):
                plan.count = _fresh(f"num_{plan.name}", taken)
    return plans


def _implicit_runs(graph: Network, inference: Inference, constructors: dict,
                   emitted: list[str], listed: set[str]) -> list[list[str]]:
    nodes = graph.node_map()
    runs: list[list[str]] = []
    current: list[str] = []

    def close():
        if len(current) >= MIN_IMPLICIT_RUN:
            runs.append(list(current))
        current.clear()

    for node_id in emitted:
        node = nodes[node_id]
        built = constructors.get(node_id)
        candidate = node.block_name is not None and isinstance(built, Call) \
            and node_id not in listed and drawn_block(inference.project, node.type)
        if candidate and current and _flat(built) == _flat(constructors[current[-1]]) \
                and node.init == nodes[current[-1]].init \
                and chained(inference, [current[-1], node_id], emitted):
            current.append(node_id)
            continue
        close()
        if candidate and chained(inference, [node_id], emitted):
            current.append(node_id)
    close()
    return runs


def drawn_block(project: Project | None, block_type: str) -> bool:
    """Whether the placed block was drawn rather than imported, so that its placements may
    be renamed. The document has no field that says so; what tells them apart is what
    import always records and a drawn block leaves out: the shape of each of its inputs,
    as the class was called (a drawn block takes its input shapes from where it is placed).
    A drawn block whose inputs were given shapes by hand keeps its names too, which is
    never wrong, only longer."""
    name = block_name_of(block_type)
    block = project.block(name) if project is not None and name else None
    return block is not None and block.opaque is None and \
        not any("shape" in node.params for node in block.inputs())


def _list_name(graph: Network, run: list[str], taken: set[str]) -> str:
    """``layer1, layer2, layer3`` -> ``layers``; otherwise the block's name: ``res_blocks``."""
    nodes = graph.node_map()
    stems = {re.sub(r"_?\d+$", "", nodes[n].name) for n in run}
    stem = stems.pop() if len(stems) == 1 else ""
    if not stem or stem == nodes[run[0]].name:
        block = nodes[run[0]].block_name
        stem = "_".join(w.lower() for w in re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+", block))
        stem = stem or "block"
    name = stem if stem.endswith("s") else stem + "s"
    if not name.isidentifier():
        name = "blocks"
    return _fresh(name, taken)


def _fresh(base: str, taken: set[str]) -> str:
    name, counter = base, 2
    while name in taken:
        name = f"{base}_{counter}"
        counter += 1
    taken.add(name)
    return name


# -- writing -------------------------------------------------------------------------------
def list_constructor(plan: ListPlan, constructors: dict, indent: str) -> list[str]:
    """``self.<name> = nn.ModuleList([...])`` laid out as ruff format lays out a list: on one
    line, or the list on its own line, or one item per line."""
    prefix = f"self.{plan.name} = "
    inner = indent + "    "
    if plan.repeated is not None:
        count = plan.count or str(len(plan.members))
        flat = f"[{_flat(plan.repeated)} for _ in range({count})]"
        exploded = [f"{indent}{prefix}nn.ModuleList(", f"{inner}[",
                    *layout(plan.repeated, inner + "    "),
                    f"{inner}    for _ in range({count})", f"{inner}]", f"{indent})"]
    else:
        items = [constructors[node_id] for node_id in plan.members]
        flat = "[" + ", ".join(_flat(i) for i in items) + "]"
        exploded = _one_per_line(indent, prefix, items)
    if len(f"{indent}{prefix}nn.ModuleList({flat})") <= LINE_LENGTH:
        return [f"{indent}{prefix}nn.ModuleList({flat})"]
    if len(f"{inner}{flat}") <= LINE_LENGTH:
        return [f"{indent}{prefix}nn.ModuleList(", f"{inner}{flat}", f"{indent})"]
    return exploded


def _one_per_line(indent: str, prefix: str, items: list) -> list[str]:
    inner = indent + "    "
    lines = [f"{indent}{prefix}nn.ModuleList(", f"{inner}["]
    for item in items:
        lines += layout(item, inner + "    ", suffix=",")
    return lines + [f"{inner}]", f"{indent})"]


def commented_call(indent: str, prefix: str, func: str,
                   items: list[tuple[object, str]]) -> list[str]:
    """``func(item, item, ...)`` one item per line, each with its shape comment (the layout
    ruff keeps for a call with a trailing comma). A comment that would make its line too
    long goes on its own line above the item."""
    if not items:
        return [f"{indent}{prefix}{func}()"]
    inner = indent + "    "
    lines = [f"{indent}{prefix}{func}("]
    for item, comment in items:
        if isinstance(item, InlineSequential):
            if item.items:
                # A nested sequential shows its own layers' shapes, which end with this one.
                lines += constructor_lines(item, inner, "", ",")
                continue
            item = "nn.Sequential()"
        one = f"{inner}{_flat(item)},"
        if comment and len(one) + 4 + len(comment) <= LINE_LENGTH:
            lines.append(f"{one}  # {comment}")
            continue
        if comment:
            lines += comment_lines(inner, comment)
        lines += layout(item, inner, suffix=",")
    return lines + [f"{indent})"]


def chain_order(graph: Network) -> list[Node]:
    """The layers of a sequential graph from its input to its output (validated a chain)."""
    nodes = graph.node_map()
    following = {edge.source: edge.target for edge in graph.edges}
    order: list[Node] = []
    inputs = graph.inputs()
    current = following.get(inputs[0].id) if inputs else None
    while current is not None and nodes[current].type not in IO_TYPES:
        order.append(nodes[current])
        current = following.get(current)
    return order
