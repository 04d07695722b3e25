"""Reusable blocks as layer types: ``block:<name>`` nodes infer through the block's body."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from graph_schema.catalog.params import MAX_SIZE, ParamSpec
from graph_schema.catalog.spec import LayerSpec, PortSpec, ShapeError
from graph_schema.document import Block, Project, block_type
from graph_schema.inference import Inference
from graph_schema.opaque import opaque_rule
from graph_schema.specs import register_block_specs

# Blocks being inferred right now, innermost last: a block that (indirectly) contains itself
# would otherwise recurse forever.
_ACTIVE: list[str] = []


def _argument_param(name: str, default: Any) -> ParamSpec:
    if isinstance(default, bool):
        return ParamSpec(name, "bool", default=default)
    if isinstance(default, int):
        return ParamSpec(name, "int", default=default, minimum=-MAX_SIZE)
    if isinstance(default, float):
        return ParamSpec(name, "float", default=default)
    if isinstance(default, str):
        return ParamSpec(name, "str", default=default)
    if isinstance(default, list) and all(isinstance(v, int) and not isinstance(v, bool)
                                         for v in default):
        return ParamSpec(name, "int_list", default=default)
    return ParamSpec(name, "literal", default=default, optional=True)


def block_spec(project: Project | None, name: str) -> LayerSpec | None:
    block = project.block(name) if project is not None else None
    if block is None:
        return None
    if block.opaque is not None:
        rule = opaque_rule(block)
    else:
        rule = _block_rule(project, block)
    return LayerSpec(
        type=block_type(name),
        family="block",
        rule=rule,
        params=tuple(_argument_param(k, v) for k, v in block.arguments.items()),
        inputs=tuple(PortSpec(node.name) for node in block.inputs()),
        outputs=tuple(node.name for node in block.outputs()),
        description=block.notes or f"Reusable block {name}",
    )


register_block_specs(block_spec)

# Inside ``same_blocks_once()`` (one validation pass, when nothing can change the project),
# placements with the same block, input shapes and arguments share one inference.
_MEMO: ContextVar[dict | None] = ContextVar("block_inference_memo", default=None)


@contextmanager
def same_blocks_once() -> Iterator[None]:
    token = _MEMO.set({})
    try:
        yield
    finally:
        _MEMO.reset(token)


def infer_block(project: Project, block: Block, inputs, arguments: dict):
    """Infer the block's body for one instance's input shapes and argument values."""
    memo = _MEMO.get()
    if memo is None:
        return _infer_block(project, block, inputs, arguments)
    key = (id(block), tuple(inputs), repr(sorted(arguments.items())))
    if key not in memo:
        memo[key] = _infer_block(project, block, inputs, arguments)
    return memo[key]


def _infer_block(project: Project, block: Block, inputs, arguments: dict):
    if block.name in _ACTIVE:
        chain = " -> ".join([*_ACTIVE[_ACTIVE.index(block.name):], block.name])
        raise ShapeError(f"block '{block.name}' contains itself ({chain})", port=None,
                         code="block-recursion")
    shapes = {node.id: shape for node, shape in zip(block.inputs(), inputs)}
    _ACTIVE.append(block.name)
    try:
        return Inference(block, project, input_shapes=shapes, arguments=arguments)
    finally:
        _ACTIVE.pop()


def _block_rule(project: Project, block: Block):
    def rule(p, inputs):
        inner = infer_block(project, block, inputs, p)
        errors = [d for d in inner.diagnostics() if d.is_error]
        if errors:
            first = errors[0]
            where = f", input {first.port}" if first.port is not None else ""
            # A block that contains itself is reported as such on every placement out to
            # the top, where validate shows it; any other error inside is a block-error.
            raise ShapeError(
                f"inside block '{block.name}', node '{first.node_name}' ({first.node_type})"
                f"{where}: {first.message}", port=None,
                code="block-recursion" if first.code == "block-recursion" else "block-error")
        outputs = []
        for node in block.outputs():
            shapes = inner.input_shapes_of(node.id)
            outputs.append(shapes[0] if shapes else None)
        if any(shape is None for shape in outputs):
            raise ShapeError(f"block '{block.name}' has an output that nothing reaches",
                             port=None, code="block-error")
        return outputs
    return rule


def blocks_outer_first(project: Project) -> list[Block]:
    """The project's blocks in file order, except that a block comes after every block that
    places it: a block's shapes come from its first placement, so the graphs that place it are
    analysed first. Blocks that place each other (which validate reports) keep their order."""
    placers = {b.name: {outer.name for outer in project.blocks if outer.name != b.name
                        and any(n.block_name == b.name for n in outer.nodes)}
               for b in project.blocks}
    ordered: list[Block] = []
    waiting = list(project.blocks)
    while waiting:
        done = {b.name for b in ordered}
        ready = next((b for b in waiting if placers[b.name] <= done), None)
        if ready is None:
            return ordered + waiting
        ordered.append(ready)
        waiting = [b for b in waiting if b is not ready]
    return ordered
