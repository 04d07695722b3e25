"""Fragments: some nodes of a graph, the edges among them and the blocks they place.

A fragment is what copy puts on the clipboard (as JSON) and what paste and duplicate put
into a graph: of the same network, of another network or block, or of another project.
Reading one trusts nothing: the text is parsed as JSON, checked with the document's own
pydantic models, and refused as a whole, with the reason, when anything is off.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from builder.gui.commands import AddEdge, AddGraph, AddNode, Step
from builder.gui.controller import EditController
from builder.gui.project_document import GraphKey
from graph_schema.catalog import current_type, get_spec
from graph_schema.document import (
    Block,
    Edge,
    Network,
    Node,
    Position,
    Project,
    block_name_of,
    block_type,
    name_problem,
)
from graph_schema.edit_rules import base_name, unique_name

KIND = "torchcanvas-fragment"
VERSION = 1
MAX_CHARS = 32 * 2**20  # a fragment of a 1,000-node project is well under 1 MiB
MAX_NODES = 20_000
PASTE_OFFSET = 40.0  # how far a paste without a target point lands from the originals
GRID = 8.0


class FragmentError(Exception):
    """Text that cannot be pasted; the message says why."""


@dataclass
class Fragment:
    nodes: list[Node]
    edges: list[Edge]  # only edges between the fragment's own nodes
    blocks: list[Block] = field(default_factory=list)  # a block after the blocks it places
    arguments: dict[str, Any] = field(default_factory=dict)  # {"arg": a} values of the source

    def to_json(self) -> str:
        return json.dumps({
            "kind": KIND, "version": VERSION,
            "nodes": [n.model_dump(mode="json") for n in self.nodes],
            "edges": [e.model_dump(mode="json") for e in self.edges],
            "blocks": [b.model_dump(mode="json") for b in self.blocks],
            "arguments": self.arguments,
        }, indent=1, ensure_ascii=False)


# -- making one ----------------------------------------------------------------------------
def make_fragment(project: Project, graph: Network, node_ids: set[str]) -> Fragment:
    """The chosen nodes in document order, their edges, and every block they place
    (directly or through other blocks)."""
    nodes = [n.model_copy(deep=True) for n in graph.nodes if n.id in node_ids]
    _detach_shared_modules(graph, nodes, node_ids)
    edges = [e.model_copy() for e in graph.edges if e.source in node_ids and e.target in node_ids]
    blocks: list[Block] = []
    _collect_blocks(project, nodes, blocks, set())
    used = {ref for node in nodes for ref in _argument_refs(node.params)}
    arguments = {a: graph.arguments[a] for a in sorted(used) if a in graph.arguments}
    return Fragment(nodes, edges, [b.model_copy(deep=True) for b in blocks], arguments)


def _detach_shared_modules(graph: Network, nodes: list[Node], node_ids: set[str]) -> None:
    """A copy that shared the module of a node left behind gets that node's settings and a
    module of its own (sharing with a node of another graph is impossible)."""
    by_id = graph.node_map()
    for node in nodes:
        if node.reuses is not None and node.reuses not in node_ids:
            shared = by_id.get(node.reuses)
            node.reuses = None
            if shared is not None:
                node.params, node.init = dict(shared.params), shared.init


def carry_fields(old: Node, new: Node) -> None:
    """What make_node does not set: weight init, notes, whether forward calls the module."""
    new.init, new.notes, new.called = old.init, old.notes, old.called


def remap_reuses(pairs: list[tuple[Node, Node]], new_ids: dict[str, str]) -> None:
    """Copies that shared a module share the copy of it (or nothing, if it was not copied)."""
    for old, new in pairs:
        new.reuses = new_ids.get(old.reuses) if old.reuses is not None else None


def _collect_blocks(project: Project, nodes: list[Node], found: list[Block],
                    visiting: set[str]) -> None:
    for node in nodes:
        name = block_name_of(node.type)
        if name is None or name in visiting or any(b.name == name for b in found):
            continue
        block = project.block(name)
        if block is None:
            continue
        visiting.add(name)
        _collect_blocks(project, block.nodes, found, visiting)  # what it places goes first
        visiting.discard(name)
        found.append(block)


def _argument_refs(params: dict[str, Any]) -> list[str]:
    return [v["arg"] for v in params.values()
            if isinstance(v, dict) and set(v) == {"arg"} and isinstance(v["arg"], str)]


# -- reading one ---------------------------------------------------------------------------
def fragment_from_json(text: str) -> Fragment:
    """Parse and check clipboard text; FragmentError says what is wrong with it."""
    if len(text) > MAX_CHARS:
        raise FragmentError(f"the clipboard holds {len(text) // 2**20} MiB of text, more "
                            f"than a copy of layers can be")
    try:
        doc = json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        raise FragmentError("the clipboard does not hold TorchCanvas layers "
                            "(its text is not a copy made by TorchCanvas)") from None
    if not isinstance(doc, dict) or doc.get("kind") != KIND:
        raise FragmentError("the clipboard does not hold TorchCanvas layers")
    version = doc.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version > VERSION:
        raise FragmentError(f"the layers on the clipboard come from a newer TorchCanvas "
                            f"(fragment version {version!r}); update TorchCanvas to paste them")
    fragment = _validated(doc)
    _check_contents(fragment)
    fragment.blocks = _dependency_order(fragment.blocks)
    return fragment


def _refuse_constant(name: str) -> Any:
    raise ValueError(name)


def _validated(doc: dict) -> Fragment:
    parts = {name: doc.get(name, [] if name != "arguments" else {})
             for name in ("nodes", "edges", "blocks", "arguments")}
    if not all(isinstance(parts[n], list) for n in ("nodes", "edges", "blocks")) or \
            not isinstance(parts["arguments"], dict):
        raise FragmentError("the clipboard's layers are malformed")
    if len(parts["nodes"]) > MAX_NODES:
        raise FragmentError(f"the clipboard holds more than {MAX_NODES} layers")
    try:
        # A throwaway network checks the nodes and edges (unique ids, field types) and the
        # argument names exactly as a project file would be checked.
        network = Network(name="clipboard", nodes=parts["nodes"], edges=parts["edges"],
                          arguments=parts["arguments"])
        blocks = [Block.model_validate(b) for b in parts["blocks"]]
    except ValidationError as err:
        first = err.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        message = first.get("msg", "invalid value").removeprefix("Value error, ")
        raise FragmentError(f"the clipboard's layers are malformed ({where}: {message})") \
            from None
    return Fragment(network.nodes, network.edges, blocks, network.arguments)


def _check_contents(fragment: Fragment) -> None:
    if not fragment.nodes:
        raise FragmentError("the clipboard holds no layers")
    ids = {n.id for n in fragment.nodes}
    for edge in fragment.edges:
        if edge.source not in ids or edge.target not in ids:
            raise FragmentError(f"a connection on the clipboard refers to a layer it does not "
                                f"hold ({edge.source!r} -> {edge.target!r})")
    names = [b.name for b in fragment.blocks]
    if len(set(names)) != len(names):
        raise FragmentError("the clipboard defines the same block twice")
    for node in fragment.nodes:
        problem = name_problem(node.name)
        if problem:
            raise FragmentError(f"a layer on the clipboard has an unusable name: {problem}")
    for nodes in [fragment.nodes, *(b.nodes for b in fragment.blocks)]:
        for node in nodes:
            node.type = current_type(node.type)
            if block_name_of(node.type) is None and get_spec(node.type) is None:
                raise FragmentError(f"the clipboard holds a layer of unknown type "
                                    f"{node.type[:80]!r}")


def _dependency_order(blocks: list[Block]) -> list[Block]:
    """Blocks after the blocks they place; a block that places itself is refused."""
    by_name = {b.name: b for b in blocks}
    ordered: list[Block] = []
    state: dict[str, str] = {}

    def visit(name: str) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "open":
            raise FragmentError(f"the blocks on the clipboard contain themselves ({name!r})")
        state[name] = "open"
        for node in by_name[name].nodes:
            inner = block_name_of(node.type)
            if inner in by_name:
                visit(inner)
        state[name] = "done"
        ordered.append(by_name[name])

    for block in blocks:
        visit(block.name)
    return ordered


# -- putting one into a graph --------------------------------------------------------------
@dataclass
class Placement:
    steps: list[Step]
    node_ids: list[str]  # the new nodes, in fragment order
    new_blocks: list[str]  # names of block definitions added to the project


def place_fragment(controller: EditController, key: GraphKey, fragment: Fragment,
                   at: Position | None = None) -> Placement:
    """The steps that add the fragment to graph ``key``: its top-left corner at ``at``, or
    offset from where the nodes were. Ids are fresh, names unique, edges re-mapped, and
    blocks the project lacks are added (renamed when a different block has the name)."""
    doc = controller.doc
    renamed, new_blocks = _plan_blocks(doc.project, fragment)
    _refuse_unresolved_blocks(doc.project, key, fragment, renamed, new_blocks)
    graph = doc.graph(key)
    dx, dy = _offset(graph, fragment, at)
    steps: list[Step] = [AddGraph(doc, block) for block in new_blocks]
    taken_ids: set[str] = set()
    taken_names = {n.name for n in graph.nodes}
    new_ids: dict[str, str] = {}
    pairs: list[tuple[Node, Node]] = []
    try:
        for node in fragment.nodes:
            new = _copy_node(controller, key, node, graph, fragment, renamed, (dx, dy),
                             taken_ids, taken_names)
            new_ids[node.id] = new.id
            pairs.append((node, new))
            steps.append(AddNode(doc, key, new))
    except ValueError as err:  # a position out of range, a value pydantic refuses
        raise FragmentError(f"the layers cannot be placed here ({err})") from None
    remap_reuses(pairs, new_ids)
    steps += [AddEdge(doc, key, Edge(source=new_ids[e.source], source_port=e.source_port,
                                     target=new_ids[e.target], target_port=e.target_port))
              for e in fragment.edges]
    return Placement(steps, list(new_ids.values()), [b.name for b in new_blocks])


def _copy_node(controller, key, node, graph, fragment, renamed, offset, taken_ids,
               taken_names) -> Node:
    type_name = node.type
    inner = block_name_of(type_name)
    if inner is not None and inner in renamed:
        type_name = block_type(renamed[inner])
    name = fresh_name(node.name, taken_names, type_name)
    position = Position(x=node.position.x + offset[0], y=node.position.y + offset[1])
    new = controller.make_node(key, type_name, position,
                               _resolve_arguments(node.params, fragment.arguments,
                                                  graph.arguments),
                               name=name, taken_ids=taken_ids, taken_names=taken_names)
    carry_fields(node, new)
    taken_ids.add(new.id)
    taken_names.add(new.name)
    return new


def fresh_name(name: str, taken: set[str], type_name: str) -> str:
    """The node's own name if it is free; else the next free number of its stem
    (``conv1`` -> ``conv3`` when ``conv2`` is taken too)."""
    if name not in taken and name_problem(name) is None:
        return name
    stem = re.sub(r"_?\d+$", "", name)
    if not stem or name_problem(stem) is not None:
        stem = base_name(type_name)
    return unique_name(stem, taken, numbered=True)


def _resolve_arguments(params: dict, source_args: dict, target_args: dict) -> dict:
    """An ``{"arg": a}`` the target graph does not define becomes the value it had where
    it was copied from (a pasted layer keeps its size)."""
    resolved = {}
    for name, value in params.items():
        if isinstance(value, dict) and set(value) == {"arg"} and \
                value["arg"] not in target_args and value["arg"] in source_args:
            value = source_args[value["arg"]]
        resolved[name] = value
    return resolved


def _snap(value: float) -> float:
    return round(value / GRID) * GRID


def _offset(graph: Network, fragment: Fragment, at: Position | None) -> tuple[float, float]:
    """How far every node moves: the fragment's top-left corner lands on the grid, at
    ``at`` or a step below and right of where it was (further while that would put a node
    exactly on another, so pasting twice gives a staircase, not a pile)."""
    left = min(n.position.x for n in fragment.nodes)
    top = min(n.position.y for n in fragment.nodes)
    if at is not None:
        return _snap(at.x) - left, _snap(at.y) - top
    taken = {(n.position.x, n.position.y) for n in graph.nodes}
    step = PASTE_OFFSET
    for _ in range(50):
        dx, dy = _snap(left + step) - left, _snap(top + step) - top
        if not any((n.position.x + dx, n.position.y + dy) in taken for n in fragment.nodes):
            break
        step += PASTE_OFFSET
    return dx, dy


def _plan_blocks(project: Project, fragment: Fragment) -> tuple[dict[str, str], list[Block]]:
    """Which fragment blocks the project already has (same name, same content), and which
    to add, under what name. Returns {fragment name: project name}, blocks to add."""
    renamed: dict[str, str] = {}
    adding: list[Block] = []
    for block in fragment.blocks:
        candidate = block.model_copy(deep=True)
        for node in candidate.nodes:
            inner = block_name_of(node.type)
            if inner in renamed:
                node.type = block_type(renamed[inner])
        content = candidate.model_dump(mode="json", exclude={"name"})
        planned = {b.name: b for b in adding}
        for name in _name_candidates(block.name):
            existing = project.block(name) or planned.get(name)
            if existing is None:
                candidate.name = name
                adding.append(candidate)
                break
            if existing.model_dump(mode="json", exclude={"name"}) == content:
                break
        renamed[block.name] = name
    return renamed, adding


def _name_candidates(name: str):
    yield name
    stem = name[:190]
    for number in range(2, 10_000):
        yield f"{stem}_{number}"
    raise FragmentError(f"too many blocks are named like {name!r}")


def _refuse_unresolved_blocks(project: Project, key: GraphKey, fragment: Fragment,
                              renamed: dict[str, str], adding: list[Block]) -> None:
    known = {b.name: b for b in project.blocks} | {b.name: b for b in adding}
    for node in fragment.nodes:
        inner = block_name_of(node.type)
        if inner is None:
            continue
        name = renamed.get(inner, inner)
        if name not in known:
            raise FragmentError(f"the clipboard places block {inner!r} without its definition")
        if key[0] == "block" and places(known, name, key[1]):
            raise FragmentError(f"block {key[1]!r} cannot contain itself (the clipboard "
                                f"places {name!r}, which is or contains {key[1]!r})")


def places(blocks: dict[str, Block], name: str, wanted: str, seen: set | None = None) -> bool:
    """Whether block ``name`` is ``wanted`` or places it, at any depth."""
    if name == wanted:
        return True
    seen = seen if seen is not None else set()
    if name in seen or name not in blocks:
        return False
    seen.add(name)
    return any(places(blocks, inner, wanted, seen) for inner in
               (block_name_of(n.type) for n in blocks[name].nodes) if inner is not None)
