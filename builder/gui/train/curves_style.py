"""The Train panel's plot colours, in a light and a dark variant.

The widgets follow the window's palette (light, dark or the desktop's, see builder/gui/theme.py)
instead of taking a Theme: the app changes theme by setting the application palette, which
reaches every widget as a PaletteChange. Each series colour was picked to stay readable on
both backgrounds, with the dark variants lighter (a dark red on near-black is hard to see).
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QWidget

LIGHT_SERIES = {
    "step_loss": "#8fb3ec",  # the thin per-step loss: a paler blue behind the epoch line
    "train_loss": "#2f6fdb",
    "val_loss": "#d9480f",
    "metric": "#2b8a3e",
    "best": "#e09b00",
    "lr": "#6e7781",  # grey: the rate is context, the losses are the story
}
DARK_SERIES = {
    "step_loss": "#4f78b0",
    "train_loss": "#58a6ff",
    "val_loss": "#ff8c5a",
    "metric": "#56d364",
    "best": "#f2cc60",
    "lr": "#9ba6b2",
}
# Earlier runs, in order of arrival: distinct from the live series and from each other.
LIGHT_OVERLAYS = ("#c23f88", "#0f9b8e", "#9a6634", "#5a54c9", "#7f8f1f", "#1e9fc4", "#b0475a")
DARK_OVERLAYS = ("#f778ba", "#39c5bb", "#d2a56d", "#a5a0ff", "#c3d35a", "#6cd0f0", "#ff8fa3")


@dataclass(frozen=True)
class PlotColors:
    dark: bool
    background: QColor
    text: QColor
    subtle: QColor  # axes, grid, frames
    series: dict[str, str]
    overlays: tuple[str, ...]

    def series_color(self, role: str) -> QColor:
        return QColor(self.series[role])

    def overlay_color(self, index: int) -> QColor:
        return QColor(self.overlays[index % len(self.overlays)])


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def plot_colors(widget: QWidget) -> PlotColors:
    """The colours for ``widget``'s current palette."""
    palette = widget.palette()
    dark = is_dark(palette)
    text = palette.color(QPalette.ColorRole.Text)
    subtle = QColor(text)
    subtle.setAlphaF(0.55)
    return PlotColors(
        dark=dark,
        background=palette.color(QPalette.ColorRole.Base),
        text=text,
        subtle=subtle,
        series=DARK_SERIES if dark else LIGHT_SERIES,
        overlays=DARK_OVERLAYS if dark else LIGHT_OVERLAYS,
    )
