"""The far-zoom text pass: names over the overview, tensor shapes between nodes.

Below ``glyphs.DETAIL_LOD`` an edge is a hairline without its shape, and further out still
(``overview.OVERVIEW_ZOOM``) the items paint nothing at all: the view draws the cached
overview. CanvasView.drawForeground then calls ``FarLabels.paint``, which writes, at a fixed
size on screen (builder/gui/far_text.py), wherever there is room:

- in overview mode, each node's name inside its box when the box is tall enough on screen,
  else beside it (inputs and outputs first), like the names on a map: a long network fitted
  to the window still shows where its layers are;
- at every far zoom, each edge's shape at its midpoint, where it covers no node and no other
  label (a long skip connection does not write over the layers it passes).

Where the labels go is worked out for the part of the scene on screen (and a margin around
it), in scene coordinates, and kept: panning within that part only draws them. A zoom step or
a pan further out draws the labels already placed (at their fixed size, around their places)
and places them again once the view has been still for SETTLE_MS, so a thousand-node graph
zooms at full speed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QRectF, QSizeF, Qt, QTimer
from PySide6.QtGui import QPainter, QPen

from builder.gui import far_text
from builder.gui.glyphs import merge_diameter
from builder.gui.theme import Theme

CELL_W, CELL_H = 16.0, 4.0  # screen pixels: the grid that says what is already covered
GAP_PX = 4.0  # between a node and the name written beside it
SLACK_PX = 1.5  # labels may touch what they sit between by this much
MARGIN = 0.25  # of the view's size, placed around it so that small pans find labels placed
SETTLE_MS = 120


@dataclass
class Placed:
    kind: str  # "inside" (a name in its box), "beside" (a name next to it), "shape"
    rect: QRectF  # where, in scene coordinates (at the zoom it was placed at)
    item: object  # the NodeItem (names) or EdgeItem (shapes) it belongs to
    size: QSizeF | None = None  # beside and shape: the label's size on screen

    def on_screen(self, transform) -> QRectF:
        """Where to draw it now: a box scales with the drawing; a label keeps its size on
        screen, beside its node or around its edge's middle, whatever the zoom it was placed
        at (so a zoom step draws the labels already placed in the right places)."""
        if self.kind == "inside":
            return transform.mapRect(self.rect)
        width, height = self.size.width(), self.size.height()
        if self.kind == "beside":
            box = transform.mapRect(QRectF(*node_box(self.item)))
            left = box.right() + GAP_PX if self.rect.left() >= self.item.pos().x() \
                else box.left() - GAP_PX - width
            return QRectF(left, box.center().y() - height / 2, width, height)
        center = transform.map(self.rect.center())
        return QRectF(center.x() - width / 2, center.y() - height / 2, width, height)


class Cells:
    """Which CELL_W x CELL_H cells of the screen are covered, at one zoom."""

    def __init__(self, zoom: float):
        self.zoom = zoom
        self.taken: set[tuple[int, int]] = set()

    def _cells(self, x: float, y: float, w: float, h: float, slack: float = 0.0):
        z = self.zoom
        left, right = int((x * z + slack) // CELL_W), int(((x + w) * z - slack) // CELL_W)
        top, bottom = int((y * z + slack) // CELL_H), int(((y + h) * z - slack) // CELL_H)
        return [(cx, cy) for cx in range(left, right + 1) for cy in range(top, bottom + 1)]

    def add(self, x: float, y: float, w: float, h: float) -> None:
        self.taken.update(self._cells(x, y, w, h))

    def free(self, x: float, y: float, w: float, h: float) -> bool:
        taken = self.taken
        return not any(cell in taken for cell in self._cells(x, y, w, h, SLACK_PX))


def node_box(item) -> tuple[float, float, float, float]:
    """The node's drawn box in scene coordinates (a merge: its circle, not its label)."""
    width = merge_diameter(item.look) if item.look.is_merge else item.size[0]
    position = item.pos()
    return position.x(), position.y(), width, item.size[1]


class FarLabels:
    """``repaint`` is called when labels placed again, once the view settled, are ready."""

    def __init__(self, repaint: Callable[[], None]):
        self._placed: list[Placed] = []
        self._placed_for: tuple | None = None  # (zoom, far mode, the area placed)
        self._timer = QTimer()
        self._timer.setSingleShot(True)
        self._timer.setInterval(SETTLE_MS)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._repaint = repaint

    def invalidate(self) -> None:
        """The scene changed: place the labels again on the next paint."""
        self._placed_for = None

    def _on_timer_timeout(self) -> None:
        self.invalidate()
        self._repaint()

    def placed(self, scene, zoom: float, visible: QRectF) -> list[Placed]:
        far = bool(getattr(scene, "far", False))
        if self._placed_for is None or self._placed_for[1] != far:
            area = visible.adjusted(-visible.width() * MARGIN, -visible.height() * MARGIN,
                                    visible.width() * MARGIN, visible.height() * MARGIN)
            self._placed = place_labels(scene, zoom, area)
            self._placed_for = (zoom, far, area)
        elif self._placed_for[0] != zoom or not self._placed_for[2].contains(visible):
            self._timer.start()  # moving: draw what is placed, place again when still
        return self._placed

    def paint(self, painter: QPainter, scene, exposed: QRectF, visible: QRectF,
              theme: Theme) -> None:
        transform = painter.worldTransform()
        placed = self.placed(scene, transform.m11(), visible)
        if not placed:
            return
        screen_exposed = transform.mapRect(exposed)
        painter.save()
        painter.resetTransform()
        shape_frame = QPen(theme.edge, 1.0)
        for label in placed:
            screen = label.on_screen(transform)
            if not screen_exposed.intersects(screen):
                continue
            if label.kind == "shape":
                _draw_shape(painter, screen, label.item, shape_frame, theme)
            else:
                _draw_name(painter, screen, label, theme)
        painter.restore()


