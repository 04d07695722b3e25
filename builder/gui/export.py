"""File > Export Code and Export Diagram.

Code comes from codegen, exactly as ``torchcanvas generate`` writes it; a project with errors
is refused with the first of them. Diagrams are drawn by builder/gui/image_export.py, which paints a
scene of the graph with the canvas's own code, in the canvas's theme.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QStatusBar

from builder.gui.controller import EditController
from builder.gui.file_prompts import Prompts, train_script_path
from builder.gui.graph_tabs import GraphTabs
from builder.gui.image_export import RenderError, render_graph
from builder.gui.kept_source import KeptSourceReview
from builder.gui.project_document import ProjectDocument
from builder.outputs import output_problem
from codegen import GenerationError, generate_source
from codegen.generate import UNTRUSTED
from codegen.train_script import generate_train_script
from graph_schema.diagnostics import Diagnostic
from graph_schema.files import atomic_write_text

SHOWN_ERRORS = 8  # a refusal lists this many problems, then says how many more
LAST_DIR_KEY = "export/last_dir"
LAST_FORMAT_KEY = "export/diagram_format"


class Exporter:
    """Export Code and Export Diagram of ``doc``. ``tabs`` says which graph is on screen
    (the one a diagram shows, the network a training script trains) and in which theme."""

    def __init__(self, doc: ProjectDocument, controller: EditController, tabs: GraphTabs,
                 prompts: Prompts, kept_source: KeptSourceReview, status_bar: QStatusBar):
        self.doc = doc
        self.controller = controller
        self.tabs = tabs
        self.prompts = prompts  # the File menu's: FileController swaps both at once
        self.kept_source = kept_source
        self.status_bar = status_bar

    # -- code ------------------------------------------------------------------------------
    def export_code(self) -> bool:
        doc = self.doc
        errors = [d for d in doc.diagnostics() if d.is_error]
        if any(d.code == UNTRUSTED for d in errors) and \
                self.kept_source.offer_review("export"):
            errors = [d for d in doc.diagnostics() if d.is_error]
        if errors:
            self.prompts.error("Cannot export code",
                               f"The project has {len(errors)} error(s); fix them first.",
                               describe_problems(errors))
            return False
        choice = self.prompts.export_code(self._suggested(".py"))
        if choice is None:
            return False
        module_path, with_script = choice
        try:
            texts = {module_path: generate_source(doc.session)}
            if with_script:
                texts[train_script_path(module_path)] = generate_train_script(
                    doc.project, module_path.stem, self._training_network())
        except GenerationError as err:
            self.prompts.error("Cannot export code", str(err),
                               describe_problems(err.diagnostics))
            return False
        if not self._may_write(list(texts), "Cannot export code"):
            return False
        for path, text in texts.items():
            if not self._write(path, text):
                return False
        QSettings().setValue(LAST_DIR_KEY, str(module_path.parent))
        written = " and ".join(p.name for p in texts)
        self.status_bar.showMessage(f"Exported {written} to {module_path.parent}", 8000)
        return True

    def _training_network(self) -> str | None:
        """The training script trains one network: the one on screen, if it is a network."""
        key = self.tabs.current_key()
        return key[1] if key is not None and key[0] == "network" else None

    def _may_write(self, paths: list[Path], title: str) -> bool:
        """Never over the open project or any other project: the file dialog confirmed
        replacing an ordinary file, not a drawing (builder/outputs.py)."""
        doc = self.doc
        for path in paths:
            problem = output_problem(path, inputs=[doc.path] if doc.path else [], force=True)
            if problem:
                self.prompts.error(title, f"{problem}.", "Nothing was written.")
                return False
        return True

    def _write(self, path: Path, text: str) -> bool:
        try:
            atomic_write_text(path, text)
        except OSError as err:
            self.prompts.error("Cannot export code",
                               f"{path} could not be written: {err.strerror or err}.")
            return False
        return True

    # -- diagram ---------------------------------------------------------------------------
    def export_diagram(self) -> bool:
        key = self.tabs.current_key()
        if key is None:
            return False
        suffix = QSettings().value(LAST_FORMAT_KEY, ".png")
        path = self.prompts.diagram_path(self._suggested(suffix if isinstance(suffix, str)
                                                         else ".png", key[1]))
        if path is None or not self._may_write([path], "Cannot export the diagram"):
            return False
        try:
            view = self.tabs.view_for(key)  # its open blocks are drawn open, as seen
            opened = view.canvas.inline.opened if view is not None else ()
            render_graph(self.doc, key, path, self.tabs.theme, opened=opened)
        except RenderError as err:
            self.prompts.error("Cannot export the diagram", str(err))
            return False
        store = QSettings()
        store.setValue(LAST_DIR_KEY, str(path.parent))
        store.setValue(LAST_FORMAT_KEY, path.suffix.lower())
        self.status_bar.showMessage(f"Exported the diagram of '{key[1]}' to {path}",
                                            8000)
        return True

    def _suggested(self, suffix: str, name: str | None = None) -> Path:
        """A file name beside the project (or where the last export went)."""
        doc = self.doc
        last = QSettings().value(LAST_DIR_KEY, "")
        directory = Path(last) if isinstance(last, str) and last else \
            doc.path.parent if doc.path else Path.home()
        stem = doc.path.stem if doc.path else doc.project.name
        if name is not None and len(doc.project.networks) + len(doc.project.blocks) > 1:
            stem = f"{stem}_{name}"
        return directory / f"{_safe_stem(stem)}{suffix}"


def _safe_stem(text: str) -> str:
    """A file name from a project name: letters, digits and underscores."""
    cleaned = "".join(c if c.isalnum() else "_" for c in text).strip("_")
    return cleaned or "model"


def describe_problems(diagnostics: list[Diagnostic]) -> str:
    lines = [d.format() for d in diagnostics[:SHOWN_ERRORS]]
    if len(diagnostics) > SHOWN_ERRORS:
        lines.append(f"… and {len(diagnostics) - SHOWN_ERRORS} more")
    return "\n".join(lines)
