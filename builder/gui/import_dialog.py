"""File > Import model…: turn an existing nn.Module into a diagram, in a separate process.

The model's own code runs in a child process (`python -m builder import ...`), never in the
app: a model that hangs, crashes or eats memory is stopped (timeout or Cancel) and the open
project is untouched. Only a finished import's JSON file comes back, loaded like any project
file.
"""

from __future__ import annotations

import ast
import json
import shlex
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QElapsedTimer, QProcess, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from builder.gui.theme import error_text_color
from builder.import_protocol import plain
from graph_schema import ProjectError, load_project
from graph_schema.document import Project

DEFAULT_TIMEOUT_S = 120
SHAPE_HELP = "One input per line: sizes separated by commas, e.g. 1,3,224,224 or 2,16:int64"


def module_members(path: Path) -> list[str]:
    """Top-level classes and functions of a Python file, read with ``ast`` (never run)."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
        return []
    return [node.name for node in tree.body
            if isinstance(node, (ast.ClassDef, ast.FunctionDef))]


def top_model(path: Path) -> str | None:
    """The class a file is most likely about, read with ``ast`` (never run): a class no other
    class in the file uses (ResNet, not its BasicBlock), the one that uses the most of the
    file's classes, then the longest, then the last defined. None when there is no class."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
        return None
    classes = [node for node in tree.body if isinstance(node, ast.ClassDef)]
    names = {c.name for c in classes}
    uses = {c.name: _names_in(c) & names - {c.name} for c in classes}
    used = set().union(*uses.values()) if uses else set()
    candidates = [c for c in classes if c.name not in used] or classes
    if not candidates:
        return None

    def reach(name: str, seen: set[str]) -> set[str]:
        for other in uses[name] - seen:
            seen.add(other)
            reach(other, seen)
        return seen

    def rank(item: tuple[int, ast.ClassDef]) -> tuple:
        index, cls = item
        length = (cls.end_lineno or cls.lineno) - cls.lineno
        return len(reach(cls.name, set())), length, index

    return max(enumerate(candidates), key=rank)[1].name


def _names_in(node: ast.AST) -> set[str]:
    """Every bare name and attribute name a class body mentions (Block, blocks.Block)."""
    found = set()
    for child in ast.walk(node):
        if isinstance(child, ast.Name):
            found.add(child.id)
        elif isinstance(child, ast.Attribute):
            found.add(child.attr)
    return found


def input_problem(line: str) -> str | None:
    """Why one line of the inputs box is not SHAPE[:DTYPE], or None."""
    shape, _, dtype = line.partition(":")
    parts = [p.strip() for p in shape.split(",")]
    if not parts or not all(p.isdigit() and int(p) > 0 for p in parts):
        return f"{line!r}: sizes must be positive whole numbers separated by commas"
    if dtype and not dtype.strip().isidentifier():
        return f"{line!r}: {dtype!r} is not a dtype name such as int64"
    return None


def import_arguments(spec: str, inputs: list[str], kwargs: str, output: Path,
                     timeout: int) -> list[str]:
    args = ["-m", "builder", "import", spec]
    for line in inputs:
        args += ["--input", line]
    if kwargs.strip() and kwargs.strip() != "{}":
        args += ["--kwargs", kwargs.strip()]
    return args + ["-o", str(output), "--timeout", str(timeout)]


