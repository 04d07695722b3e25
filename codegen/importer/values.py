"""What the importer keeps of each value a forward pass produced: shapes and dtypes of
tensors, plain Python values, and the structure of tuples. Never the tensors themselves, so
a forward on real tensors does not pile up every activation of a big model.

Two runs with different batch sizes tell which sizes follow the batch: those become the
symbolic ``N`` in the diagram, as they would be written by hand (``x.view(x.size(0), -1)``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch

BATCH = "N"


@dataclass(frozen=True)
class TensorInfo:
    shape: tuple[int, ...]
    dtype: str  # "float32", "int64", ...


class Fields(tuple):
    """A dict or a dict-like result (a Hugging Face ``ModelOutput``), its values in order
    (the order pytree flattens them in, which is the order of a drawn class's outputs), and
    ``names``, so that a caller's ``out["last_hidden_state"]`` or ``out.logits`` can be
    read as a pick by place."""

    names: tuple[str, ...]

    def __new__(cls, items: dict):
        made = super().__new__(cls, items.values())
        made.names = tuple(items)
        return made

    def place(self, name: Any) -> int | None:
        return self.names.index(name) if name in self.names else None


class Unknown:
    """A value the importer does not follow (a device, a function, a dict...)."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return f"<{self.text}>"


def dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def describe(value: Any) -> Any:
    """TensorInfo for a tensor, tuples and lists kept (namedtuples as tuples), dicts and
    dict-like results with string keys as Fields, sizes as tuples of ints, plain constants
    as they are, anything else Unknown."""
    if isinstance(value, torch.Tensor):
        return TensorInfo(tuple(value.shape), dtype_name(value.dtype))
    if isinstance(value, torch.Size):
        return tuple(int(v) for v in value)
    if isinstance(value, (tuple, list)):
        items = [describe(v) for v in value]
        return items if isinstance(value, list) else tuple(items)
    if isinstance(value, Mapping) and all(isinstance(key, str) for key in value):
        return Fields({key: describe(item) for key, item in value.items()})
    if value is None or isinstance(value, (bool, int, float, str)) or value is Ellipsis:
        return value
    if isinstance(value, slice):
        return slice(describe(value.start), describe(value.stop), describe(value.step))
    return Unknown(type(value).__name__)


def tensors_in(value: Any) -> list[TensorInfo]:
    """Every tensor in a described value, depth first (the order ports are numbered in)."""
    if isinstance(value, TensorInfo):
        return [value]
    if isinstance(value, (tuple, list)):
        found: list[TensorInfo] = []
        for item in value:
            found += tensors_in(item)
        return found
    return []


class Batch:
    """Which sizes are the batch, from two runs whose inputs differ only in batch size.

    ``assumed``: no second run was needed (no class reads a tensor's size, so no value in
    the diagram can depend on the batch); tensors then have the batch first, as the inputs.
    """

    def __init__(self, first: int | None, second: int | None, assumed: bool = False):
        self.first = first
        self.second = second
        self.assumed = assumed

    @property
    def known(self) -> bool:
        return self.first is not None and self.second is not None

    def size(self, a: Any, b: Any) -> int | str:
        """A size seen as ``a`` in the first run and ``b`` in the second."""
        if self.known and isinstance(a, int) and a == self.first and b == self.second:
            return BATCH
        return a

    def follows_batch(self, a: Any, b: Any) -> bool:
        return self.known and isinstance(a, int) and a != b

    def shape(self, a: TensorInfo, b: Any) -> list[int | str]:
        if self.assumed and a.shape and a.shape[0] == self.first:
            return [BATCH, *a.shape[1:]]
        if not isinstance(b, TensorInfo) or len(b.shape) != len(a.shape):
            return list(a.shape)
        return [self.size(x, y) for x, y in zip(a.shape, b.shape)]
