"""Colours and fonts of the canvas, in a light and a dark variant.

One colour per layer family, chosen to stay distinct from each other and readable on both
backgrounds; the glyph painter, the palette and exported diagrams all take them from here.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QGuiApplication, QPalette

FAMILY_COLORS: dict[str, str] = {
    "io": "#5f6b7a",
    "conv": "#2f6fdb",
    "linear": "#7b4fd6",
    "pool": "#0f9b8e",
    "norm": "#d4901a",
    "activation": "#e0533a",
    "dropout": "#8a8f98",
    "recurrent": "#3a9a3a",
    "attention": "#c23f88",
    "embedding": "#9a6634",
    "merge": "#394559",
    "reshape": "#1e9fc4",
    "padding": "#7f8f1f",
    "resample": "#5a54c9",
    "reduce": "#b0475a",
    "op": "#4f7f6f",
    "block": "#2c5d8a",
}

ERROR_COLOR = "#d62828"
WARNING_COLOR = "#e09b00"
# Error *text* on a dark background: ERROR_COLOR there is dark red on near-black, hard to read.
ERROR_TEXT_ON_DARK = "#ff7b72"


def error_text_color() -> str:
    """The red for error text in the window's current colours (lighter when they are dark)."""
    app = QGuiApplication.instance()
    if app is None:
        return ERROR_COLOR
    dark = app.palette().color(QPalette.ColorRole.Window).lightness() < 128
    return ERROR_TEXT_ON_DARK if dark else ERROR_COLOR


@dataclass(frozen=True)
class Theme:
    name: str
    background: QColor
    grid: QColor
    node_fill: QColor
    node_text: QColor
    node_subtext: QColor
    node_border: QColor
    selection: QColor
    edge: QColor
    label_fill: QColor
    label_text: QColor
    port_fill: QColor

    def family_color(self, family: str) -> QColor:
        return QColor(FAMILY_COLORS.get(family, FAMILY_COLORS["op"]))

    def tint(self, family: str) -> QColor:
        """The node body: the family colour, faded into the background."""
        base = self.family_color(family)
        strength = 0.10 if self.name == "light" else 0.22
        return _mix(self.node_fill, base, strength)


def _mix(a: QColor, b: QColor, amount: float) -> QColor:
    return QColor(
        round(a.red() + (b.red() - a.red()) * amount),
        round(a.green() + (b.green() - a.green()) * amount),
        round(a.blue() + (b.blue() - a.blue()) * amount),
    )


LIGHT = Theme(
    name="light",
    background=QColor("#f7f8fa"),
    grid=QColor("#e6e9ee"),
    node_fill=QColor("#ffffff"),
    node_text=QColor("#1b1f24"),
    node_subtext=QColor("#57606a"),
    node_border=QColor("#b8c0cc"),
    selection=QColor("#1f6feb"),
    edge=QColor("#6e7781"),
    label_fill=QColor("#ffffff"),
    label_text=QColor("#24292f"),
    port_fill=QColor("#ffffff"),
)

DARK = Theme(
    name="dark",
    background=QColor("#1e2227"),
    grid=QColor("#2a2f36"),
    node_fill=QColor("#2b3038"),
    node_text=QColor("#e6edf3"),
    node_subtext=QColor("#9ba6b2"),
    node_border=QColor("#4a5361"),
    selection=QColor("#58a6ff"),
    edge=QColor("#8b949e"),
    label_fill=QColor("#262b32"),
    label_text=QColor("#d0d7de"),
    port_fill=QColor("#1e2227"),
)

THEMES = {"light": LIGHT, "dark": DARK}


def system_theme() -> Theme:
    """Dark when the desktop is dark (Qt >= 6.5 knows the colour scheme), light otherwise."""
    app = QGuiApplication.instance()
    if app is None:
        return LIGHT
    scheme = app.styleHints().colorScheme()
    if scheme == Qt.ColorScheme.Dark:
        return DARK
    if scheme == Qt.ColorScheme.Light:
        return LIGHT
    window = app.palette().color(QPalette.ColorRole.Window)
    return DARK if window.lightness() < 128 else LIGHT


