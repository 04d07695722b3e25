"""Copy, cut, paste and duplicate layers through the system clipboard.

The clipboard carries a fragment (see fragments.py) twice: under TorchCanvas's own MIME type
and as plain text, so layers travel between windows and projects, and a user can still look
at what was copied in a text editor. Each paste, cut or duplicate is one undo step; what
cannot be pasted is refused through the controller with the reason. Pasted layers never land
on layers already there (graph_schema.placement moves them, together, clear).
"""

from __future__ import annotations

import atexit

from PySide6.QtCore import QMimeData, QPointF
from PySide6.QtGui import QClipboard, QGuiApplication

from builder.gui import placing
from builder.gui.commands import AddNode, removal_steps
from builder.gui.fragments import (
    Fragment,
    FragmentError,
    fragment_from_json,
    make_fragment,
    place_fragment,
)
from builder.gui.scene import CanvasScene
from builder.gui.view import CanvasView
from graph_schema.document import Position

FRAGMENT_MIME = "application/x-torchcanvas-fragment"


def system_clipboard() -> QClipboard:
    return QGuiApplication.clipboard()


def layers_label(count: int) -> str:
    return f"{count} layer{'s' * (count != 1)}"


def selection_fragment(scene: CanvasScene) -> Fragment | None:
    ids = scene.selected_node_ids()
    if not ids:
        return None
    return make_fragment(scene.doc.project, scene.doc.graph(scene.key), ids)


def fragment_mime(fragment: Fragment) -> QMimeData:
    text = fragment.to_json()
    data = QMimeData()
    data.setData(FRAGMENT_MIME, text.encode("utf-8"))
    data.setText(text)
    return data


def copy_selection(view: CanvasView) -> bool:
    fragment = selection_fragment(view.canvas)
    if fragment is None:
        view.controller.refused.emit("Nothing to copy: select some layers first")
        return False
    system_clipboard().setMimeData(fragment_mime(fragment))
    _release_at_exit()
    return True


# Platforms whose clipboard lives inside this process: nothing outside can read it.
IN_PROCESS_PLATFORMS = ("offscreen", "minimal")
_release_registered = False


def _release_at_exit() -> None:
    global _release_registered
    if not _release_registered:
        _release_registered = True
        atexit.register(release_clipboard)


def release_clipboard() -> None:
    """Clear a clipboard that lives in this process while it still holds our copy.

    With PySide6 6.11 on the offscreen platform, a QClipboard that still owns a QMimeData
    made in Python crashes the process as the application is destroyed (exit 139). atexit
    runs before that; no other program could have pasted from such a clipboard anyway. On a
    real desktop the clipboard is left alone, so a copy can still be pasted elsewhere."""
    app = QGuiApplication.instance()
    if app is None or QGuiApplication.platformName() not in IN_PROCESS_PLATFORMS:
        return
    board = app.clipboard()
    data = board.mimeData()
    if data is not None and data.hasFormat(FRAGMENT_MIME):
        board.clear()


def cut_selection(view: CanvasView) -> bool:
    """Copy, then delete the selection (and its connections) as one undo step."""
    scene = view.canvas
    ids = scene.selected_node_ids()
    if not copy_selection(view):
        return False
    view.controller.push(f"Cut {layers_label(len(ids))}",
                         removal_steps(scene.doc, scene.key, ids))
    return True


def clipboard_text() -> str | None:
    """What the clipboard offers to paste: our own MIME data first, then plain text."""
    data = system_clipboard().mimeData()
    if data is None:
        return None
    if data.hasFormat(FRAGMENT_MIME):
        try:
            return bytes(data.data(FRAGMENT_MIME)).decode("utf-8")
        except UnicodeDecodeError:
            return ""
    return data.text() if data.hasText() else None


def paste(view: CanvasView, at: QPointF | None = None) -> list[str]:
    """Paste the clipboard into the scene's graph, its top-left corner at ``at`` (or offset
    from where the layers were copied); the new layers become the selection."""
    text = clipboard_text()
    if not text:
        view.controller.refused.emit("Cannot paste: the clipboard holds no layers")
        return []
    try:
        fragment = fragment_from_json(text)
    except FragmentError as err:
        view.controller.refused.emit(f"Cannot paste: {err}")
        return []
    return place(view, fragment, at, "Paste")


def duplicate_selection(view: CanvasView) -> list[str]:
    """Copy and paste beside the originals in one step, leaving the clipboard alone."""
    fragment = selection_fragment(view.canvas)
    if fragment is None:
        view.controller.refused.emit("Nothing to duplicate: select some layers first")
        return []
    return place(view, fragment, None, "Duplicate")


def place(view: CanvasView, fragment: Fragment, at: QPointF | None, verb: str) -> list[str]:
    scene, controller = view.canvas, view.controller
    target = Position(x=at.x(), y=at.y()) if at is not None else None
    try:
        placement = place_fragment(controller, scene.key, fragment, target)
    except FragmentError as err:
        controller.refused.emit(f"Cannot {verb.lower()}: {err}")
        return []
    _clear_of_the_graph(view, placement.steps)
    text = f"{verb} {layers_label(len(placement.node_ids))}"
    if placement.new_blocks:
        text += f" (with block {', '.join(placement.new_blocks)})"
    controller.push(text, placement.steps)
    scene.select_nodes(placement.node_ids)
    return placement.node_ids


def _clear_of_the_graph(view: CanvasView, steps: list) -> None:
    """Move the layers about to be added, together, to the nearest place where none of them
    lands on a node already there (a paste in a crowded spot, a duplicate beside a chain)."""
    scene = view.canvas
    adding = [step for step in steps if isinstance(step, AddNode) and step.key == scene.key]
    if not adding:
        return
    dx, dy = placing.free_offset_for(scene.doc, scene.key, [s.node for s in adding],
                                     view.glyph_sizes())
    if dx or dy:
        for step in adding:
            position = step.node.position
            step.node = step.node.model_copy(update={"position": Position(
                x=position.x + dx, y=position.y + dy)})
