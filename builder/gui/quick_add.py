"""The quick-add popup (Tab): type a layer, or a whole chain of them, and Enter adds it.

It only says what the user chose; the window asks the controller to add it.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QFrame, QLabel, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout

from builder.gui.icons import family_icon
from builder.gui.palette import TYPE_ROLE, catalog_entries, ranked_entries
from builder.gui.project_document import ProjectDocument
from graph_schema.specs import spec_for
from graph_schema.suggest import NOTHING, Wanted, numbered_params, short_label, split_numbers
from graph_schema.suggest_chain import (
    ChainLink,
    chain_problem,
    describe_chain,
    is_chain,
    resolve_chain,
)

__all__ = ["QuickAdd"]

CHOOSE_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Tab)


class QuickAdd(QFrame):
    """A popup at the cursor: type a few letters, Enter adds the highlighted layer, Esc (or a
    click elsewhere) closes it and adds nothing. ``wanted`` says what the layer will be
    connected to, so the layers that fit come first; ``hint`` says so above the list.

    Numbers after the name set the layer's key parameters (``conv2d 6 5``: out_channels=6,
    kernel_size=5; graph_schema.suggest.split_numbers); ``chosen_params`` holds them when
    ``chosen`` or ``chained`` is emitted. Where the window offers it (``popup(chains=True)``),
    Tab adds the layer and asks for the next one after it: a chain is typed as conv, Tab,
    relu, Tab, pool, Enter.

    A whole chain can also be typed at once, its layers separated by commas or arrows
    (``conv2d 6 5, tanh, avgpool2d 2``; graph_schema.suggest_chain): the list then shows the
    layers it will add, in order, and Enter emits ``chain_chosen`` with them in ``chain``
    (Tab: the same, then the next one after the last)."""

    chosen = Signal(str)
    chained = Signal(str)  # Tab: add this one, then offer the next after it
    chain_chosen = Signal(bool)  # a typed chain, in ``chain``; True: go on after it
    dismissed = Signal()  # closed without a choice

    def __init__(self, doc: ProjectDocument, parent=None):
        super().__init__(parent, Qt.WindowType.Popup)
        self.doc = doc
        self.wanted = NOTHING
        self.chains = False
        self.numbers: list[int | float] = []
        self.chosen_params: dict = {}
        self.chain: list[ChainLink] = []  # the typed chain, when the text is one
        self._choosing = False
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.hint = QLabel()
        self.hint.setVisible(False)
        self.edit = QLineEdit(placeholderText="Add layer…")
        self.preview = QLabel()  # what the typed numbers set, or why they cannot
        self.preview.setVisible(False)
        self.preview.setWordWrap(True)
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
        self.edit.setPlaceholderText("Add layer… (Tab adds it and goes on; a, b, c adds a "
                                     "chain)" if chains else "Add layer…")
        self.hint.setText(hint)
        self.hint.setVisible(bool(hint))
        self.edit.clear()
        self._on_edit_text_changed("")
        self.move(global_pos)
        self.show()
        self.edit.setFocus()

    def _on_edit_text_changed(self, text: str) -> None:
        self.list.clear()
        if is_chain(text):
            self._show_chain(text)
            return
        self.chain = []
        query, self.numbers = split_numbers(text)
        for family, type_name, description in ranked_entries(self.doc, query, self.wanted):
            item = QListWidgetItem(family_icon(family), type_name)
            item.setData(TYPE_ROLE, type_name)
            item.setToolTip(description)
            self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)
        self._on_list_current_item_changed(self.list.currentItem())

    def _show_chain(self, text: str) -> None:
        """The layers a typed chain adds, one row each, and either the chain in short or the
        first piece that names no layer."""
        self.numbers = []
        self.chain = resolve_chain(catalog_entries(self.doc), text, self.wanted,
                                   self.doc.project)
        for link in self.chain:
            spec = spec_for(link.type_name, self.doc.project) if link.type_name else None
            label = short_label(link.type_name) if link.type_name else link.typed
            item = QListWidgetItem(family_icon(spec.family if spec else "block"), label)
            item.setData(TYPE_ROLE, link.type_name)
            self.list.addItem(item)
        problem = chain_problem(self.chain)
        count = f"{len(self.chain)} layer{'s' if len(self.chain) != 1 else ''}"
        self.preview.setText(f"⚠ {problem}" if problem else
                             f"{count}: {describe_chain(self.chain)}")
        self.preview.setVisible(True)

    def params_for(self, type_name: str) -> dict:
        """The parameters the typed numbers give a layer of ``type_name`` (ValueError: why
        they cannot)."""
        return numbered_params(spec_for(type_name, self.doc.project), self.numbers)

    def _on_list_current_item_changed(self, item: QListWidgetItem | None, *_args) -> None:
        if self.chain:
            return  # the preview describes the whole chain
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
            if event.key() in CHOOSE_KEYS:
                go_on = self.chains and event.key() == Qt.Key.Key_Tab
                if self.chain:
                    self._choose_chain(go_on)
                elif self.list.currentItem() is not None:
                    self._choose(self.list.currentItem(), go_on)
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
        if self.chain:
            self._choose_chain(go_on=False)
        else:
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

    def _choose_chain(self, go_on: bool) -> None:
        if chain_problem(self.chain):
            return  # the preview says which piece; the user fixes it
        self._choosing = False
        self.hide()
        self.chain_chosen.emit(go_on)
