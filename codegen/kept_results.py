"""How a call of a class kept as source hands back its tensors.

Import records the tensors a kept class returns, flattened: a forward that returns
``(x, None)`` has one output, ``x``. The call in generated code must take that tensor out of
what the class really returns, ``x, _ = self.aux(h)``, not use the tuple as a tensor. The
shape of the returned value is read here from the kept source's ``return`` statements (parsed
with ``ast``, never run): a tuple written out in every ``return``, the same each time. Where
the source does not say (a returned variable, returns that differ), the call is written as
it always was: one value per output.
"""

from __future__ import annotations

import ast
from functools import lru_cache

from graph_schema.document import Project, block_name_of

# Slots of a returned structure: a value that may be a tensor, or something that is not one
# (None, a number, a string): a tuple of slots is a tuple in the source.
VALUE, CONSTANT = "value", "constant"
Structure = str | tuple


def call_target(project: Project, block_type: str, targets: list[str]) -> str | None:
    """The assignment target for a call of the kept block ``block_type`` whose tensor outputs
    go to ``targets`` (``_`` where unused), or None where one value per output is right.
    What the call was seen to return at import (``x, ([h], [c])``: lists of tensors too)
    comes first; else what the source's ``return`` statements say."""
    recorded = _recorded_pattern(project, block_type, targets)
    if recorded is not None:
        return recorded
    structure = returned_structure(project, block_type)
    if not isinstance(structure, tuple) or not structure or \
            _values(structure) != len(targets):
        return None
    return _pattern(structure, iter(targets), outer=True)


def returns_plainly(project: Project, block_type: str) -> bool:
    """Whether a call's result is its output itself, not a tuple around it: only then is
    ``x = layer(x)`` in a loop right."""
    recorded = _recorded(project, block_type)
    if recorded:
        return recorded == "x"
    return not isinstance(returned_structure(project, block_type), tuple)


def _recorded(project: Project, block_type: str) -> str:
    name = block_name_of(block_type)
    block = project.block(name) if name else None
    if block is None or block.opaque is None or not block.opaque.calls:
        return ""
    return block.opaque.calls[0].returns


def _recorded_pattern(project: Project, block_type: str, targets: list[str]) -> str | None:
    """The recorded pattern with each ``x`` a target in turn (``_`` for the rest)."""
    pattern = _recorded(project, block_type)
    if not pattern or pattern == "x" or pattern.count("x") != len(targets):
        return None
    names = iter(targets)
    return "".join(next(names) if char == "x" else char for char in pattern)


def returned_structure(project: Project, block_type: str) -> Structure | None:
    """The structure every ``return`` of the kept class's forward has, or None (not a kept
    block, or the source does not say)."""
    name = block_name_of(block_type)
    block = project.block(name) if name else None
    if block is None or block.opaque is None:
        return None
    return _structure_of_source(block.opaque.source, block.opaque.class_name)


@lru_cache(maxsize=256)
def _structure_of_source(source: str, class_name: str) -> Structure | None:
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    classes = [item for item in tree.body
               if isinstance(item, ast.ClassDef) and item.name == class_name]
    forward = next((item for item in classes[0].body if isinstance(item, ast.FunctionDef)
                    and item.name == "forward"), None) if classes else None
    if forward is None:
        return None  # inherited: its source is elsewhere
    found = {_slot(ret.value) for ret in _returns(forward.body)}
    return found.pop() if len(found) == 1 else None


def _returns(statements: list[ast.stmt]):
    """The forward's own return statements (not those of functions defined inside it)."""
    pending = list(statements)
    while pending:
        item = pending.pop()
        if isinstance(item, ast.Return):
            yield item
        elif not isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
                                   ast.Lambda)):
            pending += [child for child in ast.iter_child_nodes(item)
                        if isinstance(child, (ast.stmt, ast.excepthandler, ast.match_case))]


def _slot(expression: ast.expr | None) -> Structure | None:
    if expression is None or isinstance(expression, ast.Constant):
        return CONSTANT
    if isinstance(expression, (ast.Tuple, ast.List)):
        items = tuple(_slot(item) for item in expression.elts)
        return None if None in items or any(isinstance(item, ast.Starred)
                                            for item in expression.elts) else items
    return VALUE


def _flat(structure: Structure) -> list[str]:
    if isinstance(structure, tuple):
        return [slot for item in structure for slot in _flat(item)]
    return [structure]


def _values(structure: Structure) -> int:
    return _flat(structure).count(VALUE)


def _pattern(structure: Structure, targets, outer: bool = False) -> str:
    """``x, _`` for ``(value, None)``; ``out, (h, _)`` for a nested tuple; ``(x,)`` for a
    tuple of one."""
    if structure == VALUE:
        return next(targets)
    if structure == CONSTANT:
        return "_"
    inner = [_pattern(item, targets) for item in structure]
    if len(inner) == 1:
        return f"({inner[0]},)"
    return ", ".join(inner) if outer else f"({', '.join(inner)})"
