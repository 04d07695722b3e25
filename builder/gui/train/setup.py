"""The Train panel's setup: data, task, loss, optimiser, learning rate, batch size, epochs,
precision, device and processes, read from and written to the project's ``training`` section.

Every change is one undo step through the controller (the Project panel's TrainingForm does the
checking and committing for the fields it has); undo, redo and the other panel's edits come back
through ``project_changed("training")``.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QVBoxLayout, QWidget

from builder.gui.controller import EditController
from builder.gui.panels.fields import CheckedField
from builder.gui.panels.training_form import (
    TrainingForm,
    check_training,
    commit_training_field,
    field_text,
)
from builder.gui.project_document import ProjectDocument
from builder.gui.train.data_field import DataField, DataPreview
from builder.gui.train.devices import DeviceField

TIPS = {
    "precision": "32-true: full float32. bf16-mixed: bfloat16 autocast (CPU or a recent GPU). "
    "16-mixed: float16 autocast with loss scaling (GPU only).",
    "processes": "Processes on this machine. More than 1 trains with DistributedDataParallel "
    "under torchrun: one process per GPU, or CPU processes with device cpu.",
    "epochs": "Epochs to train; early stopping may end the run sooner.",
}
FORM_FIELDS = (
    "task",
    "loss",
    "optimizer",
    "learning_rate",
    "batch_size",
    "epochs",
    "precision",
    "processes",
)


class TrainSetup(QWidget):
    def __init__(
        self,
        doc: ProjectDocument,
        controller: EditController,
        prompts: Callable,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.doc, self.controller = doc, controller
        self.form = TrainingForm(doc, controller, names=FORM_FIELDS)
        self.data_text = CheckedField(
            lambda text: check_training(doc.project.training, "dataset", text.strip())
        )
        self.data_text.committed.connect(
            lambda training: controller.set_project_field("training", training)
        )
        self.data = DataField(self.data_text, prompts, lambda: doc.path)
        self.data.chosen.connect(self._on_data_chosen)
        self.preview = DataPreview()
        self.device = DeviceField()
        self.device.chosen.connect(self._on_device_chosen)
        for name, tip in TIPS.items():
            widget = self.form.combos.get(name) or self.form.fields[name].edit
            widget.setToolTip(tip)
        self.device.setToolTip("auto: a GPU when there is one, else the CPU")
        rows = self.form.form
        rows.insertRow(0, "Data", self.data)
        rows.insertRow(1, self.preview)
        rows.insertRow(rows.rowCount() - 1, "Device", self.device)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.form)
        layout.addStretch(1)
        doc.project_changed.connect(self._on_doc_project_changed)
        doc.project_replaced.connect(self._on_doc_project_replaced)
        doc.node_changed.connect(self._on_doc_node_changed)
        self._previewed = None  # the dataset and input shapes the preview was last asked about
        self._visible_once = False
        self.refresh()

    def refresh(self) -> None:
        training = self.doc.project.training
        self.form.refresh()
        self.data_text.show_text(field_text("dataset", training.dataset))
        self.device.show_value(training.device)

    def ensure_loaded(self) -> None:
        """The panel is on screen: ask what the child processes know, once."""
        self._visible_once = True
        if not self.device.asked:
            self.device.list_devices()
        if self._previewed is None:
            self.refresh_preview()

    def refresh_preview(self) -> None:
        self._previewed = self._preview_subject()
        self.preview.request(self.doc.project, self.doc.path)

    def _preview_subject(self) -> tuple:
        """What the preview shows depends on: the dataset, and the inputs of the network a
        run trains (the project's first), which the samples are fitted to."""
        project = self.doc.project
        inputs = tuple(repr(node.params.get("shape")) for node in project.networks[0].nodes
                       if node.type == "io.Input") if project.networks else ()
        return project.training.dataset, inputs

    def _refresh_preview_if_changed(self) -> None:
        if self._visible_once and self._preview_subject() != self._previewed:
            self.refresh_preview()

    def _on_doc_project_changed(self, field: str) -> None:
        if field != "training":
            return
        self.refresh()
        self._refresh_preview_if_changed()

    def _on_doc_node_changed(self, key, _node_id: str) -> None:
        if key[0] == "network":  # an input's shape, say: the samples are fitted to it
            self._refresh_preview_if_changed()

    def _on_doc_project_replaced(self) -> None:
        self.refresh()
        self._previewed = None
        if self._visible_once:
            self.refresh_preview()

    def _on_data_chosen(self, text: str) -> None:
        commit_training_field(self.doc, self.controller, "dataset", text)

    def _on_device_chosen(self, device: str) -> None:
        try:
            commit_training_field(self.doc, self.controller, "device", device)
        except ValueError as err:  # an id the schema refuses: keep the project's own
            self.device.note.setText(str(err))
            self.device.show_value(self.doc.project.training.device)
