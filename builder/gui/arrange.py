"""Auto layout on the canvas: the whole graph or the selection, as one undoable move.

graph_schema.layout does the work (Graphviz's dot when it is installed, the built-in layered
layout otherwise); this module feeds it the real glyph sizes, keeps the drawing where it was,
snaps to the canvas grid and pushes one command. ``relayout_project`` lays out every network
and block of a project file the same way, without a window (for the examples)::

    python -c "from builder.gui.arrange import relayout_file; relayout_file('examples/x.json')"
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from PySide6.QtGui import QGuiApplication

from builder.gui.commands import MoveNodes
from builder.gui.controller import EditController
from builder.gui.glyphs import node_size
from builder.gui.items import GRID
from builder.gui.looks import node_look
from builder.gui.project_document import GraphKey, ProjectDocument
from graph_schema.document import Network, Position, Project
from graph_schema.files import load_project, save_project
from graph_schema.layout import graphviz_available, layout_network

Sizes = Mapping[str, tuple[float, float]]
_APP: QGuiApplication | None = None  # kept alive when relayout_project had to create one


def node_sizes(doc: ProjectDocument, key: GraphKey, flow: str | None = None
               ) -> dict[str, tuple[float, float]]:
    """Each node's glyph size as the canvas draws it (without needing a scene), in ``flow``
    (default: the project's)."""
    flow = flow or doc.project.flow
    analysis = doc.analysis(key)
    inference = analysis.inference
    sizes = {}
    for node in doc.graph(key).nodes:
        ports = {e.port for e in inference.incoming.get(node.id, [])}
        look = node_look(doc.project, node, inference.states.get(node.id),
                         analysis.by_node.get(node.id, []), ports)
        sizes[node.id] = node_size(look, flow)
    return sizes


def engine_label(engine: str) -> str:
    if engine == "dot":
        return "Graphviz dot"
    if not graphviz_available():
        return "the built-in layout (Graphviz is not installed)"
    return "the built-in layout"


def _snap(value: float) -> float:
    return round(value / GRID) * GRID


def laid_out(network: Network, sizes: Sizes, engine: str = "auto", flow: str = "down"
             ) -> tuple[dict[str, Position], str]:
    """Positions for every node of ``network`` in ``flow``, keeping its top-left corner where
    it was."""
    result = layout_network(network, sizes, engine=engine, flow=flow)
    left = min((n.position.x for n in network.nodes), default=0.0)
    top = min((n.position.y for n in network.nodes), default=0.0)
    positions = {node_id: Position(x=_snap(left + p.x), y=_snap(top + p.y))
                 for node_id, p in result.positions.items()}
    return positions, result.engine


def move_steps(doc: ProjectDocument, key: GraphKey,
               positions: dict[str, Position]) -> list[MoveNodes]:
    """The step that moves the nodes whose position changes (none if nothing moves)."""
    old = {n: doc.node(key, n).position for n in positions}
    moved = {n: p for n, p in positions.items() if old[n] != p}
    return [MoveNodes(doc, key, {n: old[n] for n in moved}, moved)] if moved else []


def _push_positions(controller: EditController, key: GraphKey, text: str,
                    positions: dict[str, Position]) -> None:
    # A plain command, not a MoveCommand: a layout must not merge into a nudge.
    controller.push(text, move_steps(controller.doc, key, positions))


def auto_layout(controller: EditController, key: GraphKey, sizes: Sizes | None = None,
                engine: str = "auto") -> str:
    """Lay out the whole graph as one undo step; returns the engine that ran."""
    doc = controller.doc
    sizes = sizes if sizes is not None else node_sizes(doc, key)
    positions, used = laid_out(doc.graph(key), sizes, engine, doc.project.flow)
    _push_positions(controller, key, "Auto layout", positions)
    return used


def arrange_selection(controller: EditController, key: GraphKey, node_ids: set[str],
                      sizes: Sizes | None = None, engine: str = "auto") -> str | None:
    """Lay out only the chosen nodes (by the edges among them), where they were."""
    if len(node_ids) < 2:
        controller.refused.emit("Arrange selection: select at least two layers")
        return None
    doc = controller.doc
    graph = doc.graph(key)
    part = Network(name=graph.name,
                   nodes=[n for n in graph.nodes if n.id in node_ids],
                   edges=[e for e in graph.edges if e.source in node_ids and e.target in node_ids])
    sizes = sizes if sizes is not None else node_sizes(doc, key)
    positions, used = laid_out(part, sizes, engine, doc.project.flow)
    _push_positions(controller, key, f"Arrange {len(node_ids)} layers", positions)
    return used


# -- project files -------------------------------------------------------------------------
def _gui_application() -> QGuiApplication:
    """Glyph sizes need fonts, and fonts need a QGuiApplication; make one if there is none
    (offscreen when there is no display, so this works on a server)."""
    global _APP
    app = QGuiApplication.instance()
    if app is not None:
        if not isinstance(app, QGuiApplication):
            raise RuntimeError("relayout needs a QGuiApplication; a QCoreApplication is running")
        return app
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    _APP = QGuiApplication(["torchcanvas-relayout"])
    return _APP


def relayout_project(project: Project, engine: str = "auto") -> Project:
    """A copy of the project with every network and block laid out with the glyph sizes
    the canvas draws (the project itself is left as it is)."""
    _gui_application()
    doc = ProjectDocument(project.model_copy(deep=True))
    for key in doc.graph_keys():
        positions, _ = laid_out(doc.graph(key), node_sizes(doc, key), engine,
                                doc.project.flow)
        for node in doc.graph(key).nodes:
            node.position = positions[node.id]
    return doc.project


def relayout_file(path: str, output: str | None = None, engine: str = "auto") -> None:
    """Lay out a project file in place (or into ``output``)."""
    save_project(relayout_project(load_project(path), engine), output or path)
