"""Draw one graph of a project to a PNG, SVG or PDF file, with the canvas's own painting code.

Used by File > Export Diagram and by ``torchcanvas render``. A temporary ``CanvasScene`` is
built for the graph, so the file shows exactly what the canvas shows (glyphs, shape labels,
red edges and badges for diagnostics), minus the selection; ``with_messages`` adds each
node's diagnostics in words beside its badge (builder/gui/message_callouts.py), for pictures
only. The file is written atomically: a failed export never leaves half an image over an
older one.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QRectF, QSize, QSizeF
from PySide6.QtGui import QGuiApplication, QImage, QPageLayout, QPageSize, QPainter, QPdfWriter
from PySide6.QtSvg import QSvgGenerator

from builder.gui.glyphs import node_size
from builder.gui.kept_view_scene import KeptViewScene, viewed_block
from builder.gui.looks import node_look
from builder.gui.message_callouts import add_callouts
from builder.gui.project_document import GraphKey, ProjectDocument
from builder.gui.scene import CanvasScene
from builder.gui.theme import Theme
from graph_schema.files import atomic_write_bytes
from graph_schema.layout import layout_network

FORMATS = (".png", ".svg", ".pdf")
MARGIN = 32.0  # scene units of background around the drawing
PNG_SCALE = 2  # pixels per scene unit: crisp on HiDPI screens and in slides
SCALES = (0.25, 8.0)  # the PNG scales one may ask for: a thumbnail to a poster
EMPTY_SIZE = (240.0, 120.0)  # what an empty graph is drawn as


class RenderError(Exception):
    """The diagram could not be written; the message says why."""


def check_format(path: str | os.PathLike) -> str:
    """The lower-case suffix of ``path`` when it is one we can write, else RenderError."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise RenderError(f"{path}: the diagram format comes from the file name; use "
                          f"{', '.join(FORMATS[:-1])} or {FORMATS[-1]}")
    return suffix


def node_sizes(doc: ProjectDocument, key: GraphKey) -> dict[str, tuple[float, float]]:
    """The size of every node's glyph, as the canvas draws it (for auto-layout)."""
    analysis = doc.analysis(key)
    inference = analysis.inference
    sizes = {}
    for node_id, node in inference.nodes.items():
        ports = {e.port for e in inference.incoming.get(node_id, [])}
        look = node_look(doc.project, node, inference.states.get(node_id),
                         analysis.by_node.get(node_id, []), ports)
        sizes[node_id] = node_size(look, doc.project.flow)
    return sizes


def lay_out(doc: ProjectDocument, key: GraphKey) -> None:
    """Give every node of a graph a position from auto-layout (for files drawn without one).

    This writes positions straight into the project: only for a document nobody edits (the
    render command's own copy), never for the app's document, whose changes are undo steps.
    """
    graph = doc.graph(key)
    result = layout_network(graph, node_sizes(doc, key), flow=doc.project.flow)
    for node in graph.nodes:
        node.position = result.positions[node.id]


def check_scale(scale: float) -> float:
    """``scale`` when a PNG can be drawn at it, else RenderError."""
    low, high = SCALES
    if not low <= scale <= high:  # also refuses NaN
        raise RenderError(f"the PNG scale must be between {low:g} and {high:g} pixels per "
                          f"canvas unit, not {scale:g}")
    return scale


def render_graph(doc: ProjectDocument, key: GraphKey, path: str | os.PathLike, theme: Theme,
                 scale: float = PNG_SCALE, depth: int = 0,
                 with_messages: bool = False,
                 opened: Iterable[tuple[str, ...]] = ()) -> Path:
    """Draw graph ``key`` of ``doc`` to ``path`` (.png, .svg or .pdf) in ``theme``; a PNG
    has ``scale`` pixels per canvas unit (SVG and PDF are vector drawings). ``depth``: how
    many levels of nested blocks are drawn open in place, framed (0: every block closed);
    ``opened``: block instances drawn open as well, as paths of node ids (the ones a canvas
    has open: what the user sees is what is exported); ``with_messages``: each diagnostic's
    words beside its node."""
    path = Path(path)
    suffix = check_format(path)
    check_scale(scale)
    kept = viewed_block(doc, key)  # a block kept as source draws what it was seen to do
    scene = KeptViewScene(kept, theme) if kept is not None else \
        CanvasScene(doc, key, theme)
    if (depth or opened) and isinstance(scene, CanvasScene):
        scene.inline.open_to_depth(depth)
        scene.inline.open_paths(opened)
    try:
        if with_messages and isinstance(scene, CanvasScene):
            add_callouts(scene, theme)
        items = scene.itemsBoundingRect()
        if items.isEmpty():
            items = QRectF(0, 0, *EMPTY_SIZE)
        source = items.adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN)
        if suffix == ".png":
            data = _png(scene, source, theme, scale)
        else:
            data = {".svg": _svg, ".pdf": _pdf}[suffix](scene, source, theme, doc.project.name)
    finally:
        scene.detach()
        scene.deleteLater()
    _write_atomically(path, data)
    return path


