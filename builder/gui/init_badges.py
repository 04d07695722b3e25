"""The init check on the canvas: a badge on each layer whose activations vanish or explode at
initialisation, and the numbers of every checked layer in its node's tooltip.

The window owns one ``InitBadges``; whoever reads the runner's ``{"event": "init_check",
"layers": [...]}`` line hands the layers over: ``set_init_stats(network_key("lenet5"),
event["layers"])``. A layer inside a block instance is summed up on the instance's node
(builder/gui/init_marks.py).

The numbers describe the model as it was drawn when the check ran. So they stay while the
drawing only looks different (a drag, Auto Layout, a new flow, a canvas rebuilt or reopened)
and go, with a line in the status bar, at the first edit that changes the model: a layer or
a connection added or removed, a name, type, parameter or init scheme changed, in the network
or in a block it places. A fingerprint of those graphs without positions and notes tells
which edits do; an edit undone afterwards does not bring the numbers back (run the check
again).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QStatusBar

from builder.gui.graph_tabs import GraphTabs
from builder.gui.init_marks import InitMark, marks_for, parse_layers
from builder.gui.project_document import GraphKey, ProjectDocument
from graph_schema.document import Network, Project

STATUS_MS = 10_000


@dataclass(frozen=True)
class _Stats:
    marks: dict[str, InitMark]
    fingerprint: Any
    blocks: frozenset[str]  # the blocks the network places, directly or inside other blocks


class InitBadges(QObject):
    stats_cleared = Signal(object, str)  # graph key, why (the sentence the status bar shows)

    def __init__(
        self,
        doc: ProjectDocument,
        tabs: GraphTabs,
        status_bar: QStatusBar | None = None,
        parent: QObject | None = None,
    ):
        super().__init__(parent or tabs)
        self.doc, self.tabs, self.status_bar = doc, tabs, status_bar
        self._stats: dict[GraphKey, _Stats] = {}
        tabs.view_created.connect(self._on_tabs_view_created)
        for signal in (
            doc.node_added,
            doc.node_removed,
            doc.node_changed,
            doc.edge_added,
            doc.edge_removed,
        ):
            signal.connect(self._on_doc_graph_edited)
        doc.opaque_changed.connect(self._on_doc_opaque_changed)
        doc.graph_removed.connect(self._on_doc_graph_removed)
        doc.graph_renamed.connect(self._on_doc_graph_renamed)
        doc.project_replaced.connect(self._on_doc_project_replaced)

    # -- the API ---------------------------------------------------------------------------
    def set_init_stats(self, key: GraphKey, layers: list[dict] | None) -> list[str]:
        """Show the runner's LAYER objects on the graph's canvas (None clears it); returns
        the names of layers that belong to no node. ValueError for a graph that is not
        there or a layer with no name."""
        if layers is None:
            self._drop(key)
            return []
        if not self.doc.has_graph(key):
            raise ValueError(f"init check: there is no {key[0]} named {key[1]!r}")
        parsed = parse_layers(layers)
        graph = self.doc.graph(key)
        marks, unmatched = marks_for(parsed, {node.name: node.id for node in graph.nodes})
        project = self.doc.project
        self._stats[key] = _Stats(
            marks, fingerprint(project, graph), frozenset(used_blocks(project, graph))
        )
        self._show(key)
        return unmatched

    def clear(self) -> None:
        """Every graph's init check off the canvas."""
        for key in list(self._stats):
            self._drop(key)

    def marks(self, key: GraphKey) -> dict[str, InitMark]:
        """Node id -> what its badge and tooltip say ({} when the graph has no stats)."""
        stats = self._stats.get(key)
        return dict(stats.marks) if stats else {}

    # -- keeping the canvas current --------------------------------------------------------
    def _show(self, key: GraphKey) -> None:
        stats = self._stats.get(key)
        for view in self.tabs.views():
            scene = view.canvas
            if scene.key == key and hasattr(scene, "set_init_marks"):
                scene.set_init_marks(stats.marks if stats else {})

    def _drop(self, key: GraphKey, why: str | None = None) -> None:
        if self._stats.pop(key, None) is None:
            return
        self._show(key)
        if why:
            if self.status_bar is not None:
                self.status_bar.showMessage(why, STATUS_MS)
            self.stats_cleared.emit(key, why)

    def _drop_if_changed(self, edited: GraphKey) -> None:
        for key, stats in list(self._stats.items()):
            affected = edited == key or (edited[0] == "block" and edited[1] in stats.blocks)
            if not affected or not self.doc.has_graph(key):
                continue
            if fingerprint(self.doc.project, self.doc.graph(key)) != stats.fingerprint:
                self._drop(key, f"Init check of '{key[1]}' cleared: the model changed since it ran")

    # -- signals ---------------------------------------------------------------------------
    def _on_tabs_view_created(self, view) -> None:
        if view.canvas.key in self._stats:
            self._show(view.canvas.key)

    def _on_doc_graph_edited(self, key: GraphKey, _what) -> None:
        if self._stats:
            self._drop_if_changed(key)

    def _on_doc_opaque_changed(self, key: GraphKey) -> None:
        if self._stats:
            self._drop_if_changed(key)

    def _on_doc_graph_removed(self, key: GraphKey) -> None:
        self._stats.pop(key, None)  # its canvas is gone with it
        if self._stats:
            self._drop_if_changed(key)  # a block a network placed

    def _on_doc_graph_renamed(self, old: GraphKey, new: GraphKey) -> None:
        if old in self._stats:
            self._stats[new] = self._stats.pop(old)

    def _on_doc_project_replaced(self) -> None:
        self.clear()


def used_blocks(project: Project, graph: Network) -> set[str]:
    """The blocks a graph places, and the ones those place, and so on."""
    found: set[str] = set()
    waiting = [graph]
    while waiting:
        for node in waiting.pop().nodes:
            name = node.block_name
            if name and name not in found:
                found.add(name)
                block = project.block(name)
                if block is not None:
                    waiting.append(block)
    return found


def fingerprint(project: Project, graph: Network) -> Any:
    """What the generated model depends on: the graph and the blocks it places, less where
    nodes are drawn, their notes and the graph's own name."""
    drawn = {"name": True, "notes": True, "nodes": {"__all__": {"position", "notes"}}}
    blocks = sorted(used_blocks(project, graph))
    return (
        graph.model_dump(exclude=drawn),
        [
            (name, block.model_dump(exclude=drawn) if block is not None else None)
            for name in blocks
            for block in [project.block(name)]
        ],
    )