def theme_named(name: str) -> Theme:
    return THEMES.get(name) or system_theme()


def apply_to_application(theme_name: str) -> None:
    """Give the whole window (panels, menus, docks) the chosen theme, not only the canvas.

    "system" hands the palette back to the desktop; light and dark use Qt's Fusion style,
    whose palette covers every widget the same way on every platform.
    """
    app = QGuiApplication.instance()
    if app is None or not hasattr(app, "setStyle"):
        return
    if not hasattr(app, "_torchcanvas_native_style"):
        app._torchcanvas_native_style = app.style().name()
    if theme_name == "system":
        app.setStyle(app._torchcanvas_native_style)
        palette = indicators = app.style().standardPalette()
    else:
        app.setStyle("Fusion")
        palette, indicators = _palette(THEMES[theme_name]), _indicator_palette(THEMES[theme_name])
    app.setPalette(palette)
    for widget_class in INDICATOR_CLASSES:  # a class's palette outlives app.setPalette
        app.setPalette(indicators, widget_class)


INDICATOR_CLASSES = ("QCheckBox", "QRadioButton")


def _palette(theme: Theme) -> QPalette:
    palette = QPalette()
    dark = theme.name == "dark"
    base = QColor("#1b1f24") if dark else QColor("#ffffff")
    window = QColor("#24292f") if dark else QColor("#f0f2f5")
    text = theme.node_text
    roles = {
        QPalette.ColorRole.Window: window,
        QPalette.ColorRole.WindowText: text,
        QPalette.ColorRole.Base: base,
        QPalette.ColorRole.AlternateBase: window,
        QPalette.ColorRole.Text: text,
        QPalette.ColorRole.Button: window,
        QPalette.ColorRole.ButtonText: text,
        QPalette.ColorRole.ToolTipBase: base,
        QPalette.ColorRole.ToolTipText: text,
        QPalette.ColorRole.PlaceholderText: theme.node_subtext,
        QPalette.ColorRole.Highlight: theme.selection,
        QPalette.ColorRole.HighlightedText: QColor("#ffffff"),
        QPalette.ColorRole.Link: theme.selection,
    }
    # The bevel roles: Fusion draws tab-bar base lines and frame highlights in Light, which
    # Qt's default palette leaves white, a bright stripe across a dark window.
    if dark:
        roles.update({
            QPalette.ColorRole.Light: QColor("#3b424b"),
            QPalette.ColorRole.Midlight: QColor("#30363e"),
            QPalette.ColorRole.Mid: QColor("#1f2328"),
            QPalette.ColorRole.Dark: QColor("#16191d"),
            QPalette.ColorRole.Shadow: QColor("#0b0d10"),
            QPalette.ColorRole.BrightText: QColor("#ffffff"),
        })
    for role, color in roles.items():
        palette.setColor(role, color)
    disabled = QColor(theme.node_subtext)
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText,
                 QPalette.ColorRole.WindowText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    return palette


def _indicator_palette(theme: Theme) -> QPalette:
    """Check boxes and radio buttons: Fusion outlines their box in Window darkened and fills
    it with Base, both near-black in the dark theme, so an unchecked box vanished. Here the
    box is a shade lighter than the panel and its outline mid-grey."""
    palette = _palette(theme)
    if theme.name == "dark":
        palette.setColor(QPalette.ColorRole.Base, QColor("#2d333b"))
        palette.setColor(QPalette.ColorRole.Window, QColor("#9aa4b0"))  # outline: this, darker
    return palette


def ui_font(point_size: float, bold: bool = False) -> QFont:
    font = QFont()
    font.setFamilies(["DejaVu Sans", "Segoe UI", "Helvetica Neue", "Arial", "sans-serif"])
    font.setPointSizeF(point_size)
    font.setBold(bold)
    return font


def mono_font(point_size: float) -> QFont:
    font = QFont()
    font.setFamilies(["DejaVu Sans Mono", "Menlo", "Consolas", "monospace"])
    font.setStyleHint(QFont.StyleHint.Monospace)
    font.setPointSizeF(point_size)
    return font
