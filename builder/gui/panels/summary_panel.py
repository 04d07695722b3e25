"""The layer summary of the current network: output shape, parameters and MACs per layer.

The rows come from ``graph_schema.summary.summarize`` (what ``torchcanvas summary`` prints):
the layers inside a block sit under the block's row. Refreshed, debounced, after edits and
when the current tab changes, while the panel is shown. Double-clicking a row (or Enter)
selects and centres its layer on the canvas, in the block's tab for a layer inside a block.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from builder.gui.graph_tabs import GraphTabs
from builder.gui.panels.common import LazyRefresh, on_any_edit
from builder.gui.project_document import GraphKey, ProjectDocument
from graph_schema.dims import Dim, format_shape
from graph_schema.document import block_name_of
from graph_schema.summary import Summary, summarize, unknown_macs_note

COLUMNS = ("Layer", "Type", "Output shape", "Params", "MACs")
LAYER, TYPE, SHAPE, PARAMS, MACS = range(len(COLUMNS))
DEBOUNCE_MS = 200


def count_text(value: Dim | None) -> str:
    if value is None:
        return "?"
    return f"{value:,}" if isinstance(value, int) else str(value)


def totals_text(summary: Summary) -> str:
    params = summary.total_params
    text = (f"Total params: {params:,}    Params size (float32): {params * 4 / 2**20:.2f} MB"
            f"    MACs per sample: {count_text(summary.total_macs)}"
            f"{unknown_macs_note(summary)}")
    if not summary.complete:
        text += "    (incomplete: some layers have errors)"
    return text


class SummaryPanel(QWidget):
    def __init__(self, doc: ProjectDocument, tabs: GraphTabs, parent: QWidget | None = None):
        super().__init__(parent)
        self.doc, self.tabs = doc, tabs
        self.summary: Summary | None = None
        self._targets: list[tuple[GraphKey | None, str | None]] = []  # per row: its node
        self.title = QLabel()
        self.title.setStyleSheet("font-weight: bold;")
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        header = self.tree.header()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(False)
        self.totals = QLabel()
        self.totals.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.title)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.totals)
        self.lazy = LazyRefresh(self, DEBOUNCE_MS, self.refresh)
        on_any_edit(doc, self.lazy.changed)
        tabs.current_graph_changed.connect(self.lazy.changed)
        self.tree.itemActivated.connect(self._on_tree_item_activated)

    def current_key(self) -> GraphKey | None:
        key = self.tabs.current_key()
        if key is None or not self.doc.has_graph(key):
            keys = self.doc.graph_keys()
            key = keys[0] if keys else None
        return key

    def refresh(self) -> None:
        key = self.current_key()
        self.tree.clear()
        if key is None:
            self.summary = None
            return
        graph = self.doc.graph(key)
        self.summary = summarize(self.doc.project, graph, self.doc.analysis(key).inference)
        kind = "Network" if key[0] == "network" else "Block"
        self.title.setText(f"{kind} '{graph.name}'")
        self._fill(self.summary, key)
        self.totals.setText(totals_text(self.summary))

    def _fill(self, summary: Summary, key: GraphKey) -> None:
        parents: list[QTreeWidgetItem] = []
        self._targets = []
        graphs: list[GraphKey | None] = [key]  # the graph each depth's rows are layers of
        for row in summary.rows:
            del parents[row.depth:]
            del graphs[row.depth + 1:]
            shapes = ", ".join(format_shape(s) for s in row.outputs) or "?"
            item = QTreeWidgetItem([row.name, row.type, shapes, count_text(row.params),
                                    count_text(row.macs)])
            for column in (PARAMS, MACS):
                item.setTextAlignment(column, Qt.AlignmentFlag.AlignRight
                                      | Qt.AlignmentFlag.AlignVCenter)
            graph = graphs[row.depth]
            item.setData(LAYER, Qt.ItemDataRole.UserRole, len(self._targets))
            self._targets.append((graph, self._node_id(graph, row.name)))
            block = block_name_of(row.type)
            graphs.append(("block", block) if block is not None else None)
            if parents:
                parents[-1].addChild(item)
            else:
                self.tree.addTopLevelItem(item)
            parents.append(item)
        self.tree.setRootIsDecorated(any(row.depth for row in summary.rows))
        self.tree.expandAll()

    def _node_id(self, key: GraphKey | None, name: str) -> str | None:
        if key is None or not self.doc.has_graph(key):
            return None
        return next((n.id for n in self.doc.graph(key).nodes if n.name == name), None)

    # -- jumping to the canvas -------------------------------------------------------------
    def node_of(self, item: QTreeWidgetItem) -> tuple[GraphKey | None, str | None]:
        """The graph and node id a row stands for (None for one not on any canvas)."""
        index = item.data(LAYER, Qt.ItemDataRole.UserRole)
        return self._targets[index] if isinstance(index, int) else (None, None)

    def _on_tree_item_activated(self, item: QTreeWidgetItem, _column: int) -> None:
        key, node_id = self.node_of(item)
        if key is not None and node_id is not None:
            self.tabs.focus_node(key, node_id)
