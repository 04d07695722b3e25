"""The layer palette: searchable, grouped by family (the quick-add popup is quick_add.py).

Both only say which layer type the user chose; the window asks the controller to add it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLineEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from builder.gui.icons import family_icon
from builder.gui.project_document import ProjectDocument
from builder.gui.view import layer_mime
from graph_schema.catalog import FAMILIES, all_specs
from graph_schema.document import block_type
from graph_schema.suggest import (
    NOTHING,
    Wanted,
    match_rank,
    matches,
    ranked,
    short_label,
)

__all__ = ["Palette", "catalog_entries", "match_rank", "matches",
           "ranked_entries", "short_label"]

TYPE_ROLE = Qt.ItemDataRole.UserRole


def catalog_entries(doc: ProjectDocument) -> list[tuple[str, str, str]]:
    """(family, type, description) of every layer a user can place, blocks included."""
    entries = [(s.family, s.type, s.description) for s in all_specs()]
    entries += [("block", block_type(b.name), b.notes or f"Reusable block {b.name}")
                for b in doc.project.blocks]
    return entries


def ranked_entries(doc: ProjectDocument, query: str,
                   wanted: Wanted = NOTHING) -> list[tuple[str, str, str]]:
    """Layers matching ``query``, best first (graph_schema.suggest: what was typed, what
    fits the tensor ``wanted`` describes, what is common)."""
    return ranked(catalog_entries(doc), query, wanted, doc.project)


class LayerTree(QTreeWidget):
    """Families as top-level rows, layer types under them; rows drag onto the canvas."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setHeaderHidden(True)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setUniformRowHeights(True)

    def mimeData(self, items):  # noqa: N802
        types = [i.data(0, TYPE_ROLE) for i in items if i.data(0, TYPE_ROLE)]
        return layer_mime(types[0]) if types else None

    def mimeTypes(self):  # noqa: N802
        return ["application/x-torchcanvas-layer"]


class Palette(QWidget):
    layer_chosen = Signal(str)  # double-click or Enter: add this type (after the selection)

    def __init__(self, doc: ProjectDocument, parent=None):
        super().__init__(parent)
        self.doc = doc
        self.search = QLineEdit(placeholderText="Search layers (e.g. conv, norm, attention)")
        self.search.setClearButtonEnabled(True)
        self.tree = LayerTree()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.search)
        layout.addWidget(self.tree)
        self.search.textChanged.connect(self._on_search_text_changed)
        self.search.returnPressed.connect(self._on_search_return_pressed)
        self.tree.itemActivated.connect(self._on_tree_item_activated)
        for signal in (doc.graph_added, doc.graph_removed, doc.graph_renamed,
                       doc.project_replaced):
            signal.connect(self.rebuild)
        self.rebuild()

    def rebuild(self, *_args) -> None:
        self.tree.clear()
        groups: dict[str, QTreeWidgetItem] = {}
        for family, type_name, description in catalog_entries(self.doc):
            group = groups.get(family)
            if group is None:
                group = QTreeWidgetItem([FAMILIES.get(family, family)])
                group.setIcon(0, family_icon(family))
                group.setFlags(Qt.ItemFlag.ItemIsEnabled)
                groups[family] = group
            item = QTreeWidgetItem([short_label(type_name)])
            item.setData(0, TYPE_ROLE, type_name)
            item.setToolTip(0, f"{type_name}\n{description}")
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                          | Qt.ItemFlag.ItemIsDragEnabled)
            group.addChild(item)
        ordered = [groups[f] for f in FAMILIES if f in groups]
        self.tree.addTopLevelItems(ordered)
        self._on_search_text_changed(self.search.text())

    def _on_search_text_changed(self, text: str) -> None:
        for index in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(index)
            shown = 0
            for child_index in range(group.childCount()):
                child = group.child(child_index)
                hit = matches(text, child.data(0, TYPE_ROLE), child.toolTip(0))
                child.setHidden(not hit)
                shown += hit
            group.setHidden(shown == 0)
            group.setExpanded(bool(text.strip()) and shown > 0)

    def _on_search_return_pressed(self) -> None:
        best = self.best_type()
        if best:
            self.layer_chosen.emit(best)

    def best_type(self) -> str | None:
        """What Enter in the search box adds: the best match of the search text."""
        ranked = ranked_entries(self.doc, self.search.text())
        return ranked[0][1] if ranked else None

    def _on_tree_item_activated(self, item: QTreeWidgetItem, _column: int) -> None:
        type_name = item.data(0, TYPE_ROLE)
        if type_name:
            self.layer_chosen.emit(type_name)
