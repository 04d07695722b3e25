"""Every problem in the project, errors first: click a row to see the node, apply its fix.

A row names the graph, the node and the input, says what is wrong and offers the fix when
there is one (a button in the row, and the row's context menu).
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QMenu,
    QStackedWidget,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from builder.gui.controller import EditController
from builder.gui.fixes import apply_fix
from builder.gui.graph_tabs import GraphTabs
from builder.gui.panels.common import graph_key_of, problem_count_text, severity_icon
from builder.gui.panels.problem_list import fix_button_text
from builder.gui.project_document import ProjectDocument
from graph_schema.diagnostics import Diagnostic

COLUMNS = ("", "Graph", "Node", "Input", "Problem", "Fix")
SEVERITY, GRAPH, NODE, INPUT, MESSAGE, FIX = range(len(COLUMNS))
NO_PROBLEMS = "✓  No problems: every layer is connected and every shape fits."
UNTRUSTED = "untrusted-source"  # its remedy is reading the source, not an automatic fix
REVIEW_TEXT = "Review Kept Source…"


class DiagnosticsPanel(QWidget):
    counts_changed = Signal(int, int)  # errors, warnings
    review_requested = Signal(str)  # the block whose untrusted kept source to review

    def __init__(self, doc: ProjectDocument, controller: EditController, tabs: GraphTabs,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.doc, self.controller, self.tabs = doc, controller, tabs
        self.diagnostics: list[Diagnostic] = []
        self.tree = QTreeWidget()
        self.tree.setColumnCount(len(COLUMNS))
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header = self.tree.header()
        header.setStretchLastSection(False)
        for column in (SEVERITY, GRAPH, NODE, INPUT):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(MESSAGE, QHeaderView.ResizeMode.Stretch)
        self.empty = QLabel(NO_PROBLEMS)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setStyleSheet("color: #2e8540; font-size: 11pt;")
        self.pages = QStackedWidget()
        self.pages.addWidget(self.empty)
        self.pages.addWidget(self.tree)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.pages)
        self.tree.itemClicked.connect(self._on_tree_item_clicked)
        self.tree.itemActivated.connect(self._on_tree_item_clicked)
        self.tree.customContextMenuRequested.connect(self._on_tree_context_menu_requested)
        for signal in (doc.diagnostics_changed, doc.graph_added, doc.graph_removed,
                       doc.graph_renamed, doc.project_replaced):
            signal.connect(self.refresh)
        self.refresh()

    # -- showing ---------------------------------------------------------------------------
    def refresh(self, *_args) -> None:
        found = sorted(self.doc.diagnostics(), key=lambda d: not d.is_error)  # stable: errors first
        if found == self.diagnostics and self.tree.topLevelItemCount() == len(found):
            return
        self.diagnostics = found
        self.tree.clear()
        # The fix column sizes to its items' text; a button needs its own width and a margin.
        # Asked once for all rows: the header measures every row each time it is asked.
        wanted = max((self._add_row(index, d) for index, d in enumerate(found)), default=0)
        if wanted and self.tree.columnWidth(FIX) < wanted:
            self.tree.setColumnWidth(FIX, wanted)
        self.pages.setCurrentWidget(self.tree if found else self.empty)
        errors = sum(d.is_error for d in found)
        self.counts_changed.emit(errors, len(found) - errors)

    def _add_row(self, index: int, diagnostic: Diagnostic) -> int:
        """Add the row; the width its fix button needs (0: it has none)."""
        item = QTreeWidgetItem()
        item.setIcon(SEVERITY, severity_icon(diagnostic.severity))
        item.setToolTip(SEVERITY, diagnostic.severity)
        item.setText(GRAPH, diagnostic.network if diagnostic.scope == "network"
                     else f"▣ {diagnostic.network}")
        item.setText(NODE, diagnostic.node_name or "")
        item.setToolTip(NODE, diagnostic.node_type)
        item.setText(INPUT, str(diagnostic.port) if diagnostic.port is not None else "")
        item.setText(MESSAGE, diagnostic.message)
        item.setToolTip(MESSAGE, diagnostic.format())
        item.setData(SEVERITY, Qt.ItemDataRole.UserRole, index)
        self.tree.addTopLevelItem(item)
        button = None
        if diagnostic.fix is not None:
            button = QToolButton(text=fix_button_text(diagnostic))
            button.setToolTip("Apply this fix (one undo step)")
            button.clicked.connect(lambda _=False, d=diagnostic: self.apply(d))
        elif diagnostic.code == UNTRUSTED:
            button = QToolButton(text=REVIEW_TEXT)
            button.setToolTip("Read the kept source, then trust it (one undo step)")
            button.clicked.connect(
                lambda _=False, d=diagnostic: self.review_requested.emit(d.network))
        if button is None:
            return 0
        self.tree.setItemWidget(item, FIX, button)
        return button.sizeHint().width() + 12

    def summary_text(self) -> str:
        errors = sum(d.is_error for d in self.diagnostics)
        return problem_count_text(errors, len(self.diagnostics) - errors)

    # -- acting ----------------------------------------------------------------------------
    def diagnostic_at(self, item: QTreeWidgetItem | None) -> Diagnostic | None:
        if item is None:
            return None
        return self.diagnostics[item.data(SEVERITY, Qt.ItemDataRole.UserRole)]

    def focus(self, diagnostic: Diagnostic) -> None:
        """Open the diagnostic's graph and select and centre its node."""
        key = graph_key_of(diagnostic)
        if diagnostic.node_id is not None:
            self.tabs.focus_node(key, diagnostic.node_id)
        elif self.doc.has_graph(key):
            self.tabs.open_graph(key)

    def apply(self, diagnostic: Diagnostic) -> bool:
        return apply_fix(self.controller, graph_key_of(diagnostic), diagnostic)

    def _on_tree_item_clicked(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        diagnostic = self.diagnostic_at(item)
        if diagnostic is not None:
            self.focus(diagnostic)

    def _on_tree_context_menu_requested(self, point: QPoint) -> None:
        diagnostic = self.diagnostic_at(self.tree.itemAt(point))
        if diagnostic is None:
            return
        menu = QMenu(self)
        menu.addAction("Show on Canvas", lambda: self.focus(diagnostic))
        if diagnostic.fix is not None:
            menu.addAction(fix_button_text(diagnostic), lambda: self.apply(diagnostic))
        if diagnostic.code == UNTRUSTED:
            menu.addAction(REVIEW_TEXT, lambda: self.review_requested.emit(diagnostic.network))
        menu.addAction("Copy Message",
                       lambda: QGuiApplication.clipboard().setText(diagnostic.format()))
        menu.exec(self.tree.viewport().mapToGlobal(point))
