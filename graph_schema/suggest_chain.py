"""A whole chain typed in one quick-add entry: ``conv2d 6 5, tanh, avgpool2d 2, flatten``.

A paper's table of layers is a list; typing it as one is faster than adding each row on its
own. The pieces are separated by commas or arrows (``,``, ``>``, ``->``, ``→``). Each piece
is read as a single entry is (a name, then the numbers that set its key parameters:
suggest.split_numbers), and the layer it names is chosen as the single entry would choose it
when added after the piece before: ranked (suggest.ranked) for the tensor that piece puts
out, which the chain is run through the catalog's own shape rules (inference) to find. So
``pool`` after a 4-D tensor is a MaxPool2d here too, and what the preview shows is exactly
what Enter adds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from graph_schema.dims import Shape
from graph_schema.document import Edge, Network, Node, Position, Project
from graph_schema.inference import Inference
from graph_schema.specs import spec_for
from graph_schema.suggest import (
    NOTHING,
    Entry,
    Wanted,
    numbered_params,
    ranked,
    short_label,
    split_numbers,
)

SEPARATOR = re.compile(r"\s*(?:,|->|→|>)\s*")
MAX_LINKS = 100  # a paper's table, not a novel: longer text is refused, not parsed


@dataclass(frozen=True)
class ChainLink:
    """One piece of a typed chain: what was typed, the layer it names and the parameters
    its numbers set; ``problem`` (one line) when it names no layer or its numbers do not
    fit, and then ``type_name`` may be None."""

    typed: str
    type_name: str | None = None
    params: dict = field(default_factory=dict)
    problem: str = ""


def is_chain(text: str) -> bool:
    """Whether the text is a list of layers (it has a separator, even a trailing one)."""
    return SEPARATOR.search(text) is not None


def split_chain(text: str) -> list[str]:
    """The pieces between separators; empty pieces (a trailing comma) are dropped."""
    return [piece for piece in SEPARATOR.split(text.strip()) if piece.strip()]


def resolve_chain(entries: Iterable[Entry], text: str, wanted: Wanted = NOTHING,
                  project: Project | None = None) -> list[ChainLink]:
    """Every piece of ``text`` resolved in order, each ranked for what the ones before it
    put out, starting from ``wanted``. Resolution stops at the first piece with a
    problem (the layers after it would be chosen for a tensor nobody knows)."""
    pieces = split_chain(text)
    if len(pieces) > MAX_LINKS:
        return [ChainLink("", problem=f"at most {MAX_LINKS} layers in one chain, not "
                                      f"{len(pieces)}")]
    entries, start = list(entries), wanted.shape
    links: list[ChainLink] = []
    for piece in pieces:
        link = _resolve_piece(entries, piece, wanted, project)
        links.append(link)
        if link.problem:
            break
        wanted = Wanted(shape=_output_of(links, start, project), fed=True)
    return links


def chain_problem(links: list[ChainLink]) -> str:
    """The first problem, saying which piece: '' when every piece names a layer."""
    for index, link in enumerate(links, start=1):
        if link.problem:  # a problem of the whole chain names no piece
            return f"layer {index} ({link.typed!r}): {link.problem}" if link.typed else \
                link.problem
    return ""


def describe_chain(links: list[ChainLink]) -> str:
    """``Conv2d(6, 5) → Tanh → AvgPool2d(2)``: the chain as it will be added."""
    parts = []
    for link in links:
        label = short_label(link.type_name) if link.type_name else link.typed
        numbers = ", ".join(str(value) for value in link.params.values())
        parts.append(f"{label}({numbers})" if numbers else label)
    return " → ".join(parts)


def _resolve_piece(entries: list[Entry], piece: str, wanted: Wanted,
                   project: Project | None) -> ChainLink:
    query, numbers = split_numbers(piece)
    found = ranked(entries, query, wanted, project)
    if not found:
        return ChainLink(piece, problem="no layer by that name")
    type_name = found[0][1]
    try:
        params = numbered_params(spec_for(type_name, project), numbers)
    except ValueError as err:
        return ChainLink(piece, type_name, problem=str(err))
    return ChainLink(piece, type_name, params)


def _output_of(links: list[ChainLink], start: Shape | None,
               project: Project | None) -> Shape | None:
    """What the last link puts out when the chain so far is fed ``start``, by the
    catalog's rules; None when that is unknown."""
    if start is None:
        return None
    nodes = [Node(id="feed", type="io.Input", name="feed", params={"shape": [1]},
                  position=Position(x=0, y=0))]
    edges = []
    for index, link in enumerate(links):
        nodes.append(Node(id=f"l{index}", type=link.type_name, name=f"l{index}",
                          params=dict(link.params), position=Position(x=0, y=0)))
        edges.append(Edge(source=nodes[-2].id, target=nodes[-1].id))
    network = Network(name="chain", nodes=nodes, edges=edges)
    try:
        inference = Inference(network, project, input_shapes={"feed": tuple(start)})
    except (ArithmeticError, AttributeError, IndexError, KeyError, TypeError, ValueError):
        return None
    return inference.output_shape(nodes[-1].id, 0)
