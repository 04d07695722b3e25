"""The Train panel's dataset: the runner's DATA text, a picker that writes the right form, and a
preview of a few samples with their labels.

The preview comes from `torchcanvas data-preview` in a child process (it loads the data as the
runner will, fitted to the drawing's io.Input), so a dataset that cannot be used shows the
runner's own one-line reason here, before any run is started.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMenu,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from builder.gui.panels.fields import CheckedField
from builder.gui.theme import error_text_color
from builder.gui.train.child import JsonCommand
from graph_schema import save_project
from graph_schema.document import Project

PREVIEW_COUNT = 8
PREVIEW_COLUMNS = 4
THUMBNAIL_PX = 48
PREVIEW_DELAY_MS = 400  # typing pauses this long before a preview is asked for
SYNTHETIC = "synthetic:classes=10,n=2000"  # takes the model's own input shape
FILE_FORMS = {
    "npz": ("NumPy arrays x and y (.npz)", "NumPy arrays (*.npz);;All files (*)"),
    "csv": ("Table with a label column (.csv)", "CSV files (*.csv);;All files (*)"),
}


def runner_data(text: str) -> str:
    """The DATA the runner reads for the project's dataset text (`sklearn:digits` is digits)."""
    text = text.strip()
    return "digits" if text.lower() in ("sklearn:digits", "digits") else text


def data_form(kind: str, path: Path, project_path: Path | None) -> str:
    """``kind:PATH``, the path relative to the project's folder when it lies inside it (the
    run starts there), else absolute."""
    path = path.resolve()
    if project_path is not None:
        try:
            path = path.relative_to(project_path.resolve().parent)
        except ValueError:
            pass
    return f"{kind}:{path.as_posix()}"


class DataField(QWidget):
    """The DATA text (``field``, a CheckedField) and the picker button (``picker``).
    ``chosen`` carries a text the picker wrote; the panel commits it."""

    chosen = Signal(str)

    def __init__(self, field: CheckedField, prompts, project_path, parent=None):
        super().__init__(parent)
        self.field = field
        self.prompts = prompts  # a callable: the panel's current TrainPrompts
        self.project_path = project_path  # a callable: the document's path or None
        self.field.set_placeholder("digits, synthetic:…, npz:PATH, csv:PATH, folder:PATH")
        self.picker = QToolButton()
        self.picker.setText("…")
        self.picker.setToolTip("Choose a dataset: a built-in one, a file or a folder")
        self.picker.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.picker)
        menu.addAction("Digits (scikit-learn, 8×8)", lambda: self.chosen.emit("digits"))
        menu.addAction("Synthetic (fits the model's input)", lambda: self.chosen.emit(SYNTHETIC))
        menu.addSeparator()
        for kind, (label, _filters) in FILE_FORMS.items():
            menu.addAction(f"{label}…", lambda k=kind: self.choose_file(k))
        menu.addAction("Image folder (a subfolder per class)…", self.choose_folder)
        self.picker.setMenu(menu)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(field, 1)
        row.addWidget(self.picker, 0, Qt.AlignmentFlag.AlignTop)

    def _start_folder(self) -> Path:
        path = self.project_path()
        return path.parent if path is not None else Path.home()

    def choose_file(self, kind: str) -> None:
        label, filters = FILE_FORMS[kind]
        path = self.prompts().data_file(label, self._start_folder(), filters)
        if path is not None:
            self.chosen.emit(data_form(kind, path, self.project_path()))

    def choose_folder(self) -> None:
        path = self.prompts().data_folder(
            "Image folder, one subfolder per class", self._start_folder()
        )
        if path is not None:
            self.chosen.emit(data_form("folder", path, self.project_path()))


