"""Opaque blocks: imported classes kept as source. Nothing here runs that source; shapes and
parameter counts come from what import recorded for each placement (``OpaqueClass.calls``)."""

from __future__ import annotations

from typing import Any

from graph_schema.catalog.spec import ShapeError
from graph_schema.dims import Shape, Sym, format_shape
from graph_schema.document import Block, OpaqueCall


def stored_shape(items: list[int | str]) -> Shape:
    return tuple(Sym.named(item) if isinstance(item, str) else item for item in items)


def _same_form(value: Any) -> Any:
    """Sequences as lists, at every depth: an argument recorded as ``[1, 1]`` (JSON has no
    tuples) is the ``(1, 1)`` a placement may pass."""
    if isinstance(value, (list, tuple)):
        return [_same_form(item) for item in value]
    if isinstance(value, dict):
        return {key: _same_form(item) for key, item in value.items()}
    return value


def matching_call(block: Block, arguments: dict[str, Any], inputs) -> OpaqueCall | None:
    """The recorded call with these constructor arguments and input shapes, if any."""
    wanted = {name: _same_form(arguments.get(name, default))
              for name, default in block.arguments.items()}
    for call in block.opaque.calls:
        recorded = {name: _same_form(call.arguments.get(name, default))
                    for name, default in block.arguments.items()}
        if recorded != wanted or len(call.inputs) != len(inputs):
            continue
        if all(stored_shape(shape) == given for shape, given in zip(call.inputs, inputs)):
            return call
    return None


def opaque_rule(block: Block):
    def rule(p, inputs):
        call = matching_call(block, p, inputs)
        if call is None:
            seen = "; ".join(", ".join(format_shape(stored_shape(s)) for s in c.inputs)
                             for c in block.opaque.calls[:3]) or "nothing"
            given = ", ".join(format_shape(s) for s in inputs)
            raise ShapeError(
                f"opaque block '{block.name}' (class {block.opaque.class_name}, kept as "
                f"source) was imported for inputs {seen} with other arguments or shapes; what "
                f"it makes of {given} is unknown: import the model again with such inputs",
                port=None, code="opaque-unknown-shape")
        return [stored_shape(shape) for shape in call.outputs]
    return rule


def opaque_parameters(block: Block, arguments: dict[str, Any], inputs) -> int | None:
    call = matching_call(block, arguments, inputs)
    return None if call is None else call.parameters