def place_labels(scene, zoom: float, area: QRectF) -> list[Placed]:
    """Every label that fits at ``zoom`` in ``area`` (scene coordinates): names first, then
    shapes."""
    cells = Cells(zoom)
    boxes = []
    for item in scene.nodes.values():
        box = node_box(item)
        if area.intersects(QRectF(*box)):
            boxes.append((item, box))
            cells.add(*box)
    placed: list[Placed] = []
    if getattr(scene, "far", False):
        placed += _place_names(boxes, cells, zoom)
    placed += _place_shapes(scene, {item for item, _box in boxes}, cells, zoom)
    return placed


def _place_names(boxes, cells: Cells, zoom: float) -> list[Placed]:
    height = far_text.name_height()
    metrics = far_text.metrics("name")
    placed, beside = [], []
    for item, box in boxes:
        if box[3] * zoom >= far_text.NAME_PX + 1:  # the letters fit, if not every descender
            placed.append(Placed("inside", QRectF(*box), item))
        else:
            beside.append((item, box))
    beside.sort(key=lambda entry: entry[0].look.family != "io")  # inputs and outputs first
    h_px = height + 2
    h, gap = h_px / zoom, GAP_PX / zoom
    for item, (x, y, w, box_h) in beside:
        w_px = metrics.horizontalAdvance(item.look.name) + 2 * far_text.PAD_PX
        width = w_px / zoom
        top = y + box_h / 2 - h / 2
        for left in (x + w + gap, x - gap - width):  # right of the node, else left of it
            if cells.free(left, top, width, h):
                cells.add(left, top, width, h)
                placed.append(Placed("beside", QRectF(left, top, width, h), item,
                                     QSizeF(w_px, h_px)))
                break
    return placed


def _place_shapes(scene, shown: set, cells: Cells, zoom: float) -> list[Placed]:
    """A shape for each edge with an end among the ``shown`` nodes."""
    metrics = far_text.metrics("shape")
    h_px = metrics.height() + 2
    h = h_px / zoom
    placed = []
    for item in scene.edges.values():
        label = getattr(item, "label", "")
        if not label or (item.source not in shown and item.target not in shown) or \
                not _room_between(item.source, item.target, zoom, h_px):
            continue
        middle = (item.source.port_scene_pos("out", item.source_port)
                  + item.target.port_scene_pos("in", item.target_port)) / 2
        w_px = metrics.horizontalAdvance(label) + 2 * far_text.PAD_PX
        width = w_px / zoom
        left, top = middle.x() - width / 2, middle.y() - h / 2
        if cells.free(left, top, width, h):
            cells.add(left, top, width, h)
            placed.append(Placed("shape", QRectF(left, top, width, h), item,
                                 QSizeF(w_px, h_px)))
    return placed


def _room_between(source, target, zoom: float, height_px: float) -> bool:
    """Whether the gap between two nodes' boxes could hold a line of text (a quick test
    before finding where their ports are)."""
    (sx, sy, sw, sh), (tx, ty, tw, th) = node_box(source), node_box(target)
    across = max(tx - (sx + sw), sx - (tx + tw))
    down = max(ty - (sy + sh), sy - (ty + th))
    return max(across, down) * zoom >= height_px


def _draw_name(painter: QPainter, screen: QRectF, label: Placed, theme: Theme) -> None:
    item = label.item
    look = item.look
    if label.kind == "inside":  # a merge's circle holds its operator, as up close
        fill = theme.selection if item.isSelected() else theme.family_color(look.family)
        far_text.draw_name(painter, screen, look.operator or look.name, fill)
        return
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(theme.label_fill)
    painter.drawRoundedRect(screen, 3, 3)
    painter.setFont(far_text.NAME_FONT)
    painter.setPen(theme.selection if item.isSelected() else theme.node_text)
    painter.drawText(screen, Qt.AlignmentFlag.AlignCenter, look.name)


def _draw_shape(painter: QPainter, screen: QRectF, edge, frame: QPen, theme: Theme) -> None:
    painter.setPen(frame)
    painter.setBrush(theme.label_fill)
    painter.drawRoundedRect(screen, 3, 3)
    painter.setFont(far_text.SHAPE_FONT)
    painter.setPen(theme.label_text)
    painter.drawText(screen, Qt.AlignmentFlag.AlignCenter, getattr(edge, "label", ""))
