"""The canvas view: zoom, pan, rubber-band selection, fit, drops from the palette, keys.

Wheel zooms around the cursor; the middle button, or the left button with Space held, pans;
a left drag on empty canvas selects with a rubber band. The view holds the controller: it
picks the gesture a press starts (builder/gui/interactions.py) and gives it the controller,
while its scene only mirrors the document.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QMimeData, QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QKeyEvent, QMouseEvent, QPainter, QPen, QWheelEvent
from PySide6.QtWidgets import QGraphicsView

from builder.gui import placing
from builder.gui.controller import EditController
from builder.gui.far_labels import FarLabels
from builder.gui.glyphs import DETAIL_FONT, DETAIL_LOD, TYPE_FONT
from builder.gui.interactions import Interaction, LinkDrag, MoveTracker, Pan
from builder.gui.items import EDGE_FONT, GRID, NodeItem
from builder.gui.overview import OVERVIEW_ZOOM
from builder.gui.scene import CanvasScene
from graph_schema import edit_rules, placement
from graph_schema.document import Edge, Position
from graph_schema.edit_rules import PortEnd

LAYER_MIME = "application/x-torchcanvas-layer"
MIN_ZOOM, MAX_ZOOM = 0.005, 4.0  # far enough out to fit 10,000 nodes
# A view that opens a graph, or centres a node, shows its smallest text (the edges' shapes,
# the nodes' type lines) at least this many pixels high: the font's pixel size, the height a
# "9 px font" has. Smaller than that, shapes cannot be read without leaning in.
LEGIBLE_PX = 9.0
SMALLEST_FONTS = (EDGE_FONT, TYPE_FONT, DETAIL_FONT)
START_MARGIN = 40.0  # scene units between the view's edge and the drawing's first row
NUDGE = GRID


def layer_mime(type_name: str) -> QMimeData:
    data = QMimeData()
    data.setData(LAYER_MIME, type_name.encode("utf-8"))
    data.setText(type_name)
    return data


class CanvasView(QGraphicsView):
    quick_add_requested = Signal(QPointF)  # scene position for a new layer
    link_dropped = Signal(QPointF, object)  # a wire from a PortEnd let go on empty canvas
    context_menu_requested = Signal(QPoint, QPointF, object)  # global pos, scene pos, node id
    zoom_changed = Signal(float)
    resized = Signal()  # the viewport has its new size (the minimap moves to its corner)
    start_fitted = False  # a view of something small (a kept block's recording) starts fitted

    def __init__(self, scene: CanvasScene, controller: EditController, parent=None):
        super().__init__(scene, parent)
        self.controller = controller
        self.interaction: Interaction | None = None
        self.setRenderHints(QPainter.RenderHint.Antialiasing
                            | QPainter.RenderHint.TextAntialiasing)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setRubberBandSelectionMode(Qt.ItemSelectionMode.IntersectsItemShape)
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._space_held = False
        self._start_pending = False  # the start view, until the user moves it themselves
        self._far_labels = FarLabels(self.viewport().update)
        self._update_scene_rect()
        scene.changed.connect(self._update_scene_rect)
        scene.changed.connect(self._on_scene_changed)
        for bar in (self.horizontalScrollBar(), self.verticalScrollBar()):
            bar.sliderPressed.connect(self._on_user_moved_view)

    @property
    def canvas(self) -> CanvasScene:
        return self.scene()

    def zoom(self) -> float:
        return self.transform().m11()

    # -- zoom and fit ----------------------------------------------------------------------
    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        self._start_pending = False
        self._scale_to(self.zoom() * factor, anchor is None)

    def _scale_to(self, zoom: float, about_center: bool = True) -> None:
        target = max(MIN_ZOOM, min(MAX_ZOOM, zoom))
        factor = target / self.zoom()
        if about_center:
            self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.scale(factor, factor)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self._zoom_changed()

    def _zoom_changed(self) -> None:
        self.canvas.set_far(self.zoom() < OVERVIEW_ZOOM)
        self.zoom_changed.emit(self.zoom())

    def reset_zoom(self) -> None:
        self.zoom_by(1.0 / self.zoom())

    def fit(self) -> None:
        """Show every node, at no more than 100 % zoom."""
        self._start_pending = False
        self._fit_drawing()

    def _fit_drawing(self) -> None:
        rect = self.canvas.itemsBoundingRect()
        if rect.isEmpty():
            return
        self.fitInView(rect.adjusted(-40, -40, 40, 40), Qt.AspectRatioMode.KeepAspectRatio)
        if self.zoom() > 1.0:
            self._scale_to(1.0)
            self.centerOn(rect.center())
        self._zoom_changed()
    # -- the legible start view (issue 15) -------------------------------------------------
    def legible_zoom(self) -> float:
        """The zoom at which the smallest text on the canvas is LEGIBLE_PX high on screen
        (computed from the fonts, on this screen's DPI: scene units are pixels at 100 %)."""
        dpi = self.logicalDpiY() or 96
        smallest = min(font.pixelSize() if font.pixelSize() > 0
                       else font.pointSizeF() * dpi / 72.0 for font in SMALLEST_FONTS)
        return LEGIBLE_PX / smallest

    def show_start(self) -> None:
        """What an opened (or laid out) graph shows: all of it if it stays legible, else its
        inputs (the top of the drawing, or its left when the project flows right) at the
        legible zoom. Until the user zooms or pans, a resize shows it again, so a view sized
        after it was filled (a new tab, a docked panel growing) still starts at its inputs."""
        self._start_pending = True
        self._apply_start()

    def _apply_start(self) -> None:
        rect = self.canvas.itemsBoundingRect()
        if rect.isEmpty():
            return
        legible = self.legible_zoom()
        port = self.viewport().rect()
        fitting = min(port.width() / (rect.width() + 80), port.height() / (rect.height() + 80))
        if self.start_fitted or min(fitting, 1.0) >= legible:
            self._fit_drawing()
            return
        self._scale_to(legible)
        half_w = port.width() / legible / 2
        half_h = port.height() / legible / 2
        inputs = self._start_point(rect)
        if self._flow() == "right":
            x = rect.left() - START_MARGIN + half_w
            y = _clamp(inputs.y(), rect.top() - START_MARGIN + half_h,
                       rect.bottom() + START_MARGIN - half_h)
        else:
            x = _clamp(inputs.x(), rect.left() - START_MARGIN + half_w,
                       rect.right() + START_MARGIN - half_w)
            y = rect.top() - START_MARGIN + half_h
        self.centerOn(x, y)

    def _flow(self) -> str:
        doc = getattr(self.canvas, "doc", None)
        return getattr(doc.project, "flow", "down") if doc is not None else "down"

    def _start_point(self, rect: QRectF) -> QPointF:
        """Where the inputs are: the middle of the graph's input nodes (or of the drawing's
        first row, for a graph without any)."""
        scene = self.canvas
        doc, key = getattr(scene, "doc", None), getattr(scene, "key", None)
        items = []
        if doc is not None and key is not None and doc.has_graph(key):
            items = [scene.nodes[n.id] for n in doc.graph(key).nodes
                     if n.type == "io.Input" and n.id in scene.nodes]
        if not items:
            return rect.center()
        centers = [item.sceneBoundingRect().center() for item in items]
        return QPointF(sum(c.x() for c in centers) / len(centers),
                       sum(c.y() for c in centers) / len(centers))

    def focus_node(self, node_id: str) -> None:
        """Select the node and centre it, zoomed in to the legible zoom if further out."""
        item = self.canvas.nodes.get(node_id)
        if item is None:
            return
        self._start_pending = False
        self.canvas.select_nodes([node_id])
        if self.zoom() < self.legible_zoom():
            self._scale_to(self.legible_zoom())
        self.centerOn(item.sceneBoundingRect().center())

    def center_on(self, point: QPointF) -> None:
        """Centre the view on a scene point (the minimap's clicks and drags)."""
        self._start_pending = False
        self.centerOn(point)

    def _on_user_moved_view(self) -> None:
        self._start_pending = False

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        if self._start_pending:
            self._apply_start()
        self.resized.emit()

    def _on_scene_changed(self, *_args) -> None:
        # Far out, shapes and names are drawn at a fixed screen size, larger than the items
        # they belong to: place them again, and repaint the whole viewport so no stale label
        # is left behind.
        self._far_labels.invalidate()
        if self.zoom() < DETAIL_LOD:
            self.viewport().update()

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:  # noqa: N802
        if self.zoom() < DETAIL_LOD and hasattr(self.canvas, "edges"):
            visible = self.mapToScene(self.viewport().rect()).boundingRect()
            self._far_labels.paint(painter, self.canvas, rect, visible, self.canvas.theme)

    def _update_scene_rect(self, *_args) -> None:
        # Leave room around the drawing so nodes can be dragged past the current edge.
        rect = self.canvas.itemsBoundingRect().adjusted(-2000, -2000, 2000, 2000)
        self.setSceneRect(rect.united(self.sceneRect()) if not self.sceneRect().isEmpty()
                          else rect)

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        delta = event.angleDelta().y() or event.angleDelta().x()
        if delta:
            self.zoom_by(1.0015 ** delta, event.position())  # the user's zoom: no start view
        event.accept()

    # -- gestures --------------------------------------------------------------------------
    def _gesture_for(self, event: QMouseEvent) -> Interaction | None:
        button = event.button()
        if button == Qt.MouseButton.MiddleButton or (
                button == Qt.MouseButton.LeftButton and self._space_held):
            return Pan(self, event.position().toPoint())
        if button != Qt.MouseButton.LeftButton:
            return None
        point = self.mapToScene(event.position().toPoint())
        port = self.canvas.port_at(point)
        if port is not None:
            return LinkDrag(self.canvas, self.controller, *port,
                            on_dropped=self.link_dropped.emit)
        pressed = self.canvas.node_item_at(point)
        if pressed is not None:
            return MoveTracker(self.canvas, self.controller, pressed)
        return None

    def _gesture_pos(self, event: QMouseEvent) -> QPointF:
        if isinstance(self.interaction, Pan):
            return event.position()
        return self.mapToScene(event.position().toPoint())

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self._start_pending = False
        self.interaction = self._gesture_for(event)
        if self.interaction is not None and self.interaction.mouse_press(
                self._gesture_pos(event)):
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self.interaction is not None and self.interaction.mouse_move(
                self._gesture_pos(event)):
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        interaction = self.interaction
        handled = interaction is not None and interaction.mouse_release(
            self._gesture_pos(event))
        self.interaction = None
        if isinstance(interaction, Pan):
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor if self._space_held
                                      else Qt.CursorShape.ArrowCursor)
        if handled:
            event.accept()
            return
        super().mouseReleaseEvent(event)

    # -- keys ------------------------------------------------------------------------------
    def event(self, event: QEvent) -> bool:
        # Tab would move the keyboard focus away; on the canvas it opens quick-add.
        if event.type() == QEvent.Type.KeyPress and event.key() == Qt.Key.Key_Tab:
            self.quick_add_requested.emit(self._cursor_scene_pos())
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        self._start_pending = False
        key = event.key()
        if key == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_held = True
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            return
        if key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.delete_selection()
            return
        if key == Qt.Key.Key_F and not event.modifiers():
            self.fit()
            return
        arrows = {Qt.Key.Key_Left: (-1, 0), Qt.Key.Key_Right: (1, 0), Qt.Key.Key_Up: (0, -1),
                  Qt.Key.Key_Down: (0, 1)}
        if key in arrows and self.canvas.selected_node_ids():
            self.nudge(*arrows[key])
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_held = False
            self.viewport().setCursor(Qt.CursorShape.ArrowCursor)
            return
        super().keyReleaseEvent(event)

    def delete_selection(self) -> None:
        scene = self.canvas
        self.controller.delete(scene.key, scene.selected_node_ids(), scene.selected_edges())

    def nudge(self, dx: int, dy: int) -> None:
        scene = self.canvas
        positions = {}
        for node_id in scene.selected_node_ids():
            position = scene.doc.node(scene.key, node_id).position
            positions[node_id] = Position(x=position.x + dx * NUDGE, y=position.y + dy * NUDGE)
        self.controller.move(scene.key, positions)

    def _cursor_scene_pos(self) -> QPointF:
        local = self.viewport().mapFromGlobal(self.cursor().pos())
        if not self.viewport().rect().contains(local):
            local = self.viewport().rect().center()
        return self.mapToScene(local)

    # -- drops from the palette ------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if event.mimeData().hasFormat(LAYER_MIME):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event) -> None:  # noqa: N802
        if event.mimeData().hasFormat(LAYER_MIME):
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event) -> None:  # noqa: N802
        if not event.mimeData().hasFormat(LAYER_MIME):
            super().dropEvent(event)
            return
        type_name = bytes(event.mimeData().data(LAYER_MIME)).decode("utf-8")
        point = self.mapToScene(event.position().toPoint())
        self.add_layer(type_name, point)
        event.acceptProposedAction()

    def add_layer(self, type_name: str, point: QPointF, params: dict | None = None) -> str:
        """Add a layer with its corner at ``point``, or the nearest place on no other node."""
        scene = self.canvas
        wanted = Position(x=round(point.x() / GRID) * GRID, y=round(point.y() / GRID) * GRID)
        position = placing.free_corner(scene.doc, scene.key, type_name, wanted,
                                       self.glyph_sizes(), params)
        return self._added(self.controller.add_node(scene.key, type_name, position, params))

    def add_layer_after(self, anchor: str, type_name: str, params: dict | None = None) -> str:
        """Add a layer after ``anchor`` (below it, or right of it in a rightward drawing),
        fed by its first output (if it has one: an output node has none), as one undo
        step."""
        scene = self.canvas
        into = self._edge_to_output(anchor, type_name)
        if into is not None:
            plan = placing.insert_plan(scene.doc, scene.key, into, type_name, params)
            label = type_name.split(":", 1)[-1].split(".", 1)[-1]
            self.controller.push(f"Add {label}", self.controller.insertion_steps(scene.key, plan))
            return self._added(plan.node.id)
        position, moves = placing.place_after(scene.doc, scene.key, anchor, type_name,
                                              self.glyph_sizes())
        feeds = anchor in scene.nodes and scene.nodes[anchor].look.outputs > 0
        return self._added(self.controller.add_node(
            scene.key, type_name, position, params,
            link=PortEnd(anchor, "out", 0) if feeds else None, making_room=moves))

    def _edge_to_output(self, anchor: str, type_name: str) -> Edge | None:
        """The edge from ``anchor``'s first output when its only use is the network's output
        (a new network comes wired Input -> Output): a chain typed after it goes into that
        edge, so the output stays last. None when the layer could not go there."""
        scene = self.canvas
        graph = scene.doc.graph(scene.key)
        uses = [e for e in graph.edges if e.source == anchor and e.source_port == 0]
        outputs = {node.id for node in graph.outputs()}
        if len(uses) != 1 or uses[0].target not in outputs:
            return None
        if edit_rules.insert_problem(scene.doc.project, graph, uses[0], type_name):
            return None
        return uses[0]

    def add_layer_at_link(self, type_name: str, point: QPointF, end: PortEnd,
                          params: dict | None = None) -> str:
        """Add a layer where a wire from ``end`` was dropped, connected to it."""
        scene = self.canvas
        position = placing.corner_at_link(scene.doc, scene.key, type_name,
                                          Position(x=point.x(), y=point.y()), end,
                                          self.glyph_sizes())
        return self._added(self.controller.add_node(scene.key, type_name, position, params,
                                                    link=end))

    def _added(self, node_id: str) -> str:
        """Select the new layer and bring it into view: a chain typed with Tab grows past
        the bottom of the window, and the canvas follows it."""
        self.canvas.select_nodes([node_id])
        item = self.canvas.nodes.get(node_id)
        if item is not None:
            rect = item.sceneBoundingRect()
            # ...with the spot where the next layer of the chain would go.
            if self.canvas.doc.project.flow == "right":
                rect.adjust(0, 0, rect.width() + placement.RANK_GAP, 0)
            else:
                rect.adjust(0, 0, 0, rect.height() + placement.RANK_GAP)
            self.ensureVisible(rect, 40, 40)
        return node_id

    def glyph_sizes(self) -> dict[str, tuple[float, float]]:
        """The size of every node's glyph, as drawn."""
        return {node_id: item.size for node_id, item in self.canvas.nodes.items()}

    # -- context menu and background -------------------------------------------------------
    def contextMenuEvent(self, event) -> None:  # noqa: N802
        point = self.mapToScene(event.pos())
        item = self.canvas.node_item_at(point)
        if isinstance(item, NodeItem) and not item.isSelected():
            self.canvas.select_nodes([item.node_id])
        self.context_menu_requested.emit(event.globalPos(), point,
                                         item.node_id if item is not None else None)

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:  # noqa: N802
        theme = self.canvas.theme
        painter.fillRect(rect, theme.background)
        if self.canvas.far:
            overview = self.canvas.overview
            if overview.dirty:
                overview.rebuild(self.canvas, theme)
            overview.paint(painter, theme)
            return
        if self.zoom() < 0.5:
            return
        step = GRID * 4
        painter.setPen(QPen(theme.grid, 0))
        left = int(rect.left() // step) * step
        top = int(rect.top() // step) * step
        x = left
        while x < rect.right():
            painter.drawLine(QPointF(x, rect.top()), QPointF(x, rect.bottom()))
            x += step
        y = top
        while y < rect.bottom():
            painter.drawLine(QPointF(rect.left(), y), QPointF(rect.right(), y))
            y += step


def _clamp(value: float, low: float, high: float) -> float:
    """``value`` kept within [low, high]; their middle when the range is empty (the drawing
    is narrower than the view: centre it)."""
    if low > high:
        return (low + high) / 2
    return max(low, min(high, value))
