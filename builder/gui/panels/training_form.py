"""The project's training setup as a small typed form; each change is one undo step.

Values are checked as typed against the ``Training`` model itself (pydantic), so the form
accepts exactly what a project file may hold and says why in one line when it does not.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, get_args

from pydantic import ValidationError
from PySide6.QtCore import QSignalBlocker
from PySide6.QtWidgets import QComboBox, QFormLayout, QWidget

from builder.gui.controller import EditController
from builder.gui.panels.fields import CheckedField
from builder.gui.project_document import ProjectDocument
from graph_schema.document import Training

CHOICES = ("task", "loss", "optimizer", "precision")
TEXTS = ("dataset", "metrics", "learning_rate", "weight_decay", "batch_size", "epochs", "seed",
         "device", "processes")
LABELS = {"learning_rate": "Learning rate", "weight_decay": "Weight decay",
          "batch_size": "Batch size", "optimizer": "Optimiser"}


def field_text(name: str, value: Any) -> str:
    if name == "metrics":
        return ", ".join(value)
    return repr(value) if isinstance(value, float) else str(value)


def read_field(name: str, text: str) -> Any:
    """Typed text as the value pydantic will check (it converts "0.01" and "64" itself)."""
    if name == "metrics":
        return [item.strip() for item in text.split(",") if item.strip()]
    return text.strip() if name != "dataset" else text


def check_training(training: Training, name: str, value: Any) -> Training:
    """``training`` with one field changed; ValueError (one line) when the value is refused."""
    try:
        return Training.model_validate({**training.model_dump(), name: value})
    except ValidationError as err:
        first = err.errors()[0]
        raise ValueError(f"{name}: {first['msg']}") from None


def commit_training_field(doc: ProjectDocument, controller: EditController, name: str,
                          value: Any) -> None:
    """One field of the project's training section set through the controller (one undo
    step, none when the value is what it was); ValueError (one line) when refused."""
    controller.set_project_field("training", check_training(doc.project.training, name, value))


class TrainingForm(QWidget):
    """``names``: the fields to show, in order (default: every field of ``Training``).
    ``form`` is the layout, for a caller that adds rows of its own."""

    def __init__(self, doc: ProjectDocument, controller: EditController,
                 parent: QWidget | None = None, names: Sequence[str] | None = None):
        super().__init__(parent)
        self.doc, self.controller = doc, controller
        form = self.form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        self.combos: dict[str, QComboBox] = {}
        self.fields: dict[str, CheckedField] = {}
        for name in names or Training.model_fields:
            label = LABELS.get(name, name.replace("_", " ").capitalize())
            if name in CHOICES:
                combo = QComboBox()
                combo.addItems(list(get_args(Training.model_fields[name].annotation)))
                combo.activated.connect(
                    lambda _i, n=name, c=combo: self._commit(n, c.currentText()))
                self.combos[name] = combo
                form.addRow(label, combo)
            else:
                field = CheckedField(lambda text, n=name: self._checked(n, text))
                field.committed.connect(lambda training: self._commit_training(training))
                self.fields[name] = field
                form.addRow(label, field)
        placeholders = {"metrics": "accuracy, f1, …", "dataset": "e.g. MNIST, CIFAR-10, a folder",
                        "device": "auto, cpu, cuda or cuda:0"}
        for name, text in placeholders.items():
            if name in self.fields:
                self.fields[name].set_placeholder(text)
        self.refresh()

    def refresh(self) -> None:
        training = self.doc.project.training
        for name, combo in self.combos.items():
            with QSignalBlocker(combo):
                combo.setCurrentText(getattr(training, name))
        for name, field in self.fields.items():
            field.show_text(field_text(name, getattr(training, name)))

    def _checked(self, name: str, text: str) -> Training:
        return check_training(self.doc.project.training, name, read_field(name, text))

    def _commit(self, name: str, value: Any) -> None:
        commit_training_field(self.doc, self.controller, name, value)

    def _commit_training(self, training: Training) -> None:
        self.controller.set_project_field("training", training)
