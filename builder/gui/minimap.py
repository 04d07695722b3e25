"""The minimap: the whole graph, small, in the canvas's corner, and the part the view shows.

It paints the scene's far-zoom overview (builder/gui/overview.py: a few cached paths, one per
colour), so a thousand nodes cost what a handful do, and over it the viewport's rectangle.
A click or a drag in it centres the main view there. It sits over the view, not inside its
viewport: a viewport moves its child widgets along when it scrolls.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen, QTransform
from PySide6.QtWidgets import QWidget

SIDE = 190  # the longest side of the map, in pixels
THINNEST = 48  # a long thin network still gets a map wide enough to click in
MARGIN = 10  # between the map and the viewport's edges
INSET = 5  # between the map's frame and the drawing
SMALLEST_MARK = 8.0  # pixels: the least the view's rectangle is drawn as
DEBOUNCE_MS = 120  # a drag changes the scene every mouse move: redraw the map a little later


class Minimap(QWidget):
    def __init__(self, view):
        super().__init__(view)
        self.view = view
        self.wanted = True  # View > Show Minimap
        self._drawing = QRectF()
        self.setObjectName("minimap")
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("The whole graph: click or drag to move the view")
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self._on_timer_timeout)
        view.resized.connect(self.place)
        view.horizontalScrollBar().valueChanged.connect(self.update)
        view.verticalScrollBar().valueChanged.connect(self.update)
        view.zoom_changed.connect(self.update)
        view.scene().changed.connect(self._on_scene_changed)
        self._on_timer_timeout()

    # -- where and how big -----------------------------------------------------------------
    def set_wanted(self, wanted: bool) -> None:
        self.wanted = wanted
        self._show_if_useful()

    def _show_if_useful(self) -> None:
        self.setVisible(self.wanted and not self._drawing.isEmpty())
        if self.isVisible():
            self.raise_()

    def _on_scene_changed(self, *_args) -> None:
        self._timer.start()

    def _on_timer_timeout(self) -> None:
        self._drawing = self.view.scene().itemsBoundingRect().adjusted(-20, -20, 20, 20)
        if not self._drawing.isEmpty():
            self.resize(self._map_size())
            self.place()
        self._show_if_useful()
        self.update()

    def _map_size(self) -> QSize:
        rect = self._drawing
        scale = SIDE / max(rect.width(), rect.height())
        width = max(THINNEST, round(rect.width() * scale))
        height = max(THINNEST, round(rect.height() * scale))
        return QSize(width + 2 * INSET, height + 2 * INSET)

    def place(self) -> None:
        """In the bottom right corner of the view's viewport (clear of its scroll bars)."""
        port = self.view.viewport().geometry()
        self.move(port.right() - self.width() - MARGIN, port.bottom() - self.height() - MARGIN)

    def to_map(self) -> QTransform:
        """Scene coordinates to the map's pixels: the drawing fitted and centred."""
        rect = self._drawing
        inner = QRectF(self.rect()).adjusted(INSET, INSET, -INSET, -INSET)
        scale = min(inner.width() / rect.width(), inner.height() / rect.height())
        dx = inner.left() + (inner.width() - rect.width() * scale) / 2
        dy = inner.top() + (inner.height() - rect.height() * scale) / 2
        return QTransform(scale, 0, 0, scale, dx - rect.left() * scale,
                          dy - rect.top() * scale)

    def shown_rect(self) -> QRectF:
        """The part of the scene the main view shows, in scene coordinates."""
        return self.view.mapToScene(self.view.viewport().rect()).boundingRect()

    # -- painting --------------------------------------------------------------------------
    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802
        if self._drawing.isEmpty():
            return
        scene = self.view.scene()
        theme = scene.theme
        painter = QPainter(self)
        frame = QColor(theme.background)
        frame.setAlpha(235)
        painter.fillRect(self.rect(), frame)
        painter.setPen(QPen(theme.node_border, 1))
        painter.drawRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5))
        painter.setClipRect(self.rect().adjusted(1, 1, -1, -1))
        painter.setTransform(self.to_map())
        if scene.overview.dirty:
            scene.overview.rebuild(scene, theme)
        scene.overview.paint(painter, theme)
        painter.resetTransform()
        shown = QColor(theme.selection)
        shown.setAlpha(40)
        painter.setBrush(shown)
        painter.setPen(QPen(theme.selection, 1.5))
        painter.drawRect(self.shown_on_map())
        painter.end()

    def shown_on_map(self) -> QRectF:
        """The view's rectangle on the map: never smaller than a few pixels, so a view
        zoomed in on a long network is still a mark one can see."""
        rect = self.to_map().mapRect(self.shown_rect())
        center = rect.center()
        rect.setWidth(max(rect.width(), SMALLEST_MARK))
        rect.setHeight(max(rect.height(), SMALLEST_MARK))
        rect.moveCenter(center)
        return rect

    # -- moving the view -------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton:
            self._centre_view_at(event.position())
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._centre_view_at(event.position())
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        event.accept()

    def _centre_view_at(self, point: QPointF) -> None:
        inverse, ok = self.to_map().inverted()
        if ok and not self._drawing.isEmpty():
            self.view.center_on(inverse.map(point))
            self.update()
