"""Python syntax highlighting for the code panel.

Line rules colour keywords, builtins, numbers, decorators, the names after ``def``/``class``,
strings and comments; the shape comments codegen writes (``# -> (N, 64, 56, 56)``) get their
own colour, since they are what a user reads the code for. Triple-quoted strings span lines,
so they are tracked with the block state, as QSyntaxHighlighter intends.
"""

from __future__ import annotations

import keyword
import re

from PySide6.QtGui import QColor, QFont, QSyntaxHighlighter, QTextCharFormat, QTextDocument

PALETTES = {
    "light": {"keyword": "#8839ef", "builtin": "#0b7285", "string": "#2b8a3e",
              "number": "#c2410c", "comment": "#7c8590", "shape": "#1f6feb",
              "definition": "#1864ab", "decorator": "#a61e4d", "self": "#9c4f00"},
    "dark": {"keyword": "#c69cf5", "builtin": "#66d9e8", "string": "#8ce99a",
             "number": "#ffa94d", "comment": "#8b949e", "shape": "#74c0fc",
             "definition": "#a5d8ff", "decorator": "#faa2c1", "self": "#ffc078"},
}
BUILTINS = ("super", "int", "float", "len", "range", "tuple", "list", "dict", "print",
            "isinstance", "zip", "enumerate")
TRIPLE = re.compile(r'"""|\'\'\'')
_NOT_IN_STRING = 0
_IN_DOUBLE, _IN_SINGLE = 1, 2  # inside a ''' or """ string that started on an earlier line


def _format(color: str, bold: bool = False, italic: bool = False) -> QTextCharFormat:
    fmt = QTextCharFormat()
    fmt.setForeground(QColor(color))
    if bold:
        fmt.setFontWeight(QFont.Weight.Bold)
    fmt.setFontItalic(italic)
    return fmt


class PythonHighlighter(QSyntaxHighlighter):
    def __init__(self, document: QTextDocument, theme_name: str = "light"):
        super().__init__(document)
        self.dimmed = False
        self._theme_name = theme_name
        self._build_rules()

    def set_theme(self, theme_name: str) -> None:
        self._theme_name = theme_name
        self._build_rules()
        self.rehighlight()

    def set_dimmed(self, dimmed: bool) -> None:
        """Faded colours for code that no longer matches the drawing (it has errors)."""
        if dimmed != self.dimmed:
            self.dimmed = dimmed
            self._build_rules()
            self.rehighlight()

    def _build_rules(self) -> None:
        colors = dict(PALETTES.get(self._theme_name, PALETTES["light"]))
        if self.dimmed:
            colors = dict.fromkeys(colors, "#9aa0a6")
        self.formats = {
            "keyword": _format(colors["keyword"], bold=True),
            "builtin": _format(colors["builtin"]),
            "self": _format(colors["self"], italic=True),
            "number": _format(colors["number"]),
            "decorator": _format(colors["decorator"]),
            "definition": _format(colors["definition"], bold=True),
            "string": _format(colors["string"]),
            "comment": _format(colors["comment"], italic=True),
            "shape": _format(colors["shape"], bold=True),
        }
        words = "|".join(keyword.kwlist + keyword.softkwlist)
        self.rules = [
            (re.compile(rf"\b({words})\b"), "keyword"),
            (re.compile(rf"\b({'|'.join(BUILTINS)})\b"), "builtin"),
            (re.compile(r"\bself\b"), "self"),
            (re.compile(r"\b(\d+\.?\d*([eE][+-]?\d+)?|0x[0-9a-fA-F]+)\b"), "number"),
            (re.compile(r"^\s*@[\w.]+"), "decorator"),
            (re.compile(r"(?<=\bdef )\w+|(?<=\bclass )\w+"), "definition"),
        ]

    # -- QSyntaxHighlighter ------------------------------------------------------------------
    def highlightBlock(self, text: str) -> None:  # noqa: N802
        for pattern, name in self.rules:
            for match in pattern.finditer(text):
                self.setFormat(match.start(), match.end() - match.start(), self.formats[name])
        self._strings_and_comments(text)

    def _strings_and_comments(self, text: str) -> None:
        """Walk the line once: strings win over the word rules, comments end the line."""
        state = self.previousBlockState()
        position = 0
        if state in (_IN_DOUBLE, _IN_SINGLE):
            position = self._continue_triple(text, 0, '"""' if state == _IN_DOUBLE else "'''")
            if position < 0:
                return
        self.setCurrentBlockState(_NOT_IN_STRING)
        while position < len(text):
            char = text[position]
            if char == "#":
                self._comment(text, position)
                return
            if text.startswith(('"""', "'''"), position):
                quote = text[position:position + 3]
                position = self._continue_triple(text, position, quote, opening=True)
                if position < 0:
                    return
                continue
            if char in "'\"":
                end = _string_end(text, position)
                self.setFormat(position, end - position, self.formats["string"])
                position = end
                continue
            position += 1

    def _continue_triple(self, text: str, start: int, quote: str, opening: bool = False) -> int:
        """Colour a triple-quoted string from ``start``; the index after it, or -1 when it
        runs past the end of the line (the block state carries it to the next)."""
        search_from = start + 3 if opening else start
        end = text.find(quote, search_from)
        if end < 0:
            self.setFormat(start, len(text) - start, self.formats["string"])
            self.setCurrentBlockState(_IN_DOUBLE if quote == '"""' else _IN_SINGLE)
            return -1
        self.setFormat(start, end + 3 - start, self.formats["string"])
        return end + 3

    def _comment(self, text: str, start: int) -> None:
        comment = text[start:]
        is_shape = comment.startswith("# ->")
        self.setFormat(start, len(comment), self.formats["shape" if is_shape else "comment"])


def _string_end(text: str, start: int) -> int:
    """The index after a one-line string starting at ``start`` (escapes respected)."""
    quote = text[start]
    position = start + 1
    while position < len(text):
        if text[position] == "\\":
            position += 2
            continue
        if text[position] == quote:
            return position + 1
        position += 1
    return len(text)
