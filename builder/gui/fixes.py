"""One-click repairs: turn a diagnostic's Fix into the steps of one undoable command.

The catalog and the lints say *what* would fix a problem (set a parameter, insert a layer
into an input's edge, remove or replace a layer); this module says how, on the document.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable

from builder.gui.commands import AddEdge, Step, UpdateNode, removal_steps
from builder.gui.controller import EditController
from builder.gui.placing import insert_plan
from builder.gui.project_document import GraphKey
from graph_schema.diagnostics import Diagnostic
from graph_schema.document import Edge


class FixError(Exception):
    """The fix no longer applies (the graph changed since the diagnostic was made)."""


def apply_fix(controller: EditController, key: GraphKey, diagnostic: Diagnostic) -> bool:
    if diagnostic.fix is None or diagnostic.node_id is None:
        return False
    builders = {"set_param": _set_param, "insert_node": _insert_node,
                "remove_node": _remove_node, "replace_node": _replace_node}
    builder = builders.get(diagnostic.fix.kind)
    if builder is None:
        controller.refused.emit(f"TorchCanvas cannot apply '{diagnostic.fix.label}' itself")
        return False
    try:
        steps = builder(controller, key, diagnostic)
    except FixError as err:
        controller.refused.emit(f"Cannot apply '{diagnostic.fix.label}': {err}")
        return False
    controller.push(f"Fix: {diagnostic.fix.label}", steps)
    return True


def fix_identity(diagnostic: Diagnostic) -> tuple:
    """What applying the fix would do: two problems that suggest the same repair at the same
    place ("insert Flatten" for a shape mismatch and for the lint about it) are one fix."""
    fix = diagnostic.fix
    port = (diagnostic.port or 0) if fix.kind == "insert_node" else None  # the edge it splits
    args = json.dumps(fix.args, sort_keys=True, default=repr)
    return diagnostic.node_id, port, fix.kind, args


def distinct_fixes(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """The diagnostics with a fix, the first of each repair only (in the given order)."""
    seen: set[tuple] = set()
    kept = []
    for diagnostic in diagnostics:
        if diagnostic.fix is None:
            continue
        identity = fix_identity(diagnostic)
        if identity not in seen:
            seen.add(identity)
            kept.append(diagnostic)
    return kept


def without_repeated_fixes(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Every diagnostic, the repeats of an earlier one's fix shown without it (one button)."""
    diagnostics = list(diagnostics)
    first = {id(d) for d in distinct_fixes(diagnostics)}
    return [d if d.fix is None or id(d) in first else dataclasses.replace(d, fix=None)
            for d in diagnostics]


def _node(controller, key, node_id):
    try:
        return controller.doc.node(key, node_id)
    except KeyError:
        raise FixError("the layer no longer exists") from None


def _set_param(controller, key, diagnostic) -> list[Step]:
    node = _node(controller, key, diagnostic.node_id)
    args = diagnostic.fix.args
    params = {**node.params, args["param"]: args["value"]}
    return [UpdateNode(controller.doc, key, node.id, {"params": params})]


def _insert_node(controller, key, diagnostic) -> list[Step]:
    """Insert a layer into the edge that feeds the diagnosed input."""
    doc = controller.doc
    target = _node(controller, key, diagnostic.node_id)
    port = diagnostic.port or 0
    incoming = [e for e in doc.graph(key).edges if e.target == target.id and e.target_port == port]
    if not incoming:
        raise FixError(f"input {port} of '{target.name}' is not connected")
    (edge,) = incoming
    args = diagnostic.fix.args
    plan = insert_plan(doc, key, edge, args["type"], args.get("params"))
    return controller.insertion_steps(key, plan)


def _remove_node(controller, key, diagnostic) -> list[Step]:
    """Remove a layer and join what fed its input 0 to everything it fed."""
    doc = controller.doc
    node = _node(controller, key, diagnostic.node_id)
    edges = doc.edges_of(key, node.id)
    feeding = [e for e in edges if e.target == node.id and e.target_port == 0]
    consumers = [e for e in edges if e.source == node.id]
    steps = removal_steps(doc, key, {node.id})
    for source in feeding:
        for out in consumers:
            steps.append(AddEdge(doc, key, Edge(source=source.source,
                                                source_port=source.source_port,
                                                target=out.target, target_port=out.target_port)))
    return steps


def _replace_node(controller, key, diagnostic) -> list[Step]:
    node = _node(controller, key, diagnostic.node_id)
    args = diagnostic.fix.args
    return [UpdateNode(controller.doc, key, node.id,
                       {"type": args["type"], "params": dict(args.get("params") or {})})]
