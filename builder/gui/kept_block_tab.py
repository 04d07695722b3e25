"""The app's tab of a block kept as source: its recorded view, read-only.

A KeptBlockView shows a KeptBlockScene (builder/gui/kept_view_scene.py) and answers what the window
asks of any canvas (its key, its selection, its controller) with a controller that refuses
every edit, saying why in the status bar.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, QTimer, SignalInstance
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtWidgets import QMenu

from builder.gui.controller import EditController
from builder.gui.interactions import Pan
from builder.gui.kept_view_scene import KeptBlockScene
from builder.gui.project_document import GraphKey, ProjectDocument
from builder.gui.view import LAYER_MIME, CanvasView


class ReadOnlyEdits(EditController):
    """The controller of a kept block's tab. The window's actions (delete, paste, add layer,
    auto layout, ...) reach the current tab's ``view.controller``; here every undo step they
    ask for is refused, so nothing done while the tab is current changes the document."""

    def __init__(self, doc: ProjectDocument, refusals: SignalInstance, parent=None):
        super().__init__(doc, parent)
        self.refused.connect(refusals)  # the window's status bar shows the reason

    def push(self, text: str, steps) -> None:
        self.refuse(text)

    def move(self, key: GraphKey, positions) -> None:
        self.refuse("Move")

    def refuse(self, what: str) -> None:
        message = f"{what}: not done, this block is kept as source and its tab is read-only"
        # Sent once the asking action is done: one that then reports success in the status
        # bar ("Auto layout by ...") would otherwise cover the refusal.
        QTimer.singleShot(0, self, lambda: self.refused.emit(message))


class KeptBlockView(CanvasView):
    """Zoom, pan and fit as on any canvas; no drops from the palette, no quick-add, and a
    context menu with only the view's own entries."""

    start_fitted = True  # a recording is a handful of calls: show all of it

    def __init__(self, scene: KeptBlockScene, controller: EditController, parent=None):
        super().__init__(scene, ReadOnlyEdits(scene.doc, controller.refused, scene), parent)
        self.shown_menu: QMenu | None = None  # the context menu on screen (tests read it)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress and event.key() == Qt.Key.Key_Tab:
            self.controller.refuse("Add layer")  # Tab opens quick-add on a canvas
            return True
        return super().event(event)

    def delete_selection(self) -> None:
        self.controller.refuse("Delete")

    def _gesture_for(self, event):
        """Only panning: nothing in a recorded view can be connected or moved."""
        gesture = super()._gesture_for(event)
        return gesture if isinstance(gesture, Pan) else None

    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if event.mimeData().hasFormat(LAYER_MIME):
            self.controller.refuse("Add layer")
            event.ignore()
            return
        super().dragEnterEvent(event)

    def dragMoveEvent(self, event) -> None:  # noqa: N802
        if event.mimeData().hasFormat(LAYER_MIME):
            event.ignore()
            return
        super().dragMoveEvent(event)

    def dropEvent(self, event) -> None:  # noqa: N802
        if event.mimeData().hasFormat(LAYER_MIME):
            event.ignore()
            return
        super().dropEvent(event)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:  # noqa: N802
        menu = QMenu(self)
        menu.addAction("Fit to Window").triggered.connect(lambda _checked=False: self.fit())
        menu.addAction("Actual Size").triggered.connect(
            lambda _checked=False: self.reset_zoom())
        menu.aboutToHide.connect(menu.deleteLater)
        self.shown_menu = menu
        menu.popup(event.globalPos())
