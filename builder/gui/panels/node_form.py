"""The inspector's form for one node: name, parameters, weight init, shapes, problems, notes.

The form is built once per node (and again when its type or parameter list changes); after
that ``refresh`` only puts the document's values into the fields, under signal blockers, so a
refresh never commits anything back. Every edit goes through the controller. Enter in a field
ends the edit (``edit_committed``): the window gives the keyboard back to the canvas.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from builder.gui.controller import EditController
from builder.gui.fixes import apply_fix, without_repeated_fixes
from builder.gui.icons import family_icon
from builder.gui.looks import IO_ICONS, type_label
from builder.gui.panels.fields import CheckedField, PausingTextEdit
from builder.gui.panels.inspector_data import name_refusal, param_values, shape_lines
from builder.gui.panels.param_row import ParamRow
from builder.gui.panels.problem_list import ProblemList
from builder.gui.project_document import GraphKey, ProjectDocument
from graph_schema.catalog.counterparts import glyph_family
from graph_schema.catalog.spec import LayerSpec
from graph_schema.document import INIT_SCHEMES
from graph_schema.specs import spec_for


def form_signature(doc: ProjectDocument, key: GraphKey, node_id: str) -> tuple:
    """What the form's layout depends on: when it changes, the form is built anew."""
    node = doc.node(key, node_id)
    spec = spec_for(node.type, doc.project)
    params = tuple(p.name for p in spec.params) if spec is not None else ()
    return (node.type, params, tuple(doc.graph(key).arguments))


def offers_weight_init(spec: LayerSpec | None, init: str) -> bool:
    """Weight init is for layers that hold weights (the catalog counts them) and blocks
    (whose layers may); a choice already made stays visible so it can be undone."""
    if init != "default":
        return True
    return spec is not None and (spec.has_weights or spec.family == "block")


