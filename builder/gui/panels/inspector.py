"""The inspector: the selected node of the current canvas, editable.

It follows the canvas selection (``GraphTabs.selection_changed``) and the document's signals.
One selected node gets a ``NodeForm``; several get a count (their fields differ, so nothing is
editable); none gets a hint. Enter in one of its fields ends the edit (``edit_committed``),
and the window hands the keyboard back to the canvas, where Tab adds the next layer.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QScrollArea, QStackedWidget, QVBoxLayout, QWidget

from builder.gui.controller import EditController
from builder.gui.graph_tabs import GraphTabs
from builder.gui.panels.node_form import NodeForm, form_signature
from builder.gui.project_document import GraphKey, ProjectDocument

NOTHING_SELECTED = "Select a layer on the canvas to see and edit it here."


class Inspector(QWidget):
    edit_committed = Signal()  # Enter ended an edit in the form

    def __init__(self, doc: ProjectDocument, controller: EditController, tabs: GraphTabs,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.doc, self.controller, self.tabs = doc, controller, tabs
        self.key: GraphKey | None = None
        self.node_ids: set[str] = set()
        self.form: NodeForm | None = None
        self.message = QLabel(NOTHING_SELECTED)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.message.setEnabled(False)  # drawn in the disabled colour: a hint, not content
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.pages = QStackedWidget()
        self.pages.addWidget(self.message)
        self.pages.addWidget(self.scroll)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.pages)
        self._connect()
        view = tabs.current_view()
        if view is not None:
            self._on_tabs_selection_changed(view.canvas.key, view.canvas.selected_node_ids())

    def _connect(self) -> None:
        self.tabs.selection_changed.connect(self._on_tabs_selection_changed)
        self.tabs.current_graph_changed.connect(self._on_tabs_current_graph_changed)
        doc = self.doc
        doc.node_changed.connect(self._on_doc_node_changed)
        doc.shapes_changed.connect(self._on_doc_shapes_changed)
        doc.diagnostics_changed.connect(self._on_doc_diagnostics_changed)
        doc.node_removed.connect(self._on_doc_node_removed)
        doc.graph_renamed.connect(self._on_doc_graph_renamed)
        doc.graph_removed.connect(self._on_doc_graph_removed)
        doc.graph_added.connect(self._on_doc_graph_added)
        doc.project_replaced.connect(self._on_doc_project_replaced)

    # -- what is shown ---------------------------------------------------------------------
    def show_selection(self, key: GraphKey | None, node_ids: set[str]) -> None:
        if self.form is not None and (key, node_ids) != (self.key, {self.form.node_id}):
            self._flush_form()
        self.key, self.node_ids = key, set(node_ids)
        self._show()

    def _show(self) -> None:
        ids = self._existing_ids()
        if len(ids) == 1:
            self._show_node(next(iter(ids)))
            return
        self._drop_form()
        self.message.setText(NOTHING_SELECTED if not ids else
                             f"{len(ids)} layers selected.\nSelect one layer to edit it.")
        self.pages.setCurrentWidget(self.message)

    def _show_node(self, node_id: str) -> None:
        form = self.form
        if form is None or form.node_id != node_id or form.key != self.key or \
                form.signature != form_signature(self.doc, self.key, node_id):
            self._drop_form()
            self.form = NodeForm(self.doc, self.controller, self.key, node_id)
            self.form.edit_committed.connect(self.edit_committed)
            self.scroll.setWidget(self.form)
        else:
            form.refresh()
        self.pages.setCurrentWidget(self.scroll)

    def _existing_ids(self) -> set[str]:
        if self.key is None or not self.doc.has_graph(self.key):
            return set()
        nodes = self.doc.analysis(self.key).inference.nodes
        return {n for n in self.node_ids if n in nodes}

    def _flush_form(self) -> None:
        form = self.form
        if form is not None and self.doc.has_graph(form.key) and \
                form.node_id in self.doc.analysis(form.key).inference.nodes:
            form.flush()

    def _drop_form(self) -> None:
        if self.form is not None:
            self.scroll.takeWidget()
            self.form.deleteLater()
            self.form = None

    def _concerns(self, key: GraphKey, node_ids=None) -> bool:
        if key != self.key or self.form is None:
            return False
        return node_ids is None or self.form.node_id in node_ids

    # -- signals ---------------------------------------------------------------------------
    def _on_tabs_selection_changed(self, key: GraphKey, node_ids) -> None:
        self.show_selection(key, set(node_ids))

    def _on_tabs_current_graph_changed(self, key: GraphKey | None) -> None:
        view = self.tabs.current_view()
        self.show_selection(key, view.canvas.selected_node_ids() if view is not None else set())

    def _on_doc_node_changed(self, key: GraphKey, node_id: str) -> None:
        if self._concerns(key, {node_id}):
            self._show()

    def _on_doc_shapes_changed(self, key: GraphKey, node_ids) -> None:
        if self._concerns(key, node_ids):
            self._show()

    def _on_doc_diagnostics_changed(self, key: GraphKey) -> None:
        if self._concerns(key):
            self._show()

    def _on_doc_node_removed(self, key: GraphKey, node_id: str) -> None:
        if key == self.key and node_id in self.node_ids:
            self._show()

    def _on_doc_graph_added(self, key: GraphKey) -> None:
        # A block coming back (undo of its removal) gives its placements their spec again.
        if self.form is not None and key[0] == "block":
            self._show()

    def _on_doc_graph_renamed(self, old: GraphKey, new: GraphKey) -> None:
        if self.key == old:
            self.key = new
            if self.form is not None:
                self.form.key = new
        if self.form is not None:
            self._show()  # a renamed block renames the type of its placements

    def _on_doc_graph_removed(self, key: GraphKey) -> None:
        if key == self.key:
            self.show_selection(None, set())

    def _on_doc_project_replaced(self) -> None:
        self._drop_form()
        self.show_selection(None, set())
