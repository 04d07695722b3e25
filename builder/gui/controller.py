"""The one place that turns a user's intent into undo commands.

Palette, canvas, inspector and panels call these methods; they never push commands or touch
the document themselves. Refused intents (a connection that would make a cycle, an invalid
name) emit ``refused`` with a message the window shows, and change nothing.
"""

from __future__ import annotations

import re
from typing import Any

import networkx as nx
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
from builder.gui.document import GraphKey, ProjectDocument
from builder.gui.looks import spec_for
from graph_schema.document import Edge, Node, Position, name_problem
from graph_schema.inference import Inference

# What a new layer is called before the user names it: conv1, conv2, fc1, ...
BASE_NAMES = {
    "io.Input": "x",
    "io.Output": "out",
    "nn.Linear": "fc",
    "nn.Bilinear": "bilinear",
    "nn.BatchNorm1d": "bn",
    "nn.BatchNorm2d": "bn",
    "nn.BatchNorm3d": "bn",
    "nn.MultiheadAttention": "attn",
    "nn.TransformerEncoderLayer": "encoder_layer",
    "nn.TransformerDecoderLayer": "decoder_layer",
}
REMOVE = object()  # a parameter value meaning "back to the default / inferred value"


def base_name(type_name: str) -> str:
    if type_name in BASE_NAMES:
        return BASE_NAMES[type_name]
    short = type_name.split(":", 1)[-1].split(".", 1)[-1]
    short = re.sub(r"(\d)d$", "", short)  # Conv2d -> Conv
    # LeakyReLU -> leaky_relu: unit names written as acronyms become one word, then split
    # lower->Upper, and an acronym from the next word (MLPHead -> mlp_head).
    short = re.sub(r"([A-Z]?[A-Z]?[a-z]?)LU", lambda m: m.group(1).capitalize() + "lu", short)
    short = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", short)
    short = short.lower().strip("_")
    if name_problem(short) is not None:
        short = f"{short}_layer" if short.isidentifier() else "layer"
    return short


def unique_name(wanted: str, taken: set[str], numbered: bool = True) -> str:
    """``conv`` -> ``conv1`` (or the next free number); io nodes keep a bare first name."""
    if not numbered and wanted not in taken and name_problem(wanted) is None:
        return wanted
    counter = 1 if numbered else 2
    while f"{wanted}{counter}" in taken or name_problem(f"{wanted}{counter}") is not None:
        counter += 1
    return f"{wanted}{counter}"


def new_node_id(taken: set[str]) -> str:
    numbers = [int(i[1:]) for i in taken if re.fullmatch(r"n\d+", i)]
    return f"n{max(numbers, default=0) + 1}"


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
        graph = self.doc.graph(key)
        ids = {n.id for n in graph.nodes} | (taken_ids or set())
        names = {n.name for n in graph.nodes} | (taken_names or set())
        numbered = not type_name.startswith("io.")
        wanted = name or base_name(type_name)
        if name is not None and name not in names and name_problem(name) is None:
            chosen = name
        else:
            chosen = unique_name(wanted, names, numbered)
        return Node(id=new_node_id(ids), type=type_name, name=chosen,
                    params=dict(params or {}), position=position)

    def add_node(self, key: GraphKey, type_name: str, position: Position,
                 params: dict | None = None) -> str:
        node = self.make_node(key, type_name, position, params)
        label = type_name.split(".", 1)[-1]
        self.push(f"Add {label}", [AddNode(self.doc, key, node)])
        return node.id

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
        steps: list[Step] = [RemoveEdge(self.doc, key, e) for e in graph.edges
                             if e.target == target and e.target_port == target_port]
        steps.append(AddEdge(self.doc, key, edge))
        self.push("Connect", steps)
        return True

    def connection_problem(self, key: GraphKey, source: str, source_port: int, target: str,
                           target_port: int) -> str | None:
        graph = self.doc.graph(key)
        nodes = graph.node_map()
        src, dst = nodes[source], nodes[target]
        if source == target:
            return f"'{src.name}' cannot feed itself"
        inference = self.doc.analysis(key).inference
        if target in inference.graph and source in inference.graph and \
                nx.has_path(inference.graph, target, source):
            return (f"connecting '{src.name}' to '{dst.name}' would make a cycle: "
                    f"'{src.name}' already depends on '{dst.name}'")
        spec = spec_for(self.doc.project, dst)
        if spec is not None and spec.max_inputs is not None and target_port >= spec.max_inputs:
            return f"'{dst.name}' ({dst.type}) has no input {target_port}"
        outputs = inference.states[source].outputs
        if outputs is not None and source_port >= len(outputs):
            return f"'{src.name}' has no output {source_port}"
        return self._rank_problem(key, source, source_port, target, target_port)

    def _rank_problem(self, key, source, source_port, target, target_port) -> str | None:
        """Try the connection on a copy: a tensor of a rank the layer can never take is
        refused (a wrong size is allowed: it shows as a diagnostic with a fix)."""
        graph = self.doc.graph(key).model_copy(deep=True)
        graph.edges = [e for e in graph.edges
                       if not (e.target == target and e.target_port == target_port)]
        graph.edges.append(Edge(source=source, source_port=source_port, target=target,
                                target_port=target_port))
        trial = Inference(graph, self.doc.project,
                          input_shapes=self.doc.analysis(key).inference.input_shapes,
                          arguments=self.doc.analysis(key).inference.arguments)
        for diagnostic in trial.states[target].diagnostics:
            if diagnostic.code == "rank-mismatch" and diagnostic.port == target_port:
                return f"cannot connect: '{diagnostic.node_name}' ({diagnostic.node_type}) " \
                       f"input {target_port}: {diagnostic.message}"
        return None

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
        steps: list[Step] = [RemoveEdge(self.doc, key, e) for e in graph.edges
                             if e == edge or (e.target == target and e.target_port == target_port)]
        steps.append(AddEdge(self.doc, key, new))
        self.push("Move connection", steps)
        return True

    # -- the project -----------------------------------------------------------------------
    def set_project_field(self, name: str, value: Any) -> None:
        if getattr(self.doc.project, name) != value:
            label = {"notes": "Edit notes", "name": "Rename project",
                     "training": "Edit training"}.get(name, f"Set {name}")
            self.push(label, [SetProjectField(self.doc, name, value)])
