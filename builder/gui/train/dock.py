"""Docking the Train panel on a window, with the tabs that show its runs and checks.

``install(window)`` docks it ("Train") beside the Project panel, so the canvas keeps most of the
window, and returns the ``TrainPanel`` (builder/gui/train/panel.py says what it offers to the
parts that show a run; run_views.py is those parts).
"""

from __future__ import annotations

from PySide6.QtWidgets import QMainWindow

from builder.gui.train.panel import TrainPanel
from builder.gui.train.run_views import RunViews

__all__ = ["install"]


def install(window: QMainWindow) -> TrainPanel:
    """Dock a Train panel on ``window`` (a MainWindow with its panels installed)."""
    kept_source = window.files.kept_source
    panel = TrainPanel(
        window.doc, window.controller, review_kept_source=lambda: kept_source.offer_review("train")
    )
    panel.run_views = RunViews(panel, window.tabs.focus_node, window.init_badges,
                               lambda text: window.statusBar().showMessage(text, 8000))
    panel.shutting_down.connect(panel.run_views.shut_down)
    dock = window.add_dock("train", "Train", panel, _area(window))
    window.tabifyDockWidget(window.docks["notes"], dock)
    dock.visibilityChanged.connect(panel.set_in_front)
    dock.visibilityChanged.connect(lambda shown: shown and panel.run_views.show_runs_folder())
    window.docks["inspector"].raise_()
    return panel


def _area(window: QMainWindow):
    return window.dockWidgetArea(window.docks["notes"])
