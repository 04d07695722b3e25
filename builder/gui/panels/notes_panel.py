"""The project's name, free-text notes (the paper, the hyperparameters) and training setup.

Notes are committed when typing pauses or the field loses focus: one undo step per pause.
Undo, redo and the field's own commits come back through ``project_changed``; text equal to
what the field holds is left alone, so the cursor never jumps.
"""

from __future__ import annotations

from PySide6.QtWidgets import QFormLayout, QGroupBox, QLabel, QVBoxLayout, QWidget

from builder.gui.controller import EditController
from builder.gui.panels.fields import CheckedField, PausingTextEdit
from builder.gui.panels.training_form import TrainingForm
from builder.gui.project_document import ProjectDocument

NOTES_PAUSE_MS = 1000
NAME_LIMIT = 200  # graph_schema.document.Name


def checked_project_name(text: str) -> str:
    name = text.strip()
    if not name:
        raise ValueError("the project needs a name")
    if len(name) > NAME_LIMIT:
        raise ValueError(f"a project name has at most {NAME_LIMIT} characters")
    return name


class NotesPanel(QWidget):
    def __init__(self, doc: ProjectDocument, controller: EditController,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.doc, self.controller = doc, controller
        self.name_field = CheckedField(checked_project_name)
        self.name_field.committed.connect(
            lambda name: controller.set_project_field("name", name))
        self.notes = PausingTextEdit(NOTES_PAUSE_MS)
        self.notes.setPlaceholderText(
            "The paper, the figure or table you are following, hyperparameters you hunted "
            "down, what you changed and why.")
        self.notes.paused.connect(lambda text: controller.set_project_field("notes", text))
        self.training = TrainingForm(doc, controller)
        top = QFormLayout()
        top.addRow("Name", self.name_field)
        training_box = QGroupBox("Training")
        QVBoxLayout(training_box).addWidget(self.training)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(top)
        layout.addWidget(QLabel("Notes"))
        layout.addWidget(self.notes, 1)
        layout.addWidget(training_box)
        doc.project_changed.connect(self._on_doc_project_changed)
        doc.project_replaced.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        project = self.doc.project
        self.name_field.show_text(project.name)
        self.notes.show_text(project.notes)
        self.training.refresh()

    def _on_doc_project_changed(self, field: str) -> None:
        if field == "name":
            self.name_field.show_text(self.doc.project.name)
        elif field == "notes":
            self.notes.show_text(self.doc.project.notes)
        elif field == "training":
            self.training.refresh()
