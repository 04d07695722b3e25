"""The inspector and the information panels around the canvas.

``install(window, review_kept_source)`` builds them and docks them: the inspector, the
generated code and the project notes share the right side (tabbed); diagnostics and the layer
summary share the bottom. Every panel listens to the document and edits only through the controller.
The docks start narrow, so the canvas has most of the window, and give way when they have
nothing to say (builder/gui/panels/room.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMainWindow, QTabWidget

from builder.gui.panels.code_panel import CodePanel
from builder.gui.panels.common import problem_count_text, scrolling
from builder.gui.panels.diagnostics_panel import DiagnosticsPanel
from builder.gui.panels.inspector import Inspector
from builder.gui.panels.notes_panel import NotesPanel
from builder.gui.panels.room import CollapsingChecks, InspectorForward
from builder.gui.panels.summary_panel import SummaryPanel

RIGHT = Qt.DockWidgetArea.RightDockWidgetArea
BOTTOM = Qt.DockWidgetArea.BottomDockWidgetArea
# Starting sizes (pixels): at 1600 x 1000 the canvas gets about two thirds of the width.
PALETTE_WIDTH, RIGHT_WIDTH, BOTTOM_HEIGHT = 200, 330, 170


@dataclass
class Panels:
    inspector: Inspector
    diagnostics: DiagnosticsPanel
    code: CodePanel
    summary: SummaryPanel
    notes: NotesPanel
    checks_room: CollapsingChecks | None = None
    inspector_forward: InspectorForward | None = None


def install(window: QMainWindow, review_kept_source: Callable[[str], object]) -> Panels:
    """Create the panels on ``window``'s document and dock them there (``window.add_dock``).
    A diagnostic's "Review…" button calls ``review_kept_source(block_name)``."""
    doc, controller, tabs = window.doc, window.controller, window.tabs
    panels = Panels(
        inspector=Inspector(doc, controller, tabs),
        diagnostics=DiagnosticsPanel(doc, controller, tabs),
        code=CodePanel(doc),
        summary=SummaryPanel(doc, tabs),
        notes=NotesPanel(doc, controller),
    )
    inspector = window.add_dock("inspector", "Inspector", panels.inspector, RIGHT)
    code = window.add_dock("code", "Code", panels.code, RIGHT)
    notes = window.add_dock("notes", "Project", scrolling(panels.notes), RIGHT)
    window.tabifyDockWidget(inspector, code)
    window.tabifyDockWidget(code, notes)
    # Diagnostics and summary share one dock with tabs of its own, not two tabified docks:
    # Qt 6.10.3 and 6.11 leave a stale second tab bar on screen when a main window has two
    # groups of tabified docks.
    checks = QTabWidget()
    checks.setDocumentMode(True)
    checks.addTab(panels.diagnostics, "Diagnostics")
    checks.addTab(panels.summary, "Summary")
    bottom = window.add_dock("checks", "Diagnostics and summary", checks, BOTTOM)
    _title_with_counts(checks, panels.diagnostics)
    panels.diagnostics.review_requested.connect(review_kept_source)
    panels.inspector.edit_committed.connect(lambda: _focus_canvas(tabs))
    code.visibilityChanged.connect(panels.code.lazy.set_in_front)

    def summary_in_front(*_args) -> None:
        panels.summary.lazy.set_in_front(
            checks.currentWidget() is panels.summary and not bottom.isHidden())

    checks.currentChanged.connect(summary_in_front)
    bottom.visibilityChanged.connect(summary_in_front)
    inspector.raise_()
    _give_canvas_room(window, inspector, bottom)
    panels.checks_room = CollapsingChecks(window, bottom, checks, panels.diagnostics,
                                          BOTTOM_HEIGHT)
    panels.inspector_forward = InspectorForward(tabs, inspector)
    return panels


def _focus_canvas(tabs) -> None:
    """After Enter in the inspector the keys go back to the canvas (Tab adds a layer)."""
    view = tabs.current_view()
    if view is not None:
        view.setFocus(Qt.FocusReason.OtherFocusReason)


def _give_canvas_room(window: QMainWindow, inspector, bottom) -> None:
    """Narrow side docks (the window docked the palette before the panels)."""
    window.resizeDocks([window.docks["palette"], inspector], [PALETTE_WIDTH, RIGHT_WIDTH],
                       Qt.Orientation.Horizontal)
    window.resizeDocks([bottom], [BOTTOM_HEIGHT], Qt.Orientation.Vertical)



def _title_with_counts(tabs: QTabWidget, panel: DiagnosticsPanel) -> None:
    """"Diagnostics (2 errors)": the count shows even while the Summary tab is in front."""
    def retitle(errors: int, warnings: int) -> None:
        counts = problem_count_text(errors, warnings)
        tabs.setTabText(tabs.indexOf(panel), "Diagnostics" if not (errors or warnings)
                        else f"Diagnostics ({counts})")

    panel.counts_changed.connect(retitle)
    errors = sum(d.is_error for d in panel.diagnostics)
    retitle(errors, len(panel.diagnostics) - errors)
