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
from builder.gui.init_glyph import paint_init_badge
from builder.gui.theme import ERROR_COLOR, WARNING_COLOR, Theme, ui_font
from graph_schema.document import FLOWS

BAND = 30.0  # the coloured strip on the left that carries the family icon
PAD = 9.0
MIN_WIDTH, MAX_WIDTH = 150.0, 300.0
LINE_GAP = 2.0
PORT_RADIUS = 4.5
PORT_GAP = 2 * PORT_RADIUS + 6  # least distance between two ports' centres on one side
MERGE_DIAMETER = 40.0  # the smallest merge circle; merge_diameter grows it for more ports
MAX_MERGE_DIAMETER = 400.0
MERGE_ARC = math.radians(60)  # a merge's ports stay within this of their side's middle
MERGE_LABEL_GAP = 6.0  # between a merge's circle and its name
BADGE_RADIUS = 10.0  # half of badge_rect: ports keep clear of it
RADIUS = 7.0
# Below this zoom a node is drawn as a coloured box with its name at a fixed size on screen
# (far_text.py): drawn to scale, the glyph's text would be under 6 px, unreadable.
DETAIL_LOD = 0.5

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
    inputs: int  # input ports, drawn on the top edge (or the left side: port_position)
    outputs: int  # output ports, on the bottom edge (or the right side)
    operator: str | None = None  # merges: the symbol drawn in the circle
    severity: str | None = None  # "error" / "warning" / None
    opaque: bool = False  # an imported class kept as source: drawn hatched
    functional: bool = False  # a function call (F.relu) drawn as its layer: marked "ƒ"
    icon: str | None = None  # when not the family's own: "input" and "output" share io
    # The init check flagged it (builder/gui/init_badges.py): "vanish", "explode" or "both".
    init_flag: str | None = None

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


def node_size(look: NodeLook, flow: str = "down") -> tuple[float, float]:
    """The glyph's (width, height). A merge is its circle with the name beside it, or below
    it when edges leave on the right; a box is as wide as its text and, for many ports on one
    side, long enough along that side to keep them PORT_GAP apart."""
    ports = max(look.inputs, look.outputs)
    if look.is_merge:
        diameter = merge_diameter(look)
        label = _text_width(look.name, "type")
        if flow == "right":
            return math.ceil(max(diameter, label)), \
                math.ceil(diameter + MERGE_LABEL_GAP + _line_height("type"))
        return diameter + label + 8.0, diameter
    text = max(_text_width(look.name, "name"), _text_width(look.type_label, "type"),
               _text_width(look.detail, "detail") if look.detail else 0.0)
    width = min(MAX_WIDTH, max(MIN_WIDTH, BAND + 2 * PAD + text))
    height = 2 * PAD + _line_height("name") + LINE_GAP + _line_height("type")
    if look.detail:
        height += LINE_GAP + _line_height("detail")
    if flow == "right":
        height = max(height, (ports + 1) * PORT_GAP)
    else:
        width = max(width, BAND + (ports + 1) * PORT_GAP)
    return math.ceil(width), math.ceil(height)  # never cut the widest line short


# -- merges: ports on the circle ------------------------------------------------------------
def _arc_step(radius: float) -> float:
    """The angle between neighbouring ports on a circle of ``radius``: PORT_GAP of chord."""
    return 2 * math.asin(min(1.0, PORT_GAP / (2 * radius)))


def _arc_angles(count: int, radius: float) -> list[float]:
    """Angles of ``count`` ports from their side's middle, PORT_GAP apart, centred."""
    step = _arc_step(radius)
    return [(index - (count - 1) / 2) * step for index in range(count)]


def _arc_point(flow: str, kind: str, angle: float, radius: float) -> tuple[float, float]:
    """A port on the circle (centre at (radius, radius)), ``angle`` from its side's middle
    towards larger x (top and bottom sides) or larger y (left and right sides)."""
    along, across = radius * math.sin(angle), radius * math.cos(angle)
    sign = -1.0 if kind == "in" else 1.0  # inputs before the centre, outputs after it
    if flow == "right":
        return radius + sign * across, radius + along
    return radius + along, radius + sign * across


