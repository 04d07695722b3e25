"""The Kept Source review: read what a project would run before trusting it.

A kept-source block is Python from the project file that becomes code when generated (see
graph_schema/trust.py). The dialog shows each untrusted one read-only, with every control
character, invisible character and Unicode bidi override spelled out as an escape and
highlighted: "Trojan Source" tricks hide code from a reader that way. A block whose imports
are not allowed cannot be checked, so it can never be trusted. The dialog only chooses;
builder/gui/kept_source.py trusts, as one undoable command.
"""

from __future__ import annotations

import unicodedata

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QTextCharFormat, QTextCursor, QTextOption
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QSplitter,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from builder.gui.theme import ERROR_COLOR, WARNING_COLOR, mono_font
from graph_schema.document import Block
from graph_schema.trust import allowed_text, disallowed_imports

TRUST_TEXT = "Trust and Sign"
WARNING = ("<b>Kept source is Python code that came with this project file.</b> Trusting it "
           "lets this code run, with your permissions, whenever the generated module is "
           "imported (and when the model trains). Trust it only if you have read it and know "
           "where it came from.")
HIDDEN_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs"}  # controls, format, ...
SHOWN_AS_IS = {"\n", "\t", " "}
ROLE_NAME = Qt.ItemDataRole.UserRole


def is_hidden(char: str) -> bool:
    """A character that draws as nothing, moves text around, or looks like a plain space."""
    return char not in SHOWN_AS_IS and unicodedata.category(char) in HIDDEN_CATEGORIES


def escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 \
        else f"\\U{code:08x}"


def visible_text(text: str) -> tuple[str, list[tuple[int, int]]]:
    """``text`` with hidden characters escaped, and where the escapes are (start, length, in
    UTF-16 units, as Qt's text cursors count)."""
    parts: list[str] = []
    spans: list[tuple[int, int]] = []
    position = 0
    for char in text:
        shown = escape(char) if is_hidden(char) else char
        width = len(shown.encode("utf-16-le")) // 2
        if shown is not char:
            spans.append((position, width))
        parts.append(shown)
        position += width
    return "".join(parts), spans


def imports_text(block: Block) -> str:
    lines = []
    for item in block.opaque.imports:
        if item.attribute is None:
            tail = "" if item.alias == item.module else f" as {item.alias}"
            lines.append(f"import {item.module}{tail}")
        else:
            tail = "" if item.alias == item.attribute else f" as {item.alias}"
            lines.append(f"from {item.module} import {item.attribute}{tail}")
    return "\n".join(lines) or "(none)"


def refusal(block: Block) -> str:
    """Why this block can never be trusted, or ""."""
    bad = sorted(set(disallowed_imports(block.opaque)))
    if not bad:
        return ""
    return f"Cannot be trusted: it imports {', '.join(bad)}. Kept source may import only " \
           f"{allowed_text()}, trusted or not."


