"""Laying out calls the way ``ruff format`` does, so generated code needs no formatter.

Two tries: everything on one line, as ruff would; else one argument per line with a trailing
comma. ruff's own middle try (the arguments together on one indented line between the
brackets) is left out: without the trailing comma ruff format joins those lines again at a
longer line length, so the code would be formatted for 88 columns only, not for this
repo's 100.
"""

from __future__ import annotations

from dataclasses import dataclass

LINE_LENGTH = 88
INDENT = "    "


@dataclass(frozen=True)
class Call:
    func: str
    args: tuple  # of str or Call
    opener: str = "("
    closer: str = ")"
    # False for a list or tuple literal: split, ruff puts it one item a line, never all the
    # items together on one line inside the brackets as it does for call arguments.
    hug: bool = True

    def flat(self) -> str:
        inner = ", ".join(a.flat() if isinstance(a, Call) else a for a in self.args)
        return f"{self.func}{self.opener}{inner}{self.closer}"


def _flat(item) -> str:
    return item.flat() if isinstance(item, Call) else item


def layout(item, indent: str, prefix: str = "", suffix: str = "") -> list[str]:
    """Lines for ``prefix + item + suffix`` at ``indent``, split only where needed."""
    one_line = f"{indent}{prefix}{_flat(item)}{suffix}"
    if len(one_line) <= LINE_LENGTH:
        return [one_line]
    targets = _unpacked_targets(prefix)
    if len(f"{indent}{prefix}(") > LINE_LENGTH and len(targets) > 1:
        # Not even `a, b, c = (` fits: ruff splits the targets instead, one a line.
        return [f"{indent}(", *(f"{indent}{INDENT}{t}," for t in targets),
                *layout(item, indent, ") = ", suffix)]
    if not isinstance(item, Call) or not item.args:
        if not (prefix.endswith("= ") or prefix == "return "):
            return [one_line]
        # ruff puts a long right-hand side in parentheses on lines of its own, a tuple
        # (`return a, b`) one item a line, an operation still too long one operand a line.
        items = _top_level_items(_flat(item))
        if len(items) > 1:
            inner = [f"{i}," for i in items]
        elif len(f"{indent}{INDENT}{items[0]}") > LINE_LENGTH:
            inner = _operands(items[0])
        else:
            inner = items
        return [f"{indent}{prefix}(", *(f"{indent}{INDENT}{i}" for i in inner),
                f"{indent}){suffix}"]
    head = f"{indent}{prefix}{item.func}{item.opener}"
    if prefix and len(head) > LINE_LENGTH:
        # Even the call's first line is too long after `x, y = `: ruff then puts the whole
        # right-hand side in parentheses on lines of its own.
        return [f"{indent}{prefix}(", *layout(item, indent + INDENT), f"{indent}){suffix}"]
    tail = f"{indent}{item.closer}{suffix}"
    inner_indent = indent + INDENT
    if item.opener == "[" and len(item.args) == 1:
        # x[i]: a trailing comma would make the index a tuple, so ruff does not take it as
        # a request to keep the lines split, and hugs it.
        return [head, f"{inner_indent}{_flat(item.args[0])}", tail]
    # Split, always one argument a line with a trailing comma (never ruff's hugged form,
    # all the arguments on one line between the brackets): the trailing comma keeps ruff
    # format from joining the lines again at a longer line length (this repo's 100).
    lines = [head]
    for arg in item.args:
        lines += layout(arg, inner_indent, suffix=",")
    return lines + [tail]


def _top_level_items(text: str) -> list[str]:
    """``"a, (b, c), f(d, e)"`` -> ``["a", "(b, c)", "f(d, e)"]``."""
    items, depth, current = [], 0, ""
    for char in text:
        depth += {"(": 1, "[": 1, "{": 1, ")": -1, "]": -1, "}": -1}.get(char, 0)
        if char == "," and depth == 0:
            items.append(current.strip())
            current = ""
        else:
            current += char
    return items + [current.strip()]


def _operands(text: str) -> list[str]:
    """``"a + b"`` -> ``["a", "+ b"]``: a line break before each top-level operator."""
    parts, depth, start = [], 0, 0
    for index, char in enumerate(text):
        depth += {"(": 1, "[": 1, "{": 1, ")": -1, "]": -1, "}": -1}.get(char, 0)
        if depth == 0 and char in "+-*/@" and text[index - 1:index] == " " and \
                text[index + 1:index + 2] == " ":
            parts.append(text[start:index - 1])
            start = index
    return parts + [text[start:]]


def _unpacked_targets(prefix: str) -> list[str]:
    """``"a, (b, c) = "`` -> ``["a", "(b, c)"]``; [] when the prefix assigns nothing."""
    return _top_level_items(prefix[:-3]) if prefix.endswith(" = ") else []


def statement(indent: str, prefix: str, expr, comment: str = "") -> list[str]:
    """``prefix + expr`` (an assignment, a return) with an optional trailing comment.

    A comment that would push the line past the limit goes on its own line above, which
    ruff leaves alone (it would otherwise split the code to make room for the comment).
    """
    flat = f"{indent}{prefix}{_flat(expr)}"
    if comment and len(flat) + 4 + len(comment) <= LINE_LENGTH:
        return [f"{flat}  # {comment}"]
    above = comment_lines(indent, comment) if comment else []
    return above + layout(expr, indent, prefix)


def comment_lines(indent: str, comment: str) -> list[str]:
    """``# comment`` on lines of its own at ``indent``, broken after a top-level comma (between
    the shapes of a node with many outputs) where one line would be too long; continuation
    lines line up under the text after ``-> ``."""
    head, more = f"{indent}# ", f"{indent}#    "
    lines, current = [], ""
    for index, item in enumerate(_top_level_items(comment)):
        piece = item if index == 0 else f" {item}"
        start = head if not lines else more
        if current and len(start + current + "," + piece) + 1 > LINE_LENGTH:  # and its comma
            lines.append(start + current + ",")
            current = item
        else:
            current += ("," if index else "") + piece
    return lines + [(head if not lines else more) + current]
