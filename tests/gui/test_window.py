"""The main window as a whole: standard shortcuts, keys that belong to text fields, the
window layout kept between runs, and the theme."""

from __future__ import annotations

from collections import Counter

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QColor, QKeySequence, QPalette
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from builder.gui.app import Windows
from builder.gui.mainwindow import MainWindow, settings
from tests.gui.panels_support import select
from tests.gui.windows import open_window

SHORTCUTS = {
    "Ctrl+Z": "Undo", "Ctrl+Shift+Z": "Redo", "Del": "Delete", "Ctrl+C": "Copy",
    "Ctrl+V": "Paste", "Ctrl+X": "Cut", "Ctrl+D": "Duplicate", "Ctrl+N": "New",
    "Ctrl+O": "Open", "Ctrl+S": "Save", "Ctrl+Shift+S": "Save As", "F": "Fit",
    "Ctrl+G": "Group", "Ctrl+L": "Auto Layout", "Ctrl+A": "Select All",
}


def shortcut_owners(window: MainWindow) -> dict[str, str]:
    owners = {}
    for action in window.findChildren(QAction):
        for sequence in action.shortcuts():
            text = sequence.toString(QKeySequence.SequenceFormat.PortableText)
            owners[text] = action.text().replace("&", "")
    return owners


def test_standard_shortcuts_are_there(qtbot):
    owners = shortcut_owners(open_window(qtbot))
    for sequence, wanted in SHORTCUTS.items():
        assert sequence in owners, f"nothing answers {sequence}"
        assert owners[sequence].startswith(wanted), f"{sequence} is {owners[sequence]!r}"


def test_letters_typed_in_a_field_stay_in_the_field(qtbot):
    window = open_window(qtbot, "mlp.json", active=True)
    view = window.current_view()
    zoom = view.zoom()
    select(window, "fc1")
    name = window.panels.inspector.form.name_field.edit
    name.setFocus()
    name.selectAll()
    QTest.keyClicks(name, "Fc")
    QTest.keyClick(name, Qt.Key.Key_Delete)
    assert name.text() == "Fc"
    assert view.zoom() == zoom  # "F" did not fit the view
    assert "fc1" in {n.name for n in window.doc.graph(window.current_key()).nodes}


def test_the_window_layout_is_kept_between_runs(qtbot):
    first = open_window(qtbot, "mlp.json")
    first.docks["palette"].hide()
    first.resize(760, 560)  # within the offscreen screen, which restoring clamps to
    size = (first.width(), first.height())
    first.close()
    second = Windows().new_window()
    qtbot.addWidget(second)
    second.restore_layout()
    second.show()
    assert second.docks["palette"].isHidden()
    assert (second.width(), second.height()) == size != (1400, 900)


def checked_theme(window: MainWindow) -> list[str]:
    return [a.text().replace("&", "") for a in window._theme_actions if a.isChecked()]


def test_dark_theme_reaches_every_widget_and_comes_back(qtbot):
    app = QApplication.instance()
    window = open_window(qtbot)
    view = window.current_view()
    window.set_theme("dark")
    assert app.palette().color(QPalette.ColorRole.Window).lightness() < 80
    assert window.theme.name == view.canvas.theme.name == "dark"
    assert canvas_background(view).lightness() < 80
    assert checked_theme(window) == ["Dark"] and settings().value("theme") == "dark"
    window.set_theme("light")
    assert app.palette().color(QPalette.ColorRole.Window).lightness() > 200
    assert window.theme.name == view.canvas.theme.name == "light"
    assert canvas_background(view).lightness() > 200
    window.set_theme("system")
    # The desktop's own style and palette come back, and the canvas follows the desktop,
    # which offscreen is light.
    assert app.palette() == app.style().standardPalette()
    assert app.palette().color(QPalette.ColorRole.Window).lightness() > 128
    assert window.theme_name == "system" and window.theme.name == "light"
    assert view.canvas.theme is window.theme
    assert canvas_background(view) == window.theme.background
    assert checked_theme(window) == ["Follow System"]
    assert settings().value("theme") == "system"


def canvas_background(view) -> QColor:
    """The colour most of the canvas is painted in, as the user sees it."""
    image = view.viewport().grab().toImage()
    counts = Counter(image.pixelColor(x, y).name() for x in range(0, image.width(), 3)
                     for y in range(0, image.height(), 3))
    return QColor(counts.most_common(1)[0][0])