class DataPreview(QWidget):
    """What `data-preview` says of the dataset: sizes, classes, and a grid of samples, or the
    reason it cannot be used. ``request(project, path)`` asks again (after a pause)."""

    shown = Signal()  # a preview or its error is on screen

    def __init__(self, parent=None):
        super().__init__(parent)
        self._folder = tempfile.TemporaryDirectory(prefix="torchcanvas-preview-")
        self.command = JsonCommand(self)
        self.command.answered.connect(self._on_command_answered)
        self.command.failed.connect(self._on_command_failed)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.grid = QGridLayout()
        self.grid.setContentsMargins(0, 0, 0, 0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary)
        layout.addLayout(self.grid)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(PREVIEW_DELAY_MS)
        self.timer.timeout.connect(self._on_timer_timeout)
        self._pending: tuple[Project, Path | None] | None = None
        self.answer: dict | None = None
        self.error = ""
        self._round = 0

    def request(self, project: Project, project_path: Path | None) -> None:
        self._pending = (project, project_path)
        self.timer.start()

    def _on_timer_timeout(self) -> None:
        if self._pending is None:
            return
        project, project_path = self._pending
        self._pending = None
        data = runner_data(project.training.dataset)
        if not data:
            self._show_error("No dataset yet: choose one with … (digits is built in)")
            return
        self._round += 1
        folder = Path(self._folder.name) / f"round-{self._round}"
        folder.mkdir()
        project_file = folder / "project.json"
        save_project(project, project_file)
        self._clear()
        self.summary.setStyleSheet("")
        self.summary.setText(f"Loading a preview of {data}…")
        cwd = project_path.parent if project_path is not None else None
        self.command.request(
            [
                "data-preview",
                data,
                "--project",
                str(project_file),
                "--count",
                str(PREVIEW_COUNT),
                "--out",
                str(folder),
                "--json",
            ],
            cwd,
        )

    def _on_command_answered(self, answer: dict) -> None:
        self.answer, self.error = answer, ""
        self._clear()
        self.summary.setStyleSheet("")
        self.summary.setText(preview_summary(answer))
        for index, sample in enumerate(answer.get("samples", [])):
            self.grid.addWidget(
                _sample_cell(sample), index // PREVIEW_COLUMNS, index % PREVIEW_COLUMNS
            )
        self.shown.emit()

    def _on_command_failed(self, message: str) -> None:
        self._show_error(message)

    def _show_error(self, message: str) -> None:
        self.answer, self.error = None, message
        self._clear()
        self.summary.setStyleSheet(f"color: {error_text_color()};")
        self.summary.setText(message)
        self.shown.emit()

    def _clear(self) -> None:
        while self.grid.count():
            item = self.grid.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()

    def labels(self) -> list[str]:
        """The labels of the samples shown, in order."""
        return [self.grid.itemAt(i).widget().property("label") for i in range(self.grid.count())]


def preview_summary(answer: dict) -> str:
    sizes = answer.get("sizes", {})
    shape = answer.get("shape") or []
    if shape and isinstance(shape[0], list):
        shape_text = " and ".join("×".join(map(str, part)) for part in shape)
    else:
        shape_text = "×".join(map(str, shape))
    classes = answer.get("classes")
    kind = f"{len(classes)} classes" if classes else "regression targets"
    return (
        f"{shape_text} samples · {kind} · {sizes.get('train', 0):,} train, "
        f"{sizes.get('val', 0):,} val, {sizes.get('test', 0):,} test"
    )


def _sample_cell(sample: dict) -> QWidget:
    cell = QWidget()
    cell.setProperty("label", sample.get("label", ""))
    layout = QVBoxLayout(cell)
    layout.setContentsMargins(2, 2, 2, 2)
    layout.setSpacing(1)
    picture = QLabel()
    picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
    image = sample.get("image")
    pixmap = QPixmap(image) if image else QPixmap()
    if not pixmap.isNull():
        picture.setPixmap(
            pixmap.scaled(
                THUMBNAIL_PX,
                THUMBNAIL_PX,
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.FastTransformation,
            )
        )
    else:
        picture.setText(sample.get("text", ""))
        picture.setWordWrap(True)
    picture.setToolTip(sample.get("text", ""))
    label = QLabel(sample.get("label", ""))
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    layout.addWidget(picture)
    layout.addWidget(label)
    return cell
