"""Several runs side by side: `torchcanvas compare`'s table and their validation curves.

The table is compare's report: a row per run with its best score, epochs, time and speed,
and a column for every setting in which the runs' setups differ (those columns are why two
scores may not be comparable, so they stand out). The plot overlays one validation column of
metrics.csv for every run (val_loss or the task's metric, chosen above the plot), in the
colours `torchcanvas compare` gives them.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from builder.gui.train.compare_plot import integer_ticks, pg, run_color, themed_plot
from builder.training.compare import (
    CompareError,
    Run,
    best_text,
    count_text,
    duration,
    load_runs,
    report,
)
from builder.training.curves import metric_column, series

SCORE_HEADERS = ("run", "model", "params", "best", "epochs", "time", "samples/s")
NUMERIC_COLUMNS = (2, 4, 5, 6)  # right-aligned, so digits line up
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


class CompareView(QWidget):
    """``show_runs(paths)``; ``runs`` are the runs shown, in the table's order."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.runs: list[Run] = []
        self.note = QLabel(self)
        self.note.setWordWrap(True)
        self.table = QTableWidget(self)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.column_box = QComboBox(self)
        self.column_box.currentTextChanged.connect(self._on_column_box_changed)
        self.plot = themed_plot(self, "epoch", "")
        choose = QHBoxLayout()
        choose.addWidget(QLabel("Validation curve:", self))
        choose.addWidget(self.column_box)
        choose.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.note)
        layout.addWidget(self.table)
        layout.addLayout(choose)
        layout.addWidget(self.plot, 1)

    def show_runs(self, paths: list[Path]) -> bool:
        """Compare these runs; False (and the reason in the note) when one cannot be read."""
        try:
            runs = load_runs([str(path) for path in paths])
        except CompareError as err:
            self.runs = []
            self.note.setText(f"Cannot compare: {err}")
            self.table.setRowCount(0)
            self.column_box.clear()
            self.plot.getPlotItem().clear()
            return False
        self.runs = runs
        result = report(runs)
        self.note.setText(_setup_note(result["differences"]))
        self._fill_table(result["runs"], result["differences"])
        self._fill_columns()
        return True

    def curve_items(self) -> list[pg.PlotDataItem]:
        return self.plot.getPlotItem().listDataItems()

    # -- the table ----------------------------------------------------------------------------

    def _fill_table(self, rows: list[dict[str, Any]], differences: dict[str, dict]) -> None:
        settings = list(differences)
        headers = [*SCORE_HEADERS, *settings]
        metrics = {row["metric"] for row in rows}
        if len(metrics) == 1 and None not in metrics:
            headers[SCORE_HEADERS.index("best")] = f"best {next(iter(metrics))} (epoch)"
        self.table.clear()
        self.table.setColumnCount(len(headers))
        self.table.setHorizontalHeaderLabels(headers)
        self.table.setRowCount(len(rows))
        bold = QFont(self.font())
        bold.setBold(True)
        for index, row in enumerate(rows):
            cells = [
                row["run"],
                row["model"] or "-",
                count_text(row["params"]),
                best_text(row, with_name=len(metrics) > 1),
                str(row["epochs"]),
                duration(row["seconds"]),
                count_text(row["samples_per_s"]),
            ]
            cells += [_setting(differences[key][row["run"]]) for key in settings]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column >= len(SCORE_HEADERS):
                    item.setFont(bold)  # the settings that differ: the reason to be careful
                    item.setToolTip(f"{headers[column]} differs between these runs")
                if column in NUMERIC_COLUMNS:
                    item.setTextAlignment(RIGHT)
                self.table.setItem(index, column, item)
            self.table.item(index, 0).setForeground(pg.mkColor(run_color(index)))
        self.table.setMaximumHeight(
            self.table.horizontalHeader().height()
            + sum(self.table.rowHeight(i) for i in range(len(rows)))
            + 4
        )

    # -- the plot -----------------------------------------------------------------------------

    def _fill_columns(self) -> None:
        metrics = []
        for run in self.runs:
            metric = metric_column(run.rows)
            if metric and metric not in metrics:
                metrics.append(metric)
        # One shared metric is what users compare by; runs of different tasks share val_loss.
        default = metrics[0] if len(metrics) == 1 else "val_loss"
        self.column_box.blockSignals(True)
        self.column_box.clear()
        self.column_box.addItems(["val_loss", *metrics])
        self.column_box.setCurrentText(default)
        self.column_box.blockSignals(False)
        self._draw(default)

    def _on_column_box_changed(self, column: str) -> None:
        if column:
            self._draw(column)

    def _draw(self, column: str) -> None:
        item = self.plot.getPlotItem()
        item.clear()
        item.setLabel("left", column)
        last = 0
        for index, run in enumerate(self.runs):
            epochs, values = series(run.rows, column)
            if not any(math.isfinite(v) for v in values):
                continue
            color = run_color(index)
            last = max(last, int(max(epochs)))
            # connect="finite": a NaN epoch is a gap, as in compare.png, not a line to zero.
            item.plot(
                epochs,
                values,
                name=run.label,
                pen=pg.mkPen(color, width=2),
                symbol="o",
                symbolSize=6,
                symbolBrush=color,
                symbolPen=None,
                connect="finite",
            )
        integer_ticks(self.plot, last)


def _setup_note(differences: dict[str, dict]) -> str:
    if not differences:
        return "These runs were trained under the same setup."
    return (
        f"These runs were not trained under the same setup: they differ in "
        f"{', '.join(differences)} (the columns in bold)."
    )


def _setting(value: Any) -> str:
    if value is None:
        return "-"  # not set (max_steps: no limit) or not recorded
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