def _screen_dpi() -> float:
    """The resolution glyph text is measured at (QFontMetricsF uses the primary screen).

    Each output device is given this resolution too, so a 9.5 pt name is exactly as wide in
    the file as the box that was sized for it on screen.
    """
    screen = QGuiApplication.primaryScreen()
    return screen.logicalDotsPerInchY() if screen is not None else 96.0


def _draw(painter: QPainter, scene: CanvasScene, source: QRectF, target: QRectF,
          theme: Theme) -> None:
    painter.setRenderHints(QPainter.RenderHint.Antialiasing
                           | QPainter.RenderHint.TextAntialiasing
                           | QPainter.RenderHint.SmoothPixmapTransform)
    painter.fillRect(target, theme.background)
    scene.render_to(painter, target, source)


def _png(scene: CanvasScene, source: QRectF, theme: Theme, scale: float) -> bytes:
    width, height = math.ceil(source.width()), math.ceil(source.height())
    # Opaque: the background is painted anyway, and a PNG without alpha is an eighth smaller.
    image = QImage(math.ceil(width * scale), math.ceil(height * scale),
                   QImage.Format.Format_RGB32)
    if image.isNull():
        raise RenderError(f"the diagram is too large for an image ({width}×{height})")
    image.setDevicePixelRatio(scale)
    image.fill(theme.background)  # a fractional scale leaves a part-pixel edge unpainted
    dots_per_meter = round(_screen_dpi() / 0.0254)
    image.setDotsPerMeterX(dots_per_meter)
    image.setDotsPerMeterY(dots_per_meter)
    painter = QPainter(image)
    try:
        _draw(painter, scene, source, QRectF(0, 0, width, height), theme)
    finally:
        painter.end()
    return _encode(lambda buffer: image.save(buffer, "PNG"), "PNG")


def _svg(scene: CanvasScene, source: QRectF, theme: Theme, title: str) -> bytes:
    width, height = math.ceil(source.width()), math.ceil(source.height())

    def write(buffer: QBuffer) -> bool:
        generator = QSvgGenerator()
        generator.setOutputDevice(buffer)
        generator.setResolution(round(_screen_dpi()))
        generator.setSize(QSize(width, height))
        generator.setViewBox(QRectF(0, 0, width, height))
        generator.setTitle(title)
        generator.setDescription("Drawn by TorchCanvas")
        painter = QPainter()
        if not painter.begin(generator):
            return False
        try:
            _draw(painter, scene, source, QRectF(0, 0, width, height), theme)
        finally:
            painter.end()
        return True

    return _encode(write, "SVG")


def _pdf(scene: CanvasScene, source: QRectF, theme: Theme, title: str) -> bytes:
    def write(buffer: QBuffer) -> bool:
        writer = QPdfWriter(buffer)
        writer.setTitle(title)
        writer.setCreator("TorchCanvas")
        dpi = round(_screen_dpi())
        writer.setResolution(dpi)  # one device unit = one scene unit
        points = 72.0 / dpi
        size = QPageSize(QSizeF(source.width() * points, source.height() * points),
                         QPageSize.Unit.Point, "diagram", QPageSize.SizeMatchPolicy.ExactMatch)
        writer.setPageLayout(QPageLayout(size, QPageLayout.Orientation.Portrait,
                                         QMarginsF(0, 0, 0, 0)))
        painter = QPainter()
        if not painter.begin(writer):
            return False
        try:
            _draw(painter, scene, source, QRectF(0, 0, source.width(), source.height()),
                  theme)
        finally:
            painter.end()
        return True

    return _encode(write, "PDF")


def _encode(write, label: str) -> bytes:
    """Run ``write(buffer)`` against an in-memory buffer and return what it wrote."""
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    ok = write(buffer)
    buffer.close()
    if not ok or data.isEmpty():
        raise RenderError(f"Qt could not draw the diagram as {label}")
    return bytes(data.data())


def _write_atomically(path: Path, data: bytes) -> None:
    try:
        atomic_write_bytes(path, data)
    except OSError as err:
        raise RenderError(f"cannot write {path}: {err.strerror or err}") from None
