"""Drafts: the graphs import builds before they become document Networks and Blocks.

A draft node that places another class (``child``) does not know its block type yet: the
definitions of the children are settled first (definitions.py), bottom up.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass, field
from typing import Any

from codegen.importer.walk import Visit
from graph_schema.document import name_problem


@dataclass
class DraftNode:
    id: str
    type: str  # a catalog type, or "" for a block placement (see child)
    name: str
    params: dict[str, Any] = field(default_factory=dict)
    child: Visit | None = None  # the placed class's call (None: never called)
    module: Any = None  # the placed module, called or not
    reuses: str | None = None
    called: bool = True
    input_shape: list | None = None  # io.Input: its shape
    input_dtype: str = "float32"
    view: GraphDraft | None = None  # a holder's graph, drawn by its caller (holders.py)


@dataclass
class GraphDraft:
    kind: str  # "class" or "sequential"
    nodes: list[DraftNode] = field(default_factory=list)
    edges: list[tuple[str, int, str, int]] = field(default_factory=list)
    module_lists: dict[str, list[str]] = field(default_factory=dict)  # name -> node ids
    tied: list[tuple[str, str]] = field(default_factory=list)  # (target, source)
    nested_output: bool = False  # forward returns tuples inside its tuple: outputs flattened
    notes: str = ""  # for the reader of the block (a holder's graph is not its own forward)

    def node(self, node_id: str) -> DraftNode:
        for node in self.nodes:
            if node.id == node_id:
                return node
        raise KeyError(node_id)


class Names:
    """Unique, valid node names in one graph. Attribute names are reserved up front, since
    they must stay exactly what they are (state_dict keys are made of them)."""

    def __init__(self, attributes: set[str] = frozenset()):
        self.taken: set[str] = set(attributes)

    def fresh(self, wanted: str) -> str:
        base = re.sub(r"\W+", "_", wanted).strip("_") or "value"
        if base[0].isdigit():
            base = f"n{base}"
        if name_problem(base) or keyword.iskeyword(base):
            base = f"{base}_"
        while name_problem(base):  # "__x" and the like
            base = base.lstrip("_") or "value"
        name, counter = base, 2
        while name in self.taken:
            name = f"{base}_{counter}"
            counter += 1
        self.taken.add(name)
        return name


class Ids:
    def __init__(self):
        self.count = 0

    def next(self) -> str:
        self.count += 1
        return f"n{self.count}"
