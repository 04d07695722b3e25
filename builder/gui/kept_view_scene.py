"""The inside of a kept-source block, as recorded at import: drawn, read-only.

A block kept as source has only its ports as nodes; ``OpaqueClass.view`` holds what one run
of the class called (submodules, tensor ops, their output shapes). Here that view becomes a
plain scene of the canvas's own NodeItems and EdgeItems, laid out like any graph, with a
title that says it cannot be edited: nothing in it is wired to the controller, and its items
can be neither moved nor selected. Catalog types get their family's glyph; anything else (a
user class, an op the catalog lacks) a neutral one.

The render command draws a KeptViewScene; the app's tab of such a block shows a
KeptBlockScene in a KeptBlockView (builder/gui/kept_block_tab.py).
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene, QGraphicsSimpleTextItem

from builder.gui.glyphs import OPERATORS, NodeLook, node_size
from builder.gui.items import EdgeItem, NodeItem
from builder.gui.project_document import GraphKey, ProjectDocument
from builder.gui.theme import Theme, ui_font
from graph_schema.catalog import get_spec
from graph_schema.dims import format_shape_compact
from graph_schema.document import Block, Network, Node, RecordedView, ViewNode
from graph_schema.layout import layout_network

TITLE_FONT = ui_font(10.0, bold=True)
TITLE_GAP = 24.0  # between the title and the drawing below it


def read_only_title(block: Block) -> str:
    return (f"{block.opaque.class_name}: kept as source, read-only (what one run of it did "
            f"inside)")


def no_view_text(block: Block) -> str:
    return (f"{block.opaque.class_name}: kept as source, read-only.\n"
            f"This file has no record of what it does inside (it was imported before\n"
            f"TorchCanvas recorded one, or the class could not run on the example input).\n"
            f"Import the model again to see its layers here.")


def kept_block(doc: ProjectDocument, key: GraphKey) -> Block | None:
    """The block ``key`` names when it is kept as source (recorded view or not)."""
    if key[0] != "block":
        return None
    block = doc.project.block(key[1])
    return block if block is not None and block.opaque is not None else None


def viewed_block(doc: ProjectDocument, key: GraphKey) -> Block | None:
    """The block ``key`` names when it is kept as source and has a recorded view."""
    block = kept_block(doc, key)
    return block if block is not None and block.opaque.view is not None else None


def view_looks(block: Block) -> dict[str, NodeLook]:
    """What each recorded step shows: its glyph, its attribute path or op, its output shape."""
    view = block.opaque.view
    incoming = _incoming_counts(view)
    port_names = {f"in{i}": n.name for i, n in enumerate(block.inputs())}
    port_names |= {f"out{i}": n.name for i, n in enumerate(block.outputs())}
    looks = {}
    for node in view.nodes:
        spec = get_spec(node.label)
        family = spec.family if spec is not None else "block" if "." not in node.label \
            else "op"
        short = node.label.split(".", 1)[-1]
        is_input, is_output = node.label == "io.Input", node.label == "io.Output"
        kind = "op" if node.label.startswith("op.") else f"class {short}" \
            if family == "block" else short
        looks[node.id] = NodeLook(
            name=port_names.get(node.id) or node.path or short,
            type_label=kind,
            detail=" · ".join(format_shape_compact(tuple(s)) for s in node.outputs[:3]),
            family=family,
            inputs=0 if is_input else max(1, incoming.get(node.id, 0)),
            outputs=0 if is_output else 1,
            operator=OPERATORS.get(node.label))
    return looks


def view_network(block: Block) -> Network:
    """The view as a plain network of display nodes (for the layout; never saved)."""
    view = block.opaque.view
    nodes = [Node(id=node.id, type=node.label, name=node.path or node.id) for node in view.nodes]
    return Network(name=block.name, nodes=nodes, edges=[
        {"source": edge.source, "target": edge.target, "target_port": edge.target_port}
        for edge in view.edges])


def _incoming_counts(view: RecordedView) -> dict[str, int]:
    """How many input ports each node draws: one past the highest argument it was given."""
    counts: dict[str, int] = {}
    for edge in view.edges:
        counts[edge.target] = max(counts.get(edge.target, 0), edge.target_port + 1)
    return counts


class KeptViewScene(QGraphicsScene):
    """A kept block's recorded view; shows, never edits."""

    def __init__(self, block: Block, theme: Theme, parent=None):
        super().__init__(parent)
        self.block = block
        self.theme = theme
        self.nodes: dict[str, NodeItem] = {}
        self.title = QGraphicsSimpleTextItem(read_only_title(block))
        self.title.setFont(TITLE_FONT)
        self.title.setBrush(theme.node_text)
        self.addItem(self.title)
        self._build()

    def _build(self) -> None:
        looks = view_looks(self.block)
        network = view_network(self.block)
        positions = layout_network(network, {i: node_size(look) for i, look in looks.items()}
                                   ).positions
        shapes: dict[str, ViewNode] = {node.id: node for node in self.block.opaque.view.nodes}
        for node_id, look in looks.items():
            item = NodeItem(node_id, look, self.theme)
            _read_only(item)
            item.setPos(positions[node_id].x, positions[node_id].y)
            self.addItem(item)
            self.nodes[node_id] = item
        for edge in self.block.opaque.view.edges:
            source = shapes[edge.source]
            item = EdgeItem(self.nodes[edge.source], 0, self.nodes[edge.target],
                            edge.target_port, self.theme)
            _read_only(item)
            item.set_state(format_shape_compact(tuple(source.outputs[0]))
                           if source.outputs else "", None)
            self.addItem(item)
        drawing = QRectF()
        for item in self.nodes.values():
            drawing = drawing.united(item.sceneBoundingRect())
        self.title.setPos(drawing.left(),
                          drawing.top() - TITLE_GAP - self.title.boundingRect().height())

    def render_to(self, painter: QPainter, target: QRectF, source: QRectF) -> None:
        self.render(painter, target, source)

    def detach(self) -> None:
        """Nothing to stop listening to: the view never changes (as CanvasScene.detach)."""


