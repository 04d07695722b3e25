"""The sanity ladder as a checklist that fills in while `torchcanvas sanity --json-progress`
runs: each rung pending, running, passed or failed with its loss against its threshold, and
when the ladder fails, the likely causes; a cause that names a node links to it on the canvas.

The progress lines it reads (readers ignore events and fields they do not know):

- ``{"event": "rung_started", "name": str}``
- ``{"event": "rung", "name": str, "passed": bool, "loss": float|null, "threshold": float|null,
  "steps": int, "notes": [str]}`` (null: NaN or infinite)
- ``{"event": "ladder", "passed": bool, "lr": float, "causes": [str],
  "cause_nodes": [{"cause": str, "node": str}]}``
"""

from __future__ import annotations

import html
import math
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from builder.gui.theme import error_text_color

# The rungs of builder/training/sanity.py's run_ladder, in its order, with what each checks.
RUNGS = {
    "init": "Loss at initialisation",
    "1 sample": "Overfit 1 sample",
    "10 samples": "Overfit 10 samples",
    "full": "Short run on the full training set",
}
PENDING, RUNNING, PASSED, FAILED, NOT_RUN = "pending", "running", "passed", "failed", "not run"
MARKS = {PENDING: "○", PASSED: "✓", FAILED: "✗", NOT_RUN: "–"}
SPINNER = "◐◓◑◒"
PASS_COLOR = "#2e8b57"


class RungRow:
    """One line of the checklist: a mark, the rung's name, its figures, its notes."""

    def __init__(self, parent: QWidget, grid: QGridLayout, name: str):
        self.name = name
        self.state = PENDING
        self.mark = QLabel(parent)
        self.mark.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.mark.setMinimumWidth(self.mark.fontMetrics().horizontalAdvance("◐") * 2)
        bigger = QFont(self.mark.font())
        bigger.setPointSizeF(bigger.pointSizeF() * 1.3)
        self.mark.setFont(bigger)
        self.title = QLabel(RUNGS.get(name, name), parent)
        self.detail = QLabel(parent)
        # Both wrap: the panel shares a narrow dock, which a long line would widen (the canvas
        # shrinking under the user's eyes when a rung ends).
        self.title.setWordWrap(True)
        self.detail.setWordWrap(True)
        self.notes = QLabel(parent)
        self.notes.setWordWrap(True)
        self.notes.hide()
        row = grid.rowCount()
        grid.addWidget(self.mark, row, 0, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self.title, row, 1, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self.detail, row, 2, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self.notes, row + 1, 1, 1, 2)
        for widget in (self.mark, self.title, self.detail):
            widget.show()  # a widget added to a window already shown stays hidden otherwise
        self.set_state(PENDING, "")

    def remove(self) -> None:
        for widget in (self.mark, self.title, self.detail, self.notes):
            widget.hide()
            widget.deleteLater()

    def set_state(self, state: str, detail: str, notes: list[str] = ()) -> None:
        self.state = state
        self.mark.setText(MARKS.get(state, SPINNER[0]))
        color = {PASSED: PASS_COLOR, FAILED: error_text_color()}.get(state)
        self.mark.setStyleSheet(f"color: {color};" if color else "")
        self.detail.setText(detail)
        self.notes.setText("\n".join(f"• {note}" for note in notes))
        self.notes.setVisible(bool(notes))

    def spin(self, frame: int) -> None:
        if self.state == RUNNING:
            self.mark.setText(SPINNER[frame % len(SPINNER)])


