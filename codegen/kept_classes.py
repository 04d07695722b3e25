"""Opaque blocks in generated code: the kept class source (or the source of a helper
function a kept class uses), verbatim, clearly marked.

This is the one place where text from a project becomes code, by design: the class could
not be traced, and its source is the only faithful description of it. The document checks
it is exactly one definition of the expected name (never running it); here it is written
between marker comments, and ``# fmt: off`` keeps ruff format's hands off it.
"""

from __future__ import annotations

import ast
import sys

from graph_schema.document import Block, Project

# Names the generated module always provides, or provides on request.
PROVIDED = {("torch", None, "torch"), ("torch.nn", None, "nn"), ("torch", "nn", "nn"),
            ("torch.nn.functional", None, "F"), ("torch.nn", "functional", "F")}


def _comment_text(text: str, limit: int = 300) -> str:
    """One printable line: a file's text can end a comment only at a newline."""
    flat = " ".join(text.split())
    flat = "".join(char if char.isprintable() else "?" for char in flat)
    return flat if len(flat) <= limit else flat[:limit - 3] + "..."


def _defines_function(source: str) -> bool:
    """Whether the kept source is a helper function (the document allows it one definition,
    checked when the file was read)."""
    try:
        return isinstance(ast.parse(source).body[0], (ast.FunctionDef, ast.AsyncFunctionDef))
    except (SyntaxError, ValueError, IndexError, RecursionError, MemoryError):
        return False


def verbatim_lines(block: Block) -> list[str]:
    opaque = block.opaque
    origin = f" ({_comment_text(opaque.origin)})" if opaque.origin.strip() else ""
    reason = _comment_text(opaque.reason or "torch.fx could not trace it")
    kind, why = ("function", "Brought along because") if _defines_function(opaque.source) \
        else ("class", "Not drawn as a diagram because")
    lines = [f"# Kept verbatim from the imported model: {kind} {opaque.class_name}{origin}.",
             f"# {why} {reason}",
             "# TorchCanvas neither checked nor changed this code.",
             "# fmt: off"]
    lines += [line.rstrip() for line in opaque.source.strip("\n").split("\n")]
    return lines + ["# fmt: on"]


def required_opaque(project: Project, placed: set[str]) -> list[str]:
    """Opaque blocks the placed ones need (their sources build those classes), transitively,
    in project order."""
    needed: set[str] = set()
    pending = [name for name in placed if (b := project.block(name)) and b.opaque]
    while pending:
        name = pending.pop()
        if name in needed:
            continue
        needed.add(name)
        pending += [r for r in project.block(name).opaque.requires if project.block(r)]
    return [b.name for b in project.blocks if b.name in needed and b.name not in placed]


def import_lines(blocks: list[Block]) -> tuple[list[str], list[str], set[str]]:
    """(standard-library imports, torch imports, provided aliases used) for the kept
    sources; the provided names (torch, nn, F) come from the template."""
    wanted: set[tuple[str, str, str]] = set()
    provided: set[str] = set()
    for block in blocks:
        for item in block.opaque.imports:
            if (item.module, item.attribute, item.alias) in PROVIDED:
                provided.add(item.alias)
            else:
                wanted.add((item.module, item.attribute or "", item.alias))
    standard, torch_lines = [], []
    for module, attribute, alias in sorted(wanted):
        if attribute:
            line = f"from {module} import {attribute}"
            line += "" if alias == attribute else f" as {alias}"
        else:
            line = f"import {module}"
            line += "" if alias == module else f" as {alias}"
        root = module.split(".")[0]
        (standard if root in sys.stdlib_module_names else torch_lines).append(line)
    return standard, torch_lines, provided
