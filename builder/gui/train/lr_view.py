"""The learning-rate finder as it runs (`torchcanvas lr-find --json-progress`): the loss
against the learning rate (log scale) step by step, then the smoothed curve, the suggestion
marked, and a button that hands the suggestion to the project.

The progress lines it reads (readers ignore events and fields they do not know):

- ``{"event": "lr_step", "step": int, "lr": float, "loss": float|null}`` per step (null: the
  loss was NaN or infinite, which ends the sweep);
- ``{"event": "lr_find", "suggested_lr": float|null, "lrs": [...], "losses": [...],
  "smoothed": [...], "folder": str, "stopped_early": bool}`` at the end.
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from builder.gui.theme import error_text_color
from builder.gui.train.compare_plot import pg, themed_plot

RAW_COLOR, SMOOTH_COLOR, SUGGESTION_COLOR = "#9a9a9a", "#1f77b4", "#d62728"


class LrFindView(QWidget):
    """``reset()``, then ``add_event(line)`` for every progress line; ``lr_chosen(lr)`` when
    the user takes the suggestion."""

    lr_chosen = Signal(float)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.suggested_lr: float | None = None
        self.lrs: list[float] = []
        self.losses: list[float] = []  # NaN where the runner sent null
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        # The legend goes top left: the sweep ends high on the right.
        self.plot = themed_plot(self, "learning rate", "training loss", legend_at=(10, 10))
        self.plot.getPlotItem().setLogMode(x=True, y=False)
        self.raw_curve = self.plot.plot([], [], name="loss", pen=pg.mkPen(RAW_COLOR, width=1))
        self.smooth_curve = self.plot.plot(
            [], [], name="smoothed loss", pen=pg.mkPen(SMOOTH_COLOR, width=2)
        )
        self.marker = pg.InfiniteLine(
            angle=90,
            movable=False,
            pen=pg.mkPen(SUGGESTION_COLOR, width=2, style=pg.QtCore.Qt.PenStyle.DashLine),
            label="",
            labelOpts={"position": 0.9, "color": SUGGESTION_COLOR},
        )
        self.plot.addItem(self.marker, ignoreBounds=True)
        self.use_button = QPushButton(self)
        self.use_button.clicked.connect(self._on_use_button_clicked)
        buttons = QHBoxLayout()
        buttons.addWidget(self.use_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self.reset()

    def reset(self) -> None:
        self.lrs, self.losses, self.suggested_lr = [], [], None
        self.raw_curve.setData([], [])
        self.smooth_curve.setData([], [])
        self.marker.hide()
        self._say("The learning-rate finder has not run yet.")
        self._set_button(None)

    def add_event(self, event: dict[str, Any]) -> None:
        kind = event.get("event") if isinstance(event, dict) else None
        if kind == "lr_step":
            self._on_step(event)
        elif kind == "lr_find":
            self._on_result(event)

    # -- events -------------------------------------------------------------------------------

    def _on_step(self, event: dict) -> None:
        lr, loss = event.get("lr"), event.get("loss")
        if not _positive(lr):
            return  # no place on a log axis
        self.lrs.append(float(lr))
        self.losses.append(float(loss) if _is_number(loss) else math.nan)
        self._draw_raw()
        step = event.get("step")
        at = f"step {step}: " if isinstance(step, int) else ""
        shown = f"{loss:.4g}" if _is_number(loss) and math.isfinite(loss) else "not finite"
        self._say(f"Sweeping: {at}lr {lr:.1e}, loss {shown}")

    def _on_result(self, event: dict) -> None:
        lrs, losses = _floats(event.get("lrs")), _floats(event.get("losses"))
        smoothed = _floats(event.get("smoothed"))
        if lrs and len(losses) == len(lrs):  # the final word on the raw curve
            self.lrs, self.losses = lrs, losses
            self._draw_raw()
        if lrs and len(smoothed) == len(lrs):
            self.smooth_curve.setData(*_keep_positive(lrs, smoothed), connect="finite")
            self._limit_y(smoothed)
        suggested = event.get("suggested_lr")
        self.suggested_lr = float(suggested) if _positive(suggested) else None
        folder = event.get("folder")
        saved = (
            f" Saved in {folder} (lr_find.png, lr_find.json)."
            if isinstance(folder, str) and folder
            else ""
        )
        if self.suggested_lr is not None:
            # Shown first: a hidden line's label ignores a new format.
            self.marker.show()
            self.marker.label.setFormat(f"suggested {self.suggested_lr:.1e}")
            self.marker.setValue(math.log10(self.suggested_lr))  # the axis is log10(lr)
            self._say(
                f"Suggested learning rate {self.suggested_lr:.1e}: where the smoothed "
                f"loss falls fastest.{saved}"
            )
        else:
            self.marker.hide()
            self._say(
                f"No suggestion: {_why_none(lrs or self.lrs, smoothed, event)}.{saved}", error=True
            )
        self._set_button(self.suggested_lr)

    def _on_use_button_clicked(self) -> None:
        if self.suggested_lr is not None:
            self.lr_chosen.emit(self.suggested_lr)

    # -- pieces -------------------------------------------------------------------------------

    def _draw_raw(self) -> None:
        # connect="finite": a NaN step is a gap; the log axis needs positive lrs only.
        xs, ys = _keep_positive(self.lrs, self.losses)
        self.raw_curve.setData(xs, ys, connect="finite")

    def _limit_y(self, smoothed: list[float]) -> None:
        """Keep the diverging tail from squashing the interesting part flat (as lr_find.png
        does): from just under the lowest smoothed loss to 1.5 times the first."""
        finite = [v for v in smoothed if math.isfinite(v)]
        if not finite:
            return
        low, high = min(finite), max(finite[0], min(finite)) * 1.5
        if high > low:
            self.plot.getPlotItem().setYRange(low - 0.05 * (high - low), high, padding=0)

    def _set_button(self, lr: float | None) -> None:
        self.use_button.setEnabled(lr is not None)
        self.use_button.setText(
            f"Use this learning rate ({lr:.1e})" if lr is not None else "Use this learning rate"
        )
        self.use_button.setToolTip(
            "Set the project's learning rate to the suggestion (one undoable edit)"
            if lr is not None
            else "There is no suggestion to use"
        )

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setStyleSheet(f"color: {error_text_color()};" if error else "")
        self.status.setText(text)


def _why_none(lrs: list[float], smoothed: list[float], event: dict) -> str:
    if len(lrs) < 3:
        return (
            f"the sweep took only {len(lrs)} step(s) before the loss became NaN or "
            f"infinite; lower the start learning rate, or check the model with "
            f"`torchcanvas sanity`"
            if event.get("stopped_early") is True
            else f"the sweep took only {len(lrs)} step(s); give it more steps"
        )
    diverged = " and it diverged early" if event.get("stopped_early") is True else ""
    return f"the loss never fell during the sweep{diverged}; check the model with the sanity ladder"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _positive(value: Any) -> bool:
    return _is_number(value) and math.isfinite(value) and value > 0


def _floats(values: Any) -> list[float]:
    """A JSON list of numbers, null as NaN; [] when it is not a list."""
    if not isinstance(values, list):
        return []
    return [float(v) if _is_number(v) else math.nan for v in values]


def _keep_positive(xs: list[float], ys: list[float]) -> tuple[list[float], list[float]]:
    pairs = [(x, y) for x, y in zip(xs, ys) if math.isfinite(x) and x > 0]
    return [x for x, _ in pairs], [y for _, y in pairs]