def _merge_fits(look: NodeLook, diameter: float) -> bool:
    """Whether every port of ``look`` on a circle of ``diameter`` stays on its own side of
    the circle and clear of the diagnostic badge, in either flow."""
    radius = diameter / 2
    clear = BADGE_RADIUS + PORT_RADIUS + 1.0
    for kind, count in (("in", look.inputs), ("out", look.outputs)):
        angles = _arc_angles(count, radius)
        if count > 1 and (angles[-1] > MERGE_ARC or _arc_step(radius) >= math.pi):
            return False
        for flow in FLOWS:
            badges = _merge_badge_centres(diameter, flow)
            for angle in angles:
                x, y = _arc_point(flow, kind, angle, radius)
                if any(math.hypot(x - bx, y - by) < clear for bx, by in badges):
                    return False
    return True


def _merge_badge_centres(diameter: float, flow: str) -> tuple[tuple[float, float], ...]:
    """Where a merge's diagnostic badge and init badge go: corners of its circle's square.
    The diagnostic's top right; the init's bottom left when the name is beside the circle
    (away from the edges coming in from above), top left when the name is below it."""
    init = (1.0, 1.0) if flow == "right" else (1.0, diameter - 1.0)
    return (diameter - 1.0, 1.0), init


@lru_cache(maxsize=256)
def _diameter_for(inputs: int, outputs: int) -> float:
    """Grown port count by port count, so it never shrinks when a port is added (connecting
    a cat's free input must not make its circle smaller)."""
    diameter = MERGE_DIAMETER
    for count_in in range(1, max(inputs, 1) + 1):
        for count_out in range(1, max(outputs, 1) + 1):
            look = NodeLook("", "", "", "op", count_in, count_out, operator="+")
            while not _merge_fits(look, diameter) and diameter < MAX_MERGE_DIAMETER:
                diameter += 4.0
            if diameter >= MAX_MERGE_DIAMETER:  # dozens of ports: as big as it gets
                return MAX_MERGE_DIAMETER
    return diameter


def merge_diameter(look: NodeLook) -> float:
    """A merge's circle grows with its ports: at least MERGE_DIAMETER, and enough that its
    ports sit PORT_GAP apart on their half of the circle, none under the badge."""
    return _diameter_for(look.inputs, look.outputs)


def port_position(look: NodeLook, size: tuple[float, float], kind: str, index: int,
                  flow: str = "down") -> QPointF:
    """Where port ``index`` sits, in the node's own coordinates: inputs on the top side and
    outputs on the bottom one ("down"), or inputs on the left and outputs on the right
    ("right"); first port leftmost or topmost, as the layout orders merges' inputs."""
    count = look.inputs if kind == "in" else look.outputs
    if look.is_merge:
        radius = merge_diameter(look) / 2
        angles = _arc_angles(max(count, 1), radius)
        return QPointF(*_arc_point(flow, kind, angles[min(index, len(angles) - 1)], radius))
    share = (index + 1) / (count + 1) if count else 0.5
    if flow == "right":
        return QPointF(0.0 if kind == "in" else size[0], size[1] * share)
    return QPointF(BAND + (size[0] - BAND) * share, 0.0 if kind == "in" else size[1])


