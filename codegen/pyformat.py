"""Laying out calls the way ``ruff format`` does, so generated code needs no formatter.

Three tries, as ruff makes them: everything on one line; the arguments together on one
indented line between the brackets; one argument per line with a trailing comma.
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

    def flat(self) -> str:
        inner = ", ".join(a.flat() if isinstance(a, Call) else a for a in self.args)
        return f"{self.func}{self.opener}{inner}{self.closer}"


def _flat(item) -> str:
    return item.flat() if isinstance(item, Call) else item


def layout(item, indent: str, prefix: str = "", suffix: str = "") -> list[str]:
    """Lines for ``prefix + item + suffix`` at ``indent``, split only where needed."""
    one_line = f"{indent}{prefix}{_flat(item)}{suffix}"
    if len(one_line) <= LINE_LENGTH or not isinstance(item, Call) or not item.args:
        return [one_line]
    head = f"{indent}{prefix}{item.func}{item.opener}"
    tail = f"{indent}{item.closer}{suffix}"
    inner_indent = indent + INDENT
    hugged = inner_indent + ", ".join(_flat(a) for a in item.args)
    if len(hugged) <= LINE_LENGTH:
        return [head, hugged, tail]
    lines = [head]
    for arg in item.args:
        lines += layout(arg, inner_indent, suffix=",")
    return lines + [tail]


def statement(indent: str, prefix: str, expr, comment: str = "") -> list[str]:
    """``prefix + expr`` (an assignment, a return) with an optional trailing comment.

    A comment that would push the line past the limit goes on its own line above, which
    ruff leaves alone (it would otherwise split the code to make room for the comment).
    """
    flat = f"{indent}{prefix}{_flat(expr)}"
    if comment and len(flat) + 4 + len(comment) <= LINE_LENGTH:
        return [f"{flat}  # {comment}"]
    above = [f"{indent}# {comment}"] if comment else []
    return above + layout(expr, indent, prefix)
