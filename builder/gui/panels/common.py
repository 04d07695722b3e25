"""Small pieces the panels share: severity icons, a debounce timer, "anything changed" wiring."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPainterPath, QPixmap
from PySide6.QtWidgets import QFrame, QScrollArea, QWidget

from builder.gui.project_document import GraphKey, ProjectDocument
from builder.gui.theme import ERROR_COLOR, WARNING_COLOR
from graph_schema.diagnostics import Diagnostic

# Signals after which generated code or the summary may read differently (moves cannot
# change either, so nodes_moved is left out).
EDIT_SIGNALS = ("node_added", "node_removed", "node_changed", "edge_added", "edge_removed",
                "shapes_changed", "graph_added", "graph_removed", "graph_renamed",
                "project_changed", "project_replaced", "opaque_changed")


def on_any_edit(doc: ProjectDocument, slot: Callable[[], None]) -> None:
    for name in EDIT_SIGNALS:
        getattr(doc, name).connect(lambda *_args: slot())


def debouncer(parent: QObject, delay_ms: int, slot: Callable[[], None]) -> QTimer:
    """A single-shot timer: start() it on every change, ``slot`` runs once things settle."""
    timer = QTimer(parent)
    timer.setSingleShot(True)
    timer.setInterval(delay_ms)
    timer.timeout.connect(slot)
    return timer


class LazyRefresh(QObject):
    """Work a panel does after edits (generate code, summarise), debounced, and only while the
    panel can be seen: a dock tab behind another stays "visible" to Qt, so the dock's
    ``visibilityChanged`` tells ``set_in_front``. Unseen changes just mark it stale."""

    def __init__(self, widget: QWidget, delay_ms: int, work: Callable[[], None]):
        super().__init__(widget)
        self.widget = widget
        self.work = work
        self.stale = True
        self.in_front = True
        self.timer = debouncer(self, delay_ms, self.run)
        widget.installEventFilter(self)

    def showing(self) -> bool:
        return self.in_front and self.widget.isVisible()

    def changed(self, *_args) -> None:
        self.stale = True
        if self.showing():
            self.timer.start()

    def set_in_front(self, in_front: bool) -> None:
        self.in_front = in_front
        if in_front and self.stale:
            self.timer.start()

    def run(self) -> None:
        if not self.showing():
            return  # stays stale: catches up when shown
        self.stale = False
        self.work()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if watched is self.widget and event.type() == QEvent.Type.Show and self.stale:
            self.timer.start()
        return False


def graph_key_of(diagnostic: Diagnostic) -> GraphKey:
    return (diagnostic.scope, diagnostic.network)


_ICONS: dict[str, QIcon] = {}


def severity_icon(severity: str, size: int = 16) -> QIcon:
    """A red disc with "!" for errors, an amber triangle with "!" for warnings, drawn here so
    they read the same on every platform and theme."""
    key = f"{severity}:{size}"
    if key not in _ICONS:
        _ICONS[key] = QIcon(_paint_severity(severity, size))
    return _ICONS[key]


def _paint_severity(severity: str, size: int) -> QPixmap:
    pixmap = QPixmap(size * 2, size * 2)
    pixmap.setDevicePixelRatio(2.0)
    pixmap.fill(QColor(0, 0, 0, 0))
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    box = QRectF(1, 1, size - 2, size - 2)
    if severity == "error":
        painter.setBrush(QColor(ERROR_COLOR))
        painter.drawEllipse(box)
    else:
        painter.setBrush(QColor(WARNING_COLOR))
        path = QPainterPath(QPointF(box.center().x(), box.top()))
        path.lineTo(box.bottomRight())
        path.lineTo(box.bottomLeft())
        path.closeSubpath()
        painter.drawPath(path)
    font = QFont()
    font.setBold(True)
    font.setPixelSize(round(size * 0.7))
    painter.setFont(font)
    painter.setPen(QColor("#ffffff"))
    text_box = box.adjusted(0, size * 0.12, 0, 0) if severity != "error" else box
    painter.drawText(text_box, Qt.AlignmentFlag.AlignCenter, "!")
    painter.end()
    return pixmap


def problem_count_text(errors: int, warnings: int) -> str:
    parts = []
    if errors:
        parts.append(f"{errors} error{'s' * (errors != 1)}")
    if warnings:
        parts.append(f"{warnings} warning{'s' * (warnings != 1)}")
    return ", ".join(parts) or "no problems"


def scrolling(panel: QWidget) -> QScrollArea:
    """A tall form scrolls inside its dock rather than forcing the window to its height."""
    area = QScrollArea()
    area.setWidget(panel)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    return area
