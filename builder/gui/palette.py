"""The layer palette (searchable, grouped by family) and the quick-add popup (Tab).

Both only say which layer type the user chose; the window asks the controller to add it.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QLabel,
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
from graph_schema.document import block_type
from graph_schema.specs import spec_for
from graph_schema.suggest import (
    NOTHING,
    Wanted,
    match_rank,
    matches,
    numbered_params,
    ranked,
    short_label,
    split_numbers,
)

__all__ = ["Palette", "QuickAdd", "catalog_entries", "match_rank", "matches",
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


class QuickAdd(QFrame):
    """A popup at the cursor: type a few letters, Enter adds the highlighted layer, Esc (or a
    click elsewhere) closes it and adds nothing. ``wanted`` says what the layer will be
    connected to, so the layers that fit come first; ``hint`` says so above the list.

    Numbers after the name set the layer's key parameters (``conv2d 6 5``: out_channels=6,
    kernel_size=5; graph_schema.suggest.split_numbers); ``chosen_params`` holds them when
    ``chosen`` or ``chained`` is emitted. Where the window offers it (``popup(chains=True)``),
    Tab adds the layer and asks for the next one after it: a chain is typed as conv, Tab,
    relu, Tab, pool, Enter."""

    chosen = Signal(str)
    chained = Signal(str)  # Tab: add this one, then offer the next after it
    dismissed = Signal()  # closed without a choice

    def __init__(self, doc: ProjectDocument, parent=None):
        super().__init__(parent, Qt.WindowType.Popup)
        self.doc = doc
        self.wanted = NOTHING
        self.chains = False
        self.numbers: list[int | float] = []
        self.chosen_params: dict = {}
        self._choosing = False
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.hint = QLabel()
        self.hint.setVisible(False)
        self.edit = QLineEdit(placeholderText="Add layer…")
        self.preview = QLabel()  # what the typed numbers set, or why they cannot
        self.preview.setVisible(False)
        self.list = QListWidget()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.hint)
        layout.addWidget(self.edit)
        layout.addWidget(self.preview)
        layout.addWidget(self.list)
        self.resize(320, 300)
        self.edit.textChanged.connect(self._on_edit_text_changed)
        self.edit.installEventFilter(self)
        self.list.itemActivated.connect(self._on_list_item_activated)
        self.list.currentItemChanged.connect(self._on_list_current_item_changed)

    def popup(self, global_pos: QPoint, wanted: Wanted = NOTHING, hint: str = "",
              chains: bool = False) -> None:
        self.wanted = wanted
        self.chains = chains
        self._choosing = True
        self.edit.setPlaceholderText("Add layer… (Tab adds it and goes on)" if chains
                                     else "Add layer…")
        self.hint.setText(hint)
        self.hint.setVisible(bool(hint))
        self.edit.clear()
        self._on_edit_text_changed("")
        self.move(global_pos)
        self.show()
        self.edit.setFocus()

    def _on_edit_text_changed(self, text: str) -> None:
        query, self.numbers = split_numbers(text)
        self.list.clear()
        for family, type_name, description in ranked_entries(self.doc, query, self.wanted):
            item = QListWidgetItem(family_icon(family), type_name)
            item.setData(TYPE_ROLE, type_name)
            item.setToolTip(description)
            self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)
        self._on_list_current_item_changed(self.list.currentItem())

    def params_for(self, type_name: str) -> dict:
        """The parameters the typed numbers give a layer of ``type_name`` (ValueError: why
        they cannot)."""
        return numbered_params(spec_for(type_name, self.doc.project), self.numbers)

    def _on_list_current_item_changed(self, item: QListWidgetItem | None, *_args) -> None:
        text = ""
        if item is not None and self.numbers:
            try:
                params = self.params_for(item.data(TYPE_ROLE))
                text = ", ".join(f"{name}={value}" for name, value in params.items())
            except ValueError as err:
                text = f"⚠ {err}"
        self.preview.setText(text)
        self.preview.setVisible(bool(text))

    def eventFilter(self, obj, event) -> bool:  # noqa: N802
        if obj is self.edit and isinstance(event, QKeyEvent) and \
                event.type() == QKeyEvent.Type.KeyPress:
            if event.key() in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                step = 1 if event.key() == Qt.Key.Key_Down else -1
                row = max(0, min(self.list.count() - 1, self.list.currentRow() + step))
                self.list.setCurrentRow(row)
                return True
            if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Tab):
                item = self.list.currentItem()
                if item is not None:
                    self._choose(item, go_on=self.chains and event.key() == Qt.Key.Key_Tab)
                return True
            if event.key() == Qt.Key.Key_Escape:
                self.hide()
                return True
        return super().eventFilter(obj, event)

    def hideEvent(self, event) -> None:  # noqa: N802
        super().hideEvent(event)
        if self._choosing:  # Esc, a click elsewhere, or the window hid it: nothing chosen
            self._choosing = False
            self.dismissed.emit()

    def _on_list_item_activated(self, item: QListWidgetItem) -> None:
        self._choose(item, go_on=False)

    def _choose(self, item: QListWidgetItem, go_on: bool) -> None:
        type_name = item.data(TYPE_ROLE)
        try:
            self.chosen_params = self.params_for(type_name)
        except ValueError:
            return  # the preview already says why; the user fixes the numbers
        self._choosing = False
        self.hide()
        (self.chained if go_on else self.chosen).emit(type_name)