class LadderView(QWidget):
    """``reset()``, then ``add_event(line)`` for every progress line; ``node_requested(name)``
    when a cause's node link is clicked."""

    node_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.rows: dict[str, RungRow] = {}
        self.passed: bool | None = None  # the verdict, once the ladder has ended
        self.causes: list[tuple[str, list[str]]] = []  # (cause, its nodes), as shown
        self._frame = 0
        self._spinner = QTimer(self)
        self._spinner.setInterval(120)
        self._spinner.timeout.connect(self._on_spinner_timeout)
        self.heading = QLabel("Sanity ladder", self)
        heading_font = QFont(self.heading.font())
        heading_font.setBold(True)
        self.heading.setFont(heading_font)
        self._rung_widget = QWidget(self)
        self._grid = QGridLayout(self._rung_widget)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setColumnStretch(2, 1)
        self.verdict = QLabel(self)
        self.verdict.setWordWrap(True)
        self._causes_widget = QWidget(self)
        self._causes_layout = QVBoxLayout(self._causes_widget)
        self._causes_layout.setContentsMargins(12, 0, 0, 0)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self._rung_widget)
        layout.addWidget(self.verdict)
        layout.addWidget(self._causes_widget)
        layout.addStretch(1)
        self.reset()

    def reset(self) -> None:
        """The four rungs, pending; no verdict."""
        self._spinner.stop()
        for name in [name for name in self.rows if name not in RUNGS]:
            self.rows.pop(name).remove()
        for name in RUNGS:
            self._row(name).set_state(PENDING, "")
        self.passed = None
        self.heading.setText("Sanity ladder")
        self.verdict.clear()
        self.verdict.setStyleSheet("")
        self._show_causes([])

    def add_event(self, event: dict[str, Any]) -> None:
        """One progress line, parsed; unknown events and malformed fields are ignored."""
        kind = event.get("event") if isinstance(event, dict) else None
        if kind == "rung_started":
            self._on_rung_started(event)
        elif kind == "rung":
            self._on_rung(event)
        elif kind == "ladder":
            self._on_ladder(event)

    # -- events -------------------------------------------------------------------------------

    def _on_rung_started(self, event: dict) -> None:
        name = event.get("name")
        if not isinstance(name, str):
            return
        self._row(name).set_state(RUNNING, "running…")
        self._spinner.start()

    def _on_rung(self, event: dict) -> None:
        name = event.get("name")
        if not isinstance(name, str):
            return
        passed = event.get("passed") is True
        notes = (
            [str(n) for n in event.get("notes") or [] if isinstance(n, str)]
            if isinstance(event.get("notes"), list)
            else []
        )
        self._row(name).set_state(PASSED if passed else FAILED, rung_detail(event), notes)
        self._stop_spinner_when_idle()

    def _on_ladder(self, event: dict) -> None:
        for row in self.rows.values():
            if row.state in (PENDING, RUNNING):
                row.set_state(NOT_RUN, "not run")
        self._stop_spinner_when_idle()
        self.passed = event.get("passed") is True
        lr = event.get("lr")
        at = f" at lr {lr:g}" if _is_number(lr) else ""
        if self.passed:
            self.verdict.setText(f"Passed{at}: every rung passed. The model can learn; train it.")
            self.verdict.setStyleSheet(f"color: {PASS_COLOR};")
            self._show_causes([])
            return
        failed = [row.name for row in self.rows.values() if row.state == FAILED]
        which = f" ({', '.join(failed)})" if failed else ""
        self.verdict.setText(f"Failed{which}{at}. Likely causes:")
        self.verdict.setStyleSheet(f"color: {error_text_color()};")
        self._show_causes(_causes_with_nodes(event))

    def _on_spinner_timeout(self) -> None:
        self._frame += 1
        for row in self.rows.values():
            row.spin(self._frame)

    def _stop_spinner_when_idle(self) -> None:
        if not any(row.state == RUNNING for row in self.rows.values()):
            self._spinner.stop()

    # -- pieces -------------------------------------------------------------------------------

    def _row(self, name: str) -> RungRow:
        """The rung's row; a rung this view does not know yet gets one at the end."""
        if name not in self.rows:
            self.rows[name] = RungRow(self._rung_widget, self._grid, name)
        return self.rows[name]

    def _show_causes(self, causes: list[tuple[str, list[str]]]) -> None:
        while self._causes_layout.count():
            widget = self._causes_layout.takeAt(0).widget()
            if widget is not None:
                widget.deleteLater()
        self.causes = causes
        self.cause_labels: list[QLabel] = []
        self.node_links: list[QLabel] = []
        for cause, nodes in causes:
            label = QLabel(f"• {cause}", self._causes_widget)
            label.setWordWrap(True)
            label.setTextFormat(Qt.TextFormat.PlainText)  # the runner's words, shown as they are
            self._causes_layout.addWidget(label)
            label.show()
            self.cause_labels.append(label)
            for node in nodes:
                self._causes_layout.addWidget(self._node_link(node))
        self._causes_widget.setVisible(bool(causes))

    def _node_link(self, node: str) -> QLabel:
        link = QLabel(
            f'&nbsp;&nbsp;&nbsp;<a href="{html.escape(node, quote=True)}">'
            f"Show '{html.escape(node)}' on the canvas</a>",
            self._causes_widget,
        )
        link.setTextFormat(Qt.TextFormat.RichText)
        link.setTextInteractionFlags(
            Qt.TextInteractionFlag.LinksAccessibleByMouse
            | Qt.TextInteractionFlag.LinksAccessibleByKeyboard
        )
        link.setToolTip(f"Select node '{node}' on the canvas")
        link.linkActivated.connect(lambda _href, name=node: self.node_requested.emit(name))
        link.show()
        self.node_links.append(link)
        return link


def rung_detail(event: dict) -> str:
    """The figures of a finished rung, worded like `torchcanvas sanity`'s report."""
    loss, threshold, steps = event.get("loss"), event.get("threshold"), event.get("steps")
    if event.get("name") == "init":
        expected = f" (expected {_number(threshold)})" if _is_number(threshold) else ""
        return f"loss {_number(loss)}{expected}"
    text = f"loss {_number(loss)}"
    if _is_number(threshold):
        relation = "<" if event.get("passed") is True else "not <"
        text += f" {relation} {_number(threshold)}"
    if isinstance(steps, int) and not isinstance(steps, bool):
        text += f" after {steps} step{'s' if steps != 1 else ''}"
    return text


def _causes_with_nodes(event: dict) -> list[tuple[str, list[str]]]:
    """The causes, each with the nodes it names; a node's cause missing from ``causes`` is
    added, so that no link is lost."""
    causes = (
        [c for c in event.get("causes") or [] if isinstance(c, str)]
        if isinstance(event.get("causes"), list)
        else []
    )
    found: dict[str, list[str]] = {cause: [] for cause in causes}
    links = event.get("cause_nodes") if isinstance(event.get("cause_nodes"), list) else []
    for link in links:
        if not isinstance(link, dict):
            continue
        cause, node = link.get("cause"), link.get("node")
        if isinstance(cause, str) and isinstance(node, str) and node:
            nodes = found.setdefault(cause, [])
            if node not in nodes:
                nodes.append(node)
    return list(found.items())


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _number(value: Any) -> str:
    """A loss: null in the JSON (and NaN here) is a loss that was not finite."""
    if not _is_number(value):
        return "not finite (NaN or Inf)"
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Inf" if value > 0 else "-Inf"
    return f"{value:.3g}"
