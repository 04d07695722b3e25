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
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
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
from builder.gui.trust_dialog import KeptSourceDialog

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
            # The file dialog confirmed the name it was given, not this one.
            if path.exists() and not self.confirm_replace([path]):
                return None
        return path

    def export_code(self, suggested: Path) -> tuple[Path, bool] | None:
        """Where to write the module, and whether to write a training script beside it."""
        if not self.interactive:
            return self._unattended("where to export the code", None)
        dialog = ExportCodeDialog(suggested, self.parent, self.confirm_replace)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        return dialog.chosen()

    def confirm_replace(self, paths: list[Path]) -> bool:
        """Whether to write over files that exist (a typed name, a training script)."""
        names = ", ".join(str(p) for p in paths)
        if not self.interactive:
            return self._unattended(f"replace {names}", False)
        box = QMessageBox(QMessageBox.Icon.Warning, "Replace files",
                          f"{names} already exist{'s' * (len(paths) == 1)}. Replace "
                          f"{'it' if len(paths) == 1 else 'them'}?",
                          QMessageBox.StandardButton.NoButton, self.parent)
        replace = box.addButton("Replace", QMessageBox.ButtonRole.DestructiveRole)
        keep = box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(keep)
        box.exec()
        return box.clickedButton() is replace

    # -- kept source (builder/gui/kept_source.py) -------------------------------------------
    def offer_kept_source_review(self, names: list[str], when: str) -> bool:
        """Whether to review untrusted kept source now; ``when``: "open" or "export"."""
        listed = ", ".join(names)
        if not self.interactive:
            return self._unattended(f"review the untrusted kept source of {listed}", False)
        need = "Export Code needs it trusted first." if when == "export" else \
            "Until it is trusted, no code is generated from this project."
        box = QMessageBox(QMessageBox.Icon.Warning, "Untrusted kept source",
                          f"This project keeps Python source that this machine has not "
                          f"trusted: {listed}. {need}", QMessageBox.StandardButton.NoButton,
                          self.parent)
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setInformativeText("Review it now? Nothing runs until you trust it.")
        review = box.addButton("Review…", QMessageBox.ButtonRole.AcceptRole)
        later = box.addButton("Later", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(review)
        box.setEscapeButton(later)
        box.exec()
        return box.clickedButton() is review

    def review_kept_source(self, blocks: list, focus: str | None) -> list[str] | None:
        """The names of the blocks the user trusts after reading them, or None."""
        if not self.interactive:
            return self._unattended("which kept source to trust", None)
        dialog = KeptSourceDialog(blocks, focus, self.parent)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        return dialog.chosen() or None

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

    def __init__(self, suggested: Path, parent: QWidget | None = None,
                 confirm_replace: Callable[[list[Path]], bool] | None = None):
        super().__init__(parent)
        self.setWindowTitle("Export code")
        self.confirm_replace = confirm_replace
        self._confirmed: Path | None = None  # the file dialog already asked about this one
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

    def accept(self) -> None:
        """Files that exist are replaced only when the user says so."""
        module, with_script = self.chosen()
        targets = [module, train_script_path(module)] if with_script else [module]
        existing = [p for p in targets if p.exists() and p != self._confirmed]
        if existing and self.confirm_replace is not None and \
                not self.confirm_replace(existing):
            return
        super().accept()

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
            self._confirmed = self.chosen()[0] if name.endswith(".py") else None

    def _on_path_edit_changed(self, text: str) -> None:
        stem = Path(text.strip() or "model.py")
        self.train_box.setText(f"Also write a training script ({train_script_path(stem).name})")