def merge_label_rect(look: NodeLook, size: tuple[float, float],
                     flow: str = "down") -> tuple[QRectF, Qt.AlignmentFlag]:
    """Where a merge's name goes: beside the circle, or below it when edges leave on the
    right (beside it, the name would sit on the outgoing edge)."""
    diameter = merge_diameter(look)
    if flow == "right":
        return (QRectF(0, diameter + MERGE_LABEL_GAP, size[0], size[1] - diameter
                       - MERGE_LABEL_GAP),
                Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
    return (QRectF(diameter + MERGE_LABEL_GAP, 0, size[0] - diameter - MERGE_LABEL_GAP,
                   diameter),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)


def paint_node(painter: QPainter, look: NodeLook, size: tuple[float, float], theme: Theme,
               selected: bool = False, lod: float = 1.0,
               connected_inputs: frozenset[int] = frozenset(), flow: str = "down") -> None:
    if lod < DETAIL_LOD:
        _paint_far(painter, look, size, theme, selected)
        return
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    if look.is_merge:
        _paint_merge(painter, look, size, theme, selected, lod, flow)
    else:
        _paint_box(painter, look, size, theme, selected, lod)
    if lod >= DETAIL_LOD:
        _paint_ports(painter, look, size, theme, connected_inputs, flow)
        if look.severity:
            _paint_badge(painter, look, size, flow)
        if look.init_flag:
            paint_init_badge(painter, init_badge_rect(look, size, flow), look.init_flag)
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
    width = merge_diameter(look) if look.is_merge else size[0]
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


def _paint_merge(painter, look, size, theme, selected, lod, flow) -> None:
    circle = QRectF(0, 0, merge_diameter(look), merge_diameter(look))
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
    label, alignment = merge_label_rect(look, size, flow)
    painter.drawText(label, alignment, look.name)


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


def _paint_ports(painter, look, size, theme, connected_inputs, flow) -> None:
    painter.setPen(QPen(theme.edge, 1.3))
    for kind, count in (("in", look.inputs), ("out", look.outputs)):
        for index in range(count):
            filled = kind == "out" or index in connected_inputs
            painter.setBrush(theme.edge if filled else theme.port_fill)
            painter.drawEllipse(port_position(look, size, kind, index, flow), PORT_RADIUS,
                                PORT_RADIUS)


def _paint_badge(painter, look, size, flow) -> None:
    color = QColor(ERROR_COLOR if look.severity == "error" else WARNING_COLOR)
    center = badge_rect(look, size, flow).center()
    painter.setPen(QPen(QColor("#ffffff"), 1.5))
    painter.setBrush(color)
    painter.drawEllipse(center, BADGE_RADIUS, BADGE_RADIUS)
    painter.setFont(ui_font(8.5, bold=True))
    painter.drawText(QRectF(center.x() - BADGE_RADIUS, center.y() - BADGE_RADIUS,
                            2 * BADGE_RADIUS, 2 * BADGE_RADIUS),
                     Qt.AlignmentFlag.AlignCenter, "!")


def badge_rect(look: NodeLook, size: tuple[float, float], flow: str = "down") -> QRectF:
    """Where the diagnostic badge sits, clear of every port. A merge's sits on the corner of
    its circle's square, outside the circle (merge_diameter grows the circle until every port
    in either flow keeps clear of it). A box's sits on the side that has no ports: its right
    edge, level with the name, when ports are on top and bottom; its top edge near the right
    when they are on the left and right."""
    if look.is_merge:
        diameter = merge_diameter(look)
        center = QPointF(*_merge_badge_centres(diameter, flow)[0])
    elif flow == "right":
        center = QPointF(size[0] - 2 * BADGE_RADIUS, 0.0)
    else:
        center = QPointF(size[0], min(PAD + 6, size[1] / 2))
    r = BADGE_RADIUS
    return QRectF(center.x() - r, center.y() - r, 2 * r, 2 * r)


def init_badge_rect(look: NodeLook, size: tuple[float, float], flow: str = "down") -> QRectF:
    """Where the init check's badge sits: as badge_rect, on a side without ports, and never
    on the diagnostic badge. A merge's is on another corner of its circle's square
    (_merge_badge_centres); a box's is on its right edge near the bottom when
    ports are on top and bottom, and on its bottom edge near the right when they are on the
    left and right."""
    if look.is_merge:
        center = QPointF(*_merge_badge_centres(merge_diameter(look), flow)[1])
    elif flow == "right":
        center = QPointF(size[0] - 2 * BADGE_RADIUS, size[1])
    else:
        diagnostic_y = min(PAD + 6, size[1] / 2)
        center = QPointF(size[0], max(size[1] - PAD - 6, diagnostic_y + 2 * BADGE_RADIUS + 2))
    r = BADGE_RADIUS
    return QRectF(center.x() - r, center.y() - r, 2 * r, 2 * r)
