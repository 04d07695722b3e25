"""The questions File and Export ask the user, as one object the window can swap.

Every modal dialog of the file workflow goes through ``Prompts``, so tests (and any other
front end) can answer them without blocking by passing a subclass. Answers are plain values:
``"save" | "discard" | "cancel"``, ``"recover" | "discard" | "later"``, a Path or None.

Under Qt's offscreen platform there is nobody to answer, and a modal dialog would wait
forever; there each question takes the answer that loses nothing (keep the window open,
recover later, choose no file) and says so on stderr.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from builder.gui.autosave import Recovery

PROJECT_FILTER = "TorchCanvas projects (*.json);;All files (*)"
DIAGRAM_FILTERS = {
    "PNG image (*.png)": ".png",
    "SVG drawing (*.svg)": ".svg",
    "PDF document (*.pdf)": ".pdf",
}


class Prompts:
    def __init__(self, parent: QWidget):
        self.parent = parent
        self.interactive = QGuiApplication.platformName() != "offscreen"

    def _unattended(self, text: str, answer):
        """No screen, nobody to ask: say what was asked and take the answer that loses
        nothing."""
        print(f"torchcanvas: {text} (no screen to ask on: {answer or 'nothing chosen'})",
              file=sys.stderr)
        return answer

    # -- questions -------------------------------------------------------------------------
    def unsaved_changes(self, name: str) -> str:
        if not self.interactive:
            return self._unattended(f"unsaved changes to {name}", "cancel")
        box = QMessageBox(QMessageBox.Icon.Warning, "Unsaved changes",
                          f"Do you want to save the changes to “{name}”?",
                          QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                          | QMessageBox.StandardButton.Cancel, self.parent)
        box.setInformativeText("Your changes will be lost if you don't save them.")
        box.setDefaultButton(QMessageBox.StandardButton.Save)
        box.exec()
        answers = {QMessageBox.StandardButton.Save: "save",
                   QMessageBox.StandardButton.Discard: "discard"}
        return answers.get(box.standardButton(box.clickedButton()), "cancel")

    def recover(self, recovery: Recovery) -> str:
        if not self.interactive:
            return self._unattended(f"unsaved work to recover: {recovery.describe()}", "later")
        box = QMessageBox(QMessageBox.Icon.Question, "Recover unsaved work",
                          "TorchCanvas did not close normally last time. Unsaved work was "
                          "found:", QMessageBox.StandardButton.NoButton, self.parent)
        box.setInformativeText(recovery.describe())
        recover = box.addButton("Recover", QMessageBox.ButtonRole.AcceptRole)
        discard = box.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole)
        later = box.addButton("Later", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(recover)
        box.setEscapeButton(later)
        box.exec()
        clicked = box.clickedButton()
        return "recover" if clicked is recover else "discard" if clicked is discard else "later"

    def open_path(self, directory: Path) -> Path | None:
        if not self.interactive:
            return self._unattended("which project to open", None)
        name, _ = QFileDialog.getOpenFileName(self.parent, "Open project", str(directory),
                                              PROJECT_FILTER)
        return Path(name) if name else None

    def save_path(self, suggested: Path) -> Path | None:
        if not self.interactive:
            return self._unattended("where to save the project", None)
        name, _ = QFileDialog.getSaveFileName(self.parent, "Save project as", str(suggested),
                                              PROJECT_FILTER)
        if not name:
            return None
        path = Path(name)
        return path if path.suffix else path.with_suffix(".json")

    def diagram_path(self, suggested: Path) -> Path | None:
        if not self.interactive:
            return self._unattended("where to export the diagram", None)
        chosen = next((f for f, s in DIAGRAM_FILTERS.items() if s == suggested.suffix),
                      next(iter(DIAGRAM_FILTERS)))
        name, used_filter = QFileDialog.getSaveFileName(
            self.parent, "Export diagram", str(suggested), ";;".join(DIAGRAM_FILTERS), chosen)
        if not name:
            return None
        path = Path(name)
        if path.suffix.lower() not in DIAGRAM_FILTERS.values():
            path = path.with_name(path.name + DIAGRAM_FILTERS.get(used_filter, ".png"))
        return path

    def export_code(self, suggested: Path) -> tuple[Path, bool] | None:
        """Where to write the module, and whether to write a training script beside it."""
        if not self.interactive:
            return self._unattended("where to export the code", None)
        dialog = ExportCodeDialog(suggested, self.parent)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        return dialog.chosen()

    # -- messages --------------------------------------------------------------------------
    def error(self, title: str, text: str, details: str = "") -> None:
        if not self.interactive:
            print(f"torchcanvas: {title}: {text} {details}".rstrip(), file=sys.stderr)
            return
        box = QMessageBox(QMessageBox.Icon.Critical, title, text, QMessageBox.StandardButton.Ok,
                          self.parent)
        if details:
            box.setInformativeText(details)
        box.exec()

    def info(self, title: str, text: str) -> None:
        if not self.interactive:
            print(f"torchcanvas: {title}: {text}", file=sys.stderr)
            return
        QMessageBox.information(self.parent, title, text)


def train_script_path(module: Path) -> Path:
    """Where Export Code puts the training script: beside the module it imports."""
    return module.with_name(f"train_{module.stem}.py")


class ExportCodeDialog(QDialog):
    """Export code: the module's path, and a box for the optional training script."""

    def __init__(self, suggested: Path, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Export code")
        self.path_edit = QLineEdit(str(suggested))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._on_browse_clicked)
        self.train_box = QCheckBox()
        self.path_edit.textChanged.connect(self._on_path_edit_changed)
        self._on_path_edit_changed(self.path_edit.text())
        row = QHBoxLayout()
        row.addWidget(self.path_edit, 1)
        row.addWidget(browse)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Write the networks as a PyTorch module (it imports only "
                                "torch):"))
        layout.addLayout(row)
        layout.addWidget(self.train_box)
        layout.addWidget(buttons)
        self.resize(560, self.sizeHint().height())

    def chosen(self) -> tuple[Path, bool]:
        path = Path(self.path_edit.text().strip())
        if path.suffix != ".py":
            path = path.with_name(path.name + ".py")
        return path, self.train_box.isChecked()

    def _on_browse_clicked(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, "Export code", self.path_edit.text(),
                                              "Python files (*.py)")
        if name:
            self.path_edit.setText(name)

    def _on_path_edit_changed(self, text: str) -> None:
        stem = Path(text.strip() or "model.py")
        self.train_box.setText(f"Also write a training script ({train_script_path(stem).name})")
