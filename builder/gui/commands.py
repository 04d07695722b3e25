"""Undoable edits. A command is a list of small steps; each step calls the document, never
a scene item, so undo and redo re-emit exactly the document's own signals.

Steps are plain Python objects gathered into one ``EditCommand`` (a QUndoCommand): an action
that touches several things (deleting a node and its edges, pasting, inserting a layer into
an edge) is one undo step for the user.
"""

from __future__ import annotations

from typing import Any, Protocol

from PySide6.QtGui import QUndoCommand

from builder.gui.project_document import GraphKey, ProjectDocument
from graph_schema.document import Edge, Network, Node, OpaqueClass, Position

MOVE_COMMAND_ID = 1001


class Step(Protocol):
    def redo(self) -> None: ...
    def undo(self) -> None: ...


class EditCommand(QUndoCommand):
    def __init__(self, text: str, steps: list[Step]):
        super().__init__(text)
        self.steps = list(steps)

    def redo(self) -> None:
        for step in self.steps:
            step.redo()

    def undo(self) -> None:
        for step in reversed(self.steps):
            step.undo()


class MoveCommand(EditCommand):
    """Moving nodes; consecutive moves of the same nodes (arrow-key nudges) merge into one."""

    def __init__(self, text: str, step: MoveNodes):
        super().__init__(text, [step])

    def id(self) -> int:  # noqa: A003  (Qt's name)
        return MOVE_COMMAND_ID

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802  (Qt's name)
        if not isinstance(other, MoveCommand):
            return False
        mine, theirs = self.steps[0], other.steps[0]
        if mine.key != theirs.key or set(mine.new) != set(theirs.new):
            return False
        mine.new = dict(theirs.new)
        return True


class AddNode:
    def __init__(self, doc: ProjectDocument, key: GraphKey, node: Node):
        self.doc, self.key, self.node = doc, key, node
        self.index: int | None = None

    def redo(self) -> None:
        self.doc.insert_node(self.key, self.node, self.index)

    def undo(self) -> None:
        self.node, self.index = self.doc.take_node(self.key, self.node.id)


class RemoveNode:
    """Removes a node whose edges are already gone (see ``removal_steps``)."""

    def __init__(self, doc: ProjectDocument, key: GraphKey, node_id: str):
        self.doc, self.key, self.node_id = doc, key, node_id
        self.node: Node | None = None
        self.index = 0

    def redo(self) -> None:
        self.node, self.index = self.doc.take_node(self.key, self.node_id)

    def undo(self) -> None:
        self.doc.insert_node(self.key, self.node, self.index)


class AddEdge:
    def __init__(self, doc: ProjectDocument, key: GraphKey, edge: Edge):
        self.doc, self.key, self.edge = doc, key, edge
        self.index: int | None = None

    def redo(self) -> None:
        self.doc.insert_edge(self.key, self.edge, self.index)

    def undo(self) -> None:
        self.index = self.doc.take_edge(self.key, self.edge)


class RemoveEdge:
    def __init__(self, doc: ProjectDocument, key: GraphKey, edge: Edge):
        self.doc, self.key, self.edge = doc, key, edge
        self.index = 0

    def redo(self) -> None:
        self.index = self.doc.take_edge(self.key, self.edge)

    def undo(self) -> None:
        self.doc.insert_edge(self.key, self.edge, self.index)


class UpdateNode:
    """Sets fields of a node: name, type, params, init, notes."""

    def __init__(self, doc: ProjectDocument, key: GraphKey, node_id: str,
                 changes: dict[str, Any]):
        self.doc, self.key, self.node_id = doc, key, node_id
        self.new = dict(changes)
        self.old: dict[str, Any] = {}

    def redo(self) -> None:
        self.old = self.doc.update_node(self.key, self.node_id, self.new)

    def undo(self) -> None:
        self.doc.update_node(self.key, self.node_id, self.old)


class MoveNodes:
    def __init__(self, doc: ProjectDocument, key: GraphKey, old: dict[str, Position],
                 new: dict[str, Position]):
        self.doc, self.key, self.old, self.new = doc, key, dict(old), dict(new)

    def redo(self) -> None:
        self.doc.set_positions(self.key, self.new)

    def undo(self) -> None:
        self.doc.set_positions(self.key, self.old)


class SetProjectField:
    def __init__(self, doc: ProjectDocument, name: str, value: Any):
        self.doc, self.name, self.value = doc, name, value
        self.old: Any = None

    def redo(self) -> None:
        self.old = self.doc.set_project_field(self.name, self.value)

    def undo(self) -> None:
        self.doc.set_project_field(self.name, self.old)


class AddGraph:
    def __init__(self, doc: ProjectDocument, graph: Network):
        self.doc, self.graph = doc, graph
        self.index: int | None = None

    def redo(self) -> None:
        self.key = self.doc.insert_graph(self.graph, self.index)

    def undo(self) -> None:
        self.graph, self.index = self.doc.take_graph(self.key)


class RemoveGraph:
    def __init__(self, doc: ProjectDocument, key: GraphKey):
        self.doc, self.key = doc, key
        self.graph: Network | None = None
        self.index = 0

    def redo(self) -> None:
        self.graph, self.index = self.doc.take_graph(self.key)

    def undo(self) -> None:
        self.doc.insert_graph(self.graph, self.index)


class RenameGraph:
    def __init__(self, doc: ProjectDocument, key: GraphKey, new_name: str):
        self.doc, self.key, self.new_name = doc, key, new_name

    def redo(self) -> None:
        self.doc.rename_graph(self.key, self.new_name)

    def undo(self) -> None:
        self.doc.rename_graph((self.key[0], self.new_name), self.key[1])


class SetBlockOpaque:
    """Replaces a block's kept source: trusting it swaps in the signed copy."""

    def __init__(self, doc: ProjectDocument, name: str, opaque: OpaqueClass):
        self.doc, self.name, self.new = doc, name, opaque
        self.old: OpaqueClass | None = None

    def redo(self) -> None:
        self.old = self.doc.set_block_opaque(self.name, self.new)

    def undo(self) -> None:
        self.doc.set_block_opaque(self.name, self.old)


def removal_steps(doc: ProjectDocument, key: GraphKey, node_ids: set[str],
                  edges: list[Edge] = ()) -> list[Step]:
    """Steps that delete nodes and the given edges: every edge first, each once."""
    doomed: list[Edge] = []
    for edge in list(edges) + [e for n in sorted(node_ids) for e in doc.edges_of(key, n)]:
        if edge not in doomed:
            doomed.append(edge)
    steps: list[Step] = [RemoveEdge(doc, key, e) for e in doomed]
    order = [n.id for n in doc.graph(key).nodes if n.id in node_ids]
    steps += [RemoveNode(doc, key, node_id) for node_id in reversed(order)]
    return steps
