"""The layer palette (searchable, grouped by family) and the quick-add popup (Tab).

Both only say which layer type the user chose; the window asks the controller to add it.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from builder.gui.icons import family_icon
from builder.gui.project_document import ProjectDocument
from builder.gui.view import layer_mime
from graph_schema.catalog import FAMILIES, all_specs
from graph_schema.document import block_name_of, block_type

TYPE_ROLE = Qt.ItemDataRole.UserRole


def catalog_entries(doc: ProjectDocument) -> list[tuple[str, str, str]]:
    """(family, type, description) of every layer a user can place, blocks included."""
    entries = [(s.family, s.type, s.description) for s in all_specs()]
    entries += [("block", block_type(b.name), b.notes or f"Reusable block {b.name}")
                for b in doc.project.blocks]
    return entries


def matches(query: str, type_name: str, description: str) -> bool:
    """Every word of the query appears in the type or its description (case-insensitive)."""
    haystack = f"{type_name} {description}".lower()
    return all(word in haystack for word in query.lower().split())


def match_rank(query: str, type_name: str, description: str) -> tuple[int, int, str] | None:
    """How well a layer matches what was typed (lower is better), or None for no match.

    The layer's own name counts before its description: "tanh" is nn.Tanh before nn.GELU
    (whose description mentions its tanh approximation), and "conv" finds Conv2d before
    ConvTranspose2d.
    """
    if not matches(query, type_name, description):
        return None
    words = query.lower().split()
    name = short_label(type_name).lower()
    if not words:
        return (3, len(name), type_name)
    if name == "".join(words):
        tier = 0
    elif name.startswith(words[0]):
        tier = 1
    elif all(word in type_name.lower() for word in words):
        tier = 2
    else:
        tier = 3
    return (tier, len(name), type_name)


def ranked_entries(doc: ProjectDocument, query: str) -> list[tuple[str, str, str]]:
    """Layers matching ``query``, best first."""
    scored = [(match_rank(query, t, d), (f, t, d)) for f, t, d in catalog_entries(doc)]
    return [entry for rank, entry in sorted((s for s in scored if s[0] is not None),
                                             key=lambda s: s[0])]


def short_label(type_name: str) -> str:
    return block_name_of(type_name) or type_name.split(".", 1)[-1]


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
    layer_chosen = Signal(str)  # double-click or Enter: add this type at the view centre

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


class QuickAdd(QFrame):
    """A popup at the cursor: type a few letters, Enter adds the highlighted layer."""

    chosen = Signal(str)

    def __init__(self, doc: ProjectDocument, parent=None):
        super().__init__(parent, Qt.WindowType.Popup)
        self.doc = doc
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.edit = QLineEdit(placeholderText="Add layer…")
        self.list = QListWidget()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.edit)
        layout.addWidget(self.list)
        self.resize(320, 300)
        self.edit.textChanged.connect(self._on_edit_text_changed)
        self.edit.installEventFilter(self)
        self.list.itemActivated.connect(self._on_list_item_activated)

    def popup(self, global_pos: QPoint) -> None:
        self.edit.clear()
        self._on_edit_text_changed("")
        self.move(global_pos)
        self.show()
        self.edit.setFocus()

    def _on_edit_text_changed(self, text: str) -> None:
        self.list.clear()
        for family, type_name, description in ranked_entries(self.doc, text):
            item = QListWidgetItem(family_icon(family), type_name)
            item.setData(TYPE_ROLE, type_name)
            item.setToolTip(description)
            self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802
        if obj is self.edit and isinstance(event, QKeyEvent) and \
                event.type() == QKeyEvent.Type.KeyPress:
            if event.key() in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                step = 1 if event.key() == Qt.Key.Key_Down else -1
                row = max(0, min(self.list.count() - 1, self.list.currentRow() + step))
                self.list.setCurrentRow(row)
                return True
            if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                item = self.list.currentItem()
                if item is not None:
                    self._on_list_item_activated(item)
                return True
        return super().eventFilter(obj, event)

    def _on_list_item_activated(self, item: QListWidgetItem) -> None:
        self.hide()
        self.chosen.emit(item.data(TYPE_ROLE))
