"""From one draft per module call to one block per class: grouping and arguments.

Instances of a class whose graphs have the same structure share a block. Values that differ
between them (channels, strides, a nested block's own arguments) become the block's
arguments; values that always differ together become one argument. A class whose instances
have different structures (a residual block with and without a projection shortcut) gets
one block per structure: ``BasicBlock`` and ``BasicBlock_2``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from codegen.importer.draft import GraphDraft
from graph_schema.document import block_name_of, name_problem

CHANNELS = {"in_channels", "out_channels", "num_features", "num_channels", "channels",
            "planes", "embed_dim", "d_model", "normalized_shape", "hidden_size"}
FEATURES = {"in_features", "out_features", "input_size"}
# Held-tensor params that describe the start, not the structure: the first instance's is used.
FIRST_ONLY = {("attr.Parameter", "value"), ("attr.Buffer", "value")}


@dataclass
class Instance:
    draft: GraphDraft
    key: tuple
    own: dict[tuple[str, str], Any] = field(default_factory=dict)  # (node, param) -> value
    children: dict[str, Instance] = field(default_factory=dict)  # node id -> placed instance
    extra: dict[str, Any] = field(default_factory=dict)  # what the kind needs (opaque call...)
    group: Group | None = None
    args: dict[str, Any] = field(default_factory=dict)  # this instance's argument values


@dataclass
class Group:
    key: tuple
    kind: str  # "class", "sequential" or "opaque"
    wanted_name: str
    instances: list[Instance] = field(default_factory=list)
    arguments: dict[str, Any] = field(default_factory=dict)  # name -> default
    bound: dict[tuple[str, str], str] = field(default_factory=dict)  # path -> argument
    name: str = ""  # the block's name, given once every group is known
    done: bool = False


def _type_tag(value: Any) -> str:
    return "none" if value is None else type(value).__name__


def structure_key(draft: GraphDraft, child_groups: dict[str, tuple]) -> str:
    """Everything about a draft except the values that may become arguments."""
    names = {node.id: node.name for node in draft.nodes}
    nodes = []
    for node in draft.nodes:
        kind = child_groups.get(node.id, node.type)
        params = sorted((k, _type_tag(v)) for k, v in node.params.items())
        fixed = sorted((k, v) for k, v in node.params.items() if _fixed(node.type, k, v))
        nodes.append([kind, node.name, names.get(node.reuses), node.called, params, fixed,
                      node.input_dtype])
    edges = sorted([names[a], p, names[b], q] for a, p, b, q in draft.edges)
    lists = {k: [names[i] for i in v] for k, v in draft.module_lists.items()}
    return json.dumps([draft.kind, nodes, edges, lists, draft.tied], sort_keys=True,
                      default=repr)


def _fixed(type_name: str, key: str, value: Any) -> bool:
    """Values that are part of a block's structure, never arguments: how a held tensor
    starts, and sizes that name a dimension (an argument holds numbers, not ["N", 16])."""
    if type_name.startswith("attr.") and key not in ("shape", "value"):
        return True
    return isinstance(value, list) and any(isinstance(v, str) for v in value)


def own_values(draft: GraphDraft) -> dict[tuple[str, str], Any]:
    values = {}
    for node in draft.nodes:
        if block_name_of(node.type) or not node.type or node.reuses:
            continue
        for key, value in node.params.items():
            if (node.type, key) not in FIRST_ONLY and not _fixed(node.type, key, value):
                values[(node.name, key)] = value
    return values


def _typed(values: list[Any]) -> str:
    return json.dumps([[_type_tag(v), v] for v in values], sort_keys=True, default=repr)


def finish(group: Group, child_arguments) -> None:
    """Settle the group's arguments; ``child_arguments(instance)`` gives, for each placed
    child node, that child instance's argument values (children are settled first)."""
    vectors = []
    for instance in group.instances:
        vector = dict(instance.own)
        for node_id, values in child_arguments(instance).items():
            name = instance.draft.node(node_id).name
            vector.update({(name, f"arg:{arg}"): value for arg, value in values.items()})
        vectors.append(vector)
    paths = sorted({path for vector in vectors for path in vector})
    clusters: dict[str, list[tuple[str, str]]] = {}
    for path in paths:
        column = [vector.get(path) for vector in vectors]
        if group.kind == "opaque":  # every constructor argument, each its own
            clusters[json.dumps(path)] = [path]
        elif any(v != column[0] or _type_tag(v) != _type_tag(column[0]) for v in column[1:]):
            clusters.setdefault(_typed(column), []).append(path)
    taken: set[str] = set()
    for members in clusters.values():
        name = _argument_name(members, taken, group.kind == "opaque")
        column = [vector.get(members[0]) for vector in vectors]
        group.arguments[name] = column[0]
        for path in members:
            group.bound[path] = name
        for instance, value in zip(group.instances, column):
            instance.args[name] = value
    group.done = True


# parameter names that say too little on their own: Conv1D(shape=(192,)) is its bias's shape
VAGUE = frozenset({"shape", "value", "index", "size", "data"})


def _argument_name(paths: list[tuple[str, str]], taken: set[str], verbatim: bool) -> str:
    """A name for values that vary together: the parameter's own name when they share one
    (``stride``), ``channels`` or ``features`` for a family of sizes, else one of their own
    names that is free (``out_channels``), else node and parameter (``bn3_num_features``)."""
    params = sorted({param.removeprefix("arg:") for _node, param in paths})
    if verbatim:
        taken.add(params[0])
        return params[0]
    candidates = list(params) if len(params) == 1 and params[0] not in VAGUE else []
    if len(params) > 1 and set(params) <= CHANNELS:
        candidates = ["channels", *_by_preference(params)]
    elif len(params) > 1 and set(params) <= FEATURES:
        candidates = ["features", *_by_preference(params)]
    node, param = paths[0]
    candidates.append(f"{node}_{param.removeprefix('arg:')}")
    for wanted in candidates:
        if wanted not in taken and not name_problem(wanted):
            taken.add(wanted)
            return wanted
    wanted, counter = candidates[-1] if not name_problem(candidates[-1]) else "value", 2
    name = f"{wanted}_{counter}"
    while name in taken:
        counter += 1
        name = f"{wanted}_{counter}"
    taken.add(name)
    return name


def _by_preference(params: list[str]) -> list[str]:
    """Output sizes first: a block's width is what it makes, not what it takes."""
    return sorted(params, key=lambda p: (not p.startswith("out"), p.startswith("in"), p))
