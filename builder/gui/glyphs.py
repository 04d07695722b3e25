"""How a node looks: one glyph per layer family, drawn the same on the canvas and in exports.

``NodeLook`` is plain data (what to show); ``node_size`` measures it and ``paint_node`` draws
it with a QPainter, so the canvas items and ``torchcanvas render`` share every pixel.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFontMetricsF, QPainter, QPainterPath, QPen

from builder.gui.far_text import paint_far_name
from builder.gui.icons import paint_family_icon
from builder.gui.theme import ERROR_COLOR, WARNING_COLOR, Theme, ui_font

BAND = 30.0  # the coloured strip on the left that carries the family icon
PAD = 9.0
MIN_WIDTH, MAX_WIDTH = 150.0, 300.0
LINE_GAP = 2.0
PORT_RADIUS = 4.5
MERGE_DIAMETER = 40.0
RADIUS = 7.0
# Below this zoom a node is drawn as a coloured box with its name at a fixed size on screen
# (far_text.py): drawn to scale, the glyph's text would be under 6 px, unreadable.
DETAIL_LOD = 0.5

NAME_FONT = ui_font(9.5, bold=True)
TYPE_FONT = ui_font(8.0)
DETAIL_FONT = ui_font(8.0)
OPERATOR_FONT = ui_font(15.0, bold=True)

# Merges are drawn as a circle with their operator, the way paper figures draw them.
OPERATORS = {
    "op.add": "+",
    "op.sub": "−",
    "op.mul": "×",
    "op.div": "÷",
    "op.matmul": "@",
    "op.cat": "‖",  # concatenation as in a ‖ b (the double plus ⧺ reads as # at this size)
    "op.stack": "≡",
}


@dataclass(frozen=True)
class NodeLook:
    name: str
    type_label: str  # "Conv2d", "add", "block SE"
    detail: str  # key parameters: "64 · k3 · s2"
    family: str
    inputs: int  # input ports drawn on the top edge
    outputs: int  # output ports drawn on the bottom edge
    operator: str | None = None  # merges: the symbol drawn in the circle
    severity: str | None = None  # "error" / "warning" / None
    opaque: bool = False  # an imported class kept as source: drawn hatched

    @property
    def is_merge(self) -> bool:
        return self.operator is not None


@lru_cache(maxsize=4096)
def _text_width(text: str, which: str) -> float:
    font = {"name": NAME_FONT, "type": TYPE_FONT, "detail": DETAIL_FONT}[which]
    return QFontMetricsF(font).horizontalAdvance(text)


@lru_cache(maxsize=8)
def _line_height(which: str) -> float:
    font = {"name": NAME_FONT, "type": TYPE_FONT, "detail": DETAIL_FONT}[which]
    return QFontMetricsF(font).height()


def node_size(look: NodeLook) -> tuple[float, float]:
    if look.is_merge:
        label = _text_width(look.name, "type") + 8.0
        return MERGE_DIAMETER + label, MERGE_DIAMETER
    text = max(_text_width(look.name, "name"), _text_width(look.type_label, "type"),
               _text_width(look.detail, "detail") if look.detail else 0.0)
    width = min(MAX_WIDTH, max(MIN_WIDTH, BAND + 2 * PAD + text))
    height = 2 * PAD + _line_height("name") + LINE_GAP + _line_height("type")
    if look.detail:
        height += LINE_GAP + _line_height("detail")
    return math.ceil(width), math.ceil(height)  # never cut the widest line short


def port_position(look: NodeLook, size: tuple[float, float], kind: str, index: int) -> QPointF:
    """Where port ``index`` sits, in the node's own coordinates (inputs top, outputs bottom)."""
    count = look.inputs if kind == "in" else look.outputs
    body = MERGE_DIAMETER if look.is_merge else size[0]
    left = 0.0 if look.is_merge else BAND
    span = body - left
    x = left + span * (index + 1) / (count + 1) if count else left + span / 2
    if look.is_merge:
        # Spread along the circle's upper and lower arcs, not a chord.
        cx, r = MERGE_DIAMETER / 2, MERGE_DIAMETER / 2
        dx = max(-r + 3, min(r - 3, x - cx))
        dy = (r * r - dx * dx) ** 0.5
        return QPointF(cx + dx, r - dy if kind == "in" else r + dy)
    return QPointF(x, 0.0 if kind == "in" else size[1])


def paint_node(painter: QPainter, look: NodeLook, size: tuple[float, float], theme: Theme,
               selected: bool = False, lod: float = 1.0,
               connected_inputs: frozenset[int] = frozenset()) -> None:
    if lod < DETAIL_LOD:
        _paint_far(painter, look, size, theme, selected)
        return
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    if look.is_merge:
        _paint_merge(painter, look, size, theme, selected, lod)
    else:
        _paint_box(painter, look, size, theme, selected, lod)
    if lod >= DETAIL_LOD:
        _paint_ports(painter, look, size, theme, connected_inputs)
        if look.severity:
            _paint_badge(painter, look, size)
    painter.restore()


