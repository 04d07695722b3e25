"""Helpers for the diagnostic tests: pick one diagnostic out of a validation, and apply a
diagnostic's Fix to the document by hand, the way builder/gui/fixes.py applies it in the app,
so a graph_schema test can re-validate the repaired project without Qt."""

from __future__ import annotations

from graph_schema import validate
from graph_schema.diagnostics import Diagnostic
from graph_schema.document import Edge, Network, Node, Project


def codes(project: Project) -> set[str]:
    return {d.code for d in validate(project)}


def the(project: Project, code: str) -> Diagnostic:
    """The one diagnostic with ``code``; fails when there is none or more than one."""
    found = [d for d in validate(project) if d.code == code]
    assert len(found) == 1, [d.format() for d in validate(project)]
    return found[0]


def every(project: Project, code: str) -> list[Diagnostic]:
    return [d for d in validate(project) if d.code == code]


def _graph(project: Project, diagnostic: Diagnostic) -> Network:
    graphs = project.blocks if diagnostic.scope == "block" else project.networks
    (graph,) = [g for g in graphs if g.name == diagnostic.network]
    return graph


def apply_fix(project: Project, diagnostic: Diagnostic) -> Project:
    """A copy of ``project`` with ``diagnostic.fix`` applied to the node it is pinned to."""
    fix = diagnostic.fix
    assert fix is not None and diagnostic.node_id is not None, diagnostic
    fixed = project.model_copy(deep=True)
    graph = _graph(fixed, diagnostic)
    target = graph.node(diagnostic.node_id)
    if fix.kind == "set_param":
        target.params = {**target.params, fix.args["param"]: fix.args["value"]}
    elif fix.kind == "replace_node":
        target.type = fix.args["type"]
        target.params = dict(fix.args.get("params") or {})
    elif fix.kind == "insert_node":
        port = diagnostic.port or 0
        (edge,) = [e for e in graph.edges if e.target == target.id and e.target_port == port]
        new = Node(id="inserted", type=fix.args["type"], name="inserted",
                   params=dict(fix.args.get("params") or {}))
        graph.nodes.append(new)
        graph.edges.remove(edge)
        graph.edges += [Edge(source=edge.source, source_port=edge.source_port, target=new.id),
                        Edge(source=new.id, target=target.id, target_port=port)]
    elif fix.kind == "remove_node":
        feeding = [e for e in graph.edges if e.target == target.id and e.target_port == 0]
        consumers = [e for e in graph.edges if e.source == target.id]
        graph.edges = [e for e in graph.edges if target.id not in (e.source, e.target)]
        graph.nodes = [n for n in graph.nodes if n.id != target.id]
        graph.edges += [Edge(source=f.source, source_port=f.source_port, target=c.target,
                             target_port=c.target_port) for f in feeding for c in consumers]
    else:
        raise AssertionError(f"unknown fix kind {fix.kind!r}")
    return fixed
