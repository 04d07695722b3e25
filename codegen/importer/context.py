"""Reading the arguments of one graph node: which are tensors (edges), which are values
(params), and which sizes follow the batch (the symbolic ``N``)."""

from __future__ import annotations

from typing import Any

from torch import fx

from codegen.importer.import_errors import Untraceable
from codegen.importer.values import Batch, Fields, TensorInfo, Unknown
from codegen.importer.walk import Visit


class Context:
    def __init__(self, visit: Visit, batch: Batch, warnings: list[str]):
        self.visit = visit
        self.batch = batch
        self.warnings = warnings

    def value(self, arg: Any) -> Any:
        """The value an argument had in the first run (fx nodes looked up)."""
        if isinstance(arg, fx.Node):
            return self.visit.values.get(arg.name)
        if isinstance(arg, (list, tuple)):
            items = [self.value(a) for a in arg]
            return items if isinstance(arg, list) else tuple(items)
        if isinstance(arg, slice):
            return slice(self.value(arg.start), self.value(arg.stop), self.value(arg.step))
        return arg

    def second(self, arg: Any) -> Any:
        """The value in the second run (a different batch size), where there was one."""
        if isinstance(arg, fx.Node):
            return self.visit.values_b.get(arg.name)
        return arg

    def is_tensor(self, arg: Any) -> bool:
        return isinstance(arg, fx.Node) and isinstance(self.value(arg), TensorInfo)

    def size(self, arg: Any, where: str) -> int | str:
        """A size argument: a number, or ``N`` when it is the batch size of this run."""
        value = self.value(arg)
        if isinstance(value, bool) or not isinstance(value, int):
            raise Untraceable(f"{where} takes a size that is not a whole number ({value!r})")
        if not isinstance(arg, fx.Node):
            return value
        other = self.second(arg)
        symbol = self.batch.size(value, other)
        if symbol == value and self.batch.follows_batch(value, other):
            self.warnings.append(f"{self.where()}: {where} uses {value}, computed from the "
                                 f"batch size; the diagram keeps {value}")
        return symbol

    def constant(self, arg: Any, where: str) -> Any:
        """A plain value for a param (numbers, strings, None, and lists of them)."""
        value = self.value(arg)
        if _contains(value, (TensorInfo, Unknown, Fields)):
            raise Untraceable(f"{where} takes {value!r}, which a parameter cannot hold")
        if isinstance(arg, fx.Node) and self.batch.follows_batch(value, self.second(arg)):
            self.warnings.append(f"{self.where()}: {where} is {value!r}, computed from the "
                                 f"batch size; the diagram keeps it fixed")
        return value

    def where(self) -> str:
        return f"'{self.visit.path or 'the model'}' ({type(self.visit.module).__name__})"


def _contains(value: Any, kinds: tuple) -> bool:
    if isinstance(value, kinds):
        return True
    if isinstance(value, (list, tuple)):
        return any(_contains(v, kinds) for v in value)
    if isinstance(value, slice):
        return any(_contains(v, kinds) for v in (value.start, value.stop, value.step))
    return False