class ImportRunner(QWidget):
    """Runs one import in a child process: progress, elapsed time, Cancel, a time limit."""

    finished = Signal(object)  # Project on success
    failed = Signal(str)  # what went wrong, in one or a few lines

    def __init__(self, parent=None):
        super().__init__(parent)
        self.process: QProcess | None = None
        self.output: Path | None = None
        self.timeout_s = DEFAULT_TIMEOUT_S
        self._clock = QElapsedTimer()
        self._ticker = QTimer(self, interval=250)
        self._ticker.timeout.connect(self._on_ticker_timeout)
        self._cancelled = False
        self._timed_out = False
        self._stderr, self.step = "", ""
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)  # busy: an import has no measurable progress
        self.label = QLabel()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.bar, 1)
        layout.addWidget(self.label)

    def running(self) -> bool:
        return self.process is not None

    def start(self, args: list[str], output: Path, timeout_s: int,
              working_dir: Path | None = None) -> None:
        self.output, self.timeout_s = output, timeout_s
        self._cancelled = self._timed_out = False
        self._stderr, self.step = "", ""
        process = QProcess(self)
        process.setProgram(sys.executable)
        process.setArguments(args)
        if working_dir is not None:
            process.setWorkingDirectory(str(working_dir))
        process.readyReadStandardError.connect(self._on_process_ready_read_standard_error)
        process.finished.connect(self._on_process_finished)
        process.errorOccurred.connect(self._on_process_error_occurred)
        self.process = process
        self._clock.start()
        self._ticker.start()
        self._on_ticker_timeout()
        process.start()

    def cancel(self) -> None:
        if self.process is not None:
            self._cancelled = True
            self.process.kill()

    def _on_process_ready_read_standard_error(self) -> None:
        text = bytes(self.process.readAllStandardError()).decode("utf-8", "replace")
        self._stderr += text
        lines = [plain(line) for line in text.splitlines() if line.strip()]
        if lines:
            self.step = lines[-1]
            self._on_ticker_timeout()

    def _on_ticker_timeout(self) -> None:
        elapsed = self._clock.elapsed() / 1000
        self.label.setText(f"{self.step or 'Importing'}… {elapsed:.0f} s")
        # The child has its own limit; this one catches a child too stuck to honour it.
        if elapsed > self.timeout_s + 10 and self.process is not None:
            self._timed_out = True
            self.process.kill()

    def _on_process_error_occurred(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self._done()
            self.failed.emit(f"could not start {sys.executable}")

    def _on_process_finished(self, code: int, status: QProcess.ExitStatus) -> None:
        self._on_process_ready_read_standard_error()
        stderr = self._stderr.strip()
        self._done()
        if self._cancelled:
            self.failed.emit("Import cancelled.")
        elif self._timed_out:
            self.failed.emit(f"The import did not finish within {self.timeout_s} s and was "
                             f"stopped.")
        elif status == QProcess.ExitStatus.CrashExit:
            self.failed.emit("The import process crashed (the model's code may have aborted "
                             "Python); your project is untouched.")
        elif code != 0:
            # The last line says what went wrong; the lines before it are progress.
            lines = [plain(line) for line in stderr.splitlines() if line.strip()]
            self.failed.emit(lines[-1] if lines else f"The import failed (exit {code}).")
        else:
            self._load()

    def _load(self) -> None:
        try:
            project = load_project(self.output)
        except ProjectError as err:
            self.failed.emit(f"the import wrote a file TorchCanvas cannot read: {err}")
            return
        self.finished.emit(project)

    def _done(self) -> None:
        self._ticker.stop()
        if self.process is not None:
            self.process.deleteLater()
        self.process = None


class ImportDialog(QDialog):
    """The fields of `torchcanvas import`, and a runner that keeps the app responsive."""

    imported = Signal(object)  # Project

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Import model")
        self._tmp = tempfile.TemporaryDirectory(prefix="torchcanvas-import-")
        self.spec = QComboBox()
        self.spec.setEditable(True)
        self.spec.lineEdit().setPlaceholderText("path/to/model.py:ResNet or package.module:Net")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._on_browse_clicked)
        spec_row = QHBoxLayout()
        spec_row.addWidget(self.spec, 1)
        spec_row.addWidget(browse)
        self.inputs = QPlainTextEdit("1,3,224,224")
        self.inputs.setPlaceholderText(SHAPE_HELP)
        self.inputs.setToolTip(SHAPE_HELP)
        self.inputs.setFixedHeight(70)
        self.kwargs = QLineEdit("{}")
        self.kwargs.setToolTip("Keyword arguments for the class or function, as JSON, "
                               "e.g. {\"num_classes\": 10}")
        self.timeout = QSpinBox(minimum=5, maximum=3600, value=DEFAULT_TIMEOUT_S, suffix=" s")
        form = QFormLayout()
        form.addRow("Model:", spec_row)
        form.addRow("Example inputs:", self.inputs)
        form.addRow("Keyword arguments:", self.kwargs)
        form.addRow("Time limit:", self.timeout)
        self.message = QLabel(wordWrap=True)
        self.runner = ImportRunner()
        self.runner.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.import_button = self.buttons.addButton("Import",
                                                    QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self.start)
        self.buttons.rejected.connect(self._on_buttons_rejected)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.runner)
        layout.addWidget(self.buttons)
        self.runner.finished.connect(self._on_runner_finished)
        self.runner.failed.connect(self._on_runner_failed)
        self.resize(560, 300)

    def command_line(self) -> str:
        """The equivalent shell command, shown so the user can reproduce an import."""
        args = self._arguments(Path("OUT.json"))
        return shlex.join(["torchcanvas", *args[2:]])

    def problem(self) -> str | None:
        spec = self.spec.currentText().strip()
        if ":" not in spec or not spec.rsplit(":", 1)[1].strip():
            return "Name the model as path/to/file.py:ClassName or package.module:ClassName."
        lines = self._input_lines()
        if not lines:
            return "Give at least one example input shape, e.g. 1,3,224,224."
        for line in lines:
            problem = input_problem(line)
            if problem:
                return problem
        try:
            kwargs = json.loads(self.kwargs.text() or "{}")
        except json.JSONDecodeError as err:
            return f"Keyword arguments are not valid JSON: {err.msg} (column {err.colno})."
        if not isinstance(kwargs, dict):
            return "Keyword arguments must be a JSON object such as {\"num_classes\": 10}."
        return None

    def show_problem(self, text: str) -> None:
        self.message.setStyleSheet(f"color: {error_text_color()}")  # the theme may have changed
        self.message.setText(text)

    def start(self) -> None:
        problem = self.problem()
        if problem:
            self.show_problem(problem)
            return
        self.message.clear()
        output = Path(self._tmp.name) / "imported.json"
        output.unlink(missing_ok=True)
        self.import_button.setEnabled(False)
        self.runner.show()
        spec = self.spec.currentText().strip()
        path_part = Path(spec.rsplit(":", 1)[0])
        working_dir = path_part.parent if path_part.suffix == ".py" and \
            path_part.is_absolute() else None
        self.runner.start(self._arguments(output), output, self.timeout.value(), working_dir)

    def _arguments(self, output: Path) -> list[str]:
        return import_arguments(self.spec.currentText().strip(), self._input_lines(),
                                self.kwargs.text(), output, self.timeout.value())

    def _input_lines(self) -> list[str]:
        return [line.strip() for line in self.inputs.toPlainText().splitlines() if line.strip()]

    def _on_browse_clicked(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Python file with the model", "",
                                              "Python files (*.py)")
        if name:
            self.set_file(Path(name))

    def set_file(self, path: Path) -> None:
        """Offer the file's classes and functions as ``path:Name`` choices, the top model
        (the class the others are parts of) chosen."""
        members = module_members(path)
        self.spec.clear()
        self.spec.addItems([f"{path}:{name}" for name in members] or [f"{path}:"])
        top = top_model(path)
        if top in members:
            self.spec.setCurrentIndex(members.index(top))

    def _on_buttons_rejected(self) -> None:
        if self.runner.running():
            self.runner.cancel()  # the dialog stays open; the runner reports "cancelled"
            return
        self.reject()

    def _on_runner_finished(self, project: Project) -> None:
        self.runner.hide()
        self.import_button.setEnabled(True)
        self.imported.emit(project)
        self.accept()

    def _on_runner_failed(self, message: str) -> None:
        self.runner.hide()
        self.import_button.setEnabled(True)
        self.show_problem(message)

    def done(self, result: int) -> None:
        if self.runner.running():
            self.runner.cancel()
        super().done(result)
