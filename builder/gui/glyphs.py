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

from builder.gui.icons import paint_family_icon
from builder.gui.theme import ERROR_COLOR, WARNING_COLOR, Theme, ui_font

BAND = 30.0  # the coloured strip on the left that carries the family icon
PAD = 9.0
MIN_WIDTH, MAX_WIDTH = 150.0, 300.0
LINE_GAP = 2.0
PORT_RADIUS = 4.5
MERGE_DIAMETER = 40.0
RADIUS = 7.0
# Below this zoom a node is drawn as a coloured box: text would be unreadable anyway.
DETAIL_LOD = 0.4

NAME_FONT = ui_font(9.5, bold=True)
TYPE_FONT = ui_font(8.0)
DETAIL_FONT = ui_font(8.0)
OPERATOR_FONT = ui_font(15.0, bold=True)

# Merges are drawn as a circle with their operator, the way paper figures draw them. Joins
# have no symbol a reader would know (‖ and ≡ read as a pause sign and a menu), so they are
# written as the call, with the dimension under it.
OPERATORS = {
    "op.add": "+",
    "op.sub": "−",
    "op.mul": "×",
    "op.div": "÷",
    "op.matmul": "@",
    "op.cat": "cat",
    "op.stack": "stack",
}
WORD_OPERATOR_FONT = ui_font(8.5, bold=True)  # "cat", "stack": inside the circle
MERGE_DETAIL_FONT = ui_font(7.0)  # "dim=1" under the word
FUNCTIONAL_MARK_FONT = ui_font(8.0, bold=True)
FUNCTIONAL_MARK_FONT.setItalic(True)
BADGE_RADIUS = 8.0


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
    functional: bool = False  # a function call (F.relu) drawn as its layer: marked "ƒ"
    icon: str | None = None  # when not the family's own: "input" and "output" share io

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
    """Zoomed far out, a node is a box in its family colour: a few calls, no text, so a
    thousand-node overview still pans smoothly."""
    color = theme.selection if selected else theme.family_color(look.family)
    if look.severity == "error":
        color = QColor(ERROR_COLOR)
    elif look.severity == "warning":
        color = QColor(WARNING_COLOR)
    width = MERGE_DIAMETER if look.is_merge else size[0]
    painter.fillRect(QRectF(0, 0, width, size[1]), color)


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
        if look.functional:
            icon = QRectF(7, size[1] / 2 - 6, 16, 16)  # makes room for the mark above it
            _paint_functional_mark(painter, size)
        paint_family_icon(painter, look.icon or look.family, icon, QColor("#ffffff"))
        _paint_text(painter, look, size, theme)
    if selected and look.severity:
        painter.setPen(QPen(theme.selection, 1.5, Qt.PenStyle.DashLine))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(rect.adjusted(-4, -4, 4, 4), RADIUS + 3, RADIUS + 3)
    painter.setPen(_border_pen(look, theme, selected))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawPath(body)


def _paint_functional_mark(painter: QPainter, size: tuple[float, float]) -> None:
    """An italic ƒ in the band's top corner, away from every port: this layer is a call in
    forward() (F.relu(x)), not a module in __init__."""
    painter.setFont(FUNCTIONAL_MARK_FONT)
    painter.setPen(QColor("#ffffff"))
    top = max(1.0, size[1] / 2 - 22)
    painter.drawText(QRectF(0, top, BAND, 15), Qt.AlignmentFlag.AlignCenter, "ƒ")


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
    _paint_operator(painter, look, circle, theme)
    painter.setFont(TYPE_FONT)
    painter.setPen(theme.node_subtext)
    # The name starts after the badge's place, so a warning never covers it.
    left = badge_rect(look, size).right() + 2
    label = QRectF(left, 0, max(0.0, size[0] - left), MERGE_DIAMETER)
    painter.drawText(label, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
                     | Qt.TextFlag.TextDontClip, look.name)


def _paint_operator(painter, look, circle: QRectF, theme) -> None:
    painter.setPen(theme.node_text)
    if len(look.operator) == 1:
        painter.setFont(OPERATOR_FONT)
        painter.drawText(circle, Qt.AlignmentFlag.AlignCenter, look.operator)
        return
    word_height = QFontMetricsF(WORD_OPERATOR_FONT).height()
    detail_height = QFontMetricsF(MERGE_DETAIL_FONT).height() if look.detail else 0.0
    top = circle.center().y() - (word_height + detail_height) / 2
    painter.setFont(WORD_OPERATOR_FONT)
    painter.drawText(QRectF(circle.left(), top, circle.width(), word_height),
                     Qt.AlignmentFlag.AlignCenter, look.operator)
    if look.detail:
        painter.setFont(MERGE_DETAIL_FONT)
        painter.setPen(theme.node_subtext)
        painter.drawText(QRectF(circle.left(), top + word_height, circle.width(),
                                detail_height),
                         Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextDontClip, look.detail)


def _paint_ports(painter, look, size, theme, connected_inputs) -> None:
    painter.setPen(QPen(theme.edge, 1.3))
    for kind, count in (("in", look.inputs), ("out", look.outputs)):
        for index in range(count):
            filled = kind == "out" or index in connected_inputs
            painter.setBrush(theme.edge if filled else theme.port_fill)
            painter.drawEllipse(port_position(look, size, kind, index), PORT_RADIUS, PORT_RADIUS)


def _paint_badge(painter, look, size) -> None:
    color = QColor(ERROR_COLOR if look.severity == "error" else WARNING_COLOR)
    center = badge_rect(look, size).center()
    painter.setPen(QPen(QColor("#ffffff"), 1.5))
    painter.setBrush(color)
    painter.drawEllipse(center, BADGE_RADIUS, BADGE_RADIUS)
    painter.setFont(ui_font(8.5, bold=True))
    painter.drawText(QRectF(center.x() - BADGE_RADIUS, center.y() - BADGE_RADIUS,
                            2 * BADGE_RADIUS, 2 * BADGE_RADIUS),
                     Qt.AlignmentFlag.AlignCenter, "!")


def badge_rect(look: NodeLook, size: tuple[float, float]) -> QRectF:
    """Where the diagnostic badge sits, clear of every port: a merge's ports ring the top
    and bottom of its circle, so its badge sits just right of the circle at mid-height (over
    the rim, not the operator); a box's ports are on its top and bottom edges, so its badge
    sits on its right edge, level with the name line."""
    if look.is_merge:
        center = QPointF(MERGE_DIAMETER + BADGE_RADIUS / 2, MERGE_DIAMETER / 2)
    else:
        center = QPointF(size[0], min(PAD + 6, size[1] / 2))
    r = BADGE_RADIUS
    return QRectF(center.x() - r, center.y() - r, 2 * r, 2 * r)