class KeptBlockScene(KeptViewScene):
    """A kept block's tab: its recorded view, or a message when the file has none."""

    def __init__(self, doc: ProjectDocument, key: GraphKey, theme: Theme, parent=None):
        super().__init__(doc.project.block(key[1]), theme, parent)
        self.doc, self.key = doc, key
        self.far = False  # a recorded view is small: always drawn in full (no overview)
        doc.graph_renamed.connect(self._on_doc_graph_renamed)

    def _build(self) -> None:
        if self.block.opaque.view is None:
            self.title.setText(no_view_text(self.block))
            return
        super()._build()

    def detach(self) -> None:
        self.doc.graph_renamed.disconnect(self._on_doc_graph_renamed)

    def _on_doc_graph_renamed(self, old: GraphKey, new: GraphKey) -> None:
        if old == self.key:
            self.key = new

    # What the window and the view ask of any canvas; nothing here can be selected.
    def selected_node_ids(self) -> set[str]:
        return set()

    def selected_edges(self) -> list:
        return []

    def select_nodes(self, _node_ids) -> None:
        """Nothing to select: a pasted or added layer was refused, so it is not here."""

    def node_item_at(self, scene_pos: QPointF) -> NodeItem | None:
        return next((i for i in self.items(scene_pos) if isinstance(i, NodeItem)), None)

    def set_far(self, _far: bool) -> None:
        """Always drawn item by item (CanvasScene switches to an overview when far out)."""

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.title.setBrush(theme.node_text)
        for item in self.items():
            if isinstance(item, (NodeItem, EdgeItem)):
                item.theme = theme
        self.update()


def _read_only(item: QGraphicsItem) -> None:
    item.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsMovable, False)
    item.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable, False)
