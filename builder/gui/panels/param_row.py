"""One parameter in the inspector: a typed editor, a reset button, and where the value came from.

Numbers, sizes, shapes and index lists are typed as text and checked as typed
(``param_text``); true/false is a check box; a fixed set of options is a combo box. A value
the user did not set shows how it came about: inferred from upstream, bound to an argument of
the network, or the layer's default.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QMenu,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from builder.gui.controller import REMOVE
from builder.gui.panels.fields import DERIVED_COLOR, CheckedField, NoteLabel
from builder.gui.panels.inspector_data import ParamValue
from builder.gui.panels.param_text import format_param, parse_param
from graph_schema.catalog.params import ParamSpec


class ParamRow(QWidget):
    value_committed = Signal(str, object)  # parameter name, JSON value or REMOVE
    entered = Signal()  # Enter on a valid value: the user is done with this field

    def __init__(self, spec: ParamSpec, arguments: list[str], parent: QWidget | None = None):
        super().__init__(parent)
        self.spec = spec
        self.editor = _make_editor(spec)
        self.editor.committed.connect(self._on_editor_committed)
        if isinstance(self.editor, CheckedField):
            self.editor.entered.connect(self.entered)
        self.reset_button = QToolButton(text="↺", autoRaise=True)
        self.reset_button.setToolTip(
            "Back to the inferred value" if spec.inferable else "Back to the default value")
        self.reset_button.clicked.connect(lambda: self.value_committed.emit(spec.name, REMOVE))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        policy = self.reset_button.sizePolicy()
        policy.setRetainSizeWhenHidden(True)  # editors line up whether or not it shows
        self.reset_button.setSizePolicy(policy)
        top = Qt.AlignmentFlag.AlignTop  # beside the field, not beside the note under it
        layout.addWidget(self.editor, 1)
        layout.addWidget(self.reset_button, 0, top)
        if arguments:
            layout.addWidget(self._bind_button(arguments), 0, top)
        if spec.doc:
            self.setToolTip(spec.doc)

    def _bind_button(self, arguments: list[str]) -> QToolButton:
        button = QToolButton(text="arg", autoRaise=True)
        button.setToolTip("Take the value from an argument of this network")
        button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(button)
        for name in arguments:
            menu.addAction(name, lambda n=name: self.value_committed.emit(self.spec.name,
                                                                          {"arg": n}))
        button.setMenu(menu)
        return button

    def show_value(self, shown: ParamValue) -> None:
        self.editor.show_value(shown)
        self.reset_button.setEnabled(shown.origin in ("set", "argument"))
        self.reset_button.setVisible(shown.origin in ("set", "argument"))

    def _on_editor_committed(self, value: Any) -> None:
        self.value_committed.emit(self.spec.name, value)


def _make_editor(spec: ParamSpec) -> QWidget:
    if spec.kind == "bool" and not spec.optional:
        return BoolEditor(spec)
    if spec.options is not None:
        return ChoiceEditor(spec)
    return TextEditor(spec)


class TextEditor(CheckedField):
    def __init__(self, spec: ParamSpec):
        super().__init__(lambda text: parse_param(spec, text))
        self.spec = spec
        if spec.required and not spec.inferable:
            self.set_placeholder("required")
        elif spec.optional:
            self.set_placeholder("None")

    def show_value(self, shown: ParamValue) -> None:
        if shown.origin == "unknown":
            self.set_placeholder("inferred")
        self.show_text(format_param(self.spec, shown.value), shown.derived, shown.hint)


class _NotedEditor(QWidget):
    """An editor that commits on the user's click, with a note (where the value came from)."""

    committed = Signal(object)

    def __init__(self, control: QWidget):
        super().__init__()
        self.control = control
        self.note = NoteLabel()
        self.note.setStyleSheet(f"color: {DERIVED_COLOR}; font-style: italic;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(1)
        layout.addWidget(control)
        layout.addWidget(self.note)

    def show_value(self, shown: ParamValue) -> None:
        # Every subclass defines _set: how its control displays a value.
        with QSignalBlocker(self.control):
            self._set(shown.value)
        self.note.show_note(shown.hint)


class BoolEditor(_NotedEditor):
    def __init__(self, spec: ParamSpec):
        super().__init__(QCheckBox())
        self.control.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        self.control.clicked.connect(lambda checked: self.committed.emit(bool(checked)))

    def _set(self, value: Any) -> None:
        self.control.setChecked(bool(value))
        self.control.setText("true" if value else "false")


class ChoiceEditor(_NotedEditor):
    """One of a fixed set: a layer's choices, a dtype, or an optional true/false."""

    def __init__(self, spec: ParamSpec):
        super().__init__(QComboBox())
        options = spec.options
        self.spec = spec
        self.options = options
        for option in options:
            self.control.addItem(format_param(spec, option) or "None")
        self.control.activated.connect(
            lambda index: self.committed.emit(self.options[index]))

    def _set(self, value: Any) -> None:
        matches = [i for i, option in enumerate(self.options)
                   if option == value and type(option) is type(value)]
        if not matches:  # a value no option matches (a bad file): show it; diagnostics say why
            self.options.append(value)
            self.control.addItem(format_param(self.spec, value) or "None")
            matches = [len(self.options) - 1]
        self.control.setCurrentIndex(matches[0])
