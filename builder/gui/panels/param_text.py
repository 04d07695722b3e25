"""Parameter values as the inspector writes them, and what typed text means.

Typed text is never evaluated: it is split into items, each read as a whole number, a
decimal number or a bare word, and the result goes through ``ParamSpec.check_value``, which
says in one sentence what is wrong (``kernel_size must be at least 1, got 0``).
"""

from __future__ import annotations

import re
from typing import Any

from builder.gui.controller import REMOVE
from graph_schema.catalog.params import ParamError, ParamSpec

_INT = re.compile(r"^[+-]?\d+$")
_FLOAT = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^[+-]?(inf|nan)$", re.IGNORECASE)
_MAX_DIGITS = 40  # longer numbers are typos; Python would refuse to read some of them anyway


def parse_param(spec: ParamSpec, text: str) -> Any:
    """The value typed ``text`` stands for, checked; ``REMOVE`` for an empty field whose
    parameter falls back to a default or an inferred value. Raises ParamError."""
    if spec.kind == "str":
        spec.check_value(text)
        return text
    stripped = text.strip()
    if not stripped:
        if spec.required and not spec.inferable:
            raise ParamError(f"{spec.name} must be set")
        return REMOVE
    value = _read(spec, stripped)
    spec.check_value(value)
    return value


def _read(spec: ParamSpec, text: str) -> Any:
    if spec.optional and text in ("None", "none"):
        return None
    if spec.kind in ("int", "float"):
        return _scalar(spec, text)
    if spec.kind == "bool":
        return {"true": True, "false": False}.get(text.lower(), text)
    if spec.kind in ("choice", "dtype"):
        return text
    if spec.kind == "padding" and text in ("same", "valid"):
        return text
    if spec.kind == "index":
        return [_unquote(item.replace(" ", "")) for item in _items(text, separators=",")]
    items = [_scalar(spec, item) for item in _items(text)]
    if spec.always_a_list or len(items) != 1:
        return items
    return items[0]


def _items(text: str, separators: str = ",×") -> list[str]:
    """``3, 5`` / ``3×5`` / ``[3, 5]`` / ``3 5`` -> ["3", "5"]."""
    inner = text.strip()
    if inner[:1] in "[(" and inner[-1:] in ")]":
        inner = inner[1:-1]
    pattern = "[" + re.escape(separators) + "]"
    parts = re.split(pattern, inner)
    if len(parts) == 1 and separators != ",":
        parts = inner.split()
    return [part.strip() for part in parts if part.strip()]


def _scalar(spec: ParamSpec, token: str) -> Any:
    token = token.strip()
    digits = token.lstrip("+-")
    if digits.isdigit() and len(digits) > _MAX_DIGITS:
        raise ParamError(f"{spec.name}: {token[:12]}… is far too large")
    if _INT.match(token):
        return int(token)
    if _FLOAT.match(token):
        return float(token)
    return _unquote(token)  # a name (a symbolic size such as N), or a word check_value refuses


def _unquote(token: str) -> str:
    if len(token) >= 2 and token[0] == token[-1] and token[0] in "'\"":
        return token[1:-1]
    return token


def format_param(spec: ParamSpec, value: Any) -> str:
    """How a value reads in its field; parse_param reads it back to the same value."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (list, tuple)):
        items = [format_param(spec, item) for item in value]
        same = len(set(items)) == 1
        if spec.one_or_each and same and spec.arity > 1 and len(items) == spec.arity:
            return items[0]  # kernel_size (3, 3) reads as 3
        if spec.always_a_list and len(items) == 1:
            return f"[{items[0]}]"  # a list of one stays a list when read back
        return ", ".join(items)
    return str(value)


def argument_name(value: Any) -> str | None:
    """``{"arg": "channels"}`` -> "channels": a value bound to a network argument."""
    if isinstance(value, dict) and set(value) == {"arg"} and isinstance(value["arg"], str):
        return value["arg"]
    return None
