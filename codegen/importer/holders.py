"""Calls into the children of a child: ``self.blocks.block1(x)``, ``self.backbone.layer1(x)``.

The child (the holder) is never called itself; its modules are. So that the state_dict keeps
its keys (``blocks.block1.*``), the holder stays a node of its own, and the calls into it are
drawn inside it: the holder becomes a block whose forward makes exactly those calls, with
the tensors they take as its inputs and the ones the caller reads afterwards as its outputs.
That is the same computation only when the calls can run together, one after the other: no
value of the caller may go from one call into the holder to a later one (``b2(relu(b1(x)))``
must stay three steps in the caller). Such a graph keeps the class as source.

A holder that is a positional nn.Sequential, called by index (``self.features[0](x)``), is
drawn as a module list instead: the same keys (``features.0.*``), and nothing to group.
"""

from __future__ import annotations

import heapq
import operator
from dataclasses import dataclass, field
from typing import Any

from torch import fx, nn

from codegen.importer.import_errors import Untraceable
from codegen.importer.leaves import is_sequential
from codegen.importer.values import TensorInfo


@dataclass
class HolderCalls:
    name: str  # the child whose own modules are called
    nodes: list[fx.Node] = field(default_factory=list)  # the calls and picks, in graph order


def holder_calls(graph: fx.Graph, children: dict[str, nn.Module],
                 lists: dict[str, list[nn.Module]],
                 values: dict[str, Any]) -> dict[str, HolderCalls]:
    """The calls into each holder among ``children``. Positional sequentials called only by
    index move from ``children`` to ``lists`` (both are changed in place)."""
    called_whole = {node.target for node in graph.nodes if node.op == "call_module"}
    groups: dict[str, HolderCalls] = {}
    for node in graph.nodes:
        if node.op != "call_module" or "." not in node.target:
            continue
        holder = node.target.split(".")[0]
        if holder not in children:
            continue  # a module list member, or something the caller refuses
        if holder in called_whole:
            raise Untraceable(f"its forward calls '{holder}' and also '{node.target}' inside "
                              f"it, which one diagram cannot hold")
        if _indexed_sequential(children[holder], node.target):
            lists[holder] = list(children.pop(holder)._modules.values())
            continue
        groups.setdefault(holder, HolderCalls(holder)).nodes.append(node)
    for group in groups.values():
        _add_picks(group, values)
        _check_together(graph, group)
    return groups


def _indexed_sequential(holder: nn.Module, target: str) -> bool:
    names = list(holder._modules)
    return is_sequential(holder) and names == [str(i) for i in range(len(names))] and \
        len(target.split(".")) == 2


def _add_picks(group: HolderCalls, values: dict[str, Any]) -> None:
    """``h, c = self.blocks.lstm(x)``: picking a result out of a call's tuple is part of the
    call, not a step of the caller."""
    members = set(group.nodes)
    pending = list(group.nodes)
    while pending:
        node = pending.pop()
        if isinstance(values.get(node.name), TensorInfo):
            continue
        for user in node.users:
            if user not in members and user.op == "call_function" and \
                    user.target is operator.getitem and user.args[0] is node:
                members.add(user)
                pending.append(user)
    order = {node: index for index, node in enumerate(next(iter(group.nodes)).graph.nodes)}
    group.nodes = sorted(members, key=order.__getitem__)


def _check_together(graph: fx.Graph, group: HolderCalls) -> None:
    """Refuse a value of the caller that comes out of the holder and goes back into it."""
    members = set(group.nodes)
    after: set[fx.Node] = set()  # the caller's nodes that read something the holder made
    for node in graph.nodes:
        inputs = node.all_input_nodes
        if node in members:
            if any(i in after for i in inputs):
                raise Untraceable(f"its forward takes a value out of '{group.name}', works on "
                                  f"it, and hands it back to '{node.target}': the calls into "
                                  f"'{group.name}' cannot be one step")
        elif any(i in members or i in after for i in inputs):
            after.add(node)


def in_order(graph: fx.Graph, groups: dict[str, HolderCalls]) -> list[fx.Node | HolderCalls]:
    """The graph's nodes in an order where each holder's calls are one step: a topological
    order of the graph with every group taken as one node, otherwise as traced."""
    group_of = {node: group for group in groups.values() for node in group.nodes}
    order = {node: index for index, node in enumerate(graph.nodes)}
    items: dict[int, fx.Node | HolderCalls] = {}
    needs: dict[int, set[int]] = {}
    first: dict[int, int] = {}
    for node in graph.nodes:
        item = group_of.get(node, node)
        key = id(item)
        items[key] = item
        first.setdefault(key, order[node])
        needs.setdefault(key, set()).update(
            id(group_of.get(i, i)) for i in node.all_input_nodes)
    for key in needs:
        needs[key].discard(key)
    users: dict[int, list[int]] = {key: [] for key in items}
    for key, needed in needs.items():
        for other in needed:
            users[other].append(key)
    ready = [(first[key], key) for key, needed in needs.items() if not needed]
    heapq.heapify(ready)
    ordered = []
    while ready:
        _index, key = heapq.heappop(ready)
        ordered.append(items[key])
        for user in users[key]:
            needs[user].discard(key)
            if not needs[user]:
                heapq.heappush(ready, (first[user], user))
    return ordered
