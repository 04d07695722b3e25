"""Edits of whole graphs: add, rename and remove networks (blocks: builder/gui/block_edits.py)."""

from __future__ import annotations

from builder.gui.commands import AddGraph, RemoveGraph, RenameGraph
from builder.gui.controller import EditController
from builder.gui.project_document import GraphKey
from graph_schema.document import Network, Node, Position

MAX_NAME = 200


def graph_name_problem(controller: EditController, kind: str, name: str) -> str | None:
    if not name.strip():
        return "a name cannot be empty"
    if len(name) > MAX_NAME:
        return f"a name can have at most {MAX_NAME} characters"
    project = controller.doc.project
    taken = {g.name for g in (project.networks if kind == "network" else project.blocks)}
    if name in taken:
        return f"there is already a {kind} named {name!r}"
    return None


def add_network(controller: EditController, name: str) -> bool:
    problem = graph_name_problem(controller, "network", name)
    if problem:
        controller.refused.emit(f"Cannot add the network: {problem}")
        return False
    network = Network(name=name, nodes=[
        Node(id="n1", type="io.Input", name="x", params={"shape": ["N", 3, 32, 32]},
             position=Position(x=0, y=0)),
        Node(id="n2", type="io.Output", name="y", position=Position(x=0, y=320)),
    ])
    controller.push(f"Add network {name}", [AddGraph(controller.doc, network)])
    return True


def rename_graph(controller: EditController, key: GraphKey, name: str) -> bool:
    problem = graph_name_problem(controller, key[0], name)
    if problem:
        controller.refused.emit(f"Cannot rename: {problem}")
        return False
    controller.push(f"Rename {key[0]} to {name}", [RenameGraph(controller.doc, key, name)])
    return True


def remove_network(controller: EditController, key: GraphKey) -> bool:
    if len(controller.doc.project.networks) <= 1:
        controller.refused.emit("A project needs at least one network")
        return False
    controller.push(f"Delete network {key[1]}", [RemoveGraph(controller.doc, key)])
    return True