def _plain_label(text: str = "") -> QLabel:
    """A label that never reads file text as HTML."""
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class KeptSourceDialog(QDialog):
    def __init__(self, blocks: list[Block], focus: str | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Review Kept Source")
        self.blocks = {block.name: block for block in blocks}
        self.list = QListWidget()
        self.list.setMinimumWidth(170)
        for block in blocks:
            self._add_item(block)
        self.fields = {name: _plain_label() for name in
                       ("Block", "Class", "Origin", "Reason", "Imports", "Builds")}
        self.problem = _plain_label()
        self.problem.setStyleSheet(f"color: {ERROR_COLOR}; font-weight: bold;")
        self.hidden_note = _plain_label()
        self.hidden_note.setStyleSheet(f"background: {WARNING_COLOR}; color: black; "
                                       "padding: 4px; border-radius: 3px;")
        self.source = QPlainTextEdit()
        self.source.setReadOnly(True)
        self.source.setFont(mono_font(10))
        self.source.setWordWrapMode(QTextOption.WrapMode.NoWrap)
        self.source.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                            | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        self.summary = _plain_label()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.trust_button = self.buttons.addButton(TRUST_TEXT,
                                                   QDialogButtonBox.ButtonRole.AcceptRole)
        self.trust_button.setAutoDefault(False)
        cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        cancel.setDefault(True)  # Enter never trusts by accident
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self._lay_out()
        self.list.currentItemChanged.connect(self._on_list_current_item_changed)
        self.list.itemChanged.connect(self._on_list_item_changed)
        names = list(self.blocks)
        self.list.setCurrentRow(names.index(focus) if focus in names else 0)
        self._on_list_item_changed()
        self.resize(1000, 680)

    def _add_item(self, block: Block) -> None:
        shown, _ = visible_text(block.name)
        item = QListWidgetItem(shown)
        item.setData(ROLE_NAME, block.name)
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if refusal(block):
            item.setText(f"{shown} (cannot be trusted)")
            item.setForeground(QColor(ERROR_COLOR))
            item.setCheckState(Qt.CheckState.Unchecked)
        else:
            flags |= Qt.ItemFlag.ItemIsUserCheckable
            item.setCheckState(Qt.CheckState.Checked)
        item.setFlags(flags)
        self.list.addItem(item)

    def _lay_out(self) -> None:
        self.banner = banner = QLabel(WARNING)
        banner.setTextFormat(Qt.TextFormat.RichText)  # our own text, never the file's
        banner.setWordWrap(True)
        banner.setStyleSheet(f"background: {WARNING_COLOR}; color: black; padding: 8px; "
                             "border-radius: 3px;")
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for name, label in self.fields.items():
            form.addRow(f"{name}:", label)
        details = QWidget()
        right = QVBoxLayout(details)
        right.setContentsMargins(6, 0, 0, 0)
        right.addLayout(form)
        right.addWidget(self.problem)
        right.addWidget(self.hidden_note)
        right.addWidget(self.source, 1)
        splitter = QSplitter()
        splitter.addWidget(self.list)
        splitter.addWidget(details)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([200, 800])
        layout = QVBoxLayout(self)
        layout.addWidget(banner)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.summary)
        layout.addWidget(self.buttons)

    # -- reading the choice ----------------------------------------------------------------
    def chosen(self) -> list[str]:
        """The blocks ticked for trusting (never one that cannot be trusted)."""
        names = []
        for row in range(self.list.count()):
            item = self.list.item(row)
            name = item.data(ROLE_NAME)
            if item.checkState() == Qt.CheckState.Checked and not refusal(self.blocks[name]):
                names.append(name)
        return names

    def shown_block(self) -> Block | None:
        item = self.list.currentItem()
        return self.blocks[item.data(ROLE_NAME)] if item is not None else None

    # -- slots -----------------------------------------------------------------------------
    def _on_list_current_item_changed(self, current: QListWidgetItem | None,
                                      _previous=None) -> None:
        if current is None:
            return
        block = self.blocks[current.data(ROLE_NAME)]
        opaque = block.opaque
        values = {"Block": block.name, "Class": opaque.class_name,
                  "Origin": opaque.origin or "(not recorded)",
                  "Reason": opaque.reason or "(not recorded)", "Imports": imports_text(block),
                  "Builds": ", ".join(opaque.requires) or "(no other kept classes)"}
        for name, value in values.items():
            self.fields[name].setText(visible_text(value)[0])
        self.problem.setText(refusal(block))
        self.problem.setVisible(bool(refusal(block)))
        text, spans = visible_text(opaque.source)
        self.source.setPlainText(text)
        self._mark(spans)
        self.hidden_note.setText(
            f"This source holds {len(spans)} invisible, control or bidi-override "
            f"character(s), shown highlighted as \\x.. / \\u.... escapes: they can make code "
            f"read differently from how it runs." if spans else "")
        self.hidden_note.setVisible(bool(spans))

    def _mark(self, spans: list[tuple[int, int]]) -> None:
        look = QTextCharFormat()
        look.setBackground(QColor(WARNING_COLOR))
        look.setForeground(QColor("black"))
        marks = []
        for start, length in spans:
            mark = QTextEdit.ExtraSelection()
            mark.cursor = QTextCursor(self.source.document())
            mark.cursor.setPosition(start)
            mark.cursor.setPosition(start + length, QTextCursor.MoveMode.KeepAnchor)
            mark.format = look
            marks.append(mark)
        self.source.setExtraSelections(marks)

    def _on_list_item_changed(self, _item=None) -> None:
        names = self.chosen()
        self.trust_button.setEnabled(bool(names))
        if names:
            self.summary.setText(f"{TRUST_TEXT} signs {len(names)} block(s) with this "
                                 f"machine's key: {visible_text(', '.join(names))[0]}. "
                                 f"Undo takes it back.")
        else:
            self.summary.setText("Nothing is ticked to trust.")
