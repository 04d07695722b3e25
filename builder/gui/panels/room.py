"""Room for the canvas: docks that give way when they have nothing to say.

- The diagnostics-and-summary dock shrinks to one line ("✓ No problems") while its
  Diagnostics tab is in front and the project has no problem; it opens again, to the height
  it had, when a problem appears or the Summary tab is chosen.
- Selecting a node brings the Inspector forward when the Code or Project panel, tabbed with
  it, is in front: the user asked about that node. A closed Inspector stays closed.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow, QTabWidget

from builder.gui.graph_tabs import GraphTabs
from builder.gui.panels.diagnostics_panel import DiagnosticsPanel

UNLIMITED = 16777215  # QWIDGETSIZE_MAX


class CollapsingChecks(QObject):
    def __init__(self, window: QMainWindow, dock: QDockWidget, tabs: QTabWidget,
                 diagnostics: DiagnosticsPanel, open_height: int):
        super().__init__(dock)
        self.window, self.dock, self.tabs, self.diagnostics = window, dock, tabs, diagnostics
        self.collapsed = False
        self.open_height = open_height  # the height it opens to (the last it had, open)
        diagnostics.counts_changed.connect(self._on_diagnostics_counts_changed)
        tabs.currentChanged.connect(self._on_tabs_current_changed)
        dock.topLevelChanged.connect(self._on_dock_top_level_changed)
        self.update()

    def one_line_height(self) -> int:
        """The tab bar and one line of text."""
        return (self.tabs.tabBar().sizeHint().height()
                + self.diagnostics.empty.sizeHint().height() + 6)

    def should_collapse(self) -> bool:
        return (not self.dock.isFloating() and not self.diagnostics.diagnostics
                and self.tabs.currentWidget() is self.diagnostics)

    def update(self) -> None:
        if self.should_collapse() == self.collapsed:
            return
        content = self.dock.widget()
        if not self.collapsed:
            if self.dock.isVisible() and self.dock.height() > 2 * self.one_line_height():
                self.open_height = self.dock.height()  # the user's choice, kept
            content.setMaximumHeight(self.one_line_height())
            self.collapsed = True
            return
        content.setMaximumHeight(UNLIMITED)
        self.collapsed = False
        if self.open_height > self.dock.height():
            self.window.resizeDocks([self.dock], [self.open_height], Qt.Orientation.Vertical)

    def _on_diagnostics_counts_changed(self, *_counts) -> None:
        self.update()

    def _on_tabs_current_changed(self, _index: int) -> None:
        self.update()

    def _on_dock_top_level_changed(self, _floating: bool) -> None:
        self.update()


class InspectorForward(QObject):
    """Raise the Inspector's tab when the selection changes to some nodes while one of its
    tab mates is in front."""

    def __init__(self, tabs: GraphTabs, inspector: QDockWidget):
        super().__init__(inspector)
        self.inspector = inspector
        self.in_front = True
        inspector.visibilityChanged.connect(self._on_inspector_visibility_changed)
        tabs.selection_changed.connect(self._on_tabs_selection_changed)

    def _on_inspector_visibility_changed(self, visible: bool) -> None:
        self.in_front = visible

    def _on_tabs_selection_changed(self, _key, node_ids) -> None:
        closed = not self.inspector.toggleViewAction().isChecked()
        if node_ids and not closed and not self.in_front:
            self.inspector.raise_()
