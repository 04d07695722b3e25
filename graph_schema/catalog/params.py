"""Typed parameter schemas for catalog layers.

A project file stores parameters as plain JSON values. Each layer declares a ``ParamSpec`` per
parameter; ``check_value`` turns a stored value into the normalised Python value a shape rule
uses, or explains in one sentence why it is unusable. Nothing here ever evaluates text.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

# Sizes beyond this are typos or hostile files, not networks (2**31 channels is already 8 GiB
# per element of batch); refusing them keeps arithmetic and memory estimates sane.
MAX_SIZE = 2**31 - 1

KINDS = (
    "int",  # a whole number within [minimum, maximum]
    "float",  # a finite number within [minimum, maximum]
    "bool",
    "choice",  # one of `choices` (strings)
    "str",  # free text (only ever emitted through repr)
    "ints",  # an int or a list of `arity` ints (kernel_size=3 or [3, 5])
    "int_list",  # a list of ints of any length (permute dims, Unflatten sizes)
    "shape",  # a list of ints, -1 or dimension names (reshape targets)
    "dims",  # an int or a list of ints (reduction dims)
    "padding",  # like "ints", or the strings "same" / "valid" (convolutions)
    "floats",  # a float or a list of `arity` floats (Upsample scale_factor)
    "index",  # a list of index items in slice notation: "0", ":", "1:-1:2", "...", "None"
    "dtype",  # a torch dtype name
    "literal",  # any value generated code can write: a number, text, a bool, None, a list
)

# What the kinds have in common, for every reader of a parameter (the inspector, codegen, the
# importer): read these, not the kind names.
ONE_OR_EACH = frozenset({"ints", "floats", "padding", "dims"})  # 3 or (3, 3): one stands for all
ALWAYS_A_LIST = frozenset({"int_list", "shape", "index"})  # a list, even of one item
PICKED = frozenset({"bool", "choice", "dtype"})  # one of a fixed set of values

DTYPES = (
    "float32",
    "float64",
    "float16",
    "bfloat16",
    "int64",
    "int32",
    "int16",
    "int8",
    "uint8",
    "bool",
)

_SLICE_ITEM = re.compile(r"^(-?\d+)?(:(-?\d+)?(:(-?\d+)?)?)?$")


class ParamError(ValueError):
    """A parameter value that cannot be used; the message names what is wrong."""


@dataclass(frozen=True)
class ParamSpec:
    name: str
    kind: str
    default: Any = None
    optional: bool = False  # None is an allowed value
    required: bool = False  # no usable default: the user (or inference) must give one
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    arity: int = 1  # element count for "ints" / "floats" / "padding"
    inferable: bool = False  # filled from upstream shapes (in_channels, in_features, ...)
    constructor: bool = True  # passed to the torch constructor / call (False: GUI-only)
    doc: str = ""
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown parameter kind {self.kind!r} for {self.name!r}")

    @property
    def one_or_each(self) -> bool:
        """One value may stand for one per dimension (``kernel_size=3`` is ``(3, 3)``)."""
        return self.kind in ONE_OR_EACH

    @property
    def always_a_list(self) -> bool:
        return self.kind in ALWAYS_A_LIST

    @property
    def options(self) -> list[Any] | None:
        """The values to pick from, where the kind is a fixed set (None first where the
        parameter may be None); None for a value that is typed."""
        if self.kind not in PICKED:
            return None
        values: list[Any] = list(self.choices) if self.kind == "choice" else \
            list(DTYPES) if self.kind == "dtype" else [True, False]
        return [None, *values] if self.optional else values

    def check_value(self, value: Any) -> Any:
        """Return the normalised value, or raise ParamError saying why it is unusable."""
        if value is None:
            if self.optional or self.required:
                return None
            raise ParamError(f"{self.name} must be given")
        checker = _CHECKERS[self.kind]
        return checker(self, value)


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _check_int(spec: ParamSpec, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer() and abs(value) <= MAX_SIZE:
            value = int(value)
        else:
            raise ParamError(f"{spec.name} must be a whole number, got {_describe(value)}")
    low = spec.minimum if spec.minimum is not None else -MAX_SIZE
    high = spec.maximum if spec.maximum is not None else MAX_SIZE
    if value < low:
        raise ParamError(f"{spec.name} must be at least {int(low)}, got {value}")
    if value > high:
        raise ParamError(f"{spec.name} must be at most {int(high)}, got {_describe(value)}")
    return value


def _check_float(spec: ParamSpec, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ParamError(f"{spec.name} must be a number, got {_describe(value)}")
    value = float(value)
    if not math.isfinite(value):
        raise ParamError(f"{spec.name} must be a finite number, got {value}")
    if spec.minimum is not None and value < spec.minimum:
        raise ParamError(f"{spec.name} must be at least {spec.minimum:g}, got {value:g}")
    if spec.maximum is not None and value > spec.maximum:
        raise ParamError(f"{spec.name} must be at most {spec.maximum:g}, got {value:g}")
    return value


def _check_bool(spec: ParamSpec, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ParamError(f"{spec.name} must be true or false, got {_describe(value)}")
    return value


def _check_choice(spec: ParamSpec, value: Any) -> str:
    if value not in spec.choices:
        options = ", ".join(repr(c) for c in spec.choices)
        raise ParamError(f"{spec.name} must be one of {options}, got {_describe(value)}")
    return value


def _check_str(spec: ParamSpec, value: Any) -> str:
    if not isinstance(value, str):
        raise ParamError(f"{spec.name} must be text, got {_describe(value)}")
    if len(value) > 10_000:
        raise ParamError(f"{spec.name} is too long ({len(value)} characters)")
    return value


def _check_ints(spec: ParamSpec, value: Any) -> tuple[int, ...]:
    items = _as_list(spec, value)
    if len(items) == 1:
        items = items * spec.arity
    if len(items) != spec.arity:
        raise ParamError(
            f"{spec.name} must be one number or {spec.arity} numbers, got {_describe(value)}"
        )
    return tuple(_check_int(spec, item) for item in items)


def _check_padding(spec: ParamSpec, value: Any):
    if isinstance(value, str):
        if value not in ("same", "valid"):
            raise ParamError(f"{spec.name} must be a number, 'same' or 'valid', got {value!r}")
        return value
    return _check_ints(spec, value)


def _check_floats(spec: ParamSpec, value: Any) -> tuple[float, ...]:
    items = _as_list(spec, value)
    if len(items) == 1:
        items = items * spec.arity
    if len(items) != spec.arity:
        raise ParamError(
            f"{spec.name} must be one number or {spec.arity} numbers, got {_describe(value)}"
        )
    return tuple(_check_float(spec, item) for item in items)


def _check_int_list(spec: ParamSpec, value: Any) -> tuple[int, ...]:
    if not isinstance(value, (list, tuple)):
        raise ParamError(f"{spec.name} must be a list of whole numbers, got {_describe(value)}")
    return tuple(_check_int(spec, item) for item in _bounded(spec, value))


def _check_dims(spec: ParamSpec, value: Any) -> tuple[int, ...]:
    return tuple(_check_int(spec, item) for item in _as_list(spec, value))


def _check_shape(spec: ParamSpec, value: Any) -> tuple[int | str, ...]:
    if not isinstance(value, (list, tuple)):
        raise ParamError(f"{spec.name} must be a list of sizes, got {_describe(value)}")
    out: list[int | str] = []
    for item in _bounded(spec, value):
        if isinstance(item, str):
            if not item.isidentifier():
                raise ParamError(
                    f"{spec.name}: {_describe(item)} is neither a size nor a dimension name"
                )
            out.append(item)
        else:
            size = _check_int(ParamSpec(spec.name, "int", minimum=-1), item)
            if size == 0:
                raise ParamError(f"{spec.name}: a size of 0 makes an empty tensor")
            out.append(size)
    if sum(1 for item in out if item == -1) > 1:
        raise ParamError(f"{spec.name} may contain -1 only once")
    return tuple(out)


def _check_index(spec: ParamSpec, value: Any) -> tuple[str, ...]:
    if not isinstance(value, (list, tuple)) or not value:
        raise ParamError(f"{spec.name} must be a list like [':', '0'], got {_describe(value)}")
    items: list[str] = []
    for item in _bounded(spec, value):
        text = str(item).replace(" ", "") if isinstance(item, (int, str)) else None
        if isinstance(item, bool) or text is None:
            raise ParamError(f"{spec.name}: {_describe(item)} is not an index")
        if text not in ("...", "None") and not _SLICE_ITEM.match(text):
            raise ParamError(f"{spec.name}: {_describe(item)} is not an index or slice")
        if text.count(":") and text.split(":")[-1] == "0" and text.count(":") == 2:
            raise ParamError(f"{spec.name}: slice step cannot be zero in {text!r}")
        items.append(text)
    if items.count("...") > 1:
        raise ParamError(f"{spec.name} may contain '...' only once")
    return tuple(items)


def _check_dtype(spec: ParamSpec, value: Any) -> str:
    if value not in DTYPES:
        raise ParamError(f"{spec.name} must be one of {', '.join(DTYPES)}, got {_describe(value)}")
    return value


def _as_list(spec: ParamSpec, value: Any) -> list:
    if isinstance(value, (list, tuple)):
        if not value:
            raise ParamError(f"{spec.name} must not be empty")
        return list(_bounded(spec, value))
    return [value]


def _bounded(spec: ParamSpec, value) -> list:
    if len(value) > 64:
        raise ParamError(f"{spec.name} has {len(value)} entries; at most 64 are supported")
    return list(value)


def _check_literal(spec: ParamSpec, value: Any) -> Any:
    from graph_schema.document import is_literal  # the document holds the one definition

    if not is_literal(value):
        raise ParamError(f"{spec.name} must be a number, text, true/false, null or a list of "
                         f"them, got {_describe(value)}")
    return value


_CHECKERS = {
    "int": _check_int,
    "float": _check_float,
    "bool": _check_bool,
    "choice": _check_choice,
    "str": _check_str,
    "ints": _check_ints,
    "int_list": _check_int_list,
    "shape": _check_shape,
    "dims": _check_dims,
    "padding": _check_padding,
    "floats": _check_floats,
    "index": _check_index,
    "dtype": _check_dtype,
    "literal": _check_literal,
}


def parse_slice_item(text: str) -> int | slice | None | type(Ellipsis):
    """Turn one checked index item ("0", "1:-1", "...", "None") into its Python value."""
    if text == "...":
        return Ellipsis
    if text == "None":
        return None
    if ":" not in text:
        return int(text)
    parts = [int(p) if p else None for p in text.split(":")]
    return slice(*parts)
