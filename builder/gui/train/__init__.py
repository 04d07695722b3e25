"""The Train panel: the bundled runner, run from the app in a child process (issue 16).

``install(window)`` docks it ("Train") beside the Project panel, so the canvas keeps most of the
window, and returns the ``TrainPanel`` (builder/gui/train/panel.py says what it offers to the
parts that show a run).
"""

from __future__ import annotations

from PySide6.QtWidgets import QMainWindow

from builder.gui.train.panel import TrainPanel

__all__ = ["TrainPanel", "install"]


def install(window: QMainWindow) -> TrainPanel:
    """Dock a Train panel on ``window`` (a MainWindow with its panels installed)."""
    kept_source = window.files.kept_source
    panel = TrainPanel(
        window.doc, window.controller, review_kept_source=lambda: kept_source.offer_review("train")
    )
    dock = window.add_dock("train", "Train", panel, _area(window))
    window.tabifyDockWidget(window.docks["notes"], dock)
    dock.visibilityChanged.connect(panel.set_in_front)
    window.docks["inspector"].raise_()
    return panel


def _area(window: QMainWindow):
    return window.dockWidgetArea(window.docks["notes"])