class NodeForm(QWidget):
    edit_committed = Signal()  # Enter ended an edit: the user is done typing here

    def __init__(self, doc: ProjectDocument, controller: EditController, key: GraphKey,
                 node_id: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.doc, self.controller = doc, controller
        self.key, self.node_id = key, node_id
        self.signature = form_signature(doc, key, node_id)
        node = doc.node(key, node_id)
        self.spec: LayerSpec | None = spec_for(node.type, doc.project)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(self._header())
        layout.addWidget(self._identity())
        self.rows: dict[str, ParamRow] = {}
        if self.spec is not None and self.spec.params:
            layout.addWidget(self._parameters())
        layout.addWidget(self._shapes())
        self.problems_box = QGroupBox("Problems")
        self.problems = ProblemList()
        self.problems.fix_requested.connect(self._on_problems_fix_requested)
        QVBoxLayout(self.problems_box).addWidget(self.problems)
        layout.addWidget(self.problems_box)
        layout.addWidget(self._notes())
        layout.addStretch(1)
        self.refresh()

    # -- building --------------------------------------------------------------------------
    def _header(self) -> QHBoxLayout:
        node = self.doc.node(self.key, self.node_id)
        icon = QLabel()
        family = glyph_family(self.spec) if self.spec is not None else "op"
        icon.setPixmap(family_icon(family, 24, IO_ICONS.get(node.type)).pixmap(24, 24))
        self.title = QLabel()
        self.title.setStyleSheet("font-weight: bold; font-size: 11pt;")
        self.description = QLabel(self.spec.description if self.spec is not None
                                  else f"unknown layer type {node.type!r}")
        self.description.setWordWrap(True)
        text = QVBoxLayout()
        text.setSpacing(0)
        text.addWidget(self.title)
        text.addWidget(self.description)
        header = QHBoxLayout()
        header.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        header.addLayout(text, 1)
        return header

    def _identity(self) -> QWidget:
        box = QWidget()
        form = QFormLayout(box)
        form.setContentsMargins(0, 0, 0, 0)
        self.name_field = CheckedField(self._checked_name)
        self.name_field.committed.connect(self._on_name_field_committed)
        self.name_field.entered.connect(self.edit_committed)
        form.addRow("Name", self.name_field)
        self.init_combo = QComboBox()
        self.init_combo.addItems(list(INIT_SCHEMES))
        self.init_combo.setToolTip("How the layer's weights start (default: PyTorch's own)")
        self.init_combo.activated.connect(self._on_init_combo_activated)
        if offers_weight_init(self.spec, self.doc.node(self.key, self.node_id).init):
            form.addRow("Weight init", self.init_combo)
        else:
            self.init_combo.hide()
        return box

    def _parameters(self) -> QGroupBox:
        box = QGroupBox("Parameters")
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        arguments = list(self.doc.graph(self.key).arguments)
        for param in self.spec.params:
            row = ParamRow(param, arguments)
            row.value_committed.connect(self._on_row_value_committed)
            row.entered.connect(self.edit_committed)
            label = QLabel(param.name)
            label.setToolTip(param.doc or param.name)
            form.addRow(label, row)
            self.rows[param.name] = row
        return box

    def _shapes(self) -> QGroupBox:
        box = QGroupBox("Shapes")
        form = QFormLayout(box)
        self.inputs_label = QLabel()
        self.outputs_label = QLabel()
        for label in (self.inputs_label, self.outputs_label):
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setWordWrap(True)
        form.addRow("In", self.inputs_label)
        form.addRow("Out", self.outputs_label)
        return box

    def _notes(self) -> QGroupBox:
        box = QGroupBox("Notes")
        self.notes = PausingTextEdit()
        self.notes.setPlaceholderText("Where this layer comes from, why it is set this way")
        self.notes.setFixedHeight(70)
        self.notes.paused.connect(self._on_notes_paused)
        QVBoxLayout(box).addWidget(self.notes)
        return box

    # -- showing the document --------------------------------------------------------------
    def refresh(self) -> None:
        node = self.doc.node(self.key, self.node_id)
        analysis = self.doc.analysis(self.key)
        state = analysis.inference.states.get(self.node_id)
        self.title.setText(f"{node.name}  ·  {type_label(node, self.spec)}")
        self.name_field.show_text(node.name)
        with QSignalBlocker(self.init_combo):
            self.init_combo.setCurrentText(node.init)
        if self.spec is not None:
            for name, shown in param_values(self.spec, node, state, self._connected()).items():
                self.rows[name].show_value(shown)
        inputs, outputs = shape_lines(self.spec, state)
        self.inputs_label.setText("\n".join(inputs) or "none")
        self.outputs_label.setText("\n".join(outputs) or "none")
        # Errors first, as the list shows them; a repair two problems share gets one button.
        diagnostics = sorted(analysis.by_node.get(self.node_id, []), key=lambda d: not d.is_error)
        self.problems.show_problems(without_repeated_fixes(diagnostics))
        self.problems_box.setVisible(bool(diagnostics))
        self.notes.show_text(node.notes)

    def _connected(self) -> bool:
        """Every input the layer needs has an edge into it."""
        ports = {e.target_port for e in self.doc.edges_of(self.key, self.node_id)
                 if e.target == self.node_id}
        needed = self.spec.min_inputs if self.spec is not None else 0
        return set(range(needed)) <= ports

    def flush(self) -> None:
        """Commit notes still being typed (the form is about to go away)."""
        self.notes.flush()

    # -- user edits, through the controller ----------------------------------------------
    def _checked_name(self, text: str) -> str:
        problem = name_refusal(self.doc.graph(self.key), self.node_id, text)
        if problem:
            raise ValueError(problem)
        return text

    def _on_name_field_committed(self, name: str) -> None:
        self.controller.rename(self.key, self.node_id, name)

    def _on_row_value_committed(self, name: str, value: Any) -> None:
        self.controller.set_param(self.key, self.node_id, name, value)

    def _on_init_combo_activated(self, index: int) -> None:
        self.controller.set_node_field(self.key, self.node_id, "init", INIT_SCHEMES[index])

    def _on_notes_paused(self, text: str) -> None:
        if self.node_id in self.doc.analysis(self.key).inference.nodes:
            self.controller.set_node_field(self.key, self.node_id, "notes", text)

    def _on_problems_fix_requested(self, diagnostic) -> None:
        apply_fix(self.controller, self.key, diagnostic)
