"""Text drawn at a fixed size on screen, for a canvas zoomed far out.

Below ``glyphs.DETAIL_LOD`` a node is a box in its family colour: its name, scaled with the
drawing, would be a few pixels tall. Here it is written at NAME_PX on screen instead (the
painter's transform reset), whole, elided, or cut to its first letters to fit the box.
glyphs._paint_far draws it inside each far node; builder/gui/far_labels.py draws names and
tensor shapes over the overview.
"""

from __future__ import annotations

import re
from functools import lru_cache

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter

from builder.gui.theme import mono_font, ui_font

NAME_PX = 10  # the screen height (font pixel size) of a far node's name
SHAPE_PX = 9  # ... and of an edge's tensor shape
PAD_PX = 2.0
MIN_CHARS = 4  # an elided name with fewer letters says little: its short form says more


def _pixel_font(font: QFont, pixels: int) -> QFont:
    font.setPixelSize(pixels)
    return font


NAME_FONT = _pixel_font(ui_font(8.0, bold=True), NAME_PX)
SHAPE_FONT = _pixel_font(mono_font(7.5), SHAPE_PX)


@lru_cache(maxsize=2)
def metrics(which: str) -> QFontMetricsF:
    """Made on first use: font metrics need the application's fonts to be loaded."""
    return QFontMetricsF(NAME_FONT if which == "name" else SHAPE_FONT)


def name_height() -> float:
    return metrics("name").height()


def short_form(name: str) -> str:
    """Each run of letters cut to its first: ``layer3_1`` -> ``l3_1``, ``conv2`` -> ``c2``."""
    return re.sub(r"([A-Za-z])[A-Za-z]+", r"\1", name)


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


@lru_cache(maxsize=8192)
def fitted_name(name: str, width: int) -> str:
    """``name`` as it fits in ``width`` screen pixels: whole; elided in the middle, which
    keeps the numbers at the end that tell ``layer3_0`` from ``layer3_1``; its short form,
    rather than an elision that drops some of those numbers; its end, for a name that ends
    in a number (``231`` for ``n231``); or its first letters. Empty when nothing fits."""
    font = metrics("name")
    if font.horizontalAdvance(name) <= width:
        return name
    elided = font.elidedText(name, Qt.TextElideMode.ElideMiddle, width)
    short = short_form(name)
    short_fits = short != name[:1] and font.horizontalAdvance(short) <= width
    if len(elided) > MIN_CHARS and not (short_fits and _digits(elided) != _digits(name)):
        return elided  # (the ellipsis is one of the characters)
    if short_fits:
        return short  # "l3_1", not "la…_1" (not "l" for "image": its first letters say more)
    if name[-1:].isdigit():  # "n231" in a narrow box: "231" tells it from "n232"
        for start in range(1, len(name)):
            if font.horizontalAdvance(name[start:]) <= width:
                return name[start:]
        return ""
    letters = ""
    for char in name:
        if font.horizontalAdvance(letters + char) > width:
            break
        letters += char
    return letters


@lru_cache(maxsize=64)
def text_color_on(fill: str) -> QColor:
    """Near-black or white, whichever reads on ``fill`` (a family colour, by name)."""
    color = QColor(fill)
    luma = 0.299 * color.redF() + 0.587 * color.greenF() + 0.114 * color.blueF()
    return QColor("#111418") if luma > 0.6 else QColor("#ffffff")


def draw_name(painter: QPainter, screen: QRectF, text: str, fill: QColor) -> bool:
    """Write ``text`` (fitted) centred in ``screen``, a box in device pixels, on an
    untransformed painter; False when the box is too small for any of it."""
    if screen.height() < NAME_PX + 1 or screen.width() < 2 * PAD_PX + 4:
        return False
    shown = fitted_name(text, int(screen.width() - 2 * PAD_PX))
    if not shown:
        return False
    painter.setFont(NAME_FONT)
    painter.setPen(text_color_on(fill.name()))
    painter.drawText(screen, Qt.AlignmentFlag.AlignCenter, shown)
    return True


def paint_far_name(painter: QPainter, box: QRectF, text: str, fill: QColor) -> None:
    """``draw_name`` for ``box`` in the painter's (item) coordinates."""
    screen = painter.worldTransform().mapRect(box)
    if screen.height() < NAME_PX + 1:
        return
    painter.save()
    painter.resetTransform()
    draw_name(painter, screen, text, fill)
    painter.restore()
