"""The Runs list: every run in the project's runs folder, newest first, and what to do with
them (compare several, overlay one on the live curves, open its folder, TensorBoard).

The list only reads run folders (runs_reading.py); nothing here changes one. The actions that
leave the app (opening a folder, starting TensorBoard) go through ``open_url`` and
``start_detached``, attributes a test replaces to see what would have been opened or started.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QProcess, Qt, QUrl, Signal
from PySide6.QtGui import QColor, QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from builder.gui.theme import error_text_color
from builder.gui.train.compare_view import CompareView
from builder.gui.train.runs_reading import FAILED, UNREADABLE, RunInfo, read_runs
from builder.gui.train.runs_tensorboard import tensorboard_launch, tensorboard_program

HEADERS = ("run", "date", "model", "best", "time", "epochs", "status")
PATH_ROLE = Qt.ItemDataRole.UserRole


def _start_detached(program: str, arguments: list[str], folder: str) -> bool:
    ok, _pid = QProcess.startDetached(program, arguments, folder)
    return bool(ok)


class RunsView(QWidget):
    """``set_folder(runs_dir)``, ``refresh()``; ``set_running(paths)`` names the runs the app
    is training now (their folders cannot say so reliably)."""

    overlay_requested = Signal(Path)
    runs_selected = Signal(list)  # list[Path], the readable runs selected, in the list's order

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.runs_dir: Path | None = None
        self.infos: list[RunInfo] = []
        self._running: set[Path] = set()
        self._ended: set[Path] = set()  # runs the app trained whose process has ended
        self.clock: Callable[[], float] = time.time  # replaced by tests: "now" for the files
        self.tensorboard_url: str | None = None  # where the TensorBoard started here serves
        self._tensorboard: list[str] | None = None  # how to start it; None: not installed
        # Replaced by tests: what would open a folder or start TensorBoard.
        self.open_url: Callable[[QUrl], bool] = QDesktopServices.openUrl
        self.start_detached: Callable[[str, list[str], str], bool] = _start_detached
        self.find_tensorboard: Callable[[], list[str] | None] = tensorboard_program
        self._build()
        self.refresh()

    def _build(self) -> None:
        self.folder_label = QLabel(self)
        self.folder_label.setWordWrap(True)
        self.table = QTableWidget(0, len(HEADERS), self)
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._on_table_selection_changed)
        self.table.itemDoubleClicked.connect(self._on_table_double_clicked)
        self.compare_button = self._button(
            "Compare",
            self._on_compare_clicked,
            "Compare the selected runs: scores, the settings that differ, validation curves",
        )
        self.overlay_button = self._button(
            "Overlay on curves",
            self._on_overlay_clicked,
            "Draw the selected run's curves under the live ones",
        )
        self.open_button = self._button(
            "Open folder",
            self._on_open_clicked,
            "Open the selected run's folder (or the runs folder)",
        )
        self.tensorboard_button = self._button("TensorBoard", self._on_tensorboard_clicked, "")
        self.refresh_button = self._button("Refresh", self.refresh, "Read the runs folder again")
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.message.setOpenExternalLinks(False)
        self.message.linkActivated.connect(self._on_message_link_activated)
        self.compare_view = CompareView(self)
        self.compare_view.hide()
        # Two columns: the panel shares a narrow dock with the Inspector, and one row of five
        # buttons would make the dock (and so every panel in it) wide, or cut it off.
        buttons = QGridLayout()
        for index, button in enumerate((self.compare_button, self.overlay_button,
                                        self.refresh_button, self.open_button,
                                        self.tensorboard_button)):
            buttons.addWidget(button, index // 2, index % 2)
        buttons.setColumnStretch(2, 1)
        top = QWidget(self)
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.folder_label)
        top_layout.addWidget(self.table, 1)
        top_layout.addLayout(buttons)
        top_layout.addWidget(self.message)
        self.splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.splitter.addWidget(top)
        self.splitter.addWidget(self.compare_view)
        self.splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.addWidget(self.splitter)

    def _button(self, text: str, slot, tip: str) -> QPushButton:
        button = QPushButton(text, self)
        button.setToolTip(tip)
        button.clicked.connect(slot)
        return button

    # -- the folder ---------------------------------------------------------------------------

    def set_folder(self, runs_dir: Path | None) -> None:
        self.runs_dir = Path(runs_dir) if runs_dir is not None else None
        self.compare_view.hide()
        self.message.clear()
        self.refresh()

    def set_running(self, paths) -> None:
        """The run folders the app is training now; a folder that leaves this set has ended
        (the app saw its process end), whatever its files look like."""
        running = {Path(path) for path in paths}
        self._ended = (self._ended | (self._running - running)) - running
        self._running = running
        self.refresh()

    def refresh(self) -> None:
        """Read the folder again, keeping the selection of runs still there."""
        before = self.selected_runs()
        self.infos = read_runs(self.runs_dir, self._running, self._ended, self.clock())
        self._tensorboard = self.find_tensorboard()  # looked up here, not on every click
        self._fill_table(set(before))
        self._show_folder()
        self._update_buttons()
        if self.selected_runs() != before:  # a selected run is gone
            self.runs_selected.emit(self.selected_runs())

    def _show_folder(self) -> None:
        if self.runs_dir is None:
            text = "No runs folder: save the project, and its runs go next to it."
        elif not self.runs_dir.is_dir():
            text = f"{self.runs_dir}: no runs yet."
        else:
            text = (
                f"{len(self.infos)} run(s) in {self.runs_dir}"
                if self.infos
                else f"{self.runs_dir}: no runs yet."
            )
        self.folder_label.setText(text)

    def _fill_table(self, selected: set[Path]) -> None:
        self.table.blockSignals(True)
        self.table.clearSelection()
        self.table.setRowCount(len(self.infos))
        for row, info in enumerate(self.infos):
            for column, text in enumerate(_cells(info)):
                item = QTableWidgetItem(text)
                item.setData(PATH_ROLE, str(info.path))
                item.setToolTip(str(info.path) if column == 0 else text)
                if not info.readable:
                    # Not comparable, not selectable: the row only says what is wrong.
                    item.setFlags(Qt.ItemFlag.ItemIsEnabled)
                if column == len(HEADERS) - 1 and info.status in (FAILED, UNREADABLE):
                    item.setForeground(QColor(error_text_color()))
                self.table.setItem(row, column, item)
        self._select(selected)
        self.table.blockSignals(False)

    # -- the selection ------------------------------------------------------------------------

    def selected_runs(self) -> list[Path]:
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        return [
            self.infos[row].path
            for row in rows
            if row < len(self.infos) and self.infos[row].readable
        ]

    def select_runs(self, paths: list[Path]) -> None:
        """Select these runs (the others are deselected), as a user's clicks would."""
        self._select({Path(path) for path in paths})

    def _select(self, wanted: set[Path]) -> None:
        self.table.clearSelection()
        # selectRow in the extended mode replaces the selection; in this one it adds the row.
        mode = self.table.selectionMode()
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.MultiSelection)
        for row, info in enumerate(self.infos):
            if info.path in wanted and info.readable:
                self.table.selectRow(row)
        self.table.setSelectionMode(mode)

    def _on_table_selection_changed(self) -> None:
        self._update_buttons()
        self.runs_selected.emit(self.selected_runs())

    def _on_table_double_clicked(self, item: QTableWidgetItem) -> None:
        info = self.infos[item.row()]
        if info.readable:
            self.overlay_requested.emit(info.path)

    def _update_buttons(self) -> None:
        count = len(self.selected_runs())
        self.compare_button.setEnabled(count >= 2)
        self.overlay_button.setEnabled(count == 1)
        self.open_button.setEnabled(count == 1 or (count == 0 and self._folder_exists()))
        program = self._tensorboard
        self.tensorboard_button.setEnabled(program is not None and self._folder_exists())
        self.tensorboard_button.setToolTip(
            "TensorBoard is not installed (pip install tensorboard)"
            if program is None
            else "Serve every run's TensorBoard events from the runs folder, in your browser"
        )

    def _folder_exists(self) -> bool:
        return self.runs_dir is not None and self.runs_dir.is_dir()

    # -- the actions --------------------------------------------------------------------------

    def _on_compare_clicked(self) -> None:
        paths = self.selected_runs()
        if len(paths) < 2:
            return
        shown = self.compare_view.show_runs(paths)
        if self.compare_view.isHidden():
            self.compare_view.show()
            # A splitter gives a widget shown late no room: the comparison gets most of it.
            total = sum(self.splitter.sizes())
            self.splitter.setSizes([total * 2 // 5, total - total * 2 // 5])
        self._say("" if shown else self.compare_view.note.text(), error=not shown)

    def _on_overlay_clicked(self) -> None:
        paths = self.selected_runs()
        if len(paths) == 1:
            self.overlay_requested.emit(paths[0])

    def _on_open_clicked(self) -> None:
        paths = self.selected_runs()
        folder = paths[0] if len(paths) == 1 else self.runs_dir
        if folder is None:
            return
        if not self.open_url(QUrl.fromLocalFile(str(folder))):
            self._say(f"Could not open {folder}: no file manager answered.", error=True)

    def _on_tensorboard_clicked(self) -> None:
        program = self.find_tensorboard()
        if program is None or not self._folder_exists():
            self._update_buttons()
            return
        try:
            launch = tensorboard_launch(self.runs_dir, program)
        except OSError as err:
            self._say(f"Could not start TensorBoard: {err}", error=True)
            return
        if self.start_detached(launch.program, launch.arguments, str(self.runs_dir)):
            self.tensorboard_url = launch.url
            self._say(
                f'TensorBoard serves the runs at <a href="{launch.url}">{launch.url}</a> '
                f"(it may take a few seconds to start)."
            )
        else:
            self._say(f"Could not start TensorBoard ({launch.program}).", error=True)

    def _on_message_link_activated(self, url: str) -> None:
        self.open_url(QUrl(url))

    def _say(self, text: str, error: bool = False) -> None:
        color = f"color: {error_text_color()};" if error else ""
        self.message.setStyleSheet(color)
        self.message.setText(text)


def _cells(info: RunInfo) -> list[str]:
    if not info.readable:
        return [info.name, info.date_text(), "-", "-", "-", "-", info.status_text]
    model = info.model_hash or "-"
    if info.model_name and info.model_hash:
        model = f"{info.model_name} {info.model_hash}"
    return [
        info.name,
        info.date_text(),
        model,
        info.best_text(),
        info.time_text(),
        info.epochs_text(),
        info.status_text,
    ]
