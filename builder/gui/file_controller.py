"""The File menu: new, open, recent, save, save as, exports, and never losing work.

Opening or starting a project replaces the document's project (the undo stack clears
itself); unsaved changes are offered for saving first. The undo stack's clean state is the
"saved" state: the window title's [*] follows it. A file that cannot be read or written is
explained in a dialog and nothing else changes: the current project stays as it was, dirty
if it was dirty.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QMimeData, QObject, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QMenu, QStatusBar, QWidget

from builder.gui import arrange
from builder.gui.actions import MenuEntry, make_action
from builder.gui.autosave import Autosaver, Recovery, stale_recoveries
from builder.gui.controller import EditController
from builder.gui.export import Exporter
from builder.gui.file_prompts import Prompts
from builder.gui.graph_tabs import GraphTabs
from builder.gui.import_dialog import ImportDialog
from builder.gui.kept_source import KeptSourceReview
from builder.gui.project_document import ProjectDocument, new_project
from builder.gui.recent import RecentFiles
from graph_schema.document import Project
from graph_schema.files import ProjectError, load_project, save_project
from graph_schema.layout import lacks_positions

LAST_DIR_KEY = "files/last_dir"
DRAG_EVENTS = (QEvent.Type.DragEnter, QEvent.Type.DragMove)


class FileController(QObject):
    """The File menu of one window: its actions (``menu_entries()``; the window places them)
    act on ``doc``. Work that must not replace this window's project (a second recovered
    project, an import while this one holds work) goes to ``open_window()``: the application
    opens a window beside this one and hands back that window's FileController."""

    def __init__(self, host: QWidget, doc: ProjectDocument, controller: EditController,
                 tabs: GraphTabs, status_bar: QStatusBar,
                 open_window: Callable[[], FileController]):
        super().__init__(host)
        self.host = host  # dialogs' parent; project files dropped on it open
        self.doc = doc
        self.controller = controller
        self.undo_stack = controller.undo_stack
        self.status_bar = status_bar
        self.open_window = open_window
        self.recent = RecentFiles()
        self.autosaver = Autosaver(self.doc, self.undo_stack, self)
        self.autosaver.failed.connect(self._show_status)
        prompts = Prompts(host)
        self.kept_source = KeptSourceReview(doc, controller, prompts, status_bar, self)
        self.exporter = Exporter(doc, controller, tabs, prompts, self.kept_source, status_bar)
        self.prompts = prompts
        self._build_actions()
        host.setAcceptDrops(True)
        host.installEventFilter(self)
        for view in tabs.views():
            self._on_tabs_view_created(view)
        tabs.view_created.connect(self._on_tabs_view_created)

    @property
    def prompts(self) -> Prompts:
        return self._prompts

    @prompts.setter
    def prompts(self, prompts: Prompts) -> None:
        """File, Export and the kept-source review ask through the same Prompts (tests swap
        them for scripted ones)."""
        self._prompts = self.exporter.prompts = self.kept_source.prompts = prompts

    def _build_actions(self) -> None:
        def act(text: str, slot, shortcut=None) -> QAction:
            return make_action(self, text, slot, shortcut)

        self.new_action = act("&New", self.new, QKeySequence.StandardKey.New)
        self.open_action = act("&Open…", self.open, QKeySequence.StandardKey.Open)
        self.recent_menu = QMenu("Open &Recent", self.host)
        self.recent_menu.aboutToShow.connect(self.rebuild_recent_menu)
        self.rebuild_recent_menu()
        self.save_action = act("&Save", self.save, QKeySequence.StandardKey.Save)
        self.save_as_action = act("Save &As…", self.save_as, "Ctrl+Shift+S")
        self.import_action = act("&Import Model…", self.import_model)
        self.export_code_action = act("Export &Code…", self.exporter.export_code)
        self.export_diagram_action = act("Export &Diagram…", self.exporter.export_diagram)
        self.quit_action = act("&Quit", QApplication.closeAllWindows,
                               QKeySequence.StandardKey.Quit)

    def menu_entries(self) -> list[MenuEntry]:
        """The File menu, in order (None: a separator)."""
        return [self.new_action, self.open_action, self.recent_menu, None,
                self.save_action, self.save_as_action, None,
                self.import_action, self.export_code_action, self.export_diagram_action, None,
                self.quit_action]

    # -- start-up --------------------------------------------------------------------------
    def start(self, path: Path | None = None) -> None:
        """What the app does once the window is up: offer crashed sessions' work, then open
        the project given on the command line."""
        self.offer_recoveries()
        if path is not None:
            self._untouched().open_path(path)

    def offer_recoveries(self) -> None:
        recoveries, problems = stale_recoveries(self.autosaver.file.parent)
        for problem in problems:
            self._show_status(f"Skipped a recovery file: {problem}")
        for recovery in recoveries:
            answer = self.prompts.recover(recovery)
            if answer == "recover":
                self._untouched().adopt_recovery(recovery)
            elif answer == "discard":
                recovery.file.unlink(missing_ok=True)

    def adopt_recovery(self, recovery: Recovery) -> bool:
        """Open recovered work as unsaved changes to its original file."""
        try:
            project = recovery.load()
        except ProjectError as err:
            self.prompts.error("Cannot recover", str(err),
                               "The recovery file was left where it is.")
            return False
        self.doc.replace_project(project, recovery.original)
        self.undo_stack.resetClean()  # not saved: the title shows [*], closing asks
        if self.autosaver.write_now():  # our own recovery file first, then drop the old one
            recovery.file.unlink(missing_ok=True)
        self._show_status(f"Recovered unsaved work: {recovery.describe()}")
        self.kept_source.offer_review("open")
        return True

    def is_untouched(self) -> bool:
        """A fresh window: nothing opened, nothing drawn, nothing to undo."""
        return self.doc.path is None and self.undo_stack.isClean() and \
            self.undo_stack.count() == 0

    def _untouched(self) -> FileController:
        """This window's if it holds nothing yet, else a new window's (so nothing is
        replaced)."""
        return self if self.is_untouched() else self.open_window()

    # -- new and open ----------------------------------------------------------------------
    def new(self) -> bool:
        if not self.maybe_save():
            return False
        self._replace(new_project(), None)
        return True

    def open(self) -> bool:
        path = self.prompts.open_path(self._start_dir())
        return self.open_path(path) if path is not None else False

    def open_path(self, path: Path) -> bool:
        """Open a project file; a file that cannot be read leaves everything as it was."""
        path = Path(path)
        try:
            project = load_project(path)
        except ProjectError as err:
            self.prompts.error("Cannot open project", str(err))
            return False
        if not self.maybe_save():
            return False
        self._replace(project, path)
        self._remember(path)
        self._show_status(f"Opened {path}")
        self._lay_out_unplaced()
        self.kept_source.offer_review("open")
        return True

    def import_model(self) -> None:
        """File > Import Model…: the model runs in a child process; only its result comes
        back (builder/gui/import_dialog.py)."""
        dialog = ImportDialog(self.host)
        dialog.imported.connect(self.adopt_imported)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    def adopt_imported(self, project: Project) -> QWidget:
        """An imported model opens as a new, unsaved project: here if this window holds
        nothing yet, else in a new window, so the open project is never replaced. Returns
        the window that took it."""
        files = self._untouched()
        files._replace(project, None)
        files.undo_stack.resetClean()
        files._show_status(f"Imported {project.name}: not saved yet")
        return files.host

    def open_recent(self, path: Path) -> bool:
        if not path.is_file():
            self.recent.remove(path)
            self.prompts.error("Cannot open project",
                               f"{path} no longer exists; it was removed from Open Recent.")
            return False
        return self.open_path(path)

    def _lay_out_unplaced(self) -> None:
        """A file written by hand or by another tool may have no node positions: lay those
        graphs out, each as an undo step (so the project shows as changed), not a pile."""
        unplaced = [key for key in self.doc.graph_keys() if lacks_positions(self.doc.graph(key))]
        for key in unplaced:
            arrange.auto_layout(self.controller, key)
        if unplaced:
            self._show_status(f"{self.doc.path.name if self.doc.path else 'The project'} has "
                              f"no node positions: laid out automatically (Ctrl+Z undoes it)")

    def _replace(self, project: Project, path: Path | None) -> None:
        self.doc.replace_project(project, path)
        self.undo_stack.setClean()
        self.autosaver.discard()

    # -- save ------------------------------------------------------------------------------
    def save(self) -> bool:
        if self.doc.path is None:
            return self.save_as()
        return self.save_to(self.doc.path)

    def save_as(self) -> bool:
        suggested = self.doc.path or self._start_dir() / f"{self.doc.project.name}.json"
        path = self.prompts.save_path(suggested)
        return self.save_to(path) if path is not None else False

    def save_to(self, path: Path) -> bool:
        """Write the project; on failure say why and keep it unsaved."""
        path = Path(path)
        try:
            save_project(self.doc.project, path)
        except (OSError, ValueError) as err:
            reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
            self.prompts.error("Cannot save project", f"{path} could not be written: {reason}.",
                               "Your changes are still open and not saved. Try Save As… to "
                               "save them somewhere else.")
            return False
        if path != self.doc.path:
            self.doc.set_path(path)
        self.undo_stack.setClean()
        self.autosaver.discard()
        self._remember(path)
        self._show_status(f"Saved {path}")
        return True

    def maybe_save(self) -> bool:
        """Offer to save unsaved changes; False when the user cancels (or the save fails)."""
        if self.undo_stack.isClean():
            return True
        name = self.doc.path.name if self.doc.path else self.doc.project.name
        answer = self.prompts.unsaved_changes(name)
        if answer == "save":
            return self.save()
        return answer == "discard"

    def confirm_close(self) -> bool:
        """The window is closing: True when it may (the recovery file then goes)."""
        if not self.maybe_save():
            return False
        self.autosaver.discard()
        return True

    # -- recent files ----------------------------------------------------------------------
    def rebuild_recent_menu(self) -> None:
        menu = self.recent_menu
        menu.clear()
        missing = self.recent.prune_missing()
        if missing:
            names = ", ".join(p.name for p in missing)
            self._show_status(f"Removed from Open Recent (no longer there): {names}")
        paths = self.recent.paths()
        for index, path in enumerate(paths, start=1):
            action = menu.addAction(f"&{index % 10} {path.name}  —  {path.parent}")
            action.setData(str(path))
            action.setStatusTip(str(path))
            action.triggered.connect(lambda _checked=False, p=path: self.open_recent(p))
        if not paths:
            menu.addAction("No recent files").setEnabled(False)
            return
        menu.addSeparator()
        menu.addAction("Clear Recent Files").triggered.connect(self._on_clear_recent_triggered)

    def _on_clear_recent_triggered(self) -> None:
        self.recent.clear()
        self.rebuild_recent_menu()

    def _remember(self, path: Path) -> None:
        self.recent.add(path)
        QSettings().setValue(LAST_DIR_KEY, str(path.parent))

    def _start_dir(self) -> Path:
        if self.doc.path is not None:
            return self.doc.path.parent
        last = QSettings().value(LAST_DIR_KEY, "")
        return Path(last) if isinstance(last, str) and last else Path.home()

    # -- drops -----------------------------------------------------------------------------
    def _on_tabs_view_created(self, view) -> None:
        # The canvas takes drops (layers from the palette); files dropped on it come here.
        view.viewport().installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        kind = event.type()
        if kind in DRAG_EVENTS and project_files(event.mimeData()):
            event.acceptProposedAction()
            return True
        if kind == QEvent.Type.Drop and project_files(event.mimeData()):
            event.acceptProposedAction()
            paths = project_files(event.mimeData())
            # Open after the drop has finished: a dialog inside a drop blocks the source app.
            QTimer.singleShot(0, lambda: self._open_dropped(paths))
            return True
        return super().eventFilter(watched, event)

    def _open_dropped(self, paths: list[Path]) -> None:
        self.open_path(paths[0])
        if len(paths) > 1:
            self._show_status(f"Opened {paths[0].name}; drop one project at a time")

    def _show_status(self, message: str) -> None:
        self.status_bar.showMessage(message, 10000)


def project_files(mime: QMimeData | None) -> list[Path]:
    """The local .json files a drag carries."""
    if mime is None or not mime.hasUrls():
        return []
    return [Path(url.toLocalFile()) for url in mime.urls()
            if url.isLocalFile() and url.toLocalFile().lower().endswith(".json")]
