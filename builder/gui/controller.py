"""The one place that turns a user's intent into undo commands.

Palette, canvas, inspector and panels call these methods; they never push commands or touch
the document themselves. Refused intents (a connection that would make a cycle, an invalid
name) emit ``refused`` with a message the window shows, and change nothing.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from builder.gui.commands import (
    AddEdge,
    AddNode,
    EditCommand,
    MoveCommand,
    MoveNodes,
    RemoveEdge,
    SetProjectField,
    Step,
    UpdateNode,
    removal_steps,
)
from builder.gui.project_document import GraphKey, ProjectDocument
from graph_schema import edit_rules
from graph_schema.document import Edge, Node, Position, name_problem
from graph_schema.edit_rules import PortEnd
from graph_schema.specs import spec_for

REMOVE = object()  # a parameter value meaning "back to the default / inferred value"


class EditController(QObject):
    refused = Signal(str)  # a user action that was not carried out, and why

    def __init__(self, doc: ProjectDocument, parent: QObject | None = None):
        super().__init__(parent)
        self.doc = doc
        self.undo_stack = QUndoStack(self)
        doc.project_replaced.connect(self.undo_stack.clear)

    def push(self, text: str, steps: list[Step]) -> None:
        if steps:
            self.undo_stack.push(EditCommand(text, steps))

    # -- nodes -----------------------------------------------------------------------------
    def make_node(self, key: GraphKey, type_name: str, position: Position,
                  params: dict | None = None, name: str | None = None,
                  taken_ids: set[str] | None = None,
                  taken_names: set[str] | None = None) -> Node:
        return edit_rules.new_node(self.doc.graph(key), type_name, position, params, name,
                                   taken_ids or frozenset(), taken_names or frozenset())

    def insertion_steps(self, key: GraphKey, plan: edit_rules.InsertPlan) -> list[Step]:
        """The steps that put a planned layer into its connection, making room first."""
        return [
            MoveNodes(self.doc, key, plan.moved_from, plan.moved_to),
            RemoveEdge(self.doc, key, plan.removed),
            AddNode(self.doc, key, plan.node),
            *(AddEdge(self.doc, key, edge) for edge in plan.added),
        ]

    def add_node(self, key: GraphKey, type_name: str, position: Position,
                 params: dict | None = None, link: PortEnd | None = None,
                 making_room: dict[str, Position] | None = None) -> str:
        """Add a layer; with ``link``, connected to that port as well (an output feeds the
        new layer's first input, an input is fed by its first output), and with
        ``making_room``, those nodes moved out of its way, all in one undo step. A
        connection that cannot work is left out and ``refused`` says why."""
        node = self.make_node(key, type_name, position, params)
        label = type_name.split(":", 1)[-1].split(".", 1)[-1]
        steps: list[Step] = []
        if making_room:
            old = {n: self.doc.node(key, n).position for n in making_room}
            steps.append(MoveNodes(self.doc, key, old, making_room))
        steps.append(AddNode(self.doc, key, node))
        edge = self._link_edge(key, node, link) if link is not None else None
        if edge is not None:
            steps += [RemoveEdge(self.doc, key, e)
                      for e in edit_rules.replaced_edges(self.doc.graph(key), edge)]
            steps.append(AddEdge(self.doc, key, edge))
        self.push(f"Add {label}", steps)
        return node.id

    def _link_edge(self, key: GraphKey, node: Node, link: PortEnd) -> Edge | None:
        """The connection between a new node and ``link``, or None (with the reason told)
        when the layer has no such port or the connection cannot work."""
        spec = spec_for(node.type, self.doc.project)
        if link.kind == "out":
            if spec is not None and spec.max_inputs == 0:
                return None
            edge = Edge(source=link.node_id, source_port=link.port, target=node.id)
        else:
            if spec is not None and not spec.outputs:
                return None
            edge = Edge(source=node.id, target=link.node_id, target_port=link.port)
        graph = self.doc.graph(key)
        with_node = graph.model_copy(update={"nodes": [*graph.nodes, node]})
        problem = edit_rules.connection_problem(self.doc.project, with_node,
                                                self.doc.analysis(key).inference, edge)
        if problem:
            self.refused.emit(f"Added {node.name}, not connected: {problem}")
            return None
        return edge

    def delete(self, key: GraphKey, node_ids: set[str], edges: list[Edge] = ()) -> None:
        if not node_ids and not edges:
            return
        count = len(node_ids)
        text = f"Delete {count} layer{'s' * (count != 1)}" if count else "Delete connection"
        self.push(text, removal_steps(self.doc, key, set(node_ids), list(edges)))

    def move(self, key: GraphKey, positions: dict[str, Position]) -> None:
        old = {n: self.doc.node(key, n).position for n in positions}
        if all(old[n] == positions[n] for n in positions):
            return
        count = len(positions)
        self.undo_stack.push(MoveCommand(f"Move {count} layer{'s' * (count != 1)}",
                                         MoveNodes(self.doc, key, old, positions)))

    def rename(self, key: GraphKey, node_id: str, name: str) -> bool:
        problem = name_problem(name)
        taken = {n.name for n in self.doc.graph(key).nodes if n.id != node_id}
        if problem is None and name in taken:
            problem = f"the name {name!r} is already used in this network"
        if problem:
            self.refused.emit(f"Cannot rename: {problem}")
            return False
        if self.doc.node(key, node_id).name != name:
            self.push(f"Rename to {name}", [UpdateNode(self.doc, key, node_id, {"name": name})])
        return True

    def set_param(self, key: GraphKey, node_id: str, name: str, value: Any) -> None:
        """Set one parameter; ``REMOVE`` drops it so the default or inferred value applies."""
        params = dict(self.doc.node(key, node_id).params)
        if value is REMOVE:
            if name not in params:
                return
            del params[name]
            text = f"Reset {name}"
        else:
            if params.get(name, REMOVE) == value:
                return
            params[name] = value
            text = f"Set {name}"
        self.push(text, [UpdateNode(self.doc, key, node_id, {"params": params})])

    def set_node_field(self, key: GraphKey, node_id: str, field: str, value: Any) -> None:
        """init or notes."""
        if getattr(self.doc.node(key, node_id), field) != value:
            self.push(f"Set {field}", [UpdateNode(self.doc, key, node_id, {field: value})])

    # -- edges -----------------------------------------------------------------------------
    def connect(self, key: GraphKey, source: str, source_port: int, target: str,
                target_port: int) -> bool:
        """Connect an output to an input, replacing what the input had; refuse what cannot
        work (a cycle, a missing port, a tensor of the wrong rank)."""
        problem = self.connection_problem(key, source, source_port, target, target_port)
        if problem:
            self.refused.emit(problem)
            return False
        edge = Edge(source=source, source_port=source_port, target=target,
                    target_port=target_port)
        graph = self.doc.graph(key)
        if edge in graph.edges:
            return True
        steps: list[Step] = [RemoveEdge(self.doc, key, e)
                             for e in edit_rules.replaced_edges(graph, edge)]
        steps.append(AddEdge(self.doc, key, edge))
        self.push("Connect", steps)
        return True

    def connection_problem(self, key: GraphKey, source: str, source_port: int, target: str,
                           target_port: int) -> str | None:
        edge = Edge(source=source, source_port=source_port, target=target,
                    target_port=target_port)
        return edit_rules.connection_problem(self.doc.project, self.doc.graph(key),
                                             self.doc.analysis(key).inference, edge)

    def disconnect(self, key: GraphKey, edges: list[Edge]) -> None:
        self.delete(key, set(), edges)

    def reroute(self, key: GraphKey, edge: Edge, target: str, target_port: int) -> bool:
        """Move the input end of a connection to another input, as one step."""
        problem = self.connection_problem(key, edge.source, edge.source_port, target,
                                          target_port)
        if problem:
            self.refused.emit(problem)
            return False
        new = Edge(source=edge.source, source_port=edge.source_port, target=target,
                   target_port=target_port)
        graph = self.doc.graph(key)
        replaced = edit_rules.replaced_edges(graph, new)
        steps: list[Step] = [RemoveEdge(self.doc, key, e) for e in graph.edges
                             if e == edge or e in replaced]
        steps.append(AddEdge(self.doc, key, new))
        self.push("Move connection", steps)
        return True

    # -- the project -----------------------------------------------------------------------
    def set_project_field(self, name: str, value: Any) -> None:
        if getattr(self.doc.project, name) != value:
            label = {"notes": "Edit notes", "name": "Rename project",
                     "training": "Edit training"}.get(name, f"Set {name}")
            self.push(label, [SetProjectField(self.doc, name, value)])
