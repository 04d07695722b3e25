"""Shared pieces of the tensor-op catalog (``op.*``): parameters that keep torch's "a number or
a list" arguments apart, symbolic-aware size comparison, and the message helpers.

Symbolic sizes follow one policy throughout: two numbers that differ are an error; a symbol
against a number, or two different symbols, cannot be proven wrong at design time, so the rule
accepts them and keeps the most informative size (the number, else the first input's symbol).
"""

from __future__ import annotations

from typing import Any

from graph_schema.catalog.helpers import norm_axis
from graph_schema.catalog.params import ParamError, ParamSpec
from graph_schema.catalog.spec import Fix, OpCall, ShapeError
from graph_schema.dims import Dim, Shape, format_dim, format_shape


class ScalarOrList(ParamSpec):
    """One number or a list of numbers, normalised to ``int``/``float`` or a tuple.

    ``kind`` is "dims" (whole numbers) or "floats". Unlike those kinds a single number stays a
    single number, because torch reads the two differently: ``x.split(3)`` cuts pieces of 3
    while ``x.split([3])`` asks for exactly one piece of 3.
    """

    def check_value(self, value: Any) -> Any:
        if value is None:
            return super().check_value(value)
        item = ParamSpec(self.name, "float" if self.kind == "floats" else "int",
                         minimum=self.minimum, maximum=self.maximum)
        if isinstance(value, (list, tuple)):
            if not value:
                raise ParamError(f"{self.name} must not be empty")
            if len(value) > 64:
                raise ParamError(f"{self.name} has {len(value)} entries; at most 64 are supported")
            return tuple(item.check_value(v) for v in value)
        return item.check_value(value)


class Number(ParamSpec):
    """A whole or a decimal number, kept as written: torch.arange(5) counts in int64,
    torch.arange(5.0) in float32, and an int64 tensor plus 1 stays int64 (position ids that
    index an embedding) while plus 1.0 is float32, so 5 and 5.0 are different values here."""

    def check_value(self, value):
        if value is None:
            return super().check_value(value)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ParamError(f"{self.name} must be a number, got {str(value)[:40]!r}")
        kind = "int" if isinstance(value, int) else "float"
        return ParamSpec(self.name, kind).check_value(value)


class DimsOrAll(ParamSpec):
    """Dimensions passed as ``*dims`` (``x.squeeze(1, 3)``); empty or None means all of them,
    normalised to ``()`` so that ``x.squeeze(*())`` is torch's plain ``x.squeeze()``."""

    def check_value(self, value: Any) -> Any:
        if value is None or (isinstance(value, (list, tuple)) and not value):
            return ()
        return super().check_value(value)


def method(name: str, **kw) -> OpCall:
    return OpCall("method", name, **kw)


def function(name: str, **kw) -> OpCall:
    return OpCall("function", name, **kw)


def bad_param(message: str, fix: Fix | None = None) -> ShapeError:
    return ShapeError(message, port=None, code="bad-param", fix=fix)


def conflict(a: Dim, b: Dim) -> bool:
    """True only when two sizes are provably different (both numbers)."""
    return isinstance(a, int) and isinstance(b, int) and a != b


def merge(a: Dim, b: Dim) -> Dim:
    """The size to keep for two sizes that must agree: a number wins over a symbol."""
    return a if isinstance(a, int) or not isinstance(b, int) else b


def broadcast_pair(a: Dim, b: Dim) -> Dim | None:
    """torch's broadcasting of two sizes; None when they provably do not broadcast.

    Equal sizes and a 1 broadcast as in torch. A symbol against a number other than 1 cannot
    be decided before run time: it is accepted and the number kept (the symbol must then be
    that number or 1). Two different symbols keep the first.
    """
    if a == b or b == 1:
        return a
    if a == 1:
        return b
    if isinstance(a, int) and isinstance(b, int):
        return None
    return a if isinstance(a, int) or not isinstance(b, int) else b


def broadcast(shapes: list[Shape], names: list[str], ports: list[int | None]) -> Shape:
    """Broadcast shapes left to right; the error names the shape that does not fit.

    ``names`` say in messages what each shape is ("input 0", "the batch dimensions of input 1").
    """
    result: Shape = shapes[0]
    for shape, name, port in zip(shapes[1:], names[1:], ports[1:]):
        rank = max(len(result), len(shape))
        left = (1,) * (rank - len(result)) + tuple(result)
        right = (1,) * (rank - len(shape)) + tuple(shape)
        out = []
        for axis, (a, b) in enumerate(zip(left, right)):
            size = broadcast_pair(a, b)
            if size is None:
                raise ShapeError(
                    f"expected {name} to broadcast with {format_shape(result)}, received "
                    f"{format_shape(shape)}: at dimension {axis - rank} the sizes "
                    f"{format_dim(a)} and {format_dim(b)} are neither equal nor 1",
                    port=port)
            out.append(size)
        result = tuple(out)
    return result


def norm_dims(dims: tuple[int, ...], rank: int, shape: Shape, port: int | None = 0) -> list[int]:
    """Normalise reduction/squeeze dims; scalars accept 0 and -1 as torch does."""
    seen: list[int] = []
    for d in dims:
        axis = norm_axis(d, max(rank, 1), port=port, shape=shape)
        if axis in seen:
            raise ShapeError(f"dim {d} names dimension {axis} a second time in {tuple(dims)}",
                             port=None, code="bad-param")
        seen.append(axis)
    return seen