def _paint_far(painter, look, size, theme, selected) -> None:
    """Zoomed far out, a node is a box in its family colour with its name written at a fixed
    size on screen (or its first letters, or a merge's operator) when the box holds it: a
    few calls, so a thousand-node overview still pans smoothly."""
    color = theme.selection if selected else theme.family_color(look.family)
    if look.severity == "error":
        color = QColor(ERROR_COLOR)
    elif look.severity == "warning":
        color = QColor(WARNING_COLOR)
    width = MERGE_DIAMETER if look.is_merge else size[0]
    box = QRectF(0, 0, width, size[1])
    painter.fillRect(box, color)
    paint_far_name(painter, box, look.operator or look.name, color)


def _border_pen(look: NodeLook, theme: Theme, selected: bool) -> QPen:
    if look.severity == "error":
        return QPen(QColor(ERROR_COLOR), 2.6)
    if look.severity == "warning":
        return QPen(QColor(WARNING_COLOR), 2.2)
    if selected:
        return QPen(theme.selection, 2.2)
    return QPen(theme.node_border, 1.0)


def _paint_box(painter, look, size, theme, selected, lod) -> None:
    rect = QRectF(0, 0, size[0], size[1])
    color = theme.family_color(look.family)
    if look.family == "block":
        # A second card behind the first: a block holds several layers.
        painter.setPen(QPen(theme.node_border, 1.0))
        painter.setBrush(theme.tint(look.family))
        painter.drawRoundedRect(rect.translated(4, -4), RADIUS, RADIUS)
    body = QPainterPath()
    body.addRoundedRect(rect, RADIUS, RADIUS)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(theme.tint(look.family))
    painter.drawPath(body)
    if look.opaque:
        painter.setBrush(QBrush(color.lighter(150), Qt.BrushStyle.BDiagPattern))
        painter.drawPath(body)
    band = QPainterPath()
    band.addRect(QRectF(0, 0, BAND, size[1]))
    painter.setBrush(color)
    painter.drawPath(body.intersected(band))
    if lod >= DETAIL_LOD:
        icon = QRectF(5, size[1] / 2 - 10, 20, 20)
        paint_family_icon(painter, look.family, icon, QColor("#ffffff"))
        _paint_text(painter, look, size, theme)
    if selected and look.severity:
        painter.setPen(QPen(theme.selection, 1.5, Qt.PenStyle.DashLine))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(rect.adjusted(-4, -4, 4, 4), RADIUS + 3, RADIUS + 3)
    painter.setPen(_border_pen(look, theme, selected))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawPath(body)


def _elide(text: str, which: str, width: float) -> str:
    font = {"name": NAME_FONT, "type": TYPE_FONT, "detail": DETAIL_FONT}[which]
    return QFontMetricsF(font).elidedText(text, Qt.TextElideMode.ElideRight, width)


def _paint_text(painter, look, size, theme) -> None:
    x = BAND + PAD
    width = size[0] - x - PAD
    y = PAD
    lines = [(look.name, "name", NAME_FONT, theme.node_text),
             (look.type_label, "type", TYPE_FONT, theme.node_subtext)]
    if look.detail:
        lines.append((look.detail, "detail", DETAIL_FONT, theme.node_text))
    for text, which, font, color in lines:
        height = _line_height(which)
        painter.setFont(font)
        painter.setPen(color)
        painter.drawText(QRectF(x, y, width, height),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         _elide(text, which, width))
        y += height + LINE_GAP


def _paint_merge(painter, look, size, theme, selected, lod) -> None:
    circle = QRectF(0, 0, MERGE_DIAMETER, MERGE_DIAMETER)
    color = theme.family_color(look.family)
    painter.setPen(_border_pen(look, theme, selected)
                   if look.severity or selected else QPen(color, 1.6))
    painter.setBrush(theme.tint(look.family))
    painter.drawEllipse(circle)
    if lod < DETAIL_LOD:
        return
    painter.setFont(OPERATOR_FONT)
    painter.setPen(theme.node_text)
    painter.drawText(circle, Qt.AlignmentFlag.AlignCenter, look.operator)
    painter.setFont(TYPE_FONT)
    painter.setPen(theme.node_subtext)
    label = QRectF(MERGE_DIAMETER + 6, 0, size[0] - MERGE_DIAMETER - 6, MERGE_DIAMETER)
    painter.drawText(label, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                     look.name)


def _paint_ports(painter, look, size, theme, connected_inputs) -> None:
    painter.setPen(QPen(theme.edge, 1.3))
    for kind, count in (("in", look.inputs), ("out", look.outputs)):
        for index in range(count):
            filled = kind == "out" or index in connected_inputs
            painter.setBrush(theme.edge if filled else theme.port_fill)
            painter.drawEllipse(port_position(look, size, kind, index), PORT_RADIUS, PORT_RADIUS)


def _paint_badge(painter, look, size) -> None:
    color = QColor(ERROR_COLOR if look.severity == "error" else WARNING_COLOR)
    width = MERGE_DIAMETER if look.is_merge else size[0]
    center = QPointF(width - 2, 2)
    painter.setPen(QPen(QColor("#ffffff"), 1.5))
    painter.setBrush(color)
    painter.drawEllipse(center, 8, 8)
    painter.setFont(ui_font(8.5, bold=True))
    painter.drawText(QRectF(center.x() - 8, center.y() - 8, 16, 16),
                     Qt.AlignmentFlag.AlignCenter, "!")


def badge_rect(look: NodeLook, size: tuple[float, float]) -> QRectF:
    width = MERGE_DIAMETER if look.is_merge else size[0]
    return QRectF(width - 11, -9, 20, 20)
