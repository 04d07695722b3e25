"""Python literals for generated code.

Every value that comes from a project file reaches the generated source through these
functions, which only ever produce literals (numbers, strings, tuples, lists, None) or
docstring text: a file's content can never become code. Strings are quoted the way
``ruff format`` quotes them (double quotes unless that needs more escapes), so the output is
already formatted.
"""

from __future__ import annotations

import math
import textwrap
import unicodedata
from typing import Any

from codegen.pyformat import LINE_LENGTH


def py_str(text: str) -> str:
    """A string literal that evaluates to ``text``, quoted like ruff format would quote it."""
    quoted = repr(text)  # escapes backslashes, control characters and the quote repr chose
    body = quoted[1:-1]
    if quoted[0] == "'":
        body = _unescape_quote(body, "'")
    else:
        body = _unescape_quote(body, '"')
    quote = '"' if body.count('"') <= body.count("'") else "'"
    return quote + _escape_quote(body, quote) + quote


def _unescape_quote(body: str, quote: str) -> str:
    """Drop repr's backslash before ``quote`` (and only there: ``\\\\`` stays)."""
    out, i = [], 0
    while i < len(body):
        if body[i] == "\\" and i + 1 < len(body):
            pair = body[i:i + 2]
            out.append(quote if pair == "\\" + quote else pair)
            i += 2
        else:
            out.append(body[i])
            i += 1
    return "".join(out)


def _escape_quote(body: str, quote: str) -> str:
    out, i = [], 0
    while i < len(body):
        if body[i] == "\\" and i + 1 < len(body):
            out.append(body[i:i + 2])
            i += 2
            continue
        out.append("\\" + quote if body[i] == quote else body[i])
        i += 1
    return "".join(out)


def py_literal(value: Any) -> str:
    """A Python literal for a JSON-like parameter value."""
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        return repr(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value} cannot be written as a literal")
        return repr(value)
    if isinstance(value, str):
        return py_str(value)
    if isinstance(value, tuple):
        items = ", ".join(py_literal(v) for v in value)
        return f"({items},)" if len(value) == 1 else f"({items})"
    if isinstance(value, list):
        return "[" + ", ".join(py_literal(v) for v in value) + "]"
    raise ValueError(f"cannot write {type(value).__name__} as a literal")


def docstring_body(text: str, indent: str, lead: int = 3, tail: int = 3) -> str:
    """``text`` made safe and stable inside a triple-quoted docstring at ``indent``.

    Backslashes and quotes are escaped (a ``\"\"\"`` in the notes cannot end the docstring),
    other control characters become escapes, trailing spaces go, and continuation lines are
    indented to the docstring's level: the text ruff format would leave as it is.

    Lines are wrapped at spaces to fit ``LINE_LENGTH`` (88, ruff's default, so also any
    longer limit) with the indentation: ``lead`` columns come before the first line (the
    opening quotes) and ``tail`` may follow the last (closing quotes on the same line).
    The author's own line breaks stay, and a wrapped line keeps its line's indentation, so
    lists and tables in the notes keep their shape. A word longer than a line (a URL) is
    never broken: it gets a line of its own, which ruff's E501 allows.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").expandtabs(4)
    safe = []
    for char in text:
        if char == "\\":
            safe.append("\\\\")
        elif char == '"':
            safe.append('\\"')
        elif char != "\n" and (ord(char) < 32 or ord(char) == 127):
            safe.append(f"\\x{ord(char):02x}")
        elif not char.isprintable() and char != "\n":
            safe.append(f"\\u{ord(char):04x}" if ord(char) < 0x10000 else f"\\U{ord(char):08x}")
        else:
            safe.append(char)
    lines = [line.rstrip() for line in "".join(safe).split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    if not lines:
        return ""
    first = lines[0].lstrip()
    # ruff re-indents continuation lines relative to their common indentation; removing it
    # here means ruff finds nothing to change.
    rest = textwrap.dedent("\n".join(lines[1:])).split("\n") if len(lines) > 1 else []
    room = LINE_LENGTH - _width(indent)
    wrapped: list[str] = []
    for index, line in enumerate([first, *rest]):
        before = lead if index == 0 else 0
        chunks = _wrap(line, room, before)
        closing = tail + (before if len(chunks) == 1 else 0)
        if index == len(rest) and _width(chunks[-1]) + closing > room:
            chunks = _wrap(line, room - tail, before)  # leave room for the closing quotes
        wrapped += chunks
    body = [wrapped[0]] + [indent + line if line else "" for line in wrapped[1:]]
    return "\n".join(body)


def _wrap(line: str, room: int, lead: int) -> list[str]:
    """``line`` split at spaces into lines of at most ``room`` columns (the first one
    ``lead`` columns shorter), each starting with the line's own indentation."""
    margin = line[:len(line) - len(line.lstrip(" "))]
    out: list[str] = []
    current, limit = margin, room - lead
    for index, word in enumerate(line[len(margin):].split(" ")):
        if index == 0:
            current += word
        elif not word or _width(current) + 1 + _width(word) <= limit:
            current += " " + word  # an empty word: a second space of a run
        else:
            out.append(current.rstrip(" "))
            current, limit = margin + word, room
    out.append(current)
    return out


def _width(text: str) -> int:
    """Columns ``text`` takes, counted as ruff counts line length: wide East Asian
    characters two, combining marks none."""
    return sum(0 if unicodedata.combining(char) else
               2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)
